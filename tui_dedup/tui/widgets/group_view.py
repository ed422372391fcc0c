"""Groups of duplicates, one file per line under a header per group, keeper first.

The same data as the pair table, seen per group: every member is a direct match of the keeper
(star groups, see ``engine.group``). Built on the Line API like the pair table, so 100k pairs
cost only the lines on screen. Marks are the pair table model's per-file marks (one truth).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from rich.segment import Segment
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui_dedup.engine.index.hamming import DIHEDRAL_INVERSE
from tui_dedup.engine.model import Group, Pairs
from tui_dedup.tui.widgets.cells import (
    fit,
    format_resolution,
    format_similarity,
    human_size,
    mark_glyph,
    printable,
    shorten_middle,
)
from tui_dedup.tui.widgets.table_model import PairTableModel


class GroupView(ScrollView, can_focus=True):
    """Header line per group (size, files, bytes the copies take), then one line per member."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor(-1)", "Up", show=False, id="group_view.cursor_up"),
        Binding("down,j", "cursor(1)", "Down", show=False, id="group_view.cursor_down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="group_view.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="group_view.page_down"),
        Binding("home", "first", "First file", show=False, id="group_view.first"),
        Binding("end", "last", "Last file", show=False, id="group_view.last"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "group-view--header",
        "group-view--cursor",
        "group-view--marked",
        "group-view--keeper",
    }

    class CursorMoved(Message):
        """The cursor is on another file: ``(keeper, file)`` is the pair to preview."""

        def __init__(self, view: GroupView, keeper: int, file_row: int, partner: int) -> None:
            super().__init__()
            self.view = view
            self.keeper = keeper
            self.file_row = file_row
            self.partner = partner

        @property
        def control(self) -> GroupView:
            return self.view

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, GroupView.CursorMoved)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.model: PairTableModel | None = None
        self.groups: list[Group] = []
        self.line_group = np.zeros(0, np.int32)
        self.line_file = np.zeros(0, np.int32)  # -1 on a header line
        self.members = np.zeros(0, np.int32)  # line numbers of member lines
        self.cursor = 0  # index into members
        self._pair_keys = np.zeros(0, np.int64)
        self._pair_sim = np.zeros(0, np.float32)
        self._pair_tf = np.zeros(0, np.int8)
        self._n = 0

    # -- data ----------------------------------------------------------------------------------

    def set_data(self, model: PairTableModel, groups: list[Group], pairs: Pairs) -> None:
        keep = self.current_file()
        self.model, self.groups = model, groups
        self._n = model.n_files
        sizes = np.fromiter((len(g.members) + 1 for g in groups), np.int64, len(groups))
        total = int(sizes.sum())
        self.line_group = np.repeat(np.arange(len(groups), dtype=np.int32), sizes)
        files = np.full(total, -1, np.int32)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]) if len(groups) else np.zeros(0)
        if groups:
            flat = np.fromiter((m for g in groups for m in g.members), np.int32)
            member_lines = np.flatnonzero(
                ~np.isin(np.arange(total), starts.astype(np.int64))
            ).astype(np.int32)
            files[member_lines] = flat
        self.line_file = files
        self.members = np.flatnonzero(files >= 0).astype(np.int32)
        keys = pairs.i.astype(np.int64) * max(1, self._n) + pairs.j
        order = np.argsort(keys)
        self._pair_keys, self._pair_sim = keys[order], pairs.similarity[order]
        self._pair_tf = pairs.transform[order]
        self.cursor = 0
        if keep is not None:
            hit = np.flatnonzero(files[self.members] == keep)
            if hit.size:
                self.cursor = int(hit[0])
        self.virtual_size = Size(self.size.width, total)
        self.refresh()
        self._scroll_into_view()
        self._report()

    def _pair_at(self, a: int, b: int) -> int | None:
        """Index into the sorted pair arrays of the pair of files ``a`` and ``b``."""
        lo, hi = min(a, b), max(a, b)
        key = lo * max(1, self._n) + hi
        k = int(np.searchsorted(self._pair_keys, key))
        if k < self._pair_keys.size and self._pair_keys[k] == key:
            return k
        return None

    def similarity(self, a: int, b: int) -> float | None:
        k = self._pair_at(a, b)
        return None if k is None else float(self._pair_sim[k])

    def transform(self, a: int, b: int) -> int:
        """Which rotation/mirror of ``b`` matched ``a`` (0 when none or not a pair).

        Pairs store it for ``j`` against ``i`` (``i < j``); a keeper on the right of its stored
        pair gets the inverse, so the preview names the same turn as in the pair table.
        """
        k = self._pair_at(a, b)
        if k is None:
            return 0
        t = int(self._pair_tf[k])
        return t if a < b or not 0 <= t < len(DIHEDRAL_INVERSE) else DIHEDRAL_INVERSE[t]

    def current_file(self) -> int | None:
        if not self.members.size:
            return None
        return int(self.line_file[self.members[min(self.cursor, self.members.size - 1)]])

    def current_group(self) -> Group | None:
        if not self.members.size:
            return None
        return self.groups[int(self.line_group[self.members[self.cursor]])]

    def current_pair(self) -> tuple[int, int] | None:
        """(keeper, file) for the cursor line; on the keeper, (keeper, next member)."""
        g, f = self.current_group(), self.current_file()
        if g is None or f is None:
            return None
        if f == g.keeper:
            return (g.keeper, g.members[1]) if len(g.members) > 1 else None
        return (g.keeper, f)

    # -- cursor --------------------------------------------------------------------------------

    def move_to(self, index: int) -> None:
        if not self.members.size:
            return
        self.cursor = max(0, min(index, self.members.size - 1))
        self.refresh()
        self._scroll_into_view()
        self._report()

    def action_cursor(self, delta: int) -> None:
        self.move_to(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self.move_to(self.cursor + direction * max(1, self.size.height - 1))

    def action_first(self) -> None:
        self.move_to(0)

    def action_last(self) -> None:
        self.move_to(self.members.size - 1)

    def _scroll_into_view(self) -> None:
        if not self.members.size:
            return
        line = int(self.members[self.cursor])
        y, h = int(self.scroll_y), max(1, self.scrollable_content_region.height)
        if line - 1 < y:
            self.scroll_to(y=max(0, line - 1), animate=False, immediate=True)
        elif line >= y + h:
            self.scroll_to(y=line - h + 1, animate=False, immediate=True)

    def _report(self) -> None:
        pair = self.current_pair()
        f = self.current_file()
        if pair is not None and f is not None:
            self.post_message(self.CursorMoved(self, pair[0], f, pair[1]))

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(self.size.width, int(self.line_file.size))
        self._scroll_into_view()

    async def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        line = int(self.scroll_y) + offset.y
        hit = np.flatnonzero(self.members == line)
        if hit.size:
            self.move_to(int(hit[0]))

    # -- rendering -----------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        line = int(self.scroll_y) + y
        model = self.model
        if model is None or line >= self.line_file.size:
            return Strip.blank(width, base)
        g = self.groups[int(self.line_group[line])]
        f = int(self.line_file[line])
        if f < 0:
            style = base + self.get_component_rich_style("group-view--header")
            copies = int(model.fact("size")[g.members[1:]].sum())
            text = (
                f"Group {int(self.line_group[line]) + 1}: {len(g.members)} files, "
                f"copies take {human_size(copies)}"
            )
            return Strip([Segment(fit(text, width), style)]).adjust_cell_length(width, style)
        is_cursor = self.members.size and line == int(self.members[self.cursor])
        style = base
        if is_cursor:
            style = style + self.get_component_rich_style("group-view--cursor")
        marked = bool(model.marked[f])
        if marked:
            style = style + self.get_component_rich_style("group-view--marked", partial=True)
        role = "keep" if f == g.keeper else "copy"
        sim = "" if f == g.keeper else format_similarity(self.similarity(g.keeper, f) or 0.0)
        res = format_resolution(int(model.fact("width")[f]), int(model.fact("height")[f]))
        glyph = mark_glyph() if marked else " "
        size = human_size(int(model.fact("size")[f]))
        tail = f" {fit(sim, 6, 'right')} {fit(size, 7, 'right')}"
        if width >= 70:
            tail += f" {fit(res, 9, 'right')}"
        head = f"  {glyph} {role} "
        room = max(8, width - len(head) - len(tail))
        text = head + shorten_middle(printable(model.paths[f]), room) + tail
        return Strip([Segment(text, style)]).adjust_cell_length(width, style)
