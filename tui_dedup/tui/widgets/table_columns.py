"""The pair table's columns, declared once: title, width rules, cell text, sort, alignment.

Why one declaration: the model (sort keys, row text, header), the layout (what fits at a given
width), the widget (clicks, per-side styles) and the group view all read :data:`COLUMNS`, so no
other module names a column or keeps an array in column order. No Textual here.

Adding a column. Declare a :class:`Column` in :data:`PER_PAIR` (one cell per pair, left of
the files) or :data:`PER_FILE` (one cell per side; keys get ``_a`` / ``_b``): ``text`` reads the
model's arrays through :class:`TableData`, ``sort`` returns integers, ``width`` and
``show_rank`` / ``min_path`` say when it fits (at 80 cells: similarity, both paths, sizes and
resolutions; the method from 96 cells, the dates from 126). If it shows what the model already
holds (the pairs' fields, the paths, a fact in :data:`FILE_FACTS` or a label in
:data:`PAIR_LABELS`), or a per-file number ``FeatureStore.column`` already gives (add its name
to :data:`FILE_FACTS`), this file is the only one to touch. A value the review session works
out (a per-pair ``kind``, say) adds its entry to :data:`PAIR_LABELS` and its method in
``review/session.py``; a per-file number the store lacks adds its branch to
``FeatureStore.column`` (``engine/features/store.py``): two files. The sort and layout tests
run over every declared column; the SVG snapshots (100 cells wide) change if it shows there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal, Protocol

import numpy as np

from tui_dedup.engine.model import Pairs
from tui_dedup.engine.verdicts.twins import with_movie_beside, with_raw_beside
from tui_dedup.review.session import ReviewSession
from tui_dedup.tui.widgets.cells import (
    Align,
    cell_width,
    fit,
    format_date,
    format_resolution,
    format_similarity,
    human_size,
    mark_glyph,
    printable,
    shorten_middle,
)
from tui_dedup.tui.widgets.path_cut import cut_path
from tui_dedup.tui.widgets.table_sort import Labels, float32_sort_code

Side = Literal["a", "b"]


class TableData(Protocol):
    """What a column reads: the model's arrays (the model is one; tests may pass another)."""

    pairs: Pairs
    paths: Sequence[str]
    marked: np.ndarray

    def fact(self, name: str) -> np.ndarray:
        """A per-file array named in :data:`FILE_FACTS`."""
        ...

    def labels(self, name: str) -> Labels:
        """A per-pair text named in :data:`PAIR_LABELS`."""
        ...

    def path_rank(self) -> np.ndarray: ...


#: A cell's text: ``(data, index)`` where index is a pair index (per-pair columns) or a file row.
Text = Callable[[TableData, int], str]
#: Sort key: uint64 codes, one per pair (per-pair columns), or integers, one per file.
SortKey = Callable[[TableData], np.ndarray]
#: Text fitted to exactly ``width`` cells.
Cut = Callable[[str, int, Align], str]
#: A cut that sees the other side's text too (the path columns keep what tells them apart).
PairCut = Callable[[str, str, int], str]


@dataclass(frozen=True, slots=True)
class Column:
    """One column. ``flex`` columns (the paths) share what the fixed-``width`` ones leave.

    ``show_rank`` 0 is always shown; the others are added in rank order (equal ranks together)
    while each path column keeps at least ``min_path`` cells, so narrow terminals drop the
    highest ranks first. ``side`` is set on the two copies of a :data:`PER_FILE` column.
    """

    key: str
    title: str
    text: Text
    sort: SortKey
    width: int = 0
    flex: bool = False
    align: Align = "left"
    show_rank: int = 0
    min_path: int = 0
    default_reverse: bool = False
    cut: Cut = fit
    side: Side | None = None
    pair_cut: PairCut | None = None

    def cell(self, data: TableData, p: int, i: int, j: int, width: int) -> str:
        """This column's cell for pair ``p`` of files ``i`` (side A) and ``j`` (side B)."""
        index = p if self.side is None else i if self.side == "a" else j
        if self.pair_cut is not None and self.side is not None:
            other = j if self.side == "a" else i
            return self.pair_cut(self.text(data, index), self.text(data, other), width)
        return self.cut(self.text(data, index), width, self.align)


#: What the ``badges`` fact's bits say after a path: 1 a RAW beside it (the JPEG of a RAW+JPEG
#: shot, listed for the whole shot), 2 a Live Photo's movie beside it.
BADGES = ("", " +RAW", " +MOV", " +RAW +MOV")


def _path_text(d: TableData, f: int) -> str:
    badge = BADGES[int(d.fact("badges")[f]) & 3]
    return (mark_glyph() if d.marked[f] else " ") + " " + printable(d.paths[f]) + badge


def _badge_of(text: str) -> tuple[str, str]:
    """(the mark and path, the badge at its end): a cut keeps the whole badge after the
    path's own cut, not a piece of it in the middle of the file name."""
    for badge in sorted(BADGES, key=len, reverse=True):
        if badge and text.endswith(badge):
            return text[: -len(badge)], badge
    return text, ""


