"""The two views of the review — the pair table and the group view, one shown at a time — the
filter that narrows both, and the one answer to "which pair is selected".

Why apart from the screen: the selection must be read from the view that is shown, never from a
cursor message (which may come from the hidden view, or be older than a filter, sort or
re-match). Holding both views, the filter box and that rule in one object leaves the screen to
route keys; the widgets are built here and the screen lays them out.
"""

from __future__ import annotations

from textual.widgets import Input

from tui_dedup.review.session import ReviewSession
from tui_dedup.tui.widgets.group_view import GroupView
from tui_dedup.tui.widgets.pair_table import PairTable
from tui_dedup.tui.widgets.table_columns import file_facts, pair_labels
from tui_dedup.tui.widgets.table_model import PairTableModel


def table_model(session: ReviewSession) -> PairTableModel:
    """The pair table's model over the session's pairs and the files' facts."""
    return PairTableModel(session.pairs, session.paths, file_facts(session), pair_labels(session))


class ReviewViews:
    """Pair table or group view, and the filter box; ``group_mode`` says which view shows."""

    def __init__(self, session: ReviewSession) -> None:
        self.session = session
        self.model = table_model(session)
        self.table = PairTable(self.model, id="pairs")
        self.groups = GroupView(id="groups", classes="hidden")
        self.filter_box = Input(
            placeholder="filter by path (enter: keep, escape: clear)", id="filter", classes="hidden"
        )
        self.group_mode = False

    def shown(self) -> PairTable | GroupView:
        return self.groups if self.group_mode else self.table

    def toggle(self) -> None:
        """Show the other view, focused (its own cursor: the selection changes)."""
        self.group_mode = not self.group_mode
        if self.group_mode:
            self.fill_groups()
        self.table.set_class(self.group_mode, "hidden")
        self.groups.set_class(not self.group_mode, "hidden")
        self.shown().focus()

    def fill_groups(self) -> None:
        """Show the groups with a member matching the filter (all groups without one)."""
        groups = self.session.groups
        if self.model.filter_text:
            mask = self.model.file_mask(self.model.filter_text)
            groups = [g for g in groups if mask[g.members].any()]
        self.groups.set_data(self.model, groups, self.session.pairs)

    def pairs_changed(self) -> None:
        """The session's pairs changed (re-match, skip, move, undo)."""
        self.table.set_pairs(self.session.pairs, pair_labels(self.session))
        if self.group_mode:
            self.fill_groups()

    def marks_changed(self) -> None:
        self.table.refresh_rows()
        self.groups.refresh()

    # -- the filter ----------------------------------------------------------------------------

    def open_filter(self) -> None:
        self.filter_box.remove_class("hidden")
        self.filter_box.focus()

    def set_filter(self, text: str) -> None:
        """Narrow both views to pairs with ``text`` in a path ("" shows all)."""
        if text != self.model.filter_text:
            self.table.set_filter(text)
            if self.group_mode:
                self.fill_groups()

    def filter_done(self, text: str) -> None:
        """Enter in the filter box: keep the filter (an empty box goes away), back to the view."""
        if not text:
            self.filter_box.add_class("hidden")
        self.shown().focus()

    def clear_filter(self) -> None:
        if self.filter_box.value:
            self.filter_box.value = ""
        self.set_filter("")
        self.filter_box.add_class("hidden")
        self.shown().focus()

    # -- the selection -------------------------------------------------------------------------

    def selected_pair(self) -> tuple[int, int, int] | None:
        """(file A, file B, transform) of the selected row in the view that is shown.

        The one answer to "which pair": the preview, details, skip and the keys that need a row
        all ask here, never a cursor message.
        """
        if self.group_mode:
            pair = self.groups.current_pair()
            return None if pair is None else (*pair, self.groups.transform(*pair))
        cur = self.model.current()
        if cur is None:
            return None
        return cur[1], cur[2], int(self.model.pairs.transform[cur[0]])

    def current_file(self) -> int | None:
        """The file marking acts on, in the view that is shown."""
        return self.groups.current_file() if self.group_mode else self.model.current_file()

    def move_cursor(self, row: int) -> None:
        """Put the table's cursor on view position ``row`` (a resumed review's cursor)."""
        if not self.group_mode:
            self.table.move_cursor(row)

    # -- what the full-screen compare asks (it shows the selection, these move it) -------------

    def position(self) -> tuple[int, int]:
        """(1-based place of the selected row, rows in the view shown)."""
        if self.group_mode:
            return self.groups.cursor + 1, int(self.groups.members.size)
        return self.model.cursor + 1, len(self.model)

    def step(self, delta: int) -> None:
        """The next (``delta`` 1) or previous (-1) row of the view shown."""
        if self.group_mode:
            self.groups.action_cursor(delta)
        else:
            self.table.move_cursor(self.model.cursor + delta)

    def choose_side(self, side: str) -> None:
        """Marking acts on ``side`` ("a" or "b") from now on (the table; groups mark a line)."""
        if not self.group_mode and side in ("a", "b"):
            self.table.set_side("a" if side == "a" else "b")

    def chosen_side(self) -> str | None:
        """The side of the selected pair that marking acts on."""
        pair, file = self.selected_pair(), self.current_file()
        if pair is None or file is None:
            return None
        return "a" if file == pair[0] else "b"

    def is_marked(self, row: int) -> bool:
        return self.model.is_marked(row)

    def rows_wanted(self) -> int:
        """Rows the view shown would fill: header and every row (the pane gets the rest)."""
        if self.group_mode:
            return int(self.groups.line_file.size) + 1
        return len(self.model) + 1
