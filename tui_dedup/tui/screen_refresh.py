"""Screens that do not repaint themselves in a loop while another screen covers them.

Textual 8.2 lets a screen show through the one above it (the command palette and our modal
screens dim what is under them). When a widget on the covered screen changes, Textual marks
the covered screen for a full repaint as well as passing the changed regions up. That full
repaint dirties the whole covered screen, which passes it all up again and marks another full
repaint: from the first change on, the covered screen and the screen on top repaint the whole
terminal about 11 times a second for as long as the top screen stays open (measured: 11 full
frames a second with the palette open over the scan screen, ~8 KB each at 120×36, with the
key presses waiting behind those renders). Here a covered screen passes up the regions that
changed, repaints itself in full once as Textual does, and stops when that repaint's own
regions come back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.screen import Screen

    _Base = Screen
else:  # a plain mixin: a Screen base here would bring Screen's opaque DEFAULT_CSS ahead of
    _Base = object  # ModalScreen's in a modal's MRO, and hide what the modal should dim


class NoRepaintLoop(_Base):
    """Mix in before ``Screen``/``ModalScreen``: Textual's refresh, minus the loop."""

    _echo_pending = False  # the next dirty regions are those of the full repaint asked below

    def _compositor_refresh(self) -> None:
        app = self.app
        dirty = self._compositor._dirty_regions
        if app.is_inline or self is app.screen or self not in app._background_screens:
            self._echo_pending = False
            super()._compositor_refresh()
            return
        if dirty:
            self._set_dirty(*dirty)  # the lines the top screen takes from under it are redrawn
            app.screen.refresh(*dirty)
            if self._echo_pending:
                self._echo_pending = False  # our own full repaint came back: stop here
            else:
                # a real change: one full repaint of this screen, as Textual does (its widgets
                # may not have been rendered into it yet), whose regions then end the cycle
                self._repaint_required = True
                self._echo_pending = True
            dirty.clear()
            self._dirty_widgets.clear()
        app._update_mouse_over(self)
