"""The crop-tolerant stage (``--crop-tolerant``): which pairs to verify, and the verified pairs.

Why candidates do not come from pHash alone: a 10–20 % crop of a smooth picture (a gradient
wallpaper, a sky) lands 16–34 bits from its original in plain orientation, among hundreds of
unrelated pictures, so a radius search would have to cover nearly all pairs and a per-file cap
by pHash distance keeps the wrong ones (on the accuracy benchmark's tune half, 1 crop of 10
survived a cap of 32). A crop keeps its colours and grey levels, though: the candidates are each
file's nearest neighbours by colour + grey histogram (Bhattacharyya, one matrix product per
block of rows) among the pairs not found yet, at most ``partners`` per file (9 of those 10
survive). Above :data:`match.HIST_ALL_PAIRS_LIMIT` files the all-pairs product is too costly and
the pHash shortlist (plain distance within ``verify_distance``, rotations within two thirds of
it) is ranked by colour instead. The candidates then pass a window test on the stored tiles
(engine/matching/crop_windows.py: is one picture, at 8×8, a window of the other?), which
keeps ~3 % of them and decodes nothing; only those are checked with engine.verify (ORB +
RANSAC, else the dense crop search), which decodes their files once. Nothing here decides
alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from tui_dedup.engine.features.store import FeatureStore
from tui_dedup.engine.index.hamming import DIHEDRAL_INVERSE
from tui_dedup.engine.index.search import radius_pairs
from tui_dedup.engine.matching import crop_windows
from tui_dedup.engine.matching.pairs import (
    HIST_ALL_PAIRS_LIMIT,
    cap_partners,
    in_method_terms,
    rotated_limit,
)
from tui_dedup.engine.model import Pairs

if TYPE_CHECKING:
    from tui_dedup.engine.matching.pairs import MatchOptions

_BLOCK = 512  # rows per matrix-product block: 512 × 20k float32 = 40 MB


def _colour(store: FeatureStore, rows: np.ndarray) -> np.ndarray:
    """Per-row [hist3 | hist1]: a dot product is the sum of both Bhattacharyya coefficients
    (colour, and grey levels that survive a conversion to greyscale)."""
    return np.concatenate([store.hist3[rows], store.hist1[rows]], axis=1).astype(np.float32)


def colour_neighbours(
    store: FeatureStore,
    rows: np.ndarray,
    found: Pairs,
    partners: int,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's ``partners`` nearest rows by colour, skipping pairs in ``found``.

    Returns store rows (i < j, each pair once) and their colour score. O(n²) multiply-adds of
    160 floats: use only up to HIST_ALL_PAIRS_LIMIT rows.
    """
    m = rows.size
    k = min(partners, m - 1)
    mat = _colour(store, rows)
    pos = np.full(len(store), -1, np.int64)
    pos[rows] = np.arange(m)
    fi, fj = pos[found.i], pos[found.j]
    both = (fi >= 0) & (fj >= 0)
    fi, fj = np.concatenate([fi[both], fj[both]]), np.concatenate([fj[both], fi[both]])
    out_i, out_j = [], []
    for start in range(0, m, _BLOCK):
        if should_stop is not None and should_stop():
            break
        stop = min(start + _BLOCK, m)
        sims = mat[start:stop] @ mat.T
        sims[np.arange(stop - start), np.arange(start, stop)] = -1.0
        inb = (fi >= start) & (fi < stop)
        sims[fi[inb] - start, fj[inb]] = -1.0
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        a = np.repeat(np.arange(start, stop), k)
        b = top.ravel()
        ok = sims[a - start, b] >= 0.0
        out_i.append(a[ok])
        out_j.append(b[ok])
    if not out_i:
        return np.empty(0, np.int32), np.empty(0, np.int32), np.empty(0, np.float32)
    a, b = np.concatenate(out_i), np.concatenate(out_j)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    key = np.unique(lo * m + hi)
    lo, hi = key // m, key % m
    score = np.einsum("ij,ij->i", mat[lo], mat[hi])
    return rows[lo].astype(np.int32), rows[hi].astype(np.int32), score.astype(np.float32)


