"""Textual's Footer, rebuilt only when the keys it shows change.

Textual's Footer recomposes (removes and mounts every key widget, then styles them) whenever
its screen publishes "bindings updated": on every focus change and every time a modal screen
above it opens or closes. Closing the command palette to run a command thus rebuilt the footer
of the screen underneath before the command's screen could open (10–20 ms of an otherwise
~50 ms key). This subclass compares what the footer would show with what it shows and skips
the rebuild when they are equal; the look is Textual's, unchanged.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer


class QuietFooter(Footer):
    """A Footer that ignores "bindings updated" when its keys are the same."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._shown: tuple | None = None

    def _keys_signature(self) -> tuple:
        """Everything compose reads from the bindings: keys, actions, texts, enabled, groups."""
        rows = tuple(
            (key, b.key, b.action, b.description, b.show, enabled, tooltip, id(b.group))
            for key, (_node, b, enabled, tooltip) in self.screen.active_bindings.items()
        )
        return (rows, self.show_command_palette, self.app.ENABLE_COMMAND_PALETTE)

    def bindings_changed(self, screen: Screen) -> None:
        if (
            self._shown is not None
            and self.is_attached
            and screen is self.screen
            and self._keys_signature() == self._shown
        ):
            return
        super().bindings_changed(screen)

    def compose(self) -> ComposeResult:
        self._shown = self._keys_signature() if self._bindings_ready else None
        yield from super().compose()
