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

KEEP = 8  # most recent results kept (candidates and confirmed pairs count one each)
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


def verdict_key(store: FeatureStore, key: str) -> str:
    """The key of the confirmed pairs of the match ``key``: its inputs plus what the verdict
    stage reads beyond them (the verdict columns and the capture metadata). Files' contents
    are in the key through their features, not their ctimes: a ``chmod -R`` re-checks the
    feature rows (engine/cache/identity.py) and must not re-run every pixel check."""
    h = hashlib.blake2b(key.encode(), digest_size=20)
    for name in ("pdq", "chroma", "info"):
        a = store.features.get(name)
        if a is not None:
            h.update(np.ascontiguousarray(a).view(np.uint8).data)
    m = store.metas
    for name in ("taken", "subsec_ms", "unique_id", "offset_min"):
        col = getattr(m, name, None)
        if isinstance(col, np.ndarray):
            h.update(np.ascontiguousarray(col).view(np.uint8).data)
        elif col is not None:
            h.update(repr(list(col)).encode())
    h.update(np.array([e.size for e in store.entries], np.int64).data)
    return "v-" + h.hexdigest()


def _load(path: str, verdicts: bool) -> Pairs:
    with np.load(path) as data:
        arrays = [data[f] for f in _FIELDS]
        if verdicts:
            arrays += [data["kind"], data["evidence"]]
        pairs = Pairs(*arrays)
    os.utime(path)  # most recently used
    return pairs


def _save(folder: str, path: str, pairs: Pairs) -> None:
    with contextlib.suppress(OSError):
        os.makedirs(folder, exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        arrays = {k: getattr(pairs, k) for k in _FIELDS}
        if pairs.kind is not None and pairs.evidence is not None:
            arrays |= {"kind": pairs.kind, "evidence": pairs.evidence}
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
        _prune(folder)


def cached_match(
    store: FeatureStore,
    method: str,
    threshold: Threshold,
    options: MatchOptions,
    folder: str | None,
    *,
    should_stop: Callable[[], bool] | None = None,
    confirm: Callable[[Pairs], Pairs] | None = None,
) -> Pairs:
    """:func:`match`, reusing a stored result for identical inputs; ``folder=None`` disables.

    With ``confirm`` (the verdict stage), the confirmed pairs are remembered too, under
    :func:`verdict_key`: a warm rescan then reads them instead of confirming again. A result
    the stop flag cut short is never stored.
    """
    stopped = should_stop if should_stop is not None else (lambda: False)
    if folder is None or len(store) < 2:
        pairs = match(store, method, threshold, options, should_stop=should_stop)
        return confirm(pairs) if confirm is not None and not stopped() else pairs
    key = match_key(store, method, threshold, options)
    vpath = os.path.join(folder, f"{verdict_key(store, key)}.npz") if confirm else ""
    if confirm is not None:
        with contextlib.suppress(OSError, ValueError, KeyError):
            return _load(vpath, verdicts=True)
    path = os.path.join(folder, f"{key}.npz")
    try:
        pairs = _load(path, verdicts=False)
    except (OSError, ValueError, KeyError):
        pairs = match(store, method, threshold, options, should_stop=should_stop)
        if stopped():
            return pairs
        _save(folder, path, pairs)
    if confirm is None or stopped():
        return pairs
    confirmed = confirm(pairs)
    if not stopped():
        _save(folder, vpath, confirmed)
    return confirmed


def _prune(folder: str) -> None:
    entries = [e for e in os.scandir(folder) if e.name.endswith(".npz")]
    entries.sort(key=lambda e: e.stat().st_mtime, reverse=True)
    for e in entries[KEEP:]:
        with contextlib.suppress(OSError):
            os.unlink(e.path)
