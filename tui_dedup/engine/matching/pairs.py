"""What every matching stage shares: the options, the pair helpers and the scores.

Why a module of its own: the primary match, the local-edit stage (:mod:`.tiles`), the crop
stage (:mod:`.crop_stage`) and the apply-time re-check (:mod:`.recheck`) all build, merge, cap
and score :class:`~tui_dedup.engine.model.Pairs`; when these helpers lived in :mod:`.match`,
the stages and ``match`` imported each other. Now every stage imports this module and
``match`` imports the stages: no circle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tui_dedup.engine.features.hashes import is_low_detail
from tui_dedup.engine.features.store import FeatureStore
from tui_dedup.engine.model import Pairs
from tui_dedup.engine.registry import METHODS

HIST_ALL_PAIRS_LIMIT = 20_000
MAX_PARTNERS = 200
EXACT_ALL_PAIRS = 32  # above this many identical files, list them as a star from the first
# Crop-tolerant stage (engine.crop_stage + engine.verify): each file's VERIFY_PARTNERS nearest
# files by colour that the primary match did not find are verified with local features, so the
# work is O(n) after the candidate search. Above HIST_ALL_PAIRS_LIMIT files, candidates come
# from pHash within VERIFY_DISTANCE (of 64 bits, scaled for other sizes) instead.
VERIFY_DISTANCE = 26
VERIFY_PARTNERS = 32
# Local-edit stage (engine.tiles): dHash candidates up to this distance (of 64 bits) that the
# primary match did not find, checked cell by cell on the stored tile signatures. On by
# default: it recovers logo/caption copies at a fraction of the primary search's cost
# (benchmarks/RESULTS.md, "Why the code is as it is").
LOCAL_EDIT_DISTANCE = 8
LOCAL_EDIT_MAX_PHASH = 24  # overlay copies on the tune half: 16-24 bits
LOCAL_EDIT_PARTNERS = 32


@dataclass(frozen=True, slots=True)
class MatchOptions:
    """How to match; the defaults are what a user gets without flags."""

    rotations: bool = True
    include_low_detail: bool = False
    max_partners: int = MAX_PARTNERS
    #: Also pair cropped copies (engine/matching/crop_stage.py): colour neighbours that pass a
    #: window test on the stored tiles, verified with ORB keypoints + RANSAC or a dense search.
    crop_tolerant: bool = True
    #: ... above HIST_ALL_PAIRS_LIMIT files too (the pHash shortlist, far costlier): only when
    #: asked for by name (``--crop-tolerant``).
    crop_any_size: bool = False
    verify_distance: int = VERIFY_DISTANCE  # of 64 bits
    verify_partners: int = VERIFY_PARTNERS
    #: Also pair copies with a local edit (logo, caption): dHash candidates + tile check.
    local_edits: bool = True
    local_edit_distance: int = LOCAL_EDIT_DISTANCE  # dHash, of 64 bits
    local_edit_max_phash: int = LOCAL_EDIT_MAX_PHASH  # of 64 bits
    local_edit_partners: int = LOCAL_EDIT_PARTNERS


def low_detail_mask(store: FeatureStore) -> np.ndarray:
    return np.fromiter((is_low_detail(float(s)) for s in store.detail), bool, len(store))


def in_method_terms(store: FeatureStore, method: str, cand: Pairs) -> Pairs:
    """Pairs admitted by another stage, restated with ``method``'s own distance and similarity
    (best over rotations, as :func:`pair_scores`), so they sort among the primary pairs."""
    if len(cand) == 0:
        return cand
    sim = pair_scores(store, cand)[method]
    m = METHODS[method]
    dist = (
        np.rint((1.0 - sim) * m.bits(store.hash_size)).astype(np.int16)
        if m.kind == "hash"
        else np.full(len(cand), -1, np.int16)
    )
    transform = cand.transform if m.kind == "hash" else np.zeros(len(cand), np.int8)
    return Pairs(cand.i, cand.j, dist, sim.astype(np.float32), transform, cand.exact)


def agreement(store: FeatureStore, pairs: Pairs, preset: str = "balanced") -> np.ndarray:
    """How many methods (of ``len(METHODS)``) call each pair a duplicate, as int8 per pair.

    Each method judges with its own ``preset`` threshold (hash methods at the best of the eight
    rotations/mirrors, as :func:`pair_scores` measures); byte-identical pairs count every
    method. Cheap: one vectorised score per method; a user can filter on ``k of n``.
    """
    if len(pairs) == 0:
        return np.empty(0, np.int8)
    scores = pair_scores(store, pairs)
    count = np.zeros(len(pairs), np.int8)
    for name, m in METHODS.items():
        s_min = np.float32(m.preset_similarity(preset, store.hash_size)) - np.float32(1e-6)
        count += scores[name] >= s_min
    count[pairs.exact] = len(METHODS)
    return count


def rotated_limit(max_distance: int) -> int:
    """The distance a rotated/mirrored match must meet: two thirds of the plain limit.

    Comparing against eight orientations gives a random pair eight chances to fall under the
    limit, so a match that needed a rotation must be closer. Measured on the accuracy
    benchmark's tune half: precision rose (the unrelated pairs that crept in through a rotation
    vanished) for 0.3 points of recall (benchmarks/RESULTS.md). It also makes the index faster
    with rotations on (fewer probes for the seven extra orientations; benchmarks/RESULTS.md,
    "Why the code is as it is").
    """
    return (2 * max_distance) // 3


def exact_pairs(store: FeatureStore) -> Pairs:
    """All pairs of files with the same content digest (byte-identical)."""
    rows = np.flatnonzero(store.has_digest)
    if rows.size < 2:
        return Pairs.empty()
    keys = store.digests[rows].view(np.dtype((np.void, store.digests.shape[1]))).ravel()
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    starts = np.flatnonzero(np.r_[True, sk[1:] != sk[:-1]])
    ends = np.r_[starts[1:], sk.size]
    ii, jj = [], []
    for s, e in zip(starts, ends, strict=True):
        if e - s < 2:
            continue
        members = np.sort(rows[order[s:e]])
        if members.size <= EXACT_ALL_PAIRS:
            a, b = np.triu_indices(members.size, 1)
            ii.append(members[a])
            jj.append(members[b])
        else:  # m identical files: m - 1 pairs say it all (m² would not fit in memory)
            ii.append(np.repeat(members[0], members.size - 1))
            jj.append(members[1:])
    if not ii:
        return Pairs.empty()
    i = np.concatenate(ii).astype(np.int32)
    j = np.concatenate(jj).astype(np.int32)
    z = len(i)
    return Pairs(
        i, j, np.zeros(z, np.int16), np.ones(z, np.float32), np.zeros(z, np.int8), np.ones(z, bool)
    )


def merge_exact(found: Pairs, exact: Pairs, n: int) -> Pairs:
    """Union by (i, j); an exact pair replaces the same pair found by features."""
    if len(exact) == 0:
        return found
    key_f = found.i.astype(np.int64) * n + found.j
    key_e = exact.i.astype(np.int64) * n + exact.j
    keep = ~np.isin(key_f, key_e)
    merged = concat([found.take(np.flatnonzero(keep)), exact])
    order = np.lexsort((merged.j, merged.i))
    return merged.take(order)


def concat(parts: list[Pairs]) -> Pairs:
    if not parts:
        return Pairs.empty()
    return Pairs(
        *(
            np.concatenate([getattr(p, f) for p in parts])
            for f in ("i", "j", "distance", "similarity", "transform", "exact")
        )
    )


def cap_partners(pairs: Pairs, cap: int) -> Pairs:
    """Keep each file's ``cap`` most similar partners (exact pairs first)."""
    m = len(pairs)
    if m == 0 or cap <= 0:
        return pairs
    counts = np.bincount(np.concatenate([pairs.i, pairs.j]))
    if counts.max(initial=0) <= cap:
        return pairs
    order = np.lexsort((-pairs.similarity, ~pairs.exact))  # best first
    quality = np.empty(m, np.int64)
    quality[order] = np.arange(m)  # 0 = the best pair overall
    # Rank each pair among *all* pairs of each of its files (as i or as j), then keep the pairs
    # that rank below the cap for both files.
    ends = np.concatenate([pairs.i, pairs.j])
    both = np.concatenate([quality, quality])
    o = np.lexsort((both, ends))
    se = ends[o]
    first = np.r_[0, np.flatnonzero(se[1:] != se[:-1]) + 1]
    run_start = np.repeat(first, np.diff(np.r_[first, 2 * m]))
    rank = np.empty(2 * m, np.int64)
    rank[o] = np.arange(2 * m) - run_start
    keep = np.maximum(rank[:m], rank[m:]) < cap
    return pairs.take(np.flatnonzero(keep))


