"""Which review keys apply right now, and a footer redrawn only when that answer changes.

Why apart from the screen: the answer reads half the review (the selection, marks, the batch
stack, a plan or a match running, the preview), and Textual asks it for every binding whenever
the footer refreshes; one function over a narrow interface says it in one place. A key that
does not apply is dimmed in the footer and does nothing, rather than hidden.

Redrawing the footer rebuilds its widgets, so :class:`KeyState` asks Textual to do it only when
some key became enabled or disabled, not on every cursor move (holding a key down over SSH).
"""

from __future__ import annotations

from typing import Any, Protocol

from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input

from tui_dedup.review.session import ReviewSession
from tui_dedup.tui.screens.review_files import FileBatches
from tui_dedup.tui.screens.review_preview import PreviewSync
from tui_dedup.tui.screens.review_views import ReviewViews

ALWAYS = {"quit", "help", "clear_filter"}
NEEDS_ROW = {"mark", "skip", "details"}  # a pair under the cursor
NEEDS_MARKS = {"apply"}


class KeysHost(Protocol):
    """What the answer reads from the review screen."""

    @property
    def session(self) -> ReviewSession: ...

    @property
    def views(self) -> ReviewViews: ...

    @property
    def files(self) -> FileBatches: ...

    @property
    def preview(self) -> PreviewSync: ...

    @property
    def matching(self) -> bool: ...

    @property
    def focused(self) -> Widget | None: ...


def key_applies(host: KeysHost, action: str, parameters: tuple[object, ...]) -> bool | None:
    """True when ``action`` may run now, None (dimmed, does nothing) when it may not."""
    session, busy, result = host.session, host.files.busy, host.session.result
    if action in ALWAYS:
        return True
    if isinstance(host.focused, Input):  # typing in the filter
        return None
    if action in NEEDS_ROW and host.views.selected_pair() is None:
        return None
    if action in NEEDS_MARKS and (busy or not host.views.model.marked_files().size):
        return None
    if action in ("auto_mark", "auto_menu"):
        return None if (busy or not session.groups) else True
    if action == "undo" and (busy or session.timeline.newest() is None):
        return None
    if action == "redo" and (busy or session.timeline.next_redo() is None):
        return None
    if action == "edit_marks":  # unmark all needs marks; invert and pattern, groups
        if parameters[:1] == ("unmark_all",):
            return True if host.views.model.marked_files().size else None
        return True if session.groups else None
    if action == "skips" and not session.skipped_keys:
        return None
    if action in ("sort_next", "sort_reverse") and host.views.group_mode:
        return None
    if action == "threshold" and parameters[:1] == (0,):
        return True
    if action == "threshold":  # also while a re-match runs: each press steps from the last
        return None if session.step(bool(parameters[0] == 1)) is None else True
    if action == "toggle_preview" and not host.preview.available():
        return None
    if action == "errors" and not (result.errors or result.skipped):
        return None
    return True


def action_parameters(action: str) -> tuple[object, ...]:
    """The parameters in a binding's action string: ``apply('move')`` → ``("move",)``."""
    if "(" not in action:
        return ()
    arg = action[action.index("(") + 1 : -1].strip("'\"")
    return (int(arg),) if arg.lstrip("-").isdigit() else (arg,)


class KeyState:
    """Refreshes a screen's footer only when some key of it became enabled or disabled."""

    def __init__(self, screen: Screen[Any]) -> None:
        self.screen = screen
        self.last: tuple[bool | None, ...] = ()

    def sync(self) -> None:
        screen = self.screen
        state = tuple(
            screen.check_action(b.action.split("(")[0], action_parameters(b.action))
            for b in screen.BINDINGS
            if isinstance(b, Binding)
        )
        if state != self.last:
            self.last = state
            screen.refresh_bindings()
