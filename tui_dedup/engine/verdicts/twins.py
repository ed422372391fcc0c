"""Format twins: a RAW and the JPEG (or HEIC) the camera wrote beside it are one shot.

Why: a camera set to RAW+JPEG writes ``IMG_0001.CR2`` and ``IMG_0001.JPG`` side by side, the
same capture in two formats. The pixel check rightly finds the JPEG a copy of the RAW's
preview, but a photographer keeps both on purpose: reported as duplicates, every shot of a
RAW+JPEG library would be a pair to "clean up". So a copy pair whose files are one RAW and one
other image in the same folder, with the same name before the extension and the same capture
second when both files have one, is a ``format twin``: not a duplicate, never grouped or
auto-selected, listed only when asked for (``--kinds 'format twin'``). The same pair in two
folders (a RAW and an export elsewhere) stays a copy, and the ``raw`` keeper rule keeps the RAW.

Runs on the finished verdicts (like engine/verdicts/one_capture.py), so the per-pair verdicts
remembered between runs stay those of the pixels.
"""

from __future__ import annotations

import os

import numpy as np

from tui_dedup.engine.features.store import FeatureStore
from tui_dedup.engine.files.discover import is_raw_path
from tui_dedup.engine.model import Pairs
from tui_dedup.engine.verdicts.kinds import Kind, copy_mask

#: Capture instants of twins differ by less than this (seconds; a camera writes both at once).
SAME_SHOT_S = 1.0


def _stem(path: str) -> tuple[str, str]:
    folder, name = os.path.split(path)
    return folder, os.path.splitext(name)[0].casefold()


def twin_pair(store: FeatureStore, a: int, b: int) -> bool:
    """Are rows ``a`` and ``b`` one RAW and one other image, in one folder, with one stem, and
    (where both files say when they were taken) of one capture second?"""
    pa, pb = store.entries[a].path, store.entries[b].path
    if is_raw_path(pa) == is_raw_path(pb) or _stem(pa) != _stem(pb):
        return False
    ta, tb = store.metas[a].taken, store.metas[b].taken
    return ta is None or tb is None or abs(ta - tb) < SAME_SHOT_S


def mark_format_twins(store: FeatureStore, pairs: Pairs, kind: np.ndarray) -> int:
    """Turn the copy pairs that are format twins into ``Kind.TWIN`` (``kind`` in place);
    returns how many."""
    rows = np.flatnonzero(copy_mask(kind))
    if rows.size == 0:
        return 0
    ends = np.unique(np.concatenate([pairs.i[rows], pairs.j[rows]]))
    raw = {int(r) for r in ends.tolist() if is_raw_path(store.entries[int(r)].path)}
    if not raw:  # most libraries: no RAW among the copies, nothing more to look at
        return 0
    n = 0
    for k in rows.tolist():
        a, b = int(pairs.i[k]), int(pairs.j[k])
        if (a in raw) != (b in raw) and twin_pair(store, a, b):
            kind[k] = Kind.TWIN
            n += 1
    return n


#: The key of :func:`with_raw_beside`'s answer in the store's cache of derived columns.
RAW_BESIDE = "raw_beside"


def with_raw_beside(store: FeatureStore) -> np.ndarray:
    """Per row: an image (not a RAW) with a RAW of the same name in its folder, the primary of
    a RAW+JPEG shot, which the app marks ``+RAW``. Computed once per store (O(n) names) and
    kept with its derived columns."""

    def make() -> np.ndarray:
        raws = {_stem(e.path) for e in store.entries if is_raw_path(e.path)}
        return np.fromiter(
            (
                bool(raws) and not is_raw_path(e.path) and _stem(e.path) in raws
                for e in store.entries
            ),
            bool,
            len(store.entries),
        )

    return store.derived(RAW_BESIDE, make)


#: The key of :func:`movies_beside`'s answer in the store's cache of derived columns.
MOVIE_BESIDE = "movie_beside"


def note_movies(store: FeatureStore, movies: list[str]) -> None:
    """Remember, per row, the movie of its name beside it (the scan's discovery saw
    ``movies``; they are not scanned): the stills of Live Photos, which the app marks ``+MOV``
    and the JSON lists with their shot. Without movies nothing is done: a warm rescan of a
    library with no video pays no pass over its files (:func:`movies_beside` answers None)."""
    if not movies:
        return
    by_stem = {_stem(m): m for m in sorted(movies)}
    store.derived(
        MOVIE_BESIDE,
        lambda: np.array([by_stem.get(_stem(e.path)) for e in store.entries], object),
    )


def movies_beside(store: FeatureStore) -> np.ndarray:
    """Per row: the path of the Live Photo movie beside it, or None (:func:`note_movies`);
    all None for a store no scan noted movies for."""
    return store.derived(MOVIE_BESIDE, lambda: np.full(len(store), None, object))


def with_movie_beside(store: FeatureStore) -> np.ndarray:
    """Per row: a Live Photo's still, with its movie beside it (kept with the derived
    columns: the preview asks on every pair it shows)."""
    return store.derived(
        MOVIE_BESIDE + "?",
        lambda: movies_beside(store) != None,  # noqa: E711  (elementwise, object array)
    )
