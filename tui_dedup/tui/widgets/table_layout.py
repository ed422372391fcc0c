"""Which of the declared columns (``table_columns``) fit a given width, how wide each is, and a
row's text.

Apart from the model because it depends only on the terminal's width, not on the pairs: the
widget recomputes a :class:`Layout` on resize, the model fills a :class:`FormattedRow` per
visible row to the layout it is given, and both are plain values (no Textual, no numpy).
"""

from __future__ import annotations

from dataclasses import dataclass

from tui_dedup.tui.widgets.table_columns import COLUMNS, Column

SEPARATOR = " "


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
    """Choose columns and widths for ``width`` cells; the path columns share the rest.

    Columns come in by ``show_rank`` (see :class:`~.table_columns.Column`), each rank only if
    every path column keeps its ``min_path``; a rank that does not fit does not stop the next.
    """
    sep = len(SEPARATOR)
    n_flex = sum(c.flex for c in COLUMNS)
    shown = {c.key for c in COLUMNS if c.show_rank == 0}

    def fixed_cost(keys: set[str]) -> int:
        cols = [c for c in COLUMNS if c.key in keys]
        return sum(c.width for c in cols if not c.flex) + sep * (len(cols) - 1)

    for rank in sorted({c.show_rank for c in COLUMNS} - {0}):
        group = [c for c in COLUMNS if c.show_rank == rank]
        trial = shown | {c.key for c in group}
        if (width - fixed_cost(trial)) // n_flex >= max(c.min_path for c in group):
            shown = trial
    columns = tuple(c for c in COLUMNS if c.key in shown)
    spare = max(n_flex * min_path, width - fixed_cost(shown))
    # The first path columns get the odd cells: with two, A gets ceil(spare / 2).
    flex_widths = [spare // n_flex + (k < spare % n_flex) for k in range(n_flex)]
    widths, k = [], 0
    for c in columns:
        if c.flex:
            widths.append(flex_widths[k])
            k += 1
        else:
            widths.append(c.width)
    return Layout(columns, tuple(widths))
