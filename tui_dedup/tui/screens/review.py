"""The review screen: pairs (or groups), marks, filter, threshold, preview, and the keys.

The data lives in :class:`~tui_dedup.review.session.ReviewSession` (pairs, groups, what is hidden)
and in the pair table model (marks, sort, filter, cursor). File operations, skips and saved
state are in :mod:`tui_dedup.tui.screens.review_ops`, so this module is about what the user
sees and which keys apply when.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Header, Input
from textual.worker import Worker

from tui_dedup.engine.registry import METHODS
from tui_dedup.review.session import ReviewSession
from tui_dedup.tui.gc_policy import HeapFrozen
from tui_dedup.tui.screen_refresh import NoRepaintLoop
from tui_dedup.tui.screens.help import open_help
from tui_dedup.tui.screens.review_ops import ReviewOps
from tui_dedup.tui.widgets.footer import QuietFooter
from tui_dedup.tui.widgets.group_view import GroupView
from tui_dedup.tui.widgets.pair_table import PairTable
from tui_dedup.tui.widgets.status import StatusBar
from tui_dedup.tui.widgets.table_model import PairTableModel

# Actions that need a pair under the cursor / marked files / a finished match.
_NEEDS_ROW = {"mark", "skip", "details"}
_NEEDS_MARKS = {"apply"}


class ReviewScreen(ReviewOps, NoRepaintLoop, Screen):
    """Pairs of similar images; mark copies, then move or trash them (undoable)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "mark", "Mark", id="review.mark"),
        Binding("a", "auto_mark", "Auto", id="review.auto_mark"),
        Binding("A", "auto_menu", "Auto-mark by rule...", show=False, id="review.auto_menu"),
        Binding("s", "skip", "Not dup", id="review.skip"),
        Binding("m", "apply('move')", "Move", id="review.move"),
        Binding("t", "apply('trash')", "Trash", id="review.trash"),
        Binding("u", "undo", "Undo", id="review.undo"),
        Binding("g", "toggle_groups", "Groups", id="review.groups"),
        Binding("slash", "filter", "Filter", id="review.filter"),
        Binding("o", "sort_next", "Next sort column", show=False, id="review.sort_next"),
        Binding("O", "sort_reverse", "Reverse sort", show=False, id="review.sort_reverse"),
        Binding(
            "plus,equals_sign", "threshold(1)", "Looser (+1 bit)", show=False, id="review.looser"
        ),
        Binding("minus", "threshold(-1)", "Stricter (-1 bit)", show=False, id="review.stricter"),
        Binding("p", "toggle_preview", "Preview", id="review.preview"),
        Binding("d", "details", "Details", id="review.details"),
        Binding("e", "errors", "Scan errors", show=False, id="review.errors"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="review.clear_filter"),
        Binding("question_mark", "help", "Help", id="review.help"),
        Binding("q", "quit", "Quit", id="review.quit"),
    ]

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Worker events do not bubble: hand failures to the app's single handler."""
        self.app.report_worker_state(event)

    def __init__(self, session: ReviewSession) -> None:
        super().__init__()
        self.session = session
        self.model = self._build_model()
        self.group_mode = False
        self.matching = False
        self.busy = ""  # non-empty while a plan is built/applied or an undo runs
        self.undo_stack: list[str] = []
        self._binding_state: tuple = ()
        self._frozen = HeapFrozen()  # no 0.25 s full GC walking the result on a key press
        self.init_ops()

    # -- building ------------------------------------------------------------------------------

    def _methods_of(self) -> np.ndarray | str:
        s = self.session
        if len(s.pairs) and s.pairs.exact.any():
            return np.where(s.pairs.exact, "exact", s.method)
        return s.method

    def _build_model(self) -> PairTableModel:
        s = self.session
        store = s.store
        return PairTableModel(
            s.pairs,
            s.paths,
            store.column("size"),
            store.column("width"),
            store.column("height"),
            store.column("mtime"),
            self._methods_of(),
        )

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="review-main"):
            yield PairTable(self.model, id="pairs")
            yield GroupView(id="groups", classes="hidden")
            pane = self.make_preview()
            if pane is not None:
                yield pane
        yield Input(
            placeholder="filter by path (enter: keep, escape: clear)", id="filter", classes="hidden"
        )
        yield StatusBar(id="status")
        yield QuietFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one(PairTable).focus()
        self.update_status()
        self.app.sub_title = self.app.roots_label()
        self._frozen.hold()  # the result, the groups and these widgets live as long as we do

    def on_unmount(self) -> None:
        """Hand the heap back to the collector, so this result can go (rescan, quit).

        Textual calls :meth:`ReviewOps.on_unmount` too (handlers run for each class in the MRO).
        """
        self._frozen.release()

    # -- refreshing ----------------------------------------------------------------------------

    def pairs_changed(self) -> None:
        """Session pairs changed (re-match, skip, move, undo): update every view of them."""
        table = self.query_one(PairTable)
        table.set_pairs(self.session.pairs, self._methods_of())
        if self.group_mode:
            self.fill_groups()
        self.update_status()
        self.sync_bindings()
        self.sync_preview()

    def fill_groups(self) -> None:
        """Show the groups with a member matching the filter (all groups without one)."""
        groups = self.session.groups
        if self.model.filter_text:
            mask = self.model.file_mask(self.model.filter_text)
            groups = [g for g in groups if mask[g.members].any()]
        self.query_one(GroupView).set_data(self.model, groups, self.session.pairs)

    def marks_changed(self) -> None:
        self.query_one(PairTable).refresh_rows()
        self.query_one(GroupView).refresh()
        self.update_status()
        self.sync_bindings()
        self.schedule_save()

    def update_status(self, note: str = "") -> None:
        s = self.session
        marked = self.model.marked_files()
        notes = [n for n in (note, self.busy) if n]
        if self.matching:
            notes.append("matching...")
        if s.result.cancelled:
            notes.append("partial scan")
        if s.result.errors:
            notes.append(f"{len(s.result.errors)} unreadable (e)")
        if self.model.filter_text:
            notes.append(f"filter: {self.model.filter_text}")
        self.query_one(StatusBar).show_counts(
            pairs=len(s.pairs),
            shown=len(self.model),
            groups=len(s.groups),
            marked=int(marked.size),
            marked_bytes=s.bytes_of(marked),
            label=s.label(),
            note=", ".join(notes),
        )

    # -- which keys apply ----------------------------------------------------------------------

    def sync_bindings(self) -> None:
        """Refresh the footer only when some key became enabled or disabled.

        Redrawing the footer rebuilds its widgets; doing it on every cursor move would make
        holding a key down slow over SSH.
        """
        state = tuple(
            self.check_action(b.action.split("(")[0], self._params(b.action))
            for b in self.BINDINGS
            if isinstance(b, Binding)
        )
        if state != self._binding_state:
            self._binding_state = state
            self.refresh_bindings()

    @staticmethod
    def _params(action: str) -> tuple[object, ...]:
        if "(" not in action:
            return ()
        arg = action[action.index("(") + 1 : -1].strip("'\"")
        return (int(arg),) if arg.lstrip("-").isdigit() else (arg,)

    def typing(self) -> bool:
        return isinstance(self.focused, Input)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("quit", "help", "clear_filter"):
            return True
        if self.typing():
            return None
        if action in _NEEDS_ROW and self.current_pair() is None:
            return None
        if action in _NEEDS_MARKS and (self.busy or not self.model.marked_files().size):
            return None
        if action == "auto_mark" or action == "auto_menu":
            return None if (self.busy or not self.session.groups) else True
        if action == "undo" and (self.busy or not self.undo_stack):
            return None
        if action in ("sort_next", "sort_reverse") and self.group_mode:
            return None
        if action == "threshold":
            if self.matching:
                return None
            return None if self.session.step(bool(parameters[0] == 1)) is None else True
        if action == "toggle_preview" and not self.preview_available():
            return None
        if action == "errors" and not (self.session.result.errors or self.session.result.skipped):
            return None
        return True

    # -- cursor --------------------------------------------------------------------------------

    def selected_pair(self) -> tuple[int, int, int] | None:
        """(file A, file B, transform) of the selected row in the view that is shown.

        The one answer to "which pair": the preview, details, skip and the keys that need a row
        all ask here, never a cursor message (which may come from the hidden view, or be older
        than a filter, sort or re-match).
        """
        if self.group_mode:
            groups = self.query_one(GroupView)
            pair = groups.current_pair()
            return None if pair is None else (*pair, groups.transform(*pair))
        cur = self.model.current()
        if cur is None:
            return None
        return cur[1], cur[2], int(self.model.pairs.transform[cur[0]])

    def current_pair(self) -> tuple[int, int] | None:
        """(file A, file B) under the cursor, in whichever view is shown."""
        pair = self.selected_pair()
        return None if pair is None else pair[:2]

    def current_file(self) -> int | None:
        if self.group_mode:
            return self.query_one(GroupView).current_file()
        return self.model.current_file()

    @on(PairTable.CursorMoved)
    def _pair_cursor(self, message: PairTable.CursorMoved) -> None:
        self.sync_bindings()
        self.sync_preview()
        self.schedule_save()

    @on(GroupView.CursorMoved)
    def _group_cursor(self, message: GroupView.CursorMoved) -> None:
        self.sync_bindings()
        self.sync_preview()

    # -- simple actions ------------------------------------------------------------------------

    def action_mark(self) -> None:
        f = self.current_file()
        if f is None:
            return
        self.model.toggle_mark(f)
        self.marks_changed()

    def action_sort_next(self) -> None:
        self.query_one(PairTable).cycle_sort()
        self.sync_preview()

    def action_sort_reverse(self) -> None:
        self.query_one(PairTable).reverse_sort()
        self.sync_preview()

    def action_toggle_groups(self) -> None:
        self.group_mode = not self.group_mode
        table, groups = self.query_one(PairTable), self.query_one(GroupView)
        if self.group_mode:
            self.fill_groups()
        table.set_class(self.group_mode, "hidden")
        groups.set_class(not self.group_mode, "hidden")
        (groups if self.group_mode else table).focus()
        self.sync_bindings()
        self.sync_preview()  # the other view's row: no cursor message says so

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.remove_class("hidden")
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.query_one(PairTable).set_filter(event.value)
        if self.group_mode:
            self.fill_groups()
        self.update_status()
        self.sync_preview()

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        if not event.value:
            event.input.add_class("hidden")
        self.main_view().focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if box.value:
            box.value = ""
            self.query_one(PairTable).set_filter("")
            if self.group_mode:
                self.fill_groups()
        box.add_class("hidden")
        self.main_view().focus()
        self.update_status()
        self.sync_preview()

    def main_view(self) -> PairTable | GroupView:
        return self.query_one(GroupView) if self.group_mode else self.query_one(PairTable)

    def action_threshold(self, direction: int) -> None:
        th = self.session.step(looser=direction == 1)
        if th is not None:
            self.app.start_match(self.session.method, th)

    def match_started(self) -> None:
        self.matching = True
        self.update_status()
        self.sync_bindings()

    def match_done(self) -> None:
        self.matching = False
        self.pairs_changed()

    def action_help(self) -> None:
        sources = [
            ("Review", type(self).BINDINGS),
            ("Pair table", PairTable.BINDINGS),
            ("Group view (g)", GroupView.BINDINGS),
            ("Everywhere", self.app.BINDINGS),
        ]
        open_help(self.app, sources)

    def action_errors(self) -> None:
        self.app.action_show_errors()

    def method_names(self) -> list[str]:
        return list(METHODS)
