"""Patch ``repaint``: a screen under a modal stops repainting itself in full in a loop.

Upstream behaviour (Textual 8.2): a screen can show through the one above it (the command
palette and our modal screens dim what is under them). When a widget on the covered screen
changes, ``Screen._compositor_refresh`` passes the changed regions up to the top screen *and*
marks the covered screen for a full repaint (``_repaint_required = True``). That full repaint
dirties the whole covered screen, whose regions are passed up again and mark another full
repaint: from the first change on, each message the covered screen handles repaints it and the
screen on top in full, for as long as the top screen stays open. Measured with the palette open
over the scan screen: many full frames a second, each the whole terminal, with key presses
waiting behind those renders (benchmarks/RESULTS.md, "Keys through tmux" and "Why the code is
as it is").

The fix: a covered screen passes up the regions that changed, repaints itself in full once as
Textual does (its widgets may not have been rendered into it yet), and stops when that repaint's
own regions come back. Off: Textual's ``_compositor_refresh`` unchanged.

Private names touched: ``Screen._compositor_refresh`` (overridden; its non-inline branch for a
background screen is re-implemented), ``Screen._compositor._dirty_regions``,
``Screen._dirty_widgets``, ``Screen._repaint_required``, ``Widget._set_dirty``,
``App._background_screens``, ``App._update_mouse_over``.

Checked against textual>=8.2.8,<8.3.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui_dedup.tui.textual_patches import enabled

PATCH = "repaint"

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
        if not enabled(PATCH):
            super()._compositor_refresh()
            return
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
