"""A cheap first test for crops, from the 12×12 grey tiles every file already has.

Why: the crop check proper (engine/matching/verify.py: ORB keypoints, then a dense search of
one picture inside the other) needs each file decoded again and costs ~0.7 ms a pair; run on
every file's 32 nearest neighbours by colour it made a scan of a 362-file library 83 % slower
and would have doubled a cold scan of 12 MP photos, so it used to be an option. Almost all of
those neighbours are unrelated pictures that merely share colours. A crop, though, is a window
of its source: the crop's tiles, resampled to 8×8, match the source's tiles resampled from the
right window (a width and height share in [0.7, 1], anywhere in the frame), and the window's
shape follows from the two pictures' aspect ratios. Every window of every candidate is one
product of small matrices (the resampling is linear: ``window = Ry · tiles · Rxᵀ``), so the
test costs under 0.1 ms a pair and decodes nothing. On the tune halves of benchmarks/library
and benchmarks/accuracy it let through 3.7 % and 3.5 % of the colour neighbours, and every
crop (their best window scored ≥ 0.98 and ≥ 0.94).

Nothing here accepts a pair: it only decides which candidates the crop check looks at.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from tui_dedup.engine.features.hashes import TILE_SIDE, dihedral
from tui_dedup.engine.index.hamming import DIHEDRAL_INVERSE

OUT = 8  # windows are compared at 8×8
FRACTIONS = (0.7, 0.775, 0.85, 0.925, 1.0)  # width or height share of the container
OFFSETS = 5  # positions per axis for a share below 1 (the whole frame has one)
ASPECT_SLACK = 0.12  # a window's shape may differ this much from the contained picture's
#: Least correlation for a candidate to go on to the crop check (chosen on the tune halves:
#: crops ≥ 0.94; a margin, since a miss here is a crop never looked at).
MIN_SCORE = 0.88
_BLOCK = 256  # containers whose windows are computed together (~30 MB of float32)


@cache
def _axis() -> tuple[np.ndarray, np.ndarray]:
    """Bilinear resampling rows for every (share, offset) on one axis: a (C·OUT, TILE_SIDE)
    matrix, and each combination's share (C,)."""
    rows: list[np.ndarray] = []
    shares: list[float] = []
    n = TILE_SIDE
    for f in FRACTIONS:
        for o in np.linspace(0.0, 1.0 - f, OFFSETS if f < 1.0 else 1):
            m = np.zeros((OUT, n), np.float32)
            for k in range(OUT):
                x = (o + (k + 0.5) / OUT * f) * n - 0.5
                x = min(max(x, 0.0), n - 1.0)
                lo = int(np.floor(x))
                hi = min(lo + 1, n - 1)
                m[k, lo] += 1.0 - (x - lo)
                m[k, hi] += x - lo
            rows.append(m)
            shares.append(f)
    return np.concatenate(rows), np.array(shares, np.float32)


def _normalised(v: np.ndarray) -> np.ndarray:
    """Zero mean, unit length along the last axis (a flat window stays all zeros)."""
    v = v - v.mean(axis=-1, keepdims=True)
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.divide(v, norm, out=np.zeros_like(v), where=norm > 1e-6)


def windows(tiles: np.ndarray) -> np.ndarray:
    """(n, C, C, 64): every window (height combination, width combination) of each file's
    tiles, resampled to 8×8 and normalised. ``tiles``: (n, TILE_SIDE²) uint8."""
    r, _ = _axis()
    t = tiles.reshape(-1, TILE_SIDE, TILE_SIDE).astype(np.float32)
    w = r @ t @ r.T  # (n, C·8, C·8)
    c = r.shape[0] // OUT
    w = w.reshape(-1, c, OUT, c, OUT).transpose(0, 1, 3, 2, 4).reshape(-1, c, c, OUT * OUT)
    return _normalised(w)


def whole(tiles: np.ndarray) -> np.ndarray:
    """(n, 8, 64): each file's whole frame at 8×8, normalised, in its eight orientations
    (model.TRANSFORMS order)."""
    r, shares = _axis()
    full = r[(len(shares) - 1) * OUT :]  # the share-1 combination is the last
    t = tiles.reshape(-1, TILE_SIDE, TILE_SIDE).astype(np.float32)
    small = full @ t @ full.T  # (n, 8, 8)
    turned = np.stack([np.stack(dihedral(s)) for s in small]) if len(small) else small
    return _normalised(turned.reshape(len(tiles), 8, OUT * OUT))


def scores(
    tiles: np.ndarray,
    aspect: np.ndarray,
    i: np.ndarray,
    j: np.ndarray,
    turns: np.ndarray | None = None,
) -> np.ndarray:
    """Per pair (rows of ``tiles``), the best correlation of either picture, in any of its
    ``turns`` (an (n, T) array of model.TRANSFORMS codes, variant k of j against i; default:
    all eight), with a window of the other of the same shape.

    ``aspect``: width / height of each row's picture as it is stored. Trying all eight turns
    lets symmetric designs through by the thousand (accuracy tune half: 54 % of the
    candidates against 3.5 % for the turn pHash suggests plus the identity).
    """
    out = np.full(len(i), -1.0, np.float32)
    if len(i) == 0:
        return out
    turn_of = (
        np.broadcast_to(np.arange(8), (len(i), 8)) if turns is None else np.asarray(turns)
    ).astype(np.int64)
    rows = np.unique(np.concatenate([i, j]))
    pos = np.full(int(rows.max()) + 1, -1, np.int64)
    pos[rows] = np.arange(rows.size)
    whole_of = whole(tiles[rows])  # (m, 8, 64)
    _, shares = _axis()
    ratio = shares[:, None] / shares[None, :]  # (C, C): each window's fy / fx
    inverse = np.asarray(DIHEDRAL_INVERSE)
    # Each pair twice: j (turned) inside i, and i (turned back) inside j.
    cont = np.concatenate([i, j]).astype(np.int64)
    other = np.concatenate([j, i]).astype(np.int64)
    back = np.r_[np.zeros(len(i), bool), np.ones(len(j), bool)]
    order = np.argsort(cont, kind="stable")
    starts = np.flatnonzero(np.r_[True, cont[order][1:] != cont[order][:-1]])
    groups = np.split(order, starts[1:])
    for g0 in range(0, len(groups), _BLOCK):
        block = groups[g0 : g0 + _BLOCK]
        heads = np.array([cont[g[0]] for g in block])
        win = windows(tiles[heads])  # (b, C, C, 64)
        for gi, g in enumerate(block):
            t = turn_of[g % len(i)]  # (p, T)
            t_eff = np.where(back[g][:, None], inverse[t], t)
            v = whole_of[pos[other[g]][:, None], t_eff]  # (p, T, 64)
            sims = np.einsum("yxd,ptd->ptyx", win[gi], v)
            # a quarter turn swaps the contained picture's sides
            asp = aspect[other[g]][:, None]
            asp_b = np.where(t_eff % 2 == 1, 1.0 / asp, asp)
            want = aspect[heads[gi]] / asp_b  # (p, T): the window's fy / fx
            ok = np.abs(ratio[None, None] / want[:, :, None, None] - 1.0) < ASPECT_SLACK
            best = np.where(ok, sims, -1.0).reshape(len(g), -1).max(axis=1)
            np.maximum.at(out, g % len(i), best.astype(np.float32))
    return out
