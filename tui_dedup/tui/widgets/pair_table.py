"""A virtual table of duplicate pairs that stays instant at a million rows.

Textual's ``DataTable`` builds every row up front (about 10 s for 100k rows here). This widget
uses the Line API instead: it is a :class:`~textual.scroll_view.ScrollView` whose
:meth:`PairTable.render_line` asks the :class:`PairTableModel` for just the rows on screen, so
the cost of a key press does not depend on how many pairs there are.

Line 0 of the widget is a fixed header; the rows scroll beneath it. The virtual height is
``rows + 1`` so the scrollbar and the last row line up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui_dedup.engine.model import Pairs
from tui_dedup.tui.widgets.pair_table_rows import RowCache, cell_styles, row_strip
from tui_dedup.tui.widgets.table_columns import Side
from tui_dedup.tui.widgets.table_layout import Layout, compute_layout
from tui_dedup.tui.widgets.table_model import LabelValue, PairTableModel

HEADER_HEIGHT = 1


class PairTable(ScrollView, can_focus=True):
    """Duplicate pairs, one per line: similarity, method and both files side by side.

    The chosen side (A or B) is what marking acts on; it is highlighted in the cursor row.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "Up", show=False, id="pair_table.cursor_up"),
        Binding("down,j", "cursor_down", "Down", show=False, id="pair_table.cursor_down"),
        Binding("pageup", "page_up", "Page up", show=False, id="pair_table.page_up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="pair_table.page_down"),
        Binding("home", "first", "First pair", show=False, id="pair_table.first"),
        Binding("end", "last", "Last pair", show=False, id="pair_table.last"),
        # Not in the footer: at 80 cells it has room for the review's main keys only (the
        # table marks the chosen side itself, and ? lists these).
        Binding("left,h", "side('a')", "Side A", show=False, id="pair_table.side_a"),
        Binding("right,l", "side('b')", "Side B", show=False, id="pair_table.side_b"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "pair-table--header",
        "pair-table--cursor",
        "pair-table--side",
        "pair-table--marked",
    }
    """
    | Class | Description |
    | :- | :- |
    | `pair-table--header` | The fixed header line. |
    | `pair-table--cursor` | The cursor row. |
    | `pair-table--side` | The chosen side's cells inside the cursor row. |
    | `pair-table--marked` | Cells of a marked file (a ✓ is shown too, for monochrome terminals). |
    """

    DEFAULT_CSS = """
    PairTable {
        background: $surface;
        color: $foreground;
        height: 1fr;
        overflow-x: hidden;
        overflow-y: auto;

        & > .pair-table--header {
            background: $panel;
            color: $foreground;
            text-style: bold;
        }
        & > .pair-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .pair-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .pair-table--side {
            background: $accent;
            color: $text-accent;
            text-style: bold underline;
        }
        & > .pair-table--marked {
            color: $text-error;
            text-style: bold;
        }
        &:ansi > .pair-table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
    }
    """

    class CursorMoved(Message):
        """The cursor is on another pair, row or side (or the table is empty: ``pair_index``
        is -1). Newer messages replace queued older ones, so holding a key down over a slow
        link does not build a backlog of previews."""

        def __init__(
            self, table: PairTable, pair_index: int, i: int, j: int, row: int, side: Side
        ) -> None:
            super().__init__()
            self.table = table
            self.pair_index = pair_index
            self.i = i
            self.j = j
            self.row = row
            self.side = side

        @property
        def control(self) -> PairTable:
            return self.table

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, PairTable.CursorMoved) and message.table is self.table

    class SortChanged(Message):
        """The sort column or direction changed."""

        def __init__(self, table: PairTable, column: str, reverse: bool) -> None:
            super().__init__()
            self.table = table
            self.column = column
            self.reverse = reverse

        @property
        def control(self) -> PairTable:
            return self.table

    def __init__(
        self,
        model: PairTableModel | None = None,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._model: PairTableModel | None = model
        self._layout: Layout | None = None
        self._layout_width = -1
        self._rows = RowCache()
        self._last_reported: tuple | None = None

    # -- public API -----------------------------------------------------------------------------

    @property
    def model(self) -> PairTableModel | None:
        return self._model

    def set_model(self, model: PairTableModel) -> None:
        """Show another model (a new scan); the cursor goes to the model's cursor."""
        self._model = model
        self._last_reported = None
        self.refresh_rows()
        self._scroll_cursor_into_view(top=True)
        self._report_cursor()

    def refresh_rows(self) -> None:
        """Redraw after the model changed behind the widget's back (marks, new pairs...)."""
        self._rows.clear()
        self._update_virtual_size()
        self.refresh()

    def current_pair(self) -> tuple[int, int, int] | None:
        """``(pair_index, i, j)`` under the cursor, or None when no row is shown."""
        return self._model.current() if self._model is not None else None

    def sort_by(self, column: str, reverse: bool | None = None) -> None:
        """Sort by ``column`` (a key of ``table_columns.COLUMNS``); the cursor keeps its pair."""
        if self._model is None:
            return
        self._model.sort_by(column, reverse)
        self._after_view_change()
        self.post_message(self.SortChanged(self, self._model.sort_column, self._model.sort_reverse))

    def cycle_sort(self) -> None:
        """Sort by the next column to the right (wrapping)."""
        if self._model is not None:
            self.sort_by(self._model.next_sort_column())

    def reverse_sort(self) -> None:
        if self._model is not None:
            self.sort_by(self._model.sort_column, not self._model.sort_reverse)

    def set_filter(self, text: str) -> None:
        """Show only pairs with ``text`` in either path (case-insensitive; "" shows all)."""
        if self._model is None:
            return
        self._model.set_filter(text)
        self._after_view_change()

    def set_pairs(self, pairs: Pairs, labels: Mapping[str, LabelValue] | None = None) -> None:
        """Show re-matched pairs and their labels (the method...); marks and the cursor's pair
        are kept."""
        if self._model is None:
            return
        self._model.set_pairs(pairs, labels)
        self._after_view_change()

    def toggle_mark_current(self) -> tuple[int, bool] | None:
        """Mark or unmark the chosen side's file of the cursor pair: ``(file_row, marked)``.

        Every row showing that file changes, so the visible rows are redrawn.
        """
        if self._model is None:
            return None
        result = self._model.toggle_mark_current()
        if result is not None:
            self.refresh()
        return result

    def move_cursor(self, row: int) -> None:
        """Put the cursor on view position ``row`` (clamped) and scroll it into view."""
        model = self._model
        if model is None or not len(model):
            return
        old = model.cursor
        new = model.set_cursor(row)
        if new != old:
            self._refresh_row(old)
            self._refresh_row(new)
        self._scroll_cursor_into_view()
        self._report_cursor()

    def set_side(self, side: Side) -> None:
        if self._model is None or self._model.side == side:
            return
        self._model.set_side(side)
        self._refresh_row(self._model.cursor)
        self._report_cursor()

    # -- actions --------------------------------------------------------------------------------

    @property
    def _page_height(self) -> int:
        return max(1, self.scrollable_content_region.height - HEADER_HEIGHT)

    def action_cursor_up(self) -> None:
        if self._model is not None:
            self.move_cursor(self._model.cursor - 1)

    def action_cursor_down(self) -> None:
        if self._model is not None:
            self.move_cursor(self._model.cursor + 1)

    def action_page_up(self) -> None:
        if self._model is not None:
            page = self._page_height
            self.scroll_to(y=max(0, self.scroll_y - page), animate=False, immediate=True)
            self.move_cursor(self._model.cursor - page)

    def action_page_down(self) -> None:
        if self._model is not None:
            page = self._page_height
            self.scroll_to(y=self.scroll_y + page, animate=False, immediate=True)
            self.move_cursor(self._model.cursor + page)

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        if self._model is not None:
            self.move_cursor(len(self._model) - 1)

    def action_side(self, side: Side) -> None:
        self.set_side(side)

    # -- events ---------------------------------------------------------------------------------

    def on_mount(self) -> None:
        # ScrollView.on_mount refreshes the scrollbars; Textual calls both handlers.
        self._update_virtual_size()
        self._report_cursor()

    def on_resize(self, event: events.Resize) -> None:
        self._update_virtual_size()
        self._scroll_cursor_into_view()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._rows.clear()

    async def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        model = self._model
        if offset is None or model is None:
            return
        event.stop()
        if offset.y < HEADER_HEIGHT:
            column = self._get_layout().column_at(offset.x)
            if column is not None:
                if column.key == model.sort_column:
                    self.reverse_sort()
                else:
                    self.sort_by(column.key)
            return
        row = int(self.scroll_y) + offset.y - HEADER_HEIGHT
        if 0 <= row < len(model):
            column = self._get_layout().column_at(offset.x)
            if column is not None and column.side is not None:
                model.set_side(column.side)
                self._refresh_row(model.cursor)
            self.move_cursor(row)

    # -- rendering ------------------------------------------------------------------------------

    def _get_layout(self) -> Layout:
        width = self.scrollable_content_region.width
        if self._layout is None or self._layout_width != width:
            self._layout = compute_layout(width)
            self._layout_width = width
        return self._layout

    def _update_virtual_size(self) -> None:
        rows = len(self._model) if self._model is not None else 0
        self.virtual_size = Size(self.scrollable_content_region.width, rows + HEADER_HEIGHT)

    def _after_view_change(self) -> None:
        """Sort, filter or pairs changed: new rows everywhere, cursor may have moved."""
        self._rows.clear()
        self._update_virtual_size()
        self._scroll_cursor_into_view()
        self.refresh()
        self._report_cursor()

    def _refresh_row(self, row: int) -> None:
        self.refresh_line(row + HEADER_HEIGHT)

    def _scroll_cursor_into_view(self, top: bool = False) -> None:
        model = self._model
        if model is None:
            return
        page = self._page_height
        cur = model.cursor
        y = int(self.scroll_y)
        if top or cur < y:
            target = cur
        elif cur >= y + page:
            target = cur - page + 1
        else:
            return
        self.scroll_to(y=target, animate=False, immediate=True)

    def _report_cursor(self) -> None:
        model = self._model
        if model is None:
            return
        cur = model.current()
        pair, i, j = cur if cur is not None else (-1, -1, -1)
        state = (pair, i, j, model.cursor, model.side)
        if state != self._last_reported:
            self._last_reported = state
            self.post_message(self.CursorMoved(self, pair, i, j, model.cursor, model.side))

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        model = self._model
        if model is None:
            return Strip.blank(width, base)
        layout = self._get_layout()
        if y < HEADER_HEIGHT:
            style = base + self.get_component_rich_style("pair-table--header")
            return self._strip(model.header_cells(layout), [style] * len(layout.widths), style)
        pos = int(self.scroll_y) + y - HEADER_HEIGHT
        if pos >= len(model):
            return Strip.blank(width, base)
        row = self._rows.get(model, pos, layout)
        is_cursor = pos == model.cursor
        row_style = (
            base + self.get_component_rich_style("pair-table--cursor") if is_cursor else base
        )
        styles = cell_styles(
            layout,
            row,
            row_style,
            marked=self.get_component_rich_style("pair-table--marked", partial=True),
            side=self.get_component_rich_style("pair-table--side", partial=True),
            chosen=model.side if is_cursor else None,
        )
        return self._strip(row.cells, styles, row_style)

    def _strip(self, cells, styles: list[Style], fill: Style) -> Strip:
        return row_strip(cells, styles, fill, self.scrollable_content_region.width)
