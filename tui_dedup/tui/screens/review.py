"""The review screen: pairs (or groups), marks, filter, threshold, preview, and the keys.

What a screen does, and only that: lay the widgets out, bind keys, route each key and each
worker message to what handles it. The data and the decisions are the session's
(:class:`~tui_dedup.review.session.ReviewSession`); the rest is in modules beside this one, each
reaching the screen through a small typed Protocol of its own (none imports this module):
:mod:`.review_views` (table or groups, filter, selection), :mod:`.review_keys` (which keys
apply), :mod:`.review_files` (plan, apply, undo), :mod:`.review_marks` (auto-mark, skips),
:mod:`.review_timeline` (every mark and skip change, undo and redo, asking before many),
:mod:`.review_state` (autosave, resume, quit), :mod:`.review_preview` (preview, details).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Header, Input
from textual.worker import Worker, WorkerState

from tui_dedup.review.session import ReviewSession
from tui_dedup.tui.gc_policy import HeapFrozen
from tui_dedup.tui.host import host_of
from tui_dedup.tui.messages import ApplyProgressed, FilesChanged, PlanReady
from tui_dedup.tui.screen_refresh import NoRepaintLoop
from tui_dedup.tui.screens.bursts import open_bursts
from tui_dedup.tui.screens.compare import COMPARE_SCREEN, open_compare
from tui_dedup.tui.screens.help import open_help
from tui_dedup.tui.screens.review_bindings import REVIEW_BINDINGS
from tui_dedup.tui.screens.review_files import WORKER_GROUP, FileBatches
from tui_dedup.tui.screens.review_keys import KeyState, key_applies
from tui_dedup.tui.screens.review_preview import PreviewSync, forget_screen, open_details
from tui_dedup.tui.screens.review_state import SavedReview
from tui_dedup.tui.screens.review_timeline import MarkKeys, ReviewTimeline
from tui_dedup.tui.screens.review_views import ReviewViews
from tui_dedup.tui.widgets.footer import QuietFooter
from tui_dedup.tui.widgets.group_view import GroupView
from tui_dedup.tui.widgets.pair_table import PairTable
from tui_dedup.tui.widgets.status import StatusBar


class ReviewScreen(NoRepaintLoop, MarkKeys, Screen):
    """Pairs of similar images; mark copies, then move or trash them (undoable)."""

    BINDINGS: ClassVar[list[BindingType]] = REVIEW_BINDINGS  # declared in review_bindings

    def __init__(self, session: ReviewSession, preview_mode: str = "none") -> None:
        super().__init__()
        self.session = session
        self.views = ReviewViews(session)
        self.model = self.views.model
        self.matching = False
        self.files = FileBatches(self)
        self.timeline = ReviewTimeline(self)
        self.saved = SavedReview(self)
        self.preview = PreviewSync(preview_mode, session.store, self.views.selected_pair)
        self.keys = KeyState(self)
        self._frozen = HeapFrozen()  # no full GC walking the result on a key press

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="review-main"):
            yield self.views.table
            yield self.views.groups
            if self.preview.pane is not None:
                yield self.preview.pane
        yield self.views.filter_box
        yield StatusBar(id="status")
        yield QuietFooter(compact=True)

    def on_mount(self) -> None:
        self.views.table.focus()
        self.update_status()
        self.app.sub_title = host_of(self.app).roots_label()
        self._frozen.hold()  # the result, the groups and these widgets live as long as we do
        host_of(self.app).collector.hold()  # what comes after (pictures): collected when idle

    def on_unmount(self) -> None:
        """Save what is pending, let the details screen go, hand the heap back (rescan, quit)."""
        self.saved.flush()
        forget_screen(self.app)
        forget_screen(self.app, COMPARE_SCREEN)
        self._frozen.release()
        host_of(self.app).collector.release()

    def on_screen_suspend(self) -> None:
        """A dialog, help, the palette or the compare goes over this screen: its pictures are
        hidden under it, so the frame that shows this screen again is text (PreviewPane.cover)."""
        self.preview.cover(True)

    def on_screen_resume(self) -> None:
        self.preview.cover(False)

    # -- refreshing ----------------------------------------------------------------------------

    def pairs_changed(self) -> None:
        """Session pairs changed (re-match, skip, move, undo): update every view of them."""
        self.views.pairs_changed()
        self.busy_changed()
        self.preview.sync()
        self.fit_preview()

    def fit_preview(self) -> None:
        """The pane takes the rows the view shown leaves (under the header, over the status
        bar and the footer)."""
        self.preview.fit(self.size.height - 3, self.views.rows_wanted())

    on_resize = fit_preview

    def marks_changed(self) -> None:
        self.views.marks_changed()
        self.busy_changed()
        self.schedule_save()

    def replace_marks(self, rows: Iterable[int]) -> None:
        self.model.clear_marks()
        for row in rows:
            self.model.set_mark(int(row))
        self.marks_changed()

    def busy_changed(self) -> None:
        self.update_status()
        self.sync_bindings()

    def schedule_save(self) -> None:
        self.saved.schedule()

    def update_status(self) -> None:
        busy = [self.files.busy] if self.files.busy else []
        busy += ["matching..."] if self.matching else []
        self.query_one(StatusBar).show_review(self.session, self.model, busy)

    # -- which keys apply ----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return key_applies(self, action, parameters)

    def sync_bindings(self) -> None:
        """Refresh the footer only when some key became enabled or disabled."""
        self.keys.sync()

    # -- the selection -------------------------------------------------------------------------

    def current_pair(self) -> tuple[int, int] | None:
        """(file A, file B) of the selected row, in whichever view is shown."""
        pair = self.views.selected_pair()
        return None if pair is None else (pair[0], pair[1])

    def move_cursor(self, row: int) -> None:
        self.views.move_cursor(row)

    @property
    def group_mode(self) -> bool:
        return self.views.group_mode

    @on(PairTable.CursorMoved)
    def _pair_cursor(self, message: PairTable.CursorMoved) -> None:
        self.sync_bindings()
        self.preview.sync()
        self.schedule_save()

    @on(GroupView.CursorMoved)
    def _group_cursor(self, message: GroupView.CursorMoved) -> None:
        self.sync_bindings()
        self.preview.sync()

    # -- keys ----------------------------------------------------------------------------------

    # space, a, A, s, u, U, c, i, f, S: :class:`MarkKeys` (marks, skips, undo and redo)

    def action_apply(self, action: str) -> None:
        self.files.plan(action)

    def action_sort_next(self) -> None:
        self.views.table.cycle_sort()
        self.preview.sync()

    def action_sort_reverse(self) -> None:
        self.views.table.reverse_sort()
        self.preview.sync()

    def action_toggle_groups(self) -> None:
        self.views.toggle()
        self.schedule_save()  # the view is part of what a resume puts back
        self.sync_bindings()
        self.preview.sync()  # the other view's row: no cursor message says so
        self.fit_preview()

    def action_filter(self) -> None:
        self.views.open_filter()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.views.set_filter(event.value)
        self.update_status()
        self.preview.sync()
        self.fit_preview()

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        self.views.filter_done(event.value)

    def action_clear_filter(self) -> None:
        self.views.clear_filter()
        self.update_status()
        self.preview.sync()

    def action_threshold(self, direction: int) -> None:
        """One bit looser (1) or stricter (-1), or back to where the review started (0)."""
        s = self.session
        method = (s.wanted or (s.method, s.threshold))[0]
        th = s.step(looser=direction == 1) if direction else s.default_threshold(method)
        if th is not None:  # every press counts; only the re-match is coalesced
            host_of(self.app).start_match(method, th)

    def action_toggle_preview(self) -> None:
        self.preview.toggle()

    def action_details(self) -> None:
        pair = self.views.selected_pair()
        if pair is not None:
            s = self.session
            i, j = pair[0], pair[1]
            open_details(self.app, s.store, s.method, pair, s.similarity(i, j), s.verdict_of(i, j))

    def action_compare(self) -> None:
        """The selected pair full screen: side by side, flip A/B, difference."""
        open_compare(self.app, self, host_of(self.app).settings.preview)

    def action_bursts(self) -> None:
        """Bursts: frames of one scene side by side, ranked; keep the best, move the rest."""
        open_bursts(self.app, self, host_of(self.app).settings.preview)

    def action_help(self) -> None:
        sources: list[tuple[str, Iterable[BindingType]]] = [
            ("Review", type(self).BINDINGS),
            ("Pair table", PairTable.BINDINGS),
            ("Group view (g)", GroupView.BINDINGS),
            ("Everywhere", self.app.BINDINGS),
        ]
        open_help(self.app, sources)

    def action_errors(self) -> None:
        host_of(self.app).action_show_errors()

    def action_quit(self) -> None:
        self.saved.quit()

    # -- what the app asks ----------------------------------------------------------------------

    def match_started(self) -> None:
        self.matching = True
        self.busy_changed()

    def match_done(self, failed: bool = False) -> None:
        """A re-match finished (``failed``: it raised; the app shows why, the pairs stay)."""
        self.matching = False
        if failed:
            self.busy_changed()
        else:
            self.pairs_changed()

    # -- what the workers report ---------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Worker events do not bubble: hand failures to the app's single handler."""
        host_of(self.app).report_worker_state(event)
        if event.state == WorkerState.ERROR and event.worker.group == WORKER_GROUP:
            self.files.failed()

    def on_plan_ready(self, message: PlanReady) -> None:
        self.files.confirm(message.plan)

    def on_apply_progressed(self, message: ApplyProgressed) -> None:
        self.files.progressed(message)

    def on_files_changed(self, message: FilesChanged) -> None:
        self.files.changed(message)
        for screen in self.app.screen_stack:  # the burst view finds its bursts again
            changed = getattr(screen, "files_changed", None)
            if screen is not self and callable(changed):
                changed()
