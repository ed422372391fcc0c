"""Patch ``footer``: the footer is not rebuilt when the keys it shows did not change.

Upstream behaviour (Textual 8.2): ``Footer`` recomposes (removes and mounts every key widget,
then styles them) whenever its screen publishes "bindings updated": on every focus change and
every time a modal screen above it opens or closes. Closing the command palette to run a
command thus rebuilt the footer of the screen underneath before the command's screen could open
(a large share of such a key's time, measured when this was written: benchmarks/RESULTS.md,
"Why the code is as it is").

The fix (:class:`KeysUnchangedFooter`, mixed into ``tui_dedup.tui.widgets.footer.QuietFooter``):
compare what the footer would show with what it shows, and skip the rebuild when they are equal;
the look is Textual's, unchanged. Off: every "bindings updated" rebuilds, as in Textual.

Private names touched: ``Footer._bindings_ready``; and what ``Footer.compose`` reads from the
bindings (``_keys_signature`` must cover all of it, or a change would not be shown).

Checked against textual>=8.2.8,<8.3.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.screen import Screen

from tui_dedup.tui.textual_patches import enabled

PATCH = "footer"

if TYPE_CHECKING:
    from textual.widgets import Footer

    _Base = Footer
else:  # a plain mixin, placed before Footer
    _Base = object


class KeysUnchangedFooter(_Base):
    """Mix in before ``Footer``: ignores "bindings updated" when its keys are the same."""

    _shown: tuple | None = None  # the signature of what the last compose showed

    def _keys_signature(self) -> tuple:
        """Everything compose reads from the bindings: keys, actions, texts, enabled, groups."""
        rows = tuple(
            (key, b.key, b.action, b.description, b.show, active, tooltip, id(b.group))
            for key, (_node, b, active, tooltip) in self.screen.active_bindings.items()
        )
        return (rows, self.show_command_palette, self.app.ENABLE_COMMAND_PALETTE)

    def bindings_changed(self, screen: Screen) -> None:
        if (
            self._shown is not None
            and enabled(PATCH)
            and self.is_attached
            and screen is self.screen
            and self._keys_signature() == self._shown
        ):
            return
        super().bindings_changed(screen)

    def compose(self) -> ComposeResult:
        ready = self._bindings_ready and enabled(PATCH)
        self._shown = self._keys_signature() if ready else None
        yield from super().compose()
