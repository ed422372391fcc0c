"""Which columns the pair table shows at a given width, how wide each is, and a row's text.

Apart from the model because it depends only on the terminal's width, not on the pairs: the
widget recomputes a :class:`Layout` on resize, the model fills a :class:`FormattedRow` per
visible row to the layout it is given, and both are plain values (no Textual, no numpy).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tui_dedup.tui.widgets.cells import Align

Side = Literal["a", "b"]

SEPARATOR = " "


@dataclass(frozen=True, slots=True)
class Column:
    """One table column.

    ``width`` 0 means a path column that shares the space left over by the fixed columns.
    ``min_path`` is how wide each path column must stay for this column to be shown, so narrow
    terminals drop the least useful columns first (modified dates, then the method).
    """

    key: str
    title: str
    width: int
    side: Side | None = None
    align: Align = "left"
    min_path: int = 0
    default_reverse: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("similarity", "Sim", 6, align="right", default_reverse=True),
    Column("method", "Method", 7, min_path=22),
    Column("file_a", "File A", 0, side="a"),
    Column("size_a", "Size", 7, side="a", align="right", min_path=14),
    Column("res_a", "Res", 9, side="a", align="right", min_path=16),
    Column("modified_a", "Modified", 10, side="a", min_path=26),
    Column("file_b", "File B", 0, side="b"),
    Column("size_b", "Size", 7, side="b", align="right", min_path=14),
    Column("res_b", "Res", 9, side="b", align="right", min_path=16),
    Column("modified_b", "Modified", 10, side="b", min_path=26),
)
COLUMN_KEYS: tuple[str, ...] = tuple(c.key for c in COLUMNS)
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
# Which optional columns to add first when there is room: sizes, resolutions, method, dates.
_ADD_ORDER = ("size", "res", "method", "modified")


@dataclass(frozen=True, slots=True)
class Layout:
    """The columns shown at one widget width, with each column's width in cells."""

    columns: tuple[Column, ...]
    widths: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.widths) + len(SEPARATOR) * max(0, len(self.widths) - 1)

    def spans(self) -> list[tuple[int, int]]:
        """``(start, end)`` cell offsets of each column, for hit-testing a click."""
        out, x = [], 0
        for w in self.widths:
            out.append((x, x + w))
            x += w + len(SEPARATOR)
        return out

    def column_at(self, x: int) -> Column | None:
        for col, (start, end) in zip(self.columns, self.spans(), strict=True):
            if start <= x < end:
                return col
        return None


@dataclass(frozen=True, slots=True)
class FormattedRow:
    """One row's text, each cell already fitted to its column width."""

    pair: int
    cells: tuple[str, ...]
    marked_a: bool
    marked_b: bool


def compute_layout(width: int, min_path: int = 8) -> Layout:
    """Choose columns and widths for ``width`` cells; the two path columns share the rest."""
    sep = len(SEPARATOR)
    shown = {"similarity", "file_a", "file_b"}

    def fixed_cost(keys: set[str]) -> int:
        cols = [c for c in COLUMNS if c.key in keys]
        return sum(c.width for c in cols) + sep * (len(cols) - 1)

    for prefix in _ADD_ORDER:
        group = {c.key for c in COLUMNS if c.key.startswith(prefix)}
        need = max(COLUMN_BY_KEY[k].min_path for k in group)
        trial = shown | group
        if (width - fixed_cost(trial)) // 2 >= need:
            shown = trial
    columns = tuple(c for c in COLUMNS if c.key in shown)
    spare = max(2 * min_path, width - fixed_cost(shown))
    path_a = spare - spare // 2
    path_b = spare // 2
    widths = tuple(
        (path_a if c.key == "file_a" else path_b) if c.width == 0 else c.width for c in columns
    )
    return Layout(columns, widths)
