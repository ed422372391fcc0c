"""(store, method, threshold) → Pairs, from stored features only (never decodes again).

Hash methods go through the Hamming index (brute force or multi-index hashing, chosen by N).
Histogram methods compare all pairs as blocked matrix products up to
:data:`HIST_ALL_PAIRS_LIMIT` files; above that, candidates come from a loose pHash shortlist.
Exact duplicates (same content digest) are always reported with similarity 1.0. Low-detail
images (flat frames, blank scans) only pair by digest unless asked, and no file may sit in more
than :data:`MAX_PARTNERS` pairs, so one bad cluster cannot flood the review.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tui_dedup.engine.features.store import FeatureStore
from tui_dedup.engine.index.search import radius_pairs
from tui_dedup.engine.matching.crop_stage import verified_pairs
from tui_dedup.engine.matching.pairs import (
    HIST_ALL_PAIRS_LIMIT,
    MatchOptions,
    cap_partners,
    concat,
    exact_pairs,
    hist_matrix,
    in_method_terms,
    low_detail_mask,
    merge_exact,
    rotated_limit,
)
from tui_dedup.engine.matching.tiles import local_edit_pairs
from tui_dedup.engine.memory import release_free_memory
from tui_dedup.engine.model import Pairs
from tui_dedup.engine.registry import METHODS, Threshold

HIST_SHORTLIST_DISTANCE = 24  # of 64 bits: loose enough for colour-only edits
_BLOCK = 2048


def match(
    store: FeatureStore,
    method: str,
    threshold: Threshold,
    options: MatchOptions | None = None,
    *,
    should_stop: Callable[[], bool] | None = None,
) -> Pairs:
    opts = options or MatchOptions()
    n = len(store)
    if n < 2:
        return Pairs.empty()
    usable = opts.include_low_detail | ~low_detail_mask(store)
    if METHODS[method].kind == "hash":
        found = _hash_pairs(store, method, threshold, usable, opts, should_stop)
    else:
        found = _hist_pairs(store, method, threshold, usable, should_stop)
    # Each stage's index tables (tens of MB) were freed into the C heap, where glibc keeps
    # them: hand them back before the next stage builds its own (it lowers a scan's memory
    # peak: benchmarks/RESULTS.md, "Why the code is as it is").
    release_free_memory()
    if opts.local_edits:
        found = concat([found, _local_edit_pairs(store, method, found, usable, opts, should_stop)])
        release_free_memory()
    if opts.crop_tolerant:
        found = concat([found, verified_pairs(store, method, found, usable, opts, should_stop)])
    exact = exact_pairs(store)
    # Exact copies are never capped: a star of m - 1 pairs is already their minimal form.
    pairs = merge_exact(cap_partners(found, opts.max_partners), exact, n)
    # The index's tables (tens of MB each) were freed into the C heap, where glibc keeps them
    # once its mmap threshold has risen: hand them back before the caller's next peak.
    release_free_memory()
    return pairs


def _hash_pairs(
    store: FeatureStore,
    method: str,
    threshold: Threshold,
    usable: np.ndarray,
    opts: MatchOptions,
    should_stop: Callable[[], bool] | None,
) -> Pairs:
    assert threshold.max_distance is not None
    rows = np.flatnonzero(usable).astype(np.int32)
    if rows.size < 2:
        return Pairs.empty()
    h = store.hashes[method][rows]
    codes = np.ascontiguousarray(h[:, 0, :])
    variants = np.ascontiguousarray(h) if opts.rotations else None
    i, j, d, k = radius_pairs(
        codes,
        threshold.max_distance,
        variants=variants,
        variant_max_distance=rotated_limit(threshold.max_distance),
        should_stop=should_stop,
    )
    if variants is not None:
        # A pair admitted by its plain distance may still be closest through a rotation that
        # misses the stricter limit: report the comparison that admitted it.
        late = np.flatnonzero((k != 0) & (d > rotated_limit(threshold.max_distance)))
        if late.size:
            d, k = d.copy(), k.copy()
            d[late] = np.bitwise_count(codes[i[late]] ^ codes[j[late]]).sum(axis=1)
            k[late] = 0
    bits = METHODS[method].bits(store.hash_size)
    gi, gj = rows[i], rows[j]
    return Pairs(
        gi.astype(np.int32),
        gj.astype(np.int32),
        d.astype(np.int16),
        (1.0 - d.astype(np.float32) / bits).astype(np.float32),
        k.astype(np.int8),
        np.zeros(len(gi), bool),
    )


def _local_edit_pairs(
    store: FeatureStore,
    method: str,
    found: Pairs,
    usable: np.ndarray,
    opts: MatchOptions,
    should_stop: Callable[[], bool] | None,
) -> Pairs:
    """Copies a local edit apart (a logo, a caption) that ``found`` lacks: engine.tiles."""
    cand = local_edit_pairs(
        store,
        found,
        usable,
        max_distance=opts.local_edit_distance,
        max_phash=opts.local_edit_max_phash,
        partners=opts.local_edit_partners,
        rotations=opts.rotations,
        should_stop=should_stop,
    )
    return in_method_terms(store, method, cand)


def _hist_pairs(
    store: FeatureStore,
    method: str,
    threshold: Threshold,
    usable: np.ndarray,
    should_stop: Callable[[], bool] | None,
) -> Pairs:
    rows = np.flatnonzero(usable).astype(np.int32)
    if rows.size < 2:
        return Pairs.empty()
    mat = hist_matrix(store, method)[rows]
    s_min = np.float32(threshold.similarity)
    if rows.size <= HIST_ALL_PAIRS_LIMIT:
        out_i, out_j, out_s = [], [], []
        for start in range(0, rows.size, _BLOCK):
            if should_stop is not None and should_stop():
                break
            stop = min(start + _BLOCK, rows.size)
            sims = mat[start:stop] @ mat[start:].T  # only the upper triangle is kept
            bi, bj = np.nonzero(sims >= s_min)
            bj = bj + start
            bi = bi + start
            keep = bi < bj
            out_i.append(bi[keep])
            out_j.append(bj[keep])
            out_s.append(sims[bi[keep] - start, bj[keep] - start])
        i = np.concatenate(out_i) if out_i else np.empty(0, np.int64)
        j = np.concatenate(out_j) if out_j else np.empty(0, np.int64)
        s = np.concatenate(out_s) if out_s else np.empty(0, np.float32)
    else:
        codes = np.ascontiguousarray(store.hashes["phash"][rows][:, 0, :])
        limit = HIST_SHORTLIST_DISTANCE * store.hash_size * store.hash_size // 64
        i, j, _, _ = radius_pairs(codes, limit, should_stop=should_stop)
        s = np.einsum("ij,ij->i", mat[i], mat[j])
        keep = s >= s_min
        i, j, s = i[keep], j[keep], s[keep]
    s = np.clip(s, 0.0, 1.0).astype(np.float32)
    return Pairs(
        rows[i].astype(np.int32),
        rows[j].astype(np.int32),
        np.full(len(i), -1, np.int16),
        s,
        np.zeros(len(i), np.int8),
        np.zeros(len(i), bool),
    )
