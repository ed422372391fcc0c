"""The review's saved state: saved as the user goes, offered back next time, saved on quit.

Why apart from the screen: saving is on a timer (a burst of marks is one write), must happen
once more when the screen goes (a rescan, a quit), and a resume puts marks and the cursor back.
What is saved is the session's answer (:meth:`ReviewSession.saved_state`); this module only
decides *when*, and reports a state dir it cannot write to instead of failing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from textual.app import App
from textual.notifications import SeverityLevel
from textual.timer import Timer

from tui_dedup.actions.skips import ReviewState
from tui_dedup.review.session import ReviewSession
from tui_dedup.tui.screens.confirm import ConfirmScreen
from tui_dedup.tui.widgets.table_model import PairTableModel

SAVE_DELAY = 0.5  # seconds: marks are saved this long after the last change


class StateHost(Protocol):
    """What saving and resuming need from the review screen."""

    @property
    def app(self) -> App[Any]: ...

    @property
    def session(self) -> ReviewSession: ...

    @property
    def model(self) -> PairTableModel: ...

    def replace_marks(self, rows: Iterable[int]) -> None: ...

    def move_cursor(self, row: int) -> None: ...

    @property
    def group_mode(self) -> bool: ...

    def action_toggle_groups(self) -> None: ...

    def set_timer(self, delay: float, callback: Callable[[], object]) -> Timer: ...

    def notify(
        self, message: str, *, title: str = "", severity: SeverityLevel = "information"
    ) -> None: ...


class SavedReview:
    """Autosave, resume and the quit that saves first, for one review screen."""

    def __init__(self, host: StateHost) -> None:
        self.host = host
        self.timer: Timer | None = None

    def state(self) -> ReviewState:
        model = self.host.model
        return self.host.session.saved_state(
            model.marked_files(), model.cursor, self.host.group_mode
        )

    def schedule(self) -> None:
        """Save :data:`SAVE_DELAY` seconds from now (one write for a burst of changes)."""
        if self.timer is None:
            self.timer = self.host.set_timer(SAVE_DELAY, self.save)

    def save(self) -> None:
        self.timer = None
        try:
            self.state().save()
        except OSError as exc:
            self.host.notify(f"could not save the review state: {exc}", severity="error")

    def flush(self) -> None:
        """The screen goes: a save still waiting on its timer happens now."""
        if self.timer is not None:
            self.timer.stop()
            self.save()

    def restore(self, state: ReviewState, quiet: bool = False) -> None:
        """Put a saved state's marks, skips and cursor back (``quiet``: after a rescan)."""
        rows = self.host.session.resume(state)
        self.host.replace_marks(rows.tolist())
        self.host.move_cursor(state.cursor)
        if state.group_mode != self.host.group_mode:
            self.host.action_toggle_groups()
        if not quiet:
            self.host.notify(f"restored {rows.size} mark(s) from the last review", title="resumed")

    def quit(self) -> None:
        """Save and leave; with marks not acted on, ask first (nothing has been moved)."""
        app = self.host.app
        n = int(self.host.model.marked_files().size)
        if not n:
            self.save()
            app.exit(0)
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self.save()
                app.exit(0)

        app.push_screen(
            ConfirmScreen(
                f"Quit with {n} marked file(s) not moved?",
                ["Nothing has been moved. Your marks are saved and offered back next time."],
                yes="Quit",
            ),
            answer,
        )
