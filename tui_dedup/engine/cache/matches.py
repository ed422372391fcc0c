"""Remember match results beside the feature cache, keyed by exactly what matching reads.

Why: rescanning an unchanged library is the common case (people rescan often), and after the
feature cache made decoding free, matching dominates a warm rescan (seconds at 100k files,
and the index's tables are its memory peak). The key is a digest of every input of
:func:`match.match` — the feature columns it reads, the method, the threshold, the options and
the matching code itself (:mod:`.engine_digest`: a tuning constant changed between commits is
a miss, though the package version stays the same) —
so any change to any file's features, to the set of files, or to a setting is a miss; a hit
returns the very arrays a fresh match would. Only a few recent results are kept. Losing the
folder loses only time, like the feature cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable
from dataclasses import astuple

import numpy as np

from tui_dedup.engine.cache.engine_digest import engine_digest
from tui_dedup.engine.features import columns as _columns
from tui_dedup.engine.features import hashes as _hashes
from tui_dedup.engine.features.store import FeatureStore
from tui_dedup.engine.matching.match import match
from tui_dedup.engine.matching.pairs import MatchOptions
from tui_dedup.engine.model import Pairs
from tui_dedup.engine.registry import Threshold

KEEP = 4  # most recent results kept
_FIELDS = ("i", "j", "distance", "similarity", "transform", "exact")
FORMAT = 2  # 2: the feature columns come from engine/features/columns.py, in its order


def match_key(store: FeatureStore, method: str, threshold: Threshold, options: MatchOptions) -> str:
    """BLAKE2b of every array and setting that matching reads (a few ms at 100k files): the
    digests, every feature column that every match reads, and the column named like the
    method (a histogram's), as the column declaration says (engine/features/columns.py)."""
    h = hashlib.blake2b(digest_size=20)
    h.update(repr((FORMAT, _hashes.FEATURE_VERSION, store.hash_size, len(store), method)).encode())
    h.update(engine_digest().encode())  # the code that matched: a change is a miss
    h.update(repr((threshold.similarity, threshold.max_distance, astuple(options))).encode())
    arrays = [store.digests, store.has_digest]
    for p in _columns.PARTS:
        if p.column.always_matched or p.column.name == method:
            a = p.of(store)
            if a is not None:
                arrays.append(a)
    if options.crop_tolerant:  # the verify stage reads the files themselves
        arrays.append(np.array([(e.size, e.mtime_ns) for e in store.entries], np.int64))
    for a in arrays:
        h.update(np.ascontiguousarray(a).view(np.uint8).data)
    return h.hexdigest()


def cached_match(
    store: FeatureStore,
    method: str,
    threshold: Threshold,
    options: MatchOptions,
    folder: str | None,
    *,
    should_stop: Callable[[], bool] | None = None,
) -> Pairs:
    """:func:`match`, reusing a stored result for identical inputs; ``folder=None`` disables."""
    if folder is None or len(store) < 2:
        return match(store, method, threshold, options, should_stop=should_stop)
    key = match_key(store, method, threshold, options)
    path = os.path.join(folder, f"{key}.npz")
    with contextlib.suppress(OSError, ValueError, KeyError):
        with np.load(path) as data:
            pairs = Pairs(*(data[f] for f in _FIELDS))
        os.utime(path)  # most recently used
        return pairs
    pairs = match(store, method, threshold, options, should_stop=should_stop)
    with contextlib.suppress(OSError):
        os.makedirs(folder, exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            np.savez(f, **{k: getattr(pairs, k) for k in _FIELDS})
        os.replace(tmp, path)
        _prune(folder)
    return pairs


def _prune(folder: str) -> None:
    entries = [e for e in os.scandir(folder) if e.name.endswith(".npz")]
    entries.sort(key=lambda e: e.stat().st_mtime, reverse=True)
    for e in entries[KEEP:]:
        with contextlib.suppress(OSError):
            os.unlink(e.path)
