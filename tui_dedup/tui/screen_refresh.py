"""Screens that do not repaint themselves in a loop while another screen covers them.

Every screen of the app mixes :class:`NoRepaintLoop` in before ``Screen``/``ModalScreen``. The
work-around itself touches Textual's private refresh machinery, so it lives in
:mod:`tui_dedup.tui.textual_patches.repaint` (the upstream behaviour, the figures, the switch
``DEDUP_TUI_NO_PATCH=repaint``); with the patch off the mixin is Textual's refresh unchanged.
"""

from __future__ import annotations

from tui_dedup.tui.textual_patches.repaint import NoRepaintLoop

__all__ = ["NoRepaintLoop"]
