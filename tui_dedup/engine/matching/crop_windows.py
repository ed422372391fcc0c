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
test costs ~10 µs a pair and decodes nothing. On the tune halves of benchmarks/library and
benchmarks/accuracy it let through 3.3 % and 2.9 % of the colour neighbours, and every crop
(their best window scored ≥ 0.978 and ≥ 0.932).

Nothing here accepts a pair: it only decides which candidates the crop check looks at.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from tui_dedup.engine.features.hashes import TILE_SIDE
from tui_dedup.engine.index.hamming import DIHEDRAL_INVERSE

OUT = 8  # windows are compared at 8×8
# Width or height share of the container, and positions per axis for a share below 1 (the
# whole frame has one): 81 windows. Tune halves, against 441 windows (five shares, five
# offsets): the crops' best scores 0.978 / 0.932 instead of 0.985 / 0.940, no more colour
# neighbours let through, a tenth of the time (~10 µs a pair).
FRACTIONS = (0.7, 0.85, 1.0)
OFFSETS = 4
ASPECT_SLACK = 0.12  # a window's shape may differ this much from the contained picture's
#: Least correlation for a candidate to go on to the crop check (chosen on the tune halves:
#: crops ≥ 0.93; a margin, since a miss here is a crop never looked at).
MIN_SCORE = 0.88
_BLOCK_FLOATS = 1 << 23  # similarities computed at once (32 MB of float32)


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


@cache
def _share_groups() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The windows of :func:`windows` (flattened) ordered by their (height, width) shares: the
    order, where each share pair starts in it, and each share pair's height / width ratio
    (what the aspect test reads; the offsets within a share pair only need their best)."""
    _, shares = _axis()
    sy, sx = np.meshgrid(shares, shares, indexing="ij")
    key = (np.searchsorted(FRACTIONS, sy.ravel()) * len(FRACTIONS)) + np.searchsorted(
        FRACTIONS, sx.ravel()
    )
    perm = np.argsort(key, kind="stable")
    keys = key[perm]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ratio = (sy.ravel() / sx.ravel())[perm][starts].astype(np.float32)
    return perm, starts, ratio


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
    # every file at once, in features.hashes.dihedral's order (turns of it, then of its mirror)
    turned = np.stack(
        [np.rot90(base, -k, axes=(1, 2)) for base in (small, small[:, :, ::-1]) for k in range(4)],
        axis=1,
    )
    return _normalised(np.ascontiguousarray(turned).reshape(len(tiles), 8, OUT * OUT))


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
    perm, starts, group_ratio = _share_groups()
    inverse = np.asarray(DIHEDRAL_INVERSE)
    n = len(i)
    # Each pair twice: j (turned) inside i, and i (turned back) inside j.
    cont = np.concatenate([i, j]).astype(np.int64)
    other = np.concatenate([j, i]).astype(np.int64)
    back = np.r_[np.zeros(n, bool), np.ones(n, bool)]
    order = np.argsort(cont, kind="stable")
    firsts = np.flatnonzero(np.r_[True, cont[order][1:] != cont[order][:-1]])
    groups = np.split(order, firsts[1:])
    turns_n = turn_of.shape[1]
    g0 = 0
    while g0 < len(groups):
        # as many containers as keep one block's similarities near _BLOCK_FLOATS
        pmax = 1
        g1 = g0
        while g1 < len(groups):
            p = max(pmax, len(groups[g1]))
            if g1 > g0 and (g1 - g0 + 1) * perm.size * p * turns_n > _BLOCK_FLOATS:
                break
            pmax, g1 = p, g1 + 1
        block = groups[g0:g1]
        g0 = g1
        b = len(block)
        idx = np.full((b, pmax), -1, np.int64)
        for gi, g in enumerate(block):
            idx[gi, : len(g)] = g
        valid = idx >= 0
        safe = np.where(valid, idx, idx[:, :1])  # padding repeats the container's first pair
        heads = cont[safe[:, 0]]
        win = windows(tiles[heads]).reshape(b, -1, OUT * OUT)[:, perm]  # grouped by shares
        t = turn_of[safe % n]  # (b, pmax, T)
        t_eff = np.where(back[safe][..., None], inverse[t], t)
        v = whole_of[pos[other[safe]][..., None], t_eff]  # (b, pmax, T, 64)
        sims = v.reshape(b, pmax * turns_n, OUT * OUT) @ win.transpose(0, 2, 1)
        by_share = np.maximum.reduceat(sims, starts, axis=2)  # (b, pmax·T, share pairs)
        # a quarter turn swaps the contained picture's sides
        asp = aspect[other[safe]][..., None]
        asp_b = np.where(t_eff % 2 == 1, 1.0 / asp, asp)
        want = (aspect[heads][:, None, None] / asp_b).reshape(b, -1, 1)  # the window's fy / fx
        ok = np.abs(group_ratio[None, None, :] / want - 1.0) < ASPECT_SLACK
        best = np.where(ok, by_share, -1.0).max(axis=2).reshape(b, pmax, turns_n).max(axis=2)
        np.maximum.at(out, safe[valid] % n, best[valid].astype(np.float32))
    return out
