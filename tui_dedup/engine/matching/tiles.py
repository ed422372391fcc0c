"""Local-edit check: pair copies that differ only in a small region (a logo, a caption, a stamp).

Why: a global hash describes the whole frame, and on smooth pictures (wallpapers, skies,
gradients) its low-frequency DCT coefficients sit close to their median, so a logo covering 1–2 %
of the image flips 16–24 pHash bits: past the default radius, among unrelated pictures. The same
copy keeps almost every cell of a small grey thumbnail (:func:`features.tile_signature`, 12×12)
exactly as it was, while a different picture, even one with the same colours or the same
gradient background, disagrees on a large share of its cells.

So candidate pairs come from the difference hash — each of its bits compares two neighbouring
cells, so an overlay changes only the few bits it covers (within 8 of 64 bits on the accuracy
benchmark), where pHash moved 16–24 — minus the pairs already found, at most
``partners`` per file. Each is accepted when, after a robust brightness/contrast fit (a copy
may also be brightened or contrast-stretched), at least :data:`TILE_AGREE` of the cells agree
within :data:`TILE_TOLERANCE` grey levels, in one of the orientations the hash allows, and the
agreeing cells hold some structure (:data:`TILE_MIN_DETAIL`: two product shots on one white
background agree on the background only, which proves nothing).

Thresholds were chosen on the tune half of benchmarks/accuracy (overlay copies agree on ≥ 0.96
of the cells, the closest negative on 0.45); figures in benchmarks/RESULTS.md. Vectorised over
pairs, from stored features only: a few µs per candidate pair and orientation.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tui_dedup.engine.features.hashes import TILE_SIDE, dihedral
from tui_dedup.engine.features.store import FeatureStore
from tui_dedup.engine.index.hamming import DIHEDRAL_INVERSE
from tui_dedup.engine.index.search import radius_pairs
from tui_dedup.engine.matching.pairs import cap_partners, rotated_limit
from tui_dedup.engine.model import Pairs

TILE_TOLERANCE = 4.0  # grey levels (0–255) between a cell and its fitted counterpart
TILE_AGREE = 0.75  # share of cells that must agree
# ... when a rotation or mirror was needed: eight orientations are eight chances, and two
# halves of a mirror-symmetric design (a centred gradient) agree on ~0.8 of their cells when
# one is flipped. Overlay copies agree on ≥ 0.96 in any orientation.
TILE_AGREE_TURNED = 0.9
# Share of cells that must agree *and* differ from the picture's median level by more than the
# tolerance: agreeing on a flat background proves nothing (tune half: copies found ≥ 0.39).
TILE_MIN_DETAIL = 0.25
TILE_TRIM = 0.75  # the fit is refined on this share of best-fitting cells (an overlay is outliers)
GAIN_RANGE = (0.6, 1.7)  # plausible contrast gains between two copies
_CHUNK = 8192  # pairs per vectorised block (a few MB of float32 temporaries)

#: Cell permutation of each dihedral variant (model.TRANSFORMS order), as features.dihedral.
PERMS = np.stack(
    [v.ravel() for v in dihedral(np.arange(TILE_SIDE * TILE_SIDE).reshape(TILE_SIDE, TILE_SIDE))]
)


def _fit(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row weighted least squares ``b ≈ gain · a + offset``, gain clipped to GAIN_RANGE."""
    sw = np.maximum(w.sum(axis=1), 1.0)
    ma = (w * a).sum(axis=1) / sw
    mb = (w * b).sum(axis=1) / sw
    da = a - ma[:, None]
    var = (w * da * da).sum(axis=1) / sw
    cov = (w * da * (b - mb[:, None])).sum(axis=1) / sw
    gain = np.clip(cov / np.maximum(var, 1e-6), *GAIN_RANGE)
    return gain, mb - gain * ma