def best_variant_distance(hv: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Smallest distance over both directions and all variants, as the index measures it.

    One-word hashes (the usual 64 bits) skip the word axis: its sum over a length-1 axis was
    most of the cost of scoring 10^5 pairs.
    """
    if hv.shape[2] == 1:
        flat = hv[:, :, 0]
        a, b = flat[i], flat[j]  # (p, K)
        d_ij = np.bitwise_count(a ^ b[:, :1]).min(axis=1)  # variants of i vs j
        d_ji = np.bitwise_count(b ^ a[:, :1]).min(axis=1)  # variants of j vs i
        return np.minimum(d_ij, d_ji)
    a, b = hv[i], hv[j]  # (p, K, words)
    d_ij = np.bitwise_count(a ^ b[:, 0:1, :]).sum(axis=2).min(axis=1)
    d_ji = np.bitwise_count(b ^ a[:, 0:1, :]).sum(axis=2).min(axis=1)
    return np.minimum(d_ij, d_ji)


def hist_matrix(store: FeatureStore, method: str) -> np.ndarray:
    """The (n, bins) sqrt-normalised histograms of a "hist" method: the feature column named
    like the method (engine/features/columns.py), so a dot product is their Bhattacharyya
    coefficient."""
    return store.features[method]


#: Pairs scored at once: gathering two (p, 96) float32 histogram rows for 10^5 pairs at once
#: was an 80 MB transient, at the end of a scan's memory peak.
SCORE_BLOCK = 8192


def pair_scores(store: FeatureStore, pairs: Pairs) -> dict[str, np.ndarray]:
    """Every method's similarity for the given pairs, vectorised (a second opinion per pair).

    Hash scores take the best of the eight rotations/mirrors, so a rotated copy's scores agree
    with the primary match instead of contradicting it.
    """
    out = {name: np.empty(len(pairs), np.float32) for name in METHODS}
    for name, m in METHODS.items():
        mat = hist_matrix(store, name) if m.kind == "hist" else None
        for lo in range(0, len(pairs), SCORE_BLOCK):
            sl = slice(lo, lo + SCORE_BLOCK)
            i, j = pairs.i[sl], pairs.j[sl]
            if mat is None:
                d = best_variant_distance(store.hashes[name], i, j)
                out[name][sl] = 1.0 - d / m.bits(store.hash_size)
            else:
                out[name][sl] = np.clip(np.einsum("ij,ij->i", mat[i], mat[j]), 0, 1)
    return out
