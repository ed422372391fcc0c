"""The pair table's rows between the model and the screen: a small cache, and cells to strips.

Apart from the widget because neither needs it: the cache only knows that a row's text
changes when the model's ``version`` or the layout does (a cursor or side move only restyles,
so holding a key down reformats nothing), a cell's style follows from its column's side, and a
strip is cells joined by the separator, each in its own style, padded to the width.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from tui_dedup.tui.widgets.table_columns import Side
from tui_dedup.tui.widgets.table_layout import SEPARATOR, FormattedRow, Layout
from tui_dedup.tui.widgets.table_model import PairTableModel

#: Rows kept at most (a few screens' worth); the cache is emptied when it grows past this.
ROW_CACHE_LIMIT = 512


class RowCache:
    """Formatted rows by pair index, valid for one (model version, layout)."""

    def __init__(self) -> None:
        self._rows: dict[int, FormattedRow] = {}
        self._key: tuple = ()

    def clear(self) -> None:
        self._rows.clear()

    def get(self, model: PairTableModel, pos: int, layout: Layout) -> FormattedRow:
        """The row at view position ``pos``, formatted by the model on a miss."""
        key = (model.version, layout)
        if key != self._key or len(self._rows) > ROW_CACHE_LIMIT:
            self._rows.clear()
            self._key = key
        p = int(model.view[pos])
        row = self._rows.get(p)
        if row is None:
            row = self._rows[p] = model.format_row(pos, layout)
        return row


def cell_styles(
    layout: Layout, row: FormattedRow, base: Style, marked: Style, side: Style, chosen: Side | None
) -> list[Style]:
    """Each cell's style: ``base``, plus ``marked`` on a marked file's cells, plus ``side`` on
    the ``chosen`` side's cells (the cursor row's side; None elsewhere)."""
    marks = {"a": row.marked_a, "b": row.marked_b}
    styles = []
    for col in layout.columns:
        style = base
        if col.side is not None:
            if marks[col.side]:
                style = style + marked
            if col.side == chosen:
                style = style + side
        styles.append(style)
    return styles


def row_strip(cells: Sequence[str], styles: Sequence[Style], fill: Style, width: int) -> Strip:
    """Cells separated by :data:`SEPARATOR` (in ``fill``), padded or cut to ``width`` cells."""
    segments: list[Segment] = []
    for n, (text, style) in enumerate(zip(cells, styles, strict=True)):
        if n:
            segments.append(Segment(SEPARATOR, fill))
        segments.append(Segment(text, style))
    return Strip(segments).adjust_cell_length(width, fill)