def agreement_fraction(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Share of cells of ``b`` that a robust affine fit of ``a`` matches (0 when flat).

    ``a``, ``b``: (p, cells) float32. The fit starts on all cells, then twice on the
    :data:`TILE_TRIM` best-fitting ones, so an overlay (a block of outliers) does not bend it.
    """
    w = np.ones_like(a)
    kth = int(TILE_TRIM * a.shape[1])
    for _ in range(2):
        gain, off = _fit(a, b, w)
        r = np.abs(b - (gain[:, None] * a + off[:, None]))
        cut = np.partition(r, kth, axis=1)[:, kth]
        w = (r <= cut[:, None]).astype(np.float32)
    gain, off = _fit(a, b, w)
    agree = np.abs(b - (gain[:, None] * a + off[:, None])) <= TILE_TOLERANCE
    level = np.median(b, axis=1)
    detail = (agree & (np.abs(b - level[:, None]) > TILE_TOLERANCE)).mean(axis=1)
    frac = agree.mean(axis=1)
    return np.where(detail >= TILE_MIN_DETAIL, frac, 0.0).astype(np.float32)


def required_agreement() -> np.ndarray:
    """The share of agreeing cells each orientation k needs (identity, then 7 turned)."""
    need = np.full(8, TILE_AGREE_TURNED, np.float32)
    need[0] = TILE_AGREE
    return need


def best_agreement(
    tiles: np.ndarray, i: np.ndarray, j: np.ndarray, allowed: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(best margin, its orientation k) per pair over the orientations ``allowed`` (p, 8).

    The margin is the share of agreeing cells minus what that orientation needs
    (:func:`required_agreement`): a pair is a copy when it is ≥ 0. Orientation k compares
    ``i`` with variant k of ``j`` (the :class:`Pairs` convention).
    """
    p = len(i)
    need = required_agreement()
    best = np.full(p, -1.0, np.float32)
    best_k = np.zeros(p, np.int8)
    for lo in range(0, p, _CHUNK):
        sl = slice(lo, min(lo + _CHUNK, p))
        b = tiles[i[sl]].astype(np.float32)
        tj = tiles[j[sl]]
        for k in np.flatnonzero(allowed[sl].any(axis=0)).tolist():
            rows = np.flatnonzero(allowed[sl, k])
            f = agreement_fraction(tj[rows][:, PERMS[k]].astype(np.float32), b[rows]) - need[k]
            at = rows + lo
            better = f > best[at]
            best[at[better]] = f[better]
            best_k[at[better]] = k
    return best, best_k


def local_edit_pairs(
    store: FeatureStore,
    found: Pairs,
    usable: np.ndarray,
    *,
    max_distance: int,
    max_phash: int,
    partners: int,
    rotations: bool,
    should_stop: Callable[[], bool] | None = None,
) -> Pairs:
    """Pairs the primary match missed whose tile signatures agree (a local edit apart).

    Candidates: dHash within ``max_distance`` of 64 bits (scaled to the hash size; rotations
    at :func:`match.rotated_limit`), minus ``found``, at most ``partners`` closest per file,
    and within ``max_phash`` pHash bits (of 64; best orientation): the stage widens pHash's
    band for copies it nearly caught, it does not replace it (two pages of text in one layout
    agree on coarse cells, but not on pHash either).
    Returned pairs carry the dHash distance/similarity and the orientation the tiles agreed
    in; the caller restates them in its method's terms.
    """
    if len(store.tiles) != len(store):
        return Pairs.empty()  # a store made without tile signatures
    rows = np.flatnonzero(usable).astype(np.int32)
    if rows.size < 2:
        return Pairs.empty()
    dh = store.hashes["dhash"]
    radius = max_distance * store.hash_size * store.hash_size // 64
    i, j, d, k = radius_pairs(
        np.ascontiguousarray(dh[rows][:, 0, :]),
        radius,
        variants=np.ascontiguousarray(dh[rows]) if rotations else None,
        variant_max_distance=rotated_limit(radius),
        should_stop=should_stop,
    )
    gi, gj = rows[i].astype(np.int32), rows[j].astype(np.int32)
    n = len(store)
    new = ~np.isin(gi.astype(np.int64) * n + gj, found.i.astype(np.int64) * n + found.j)
    bits = store.hash_size * store.hash_size
    cand = Pairs(
        gi,
        gj,
        d.astype(np.int16),
        (1.0 - d.astype(np.float32) / bits).astype(np.float32),
        k.astype(np.int8),
        np.zeros(len(gi), bool),
    ).take(np.flatnonzero(new))
    cand = cap_partners(cand, partners)
    ph = store.hashes["phash"]
    d_ph = np.minimum(
        np.bitwise_count(ph[cand.j] ^ ph[cand.i][:, 0:1, :]).sum(axis=2).min(axis=1),
        np.bitwise_count(ph[cand.i] ^ ph[cand.j][:, 0:1, :]).sum(axis=2).min(axis=1),
    )
    cand = cand.take(np.flatnonzero(d_ph <= max_phash * bits // 64))
    if len(cand) == 0:
        return cand
    # Orientations the hash allows: variant k of j against i, or (the same relation seen from
    # the other side) variant inverse(k) of i against j.
    hi, hj = dh[cand.i], dh[cand.j]
    d_j = np.bitwise_count(hj ^ hi[:, 0:1, :]).sum(axis=2)
    inv = np.asarray(DIHEDRAL_INVERSE)
    d_i = np.bitwise_count(hi[:, inv, :] ^ hj[:, 0:1, :]).sum(axis=2)
    limit = np.full(8, rotated_limit(radius))
    limit[0] = radius
    allowed = (np.minimum(d_i, d_j) <= limit) if rotations else np.zeros((len(cand), 8), bool)
    allowed[:, 0] |= np.minimum(d_i[:, 0], d_j[:, 0]) <= radius
    margin, orient = best_agreement(store.tiles, cand.i, cand.j, allowed)
    ok = np.flatnonzero(margin >= 0.0)
    out = cand.take(ok)
    return Pairs(out.i, out.j, out.distance, out.similarity, orient[ok], out.exact)