def _shortlist(
    store: FeatureStore,
    rows: np.ndarray,
    found: Pairs,
    opts: MatchOptions,
    should_stop: Callable[[], bool] | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Large stores: pHash within ``opts.verify_distance``, scored by colour."""
    h = store.hashes["phash"][rows]
    radius = opts.verify_distance * store.hash_size * store.hash_size // 64
    i, j, _, _ = radius_pairs(
        np.ascontiguousarray(h[:, 0, :]),
        radius,
        variants=np.ascontiguousarray(h) if opts.rotations else None,
        variant_max_distance=rotated_limit(radius),
        should_stop=should_stop,
    )
    gi, gj = rows[i].astype(np.int32), rows[j].astype(np.int32)
    n = len(store)
    new = ~np.isin(gi.astype(np.int64) * n + gj, found.i.astype(np.int64) * n + found.j)
    gi, gj = gi[new], gj[new]
    score = np.einsum("ij,ij->i", _colour(store, gi), _colour(store, gj))
    return gi, gj, score.astype(np.float32)


def aspect_ratios(store: FeatureStore) -> np.ndarray:
    """Width / height of each row's picture as stored (float32), from the store's cached
    width and height columns."""
    width, height = store.column("width"), store.column("height")
    return (width / np.maximum(height, 1)).astype(np.float32)


def best_orientation(store: FeatureStore, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """The dihedral variant k of j closest to i by pHash (both sides compared, as the index
    does), int8 per pair: the orientation the dense check tries besides the identity."""
    h = store.hashes["phash"]
    if h.shape[1] == 1 or len(i) == 0:
        return np.zeros(len(i), np.int8)
    hi, hj = h[i], h[j]
    d_j = np.bitwise_count(hj ^ hi[:, 0:1, :]).sum(axis=2)
    d_i = np.bitwise_count(hi[:, np.asarray(DIHEDRAL_INVERSE), :] ^ hj[:, 0:1, :]).sum(axis=2)
    return np.minimum(d_i, d_j).argmin(axis=1).astype(np.int8)


def verified_pairs(
    store: FeatureStore,
    method: str,
    found: Pairs,
    usable: np.ndarray,
    opts: MatchOptions,
    should_stop: Callable[[], bool] | None = None,
) -> Pairs:
    """Pairs the primary match missed that engine.verify confirms (candidates: module doc).

    Confirmed pairs carry ``method``'s own distance and similarity (so they may lie beyond
    the threshold) and the orientation pHash suggests.
    """
    from tui_dedup.engine.matching.verify import verify_pairs

    rows = np.flatnonzero(usable).astype(np.int32)
    if rows.size < 2 or (rows.size > HIST_ALL_PAIRS_LIMIT and not opts.crop_any_size):
        return Pairs.empty()
    if rows.size <= HIST_ALL_PAIRS_LIMIT:
        i, j, score = colour_neighbours(store, rows, found, opts.verify_partners, should_stop)
    else:
        i, j, score = _shortlist(store, rows, found, opts, should_stop)
    z = len(i)
    ranked = Pairs(i, j, np.zeros(z, np.int16), score, np.zeros(z, np.int8), np.zeros(z, bool))
    cand = cap_partners(ranked, opts.verify_partners)
    if len(cand) == 0:
        return Pairs.empty()
    turn = (
        best_orientation(store, cand.i, cand.j) if opts.rotations else np.zeros(len(cand), np.int8)
    )
    window = crop_windows.scores(
        store.features["tiles"],
        aspect_ratios(store),
        cand.i,
        cand.j,
        turns=np.stack([turn, np.zeros_like(turn)], axis=1),
    )
    likely = np.flatnonzero(window >= crop_windows.MIN_SCORE)
    cand, turn = cand.take(likely), turn[likely]
    if len(cand) == 0:
        return Pairs.empty()
    accepted = turn.copy()
    inliers = verify_pairs(
        store, cand.i, cand.j, transform=turn, accepted=accepted, should_stop=should_stop
    )
    ok = np.flatnonzero(inliers > 0)
    t = accepted[ok]
    c = cand.take(ok)
    return in_method_terms(store, method, Pairs(c.i, c.j, c.distance, c.similarity, t, c.exact))
