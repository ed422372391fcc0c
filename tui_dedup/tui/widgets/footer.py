"""The footer of the scan and review screens: Textual's, rebuilt only when its keys change.

Textual's footer rebuilds itself whenever a modal opens or closes above its screen, even when
the keys it shows are the same; skipping that needs a private flag of Textual's footer, so the
work-around lives in :mod:`tui_dedup.tui.textual_patches.footer` (switch:
``DEDUP_TUI_NO_PATCH=footer``). With the patch off this is Textual's footer.
"""

from __future__ import annotations

from textual.widgets import Footer

from tui_dedup.tui.textual_patches.footer import KeysUnchangedFooter


class QuietFooter(KeysUnchangedFooter, Footer):
    """A Footer that ignores "bindings updated" when its keys are the same."""
