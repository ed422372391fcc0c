"""The data behind the pair table: sort, filter, marks and cursor over numpy arrays.

No Textual here (plain Python and numpy), so the model is unit-tested without an app and could
back another front end. The widget asks for the few rows it shows; nothing is formatted for rows
off screen, which is what keeps a table of a million pairs instant.

Vocabulary:

- *pair index* ``p``: a row of :class:`~tui_dedup.engine.model.Pairs`.
- *file row* ``f``: a row of the file table (``pairs.i[p]`` / ``pairs.j[p]`` are file rows).
- *position*: an index into :attr:`PairTableModel.view`, the pairs shown after filter and sort.

Marks belong to file rows and the cursor to a pair's identity ``(i, j)``: marks survive a
resort, a new filter and a re-match (:meth:`PairTableModel.set_pairs`); the cursor stays on its
pair through a filter and a re-match, and goes to the top after a resort (the new first rows
are what a person sorts for).

The columns are declared in :mod:`~tui_dedup.tui.widgets.table_columns`; the model holds the
data they read (per-file *facts*, per-pair *labels*) under the names declared there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from tui_dedup.engine.model import Pairs
from tui_dedup.tui.widgets.cells import fit, sort_arrow
from tui_dedup.tui.widgets.table_columns import COLUMN_BY_KEY, COLUMN_KEYS, FILE_FACTS, Side
from tui_dedup.tui.widgets.table_layout import FormattedRow, Layout
from tui_dedup.tui.widgets.table_sort import Labels, offset_code, stable_order

_ORDER_CACHE_SIZE = 4


#: A per-pair text: one for all pairs, or one per pair.
LabelValue = str | Sequence[str] | np.ndarray | Labels


def _as_array(values: Sequence | np.ndarray, dtype, n: int, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=dtype)
    if arr.shape != (n,):
        raise ValueError(f"{name}: expected {n} values (one per file), got shape {arr.shape}")
    return arr


class PairTableModel:
    """Pairs plus per-file facts, with the shown rows, sort, filter, marks, side and cursor.

    Args:
        pairs: the candidate pairs; ``i``/``j`` index the per-file arrays.
        paths: display path of each file (relative to its scan root).
        facts: one array per file for each name in ``table_columns.FILE_FACTS`` (size in
            bytes, pixel width and height, modification time in POSIX seconds; 0 when unknown).
        labels: per-pair texts by name (``table_columns.PAIR_LABELS``), e.g. ``{"method":
            "phash"}``: one text for all pairs, or one per pair.
    """

    def __init__(
        self,
        pairs: Pairs,
        paths: Sequence[str],
        facts: Mapping[str, Sequence[float] | np.ndarray],
        labels: Mapping[str, LabelValue] | None = None,
        *,
        sort: str = "similarity",
        reverse: bool | None = None,
    ) -> None:
        n = len(paths)
        missing = FILE_FACTS.keys() - facts.keys()
        if missing:
            raise ValueError(f"facts: missing {', '.join(sorted(missing))}")
        self.paths: Sequence[str] = paths
        self.facts = {
            name: _as_array(values, FILE_FACTS.get(name), n, name) for name, values in facts.items()
        }
        self.marked = np.zeros(n, dtype=bool)
        self.side: Side = "a"
        self.filter_text = ""
        self.sort_column = sort
        self.sort_reverse = COLUMN_BY_KEY[sort].default_reverse if reverse is None else reverse
        # Bumped whenever the text of any row may change (sort, filter, pairs, marks); the
        # widget keys its row cache on it. Cursor and side moves only restyle, so they don't.
        self.version = 0
        # How many rows were formatted, ever: tests assert that only visible rows are.
        self.rows_formatted = 0
        self._path_rank: np.ndarray | None = None
        self._folded: list[str] | None = None
        self._file_mask: np.ndarray | None = None
        self._file_mask_query = ""
        self._cursor = 0
        self._orders: dict[tuple[str, bool], np.ndarray] = {}
        self._labels: dict[str, Labels] = {}
        self._install_pairs(pairs, labels or {})
        self._rebuild(keep=None)

    # -- basic facts --------------------------------------------------------------------------

    @property
    def n_files(self) -> int:
        return len(self.paths)

    @property
    def total(self) -> int:
        """Number of pairs before filtering."""
        return len(self.pairs)

    def __len__(self) -> int:
        """Number of rows shown (after the filter)."""
        return int(self.view.shape[0])

    # -- the data the columns read -------------------------------------------------------------

    def fact(self, name: str) -> np.ndarray:
        """The per-file array ``name`` (see ``table_columns.FILE_FACTS``)."""
        return self.facts[name]

    def labels(self, name: str) -> Labels:
        """The per-pair text ``name`` (see ``table_columns.PAIR_LABELS``); "" when not given."""
        got = self._labels.get(name)
        if got is None:
            got = self._labels[name] = Labels.of("", len(self.pairs), name)
        return got

    def _install_pairs(self, pairs: Pairs, labels: Mapping[str, LabelValue]) -> None:
        n = len(pairs)
        if n and (
            int(pairs.i.max(initial=0)) >= self.n_files
            or int(pairs.j.max(initial=0)) >= self.n_files
        ):
            raise ValueError("pairs refer to file rows beyond the file table")
        self.pairs = pairs
        self._orders = {}
        old, self._labels = self._labels, {}
        for name in {*old, *labels}:
            value = labels.get(name, "")
            prev = old.get(name)
            if isinstance(value, str) and not value and prev is not None and len(prev.names) == 1:
                value = prev.names[0]  # a re-match with the same single text (one method)
            self._labels[name] = Labels.of(value, n, name)

    def set_pairs(self, pairs: Pairs, labels: Mapping[str, LabelValue] | None = None) -> None:
        """Swap in new pairs (a re-match) over the same file table, with their labels.

        Marks are kept (they are per file); the cursor stays on the same ``(i, j)`` pair if it
        is still listed and shown, otherwise on the same position. A label not given keeps its
        text if it had one for all pairs (a re-match with the same method).
        """
        keep = self.current()
        old_pos = self._cursor
        self._install_pairs(pairs, labels or {})
        key = None
        if keep is not None:
            _, ci, cj = keep
            hit = np.flatnonzero((pairs.i == ci) & (pairs.j == cj))
            if hit.size:
                key = int(hit[0])
        self._rebuild(keep=key, fallback=old_pos)

    # -- sort -----------------------------------------------------------------------------------

    def path_rank(self) -> np.ndarray:
        """Rank of every file's path in case-folded order; computed once, on first need."""
        if self._path_rank is None:
            order = sorted(range(self.n_files), key=lambda f: self._folded_paths()[f])
            rank = np.empty(self.n_files, dtype=np.int64)
            rank[np.asarray(order, dtype=np.int64)] = np.arange(self.n_files, dtype=np.int64)
            self._path_rank = rank
        return self._path_rank

    def sort_key(self, column: str) -> np.ndarray:
        """The integer key (one per pair) that ``column`` sorts by; ascending = smallest first.

        Keys are non-negative integers (uint64), which lets :meth:`_order` sort packed
        ``key << k | pair`` values instead of calling ``argsort`` (see ``table_sort``).
        """
        col = COLUMN_BY_KEY[column]
        key = col.sort(self)
        if col.side is None:
            return key
        return offset_code(key)[self.pairs.i if col.side == "a" else self.pairs.j]

    def _order(self) -> np.ndarray:
        """Pair indices in sort order; ties keep the engine's pair order in both directions
        (:func:`~tui_dedup.tui.widgets.table_sort.stable_order`)."""
        cache_key = (self.sort_column, self.sort_reverse)
        order = self._orders.get(cache_key)
        if order is not None:
            return order
        order = stable_order(self.sort_key(self.sort_column), self.sort_reverse)
        # A few recent orders are kept (4 bytes per pair each), so flipping the direction or
        # going back to the previous column is instant.
        if len(self._orders) >= _ORDER_CACHE_SIZE:
            self._orders.pop(next(iter(self._orders)))
        self._orders[cache_key] = order
        return order

    def sort_by(self, column: str, reverse: bool | None = None) -> None:
        """Sort by ``column``; ``reverse=None`` uses the column's natural direction
        (similarity: highest first; everything else: smallest first).

        The cursor goes to the top of the new order: a person who sorts wants to see what now
        comes first (keeping the cursor's pair landed them at the bottom after ``O``).
        Filtering and re-matching, which do not reorder, keep the cursor on its pair."""
        if column not in COLUMN_BY_KEY:
            raise KeyError(f"unknown column {column!r}; one of {', '.join(COLUMN_KEYS)}")
        self.sort_column = column
        self.sort_reverse = COLUMN_BY_KEY[column].default_reverse if reverse is None else reverse
        self._rebuild(keep=None, fallback=0)

    def reverse_sort(self) -> None:
        self.sort_by(self.sort_column, not self.sort_reverse)

    def next_sort_column(self) -> str:
        """The column after the sort column, in display order (wrapping)."""
        return COLUMN_KEYS[(COLUMN_KEYS.index(self.sort_column) + 1) % len(COLUMN_KEYS)]

    def cycle_sort(self) -> str:
        """Sort by the next column (in display order); returns its key."""
        k = self.next_sort_column()
        self.sort_by(k)
        return k

    # -- filter ---------------------------------------------------------------------------------

    def _folded_paths(self) -> list[str]:
        if self._folded is None:
            self._folded = [p.casefold() for p in self.paths]
        return self._folded

    def file_mask(self, query: str) -> np.ndarray:
        """Which files' paths contain ``query`` (case-insensitive), one bool per file.

        Typing more letters only rechecks the files that matched the shorter query.
        """
        q = query.casefold()
        folded = self._folded_paths()
        prev, prev_q = self._file_mask, self._file_mask_query
        if prev is not None and prev_q and prev_q in q:
            mask = np.zeros(self.n_files, dtype=bool)
            cand = np.flatnonzero(prev)
            mask[cand] = np.fromiter((q in folded[f] for f in cand), bool, cand.size)
        else:
            mask = np.fromiter((q in s for s in folded), bool, self.n_files)
        self._file_mask, self._file_mask_query = mask, q
        return mask

    def set_filter(self, text: str) -> None:
        """Show only pairs where either path contains ``text`` (case-insensitive)."""
        self.filter_text = text
        self._rebuild(keep=self.current_pair_index())

    def _pair_mask(self) -> np.ndarray | None:
        if not self.filter_text:
            return None
        fm = self.file_mask(self.filter_text)
        return fm[self.pairs.i] | fm[self.pairs.j]

    # -- the view -------------------------------------------------------------------------------

    def _rebuild(self, keep: int | None, fallback: int | None = None) -> None:
        """Recompute :attr:`view`; put the cursor on pair ``keep`` or the nearest shown row."""
        order = self._order()
        mask = self._pair_mask()
        if mask is None:
            self.view = order
            in_order = None
        else:
            in_order = np.flatnonzero(mask[order])
            self.view = order[in_order]
        self.version += 1
        n = len(self)
        pos = self._cursor if fallback is None else fallback
        if keep is not None and n:
            at = int(np.flatnonzero(order == keep)[0])
            # The shown rows are a subsequence of `order`; the first shown one at or after the
            # kept pair's place is the pair itself if shown, else its nearest follower.
            pos = at if in_order is None else int(np.searchsorted(in_order, at))
        self._cursor = max(0, min(pos, n - 1))

    # -- cursor and side ------------------------------------------------------------------------

    @property
    def cursor(self) -> int:
        """Position of the cursor in :attr:`view` (0 when the view is empty)."""
        return self._cursor

    def set_cursor(self, pos: int) -> int:
        """Move the cursor to ``pos`` (clamped); returns the new position."""
        self._cursor = max(0, min(int(pos), len(self) - 1))
        return self._cursor

    def current_pair_index(self) -> int | None:
        return int(self.view[self._cursor]) if len(self) else None

    def current(self) -> tuple[int, int, int] | None:
        """``(pair_index, i, j)`` under the cursor, or None when nothing is shown."""
        p = self.current_pair_index()
        if p is None:
            return None
        return p, int(self.pairs.i[p]), int(self.pairs.j[p])

    def set_side(self, side: Side) -> None:
        if side not in ("a", "b"):
            raise ValueError(f"side must be 'a' or 'b', not {side!r}")
        self.side = side

    def current_file(self) -> int | None:
        """File row of the chosen side of the pair under the cursor."""
        cur = self.current()
        if cur is None:
            return None
        return cur[1] if self.side == "a" else cur[2]

    # -- marks ----------------------------------------------------------------------------------

    def is_marked(self, file_row: int) -> bool:
        return bool(self.marked[file_row])

    def set_mark(self, file_row: int, value: bool = True) -> None:
        if bool(self.marked[file_row]) != value:
            self.marked[file_row] = value
            self.version += 1

    def toggle_mark(self, file_row: int) -> bool:
        """Flip the mark of one file; returns its new state."""
        new = not self.marked[file_row]
        self.set_mark(file_row, new)
        return new

    def toggle_mark_current(self) -> tuple[int, bool] | None:
        """Flip the mark of the chosen side's file under the cursor: ``(file_row, marked)``."""
        f = self.current_file()
        if f is None:
            return None
        return f, self.toggle_mark(f)

    def marked_files(self) -> np.ndarray:
        return np.flatnonzero(self.marked)

    def clear_marks(self) -> None:
        self.marked[:] = False
        self.version += 1

    # -- formatting (only the rows asked for) ---------------------------------------------------

    def header_cells(self, layout: Layout) -> tuple[str, ...]:
        arrow = sort_arrow(self.sort_reverse)
        out = []
        for col, w in zip(layout.columns, layout.widths, strict=True):
            title = col.title
            if col.key == self.sort_column:
                # Keep the arrow when the title must be cut.
                title = fit(title, max(0, w - 2)).rstrip() + arrow
            out.append(fit(title, w, col.align))
        return tuple(out)

    def format_row(self, pos: int, layout: Layout) -> FormattedRow:
        """Text of the row at view position ``pos``, each cell fitted to ``layout``."""
        self.rows_formatted += 1
        p = int(self.view[pos])
        i, j = int(self.pairs.i[p]), int(self.pairs.j[p])
        cells = tuple(
            col.cell(self, p, i, j, w) for col, w in zip(layout.columns, layout.widths, strict=True)
        )
        return FormattedRow(p, cells, bool(self.marked[i]), bool(self.marked[j]))