#: A badge is left out below this many cells for the path itself.
MIN_PATH_WITH_BADGE = 12


def _with_badge(text: str, width: int, cut: Callable[[str, int], str]) -> str:
    """Keep the mark and its space; ``cut`` fits the path, and the badge follows it whole
    (left out when the path would keep fewer than :data:`MIN_PATH_WITH_BADGE` cells)."""
    body, badge = _badge_of(text)
    if width - 2 - len(badge) < MIN_PATH_WITH_BADGE:
        badge = ""
    out = cut(body[2:], width - 2 - len(badge)).rstrip() + badge
    return body[:2] + out + " " * (width - 2 - cell_width(out))


def _cut_path(text: str, width: int, align: Align) -> str:
    """Keep the mark and its space, cut the path's middle (its file name stays)."""
    return _with_badge(text, width, shorten_middle)


def _cut_path_pair(text: str, other: str, width: int) -> str:
    """Keep the mark and its space, and the folders that tell this path from the other's."""
    other_path = _badge_of(other)[0][2:]
    return _with_badge(text, width, lambda path, room: cut_path(path, other_path, room))


def _mtime_seconds(d: TableData) -> np.ndarray:
    return np.floor(np.nan_to_num(d.fact("mtime"))).astype(np.int64)


PER_PAIR: tuple[Column, ...] = (
    Column(
        "similarity",
        "Sim",
        lambda d, p: format_similarity(float(d.pairs.similarity[p])),
        lambda d: float32_sort_code(d.pairs.similarity),
        width=6,
        align="right",
        default_reverse=True,
    ),
    Column(
        "kind",
        "Kind",
        lambda d, p: d.labels("kind").text(p),
        lambda d: d.labels("kind").codes.astype(np.uint64),
        width=11,
    ),
    Column(
        "method",
        "Method",
        lambda d, p: d.labels("method").text(p),
        lambda d: d.labels("method").codes.astype(np.uint64),
        width=7,
        show_rank=3,
        min_path=22,
    ),
)
PER_FILE: tuple[Column, ...] = (
    Column(
        "file",
        "File {side}",
        _path_text,
        lambda d: d.path_rank(),
        flex=True,
        cut=_cut_path,
        pair_cut=_cut_path_pair,
    ),
    Column(
        "size",
        "Size",
        lambda d, f: human_size(int(d.fact("size")[f])),
        lambda d: d.fact("size"),
        width=7,
        align="right",
        show_rank=1,
        min_path=14,
    ),
    Column(
        "res",
        "Res",
        lambda d, f: format_resolution(int(d.fact("width")[f]), int(d.fact("height")[f])),
        lambda d: d.fact("width") * d.fact("height"),
        width=9,
        align="right",
        show_rank=2,
        min_path=16,
    ),
    Column(
        "modified",
        "Modified",
        lambda d, f: format_date(float(d.fact("mtime")[f])),
        _mtime_seconds,
        width=10,
        show_rank=4,
        min_path=26,
    ),
)


def _side(col: Column, side: Side) -> Column:
    title = col.title.format(side=side.upper())
    return replace(col, key=f"{col.key}_{side}", title=title, side=side)


#: Every column in display order: per-pair ones, then side A's files, then side B's.
COLUMNS: tuple[Column, ...] = (
    *PER_PAIR,
    *(_side(c, "a") for c in PER_FILE),
    *(_side(c, "b") for c in PER_FILE),
)
COLUMN_KEYS: tuple[str, ...] = tuple(c.key for c in COLUMNS)
COLUMN_BY_KEY: dict[str, Column] = {c.key: c for c in COLUMNS}

# -- where the data comes from -----------------------------------------------------------------

#: Per-file facts the model holds, by ``FeatureStore.column`` name, with the dtype they are kept
#: in (the group view reads them too).
FILE_FACTS: dict[str, type] = {
    "size": np.int64,
    "width": np.int64,
    "height": np.int64,
    "mtime": np.float64,
    "badges": np.uint8,  # bits of BADGES: the file stands for a shot (engine/verdicts/twins.py)
}
#: Per-pair texts the model holds, and how the review session gives them for its current pairs
#: (one text for all pairs, or one per pair).
PAIR_LABELS: dict[str, Callable[[ReviewSession], str | np.ndarray | Labels]] = {
    "method": lambda s: s.pair_methods(),
    "kind": lambda s: _kind_labels(s),
}


def _kind_labels(session: ReviewSession) -> Labels | str:
    made = session.pair_kinds()
    return "" if made is None else Labels(*made)


def file_facts(session: ReviewSession) -> dict[str, np.ndarray]:
    """The session's per-file facts that the table shows."""
    store = session.store
    badges = with_raw_beside(store).astype(np.uint8) | (
        with_movie_beside(store).astype(np.uint8) << 1
    )
    return {name: store.column(name) for name in FILE_FACTS if name != "badges"} | {
        "badges": badges
    }


def pair_labels(session: ReviewSession) -> Mapping[str, str | np.ndarray | Labels]:
    """The session's per-pair texts for its current pairs."""
    return {name: get(session) for name, get in PAIR_LABELS.items()}
