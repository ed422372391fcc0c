"""Second-stage verification of candidate pairs with local features (crop tolerance).

Why: a global hash describes the whole frame, so a copy with 10–20% cropped away lands 16–34
bits from its original, where unrelated pictures live too. Such pairs are shortlisted by colour
(a bounded number per file, see engine.crop_stage) and then *verified* here: ORB keypoints of both
files are matched (Hamming distance, Lowe's ratio test) and a similarity transform (rotation,
uniform scale, shift) is fitted with RANSAC. A pair is accepted only when

- enough keypoints agree on one transform (``min_inliers``),
- the transform has a plausible scale and the two frames overlap over most of *both* images
  (``min_overlap``): a quarter or a half of a photo against another part of it, or against the
  whole, is refused, and
- the agreeing keypoints are spread over both images (``min_spread``, the area of their convex
  hull): the same caption or logo stamped on two different pictures makes a tight cluster of
  matches, which is not evidence that the pictures are copies.

Smooth pictures (gradients, skies, faint shapes) give ORB too few distinctive keypoints at
this size, so a pair ORB refuses gets a second, dense check (:func:`dense_score`): the whole of
one image is searched inside the other over a range of scales (:data:`DENSE_MIN_FRACTION` to 1
of the width, every offset at once with ``cv2.matchTemplate``), on high-passed 64-px thumbnails
so that a shared gradient or palette counts for nothing; the best normalised correlation must
reach ``dense_min_ncc`` (stricter when one image had to be turned). Two halves of one picture
never contain each other at ≥ 70 % scale.

Keypoints come from the same small decode the hashes use (short side 64–128 px) and are stored
per file (``FeatureStore.local``, ~2 KB each, :func:`features.local_features`). Rows that lack
them (an older cache, a store built elsewhere) are filled here by decoding those files once
(:func:`ensure_local`). Pure OpenCV + numpy; never imports UI code.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np

from tui_dedup.engine.features.hashes import (
    DENSE_SIDE,
    LOCAL_ROW_BYTES,
    crop_features,
    dihedral,
    split_local,
    to_gray,
)
from tui_dedup.engine.features.store import FeatureStore
from tui_dedup.engine.memory import opencv_threads

_EMPTY = np.zeros((0, LOCAL_ROW_BYTES), np.uint8)
DENSE_MIN_FRACTION = 0.7  # smallest width/height share of the container the other may cover
DENSE_STEP = 0.04  # scale grid, refined twice by halving around the best
DENSE_REFINE_FLOOR = 0.45  # refine the grid only above this correlation
_EMPTY_THUMB = np.zeros((0, 0), np.uint8)


@dataclass(frozen=True, slots=True)
class VerifyOptions:
    """Acceptance rules; chosen on the tune half of benchmarks/accuracy."""

    ratio: float = 0.8  # Lowe's ratio test on Hamming distances
    max_hamming: int = 64  # of 256 descriptor bits: a looser match is no match
    min_inliers: int = 12
    reproj: float = 0.025  # RANSAC tolerance, fraction of the long side
    min_scale: float = 0.5  # of the transform between the frames normalised to long side 1
    max_scale: float = 2.0
    min_overlap: float = 0.5  # intersection / area, for each of the two images
    min_spread: float = 0.02  # inlier hull area / image area, for each of the two images
    # Dense check: best high-pass correlation of one image inside the other (tune half: crops
    # 0.82–1.0, the closest negative candidate 0.36). Free translation lets a periodic texture
    # (stripes) line up with another picture's at ~0.7, and halves of a mirror-symmetric design
    # correlate at ~0.8 once one is flipped: hence 0.8, and 0.9 in a turned orientation.
    dense_min_ncc: float = 0.8
    dense_min_ncc_turned: float = 0.9
    dense: bool = True


def ensure_local(
    store: FeatureStore,
    rows: np.ndarray,
    *,
    should_stop: Callable[[], bool] | None = None,
) -> int:
    """Compute local features for the given rows that lack them (decodes those files once).

    A file that cannot be decoded any more gets an empty keypoint set (never verified).
    Returns how many files were decoded.
    """
    from tui_dedup.engine.files.decode import decode_file

    if len(getattr(store, "local", None) or ()) != len(store):
        store.local = [None] * len(store)
    if len(store.crop_thumbs) != len(store):
        store.crop_thumbs = [None] * len(store)
    todo = [
        int(r)
        for r in np.unique(rows)
        if store.local[int(r)] is None or store.crop_thumbs[int(r)] is None
    ]
    if not todo:
        return 0

    def one(r: int) -> tuple[np.ndarray, np.ndarray]:
        if should_stop is not None and should_stop():
            return _EMPTY, _EMPTY_THUMB
        decoded = decode_file(store.entries[r])
        if not hasattr(decoded, "image"):
            return _EMPTY, _EMPTY_THUMB
        gray = to_gray(decoded.image)
        return crop_features(gray)

    workers = max(1, 2 * (os.cpu_count() or 2))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dedup-verify") as pool:
        for r, (loc, thumb) in zip(todo, pool.map(one, todo), strict=True):
            store.local[r] = loc
            store.crop_thumbs[r] = thumb
    return len(todo)


def _highpass(x: np.ndarray) -> np.ndarray:
    """Detail only: a shared gradient or colour cast must not look like a match."""
    return x - cv2.GaussianBlur(x, (0, 0), DENSE_SIDE / 24)


def _contained(hp_a: np.ndarray, hp_b: np.ndarray) -> float:
    """Best correlation of all of ``b`` placed inside ``a`` at a width share in
    [DENSE_MIN_FRACTION, 1] (its own aspect ratio; the height share must be in range too).

    Both come high-passed at thumbnail size; ``b`` is scaled down after the high-pass (the
    blur then shrinks with it, by at most 30 %), so each pair costs two blurs, not one per
    scale. The grid is refined only around a promising best (negatives rarely reach 0.45).
    """
    ha, wa = hp_a.shape
    hb, wb = hp_b.shape
    cache: dict[int, float] = {}

    def at(f: float) -> float:
        tw = round(f * wa)
        th = round(tw * hb / wb)
        if tw in cache:
            return cache[tw]
        ok = 8 <= tw <= wa and 8 <= th <= ha and th >= DENSE_MIN_FRACTION * ha - 0.5
        v = -1.0
        if ok:
            bt = cv2.resize(hp_b, (tw, th), interpolation=cv2.INTER_AREA)
            v = float(cv2.matchTemplate(hp_a, bt, cv2.TM_CCOEFF_NORMED).max())
        cache[tw] = v
        return v

    grid = np.arange(DENSE_MIN_FRACTION, 1.0 + 1e-9, DENSE_STEP)
    vals = [at(float(f)) for f in grid]
    k = int(np.argmax(vals))
    best, f0 = vals[k], float(grid[k])
    if best < DENSE_REFINE_FLOOR:
        return best
    for d in (DENSE_STEP / 2, DENSE_STEP / 4):
        for f in (f0 - d, f0 + d):
            if DENSE_MIN_FRACTION <= f <= 1.0 and (v := at(f)) > best:
                best, f0 = v, f
    return best


def dense_score(ta: np.ndarray, tb: np.ndarray, transform: int = 0) -> float:
    """Best high-pass correlation of either image inside the other (-1: not comparable).

    ``transform`` (model.TRANSFORMS) turns ``tb`` first: variant k of b matches a.
    """
    if ta.size == 0 or tb.size == 0:
        return -1.0
    if transform:
        tb = dihedral(tb)[transform]
    hp_a = _highpass(ta.astype(np.float32))
    hp_b = _highpass(np.ascontiguousarray(tb, dtype=np.float32))
    return max(_contained(hp_a, hp_b), _contained(hp_b, hp_a))


def _frame(store: FeatureStore, r: int) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Descriptors, points in a frame whose long side is 1, and that frame's width/height."""
    local = store.local[r]
    des, xy = split_local(local if local is not None else _EMPTY)
    m = store.metas[r]
    long = float(max(m.width, m.height, 1))
    w, h = m.width / long, m.height / long
    return des, xy * np.array([w, h], np.float32), w, h


def _ratio_matches(
    da: np.ndarray, db: np.ndarray, opts: VerifyOptions
) -> tuple[np.ndarray, np.ndarray]:
    """Indices (ia, ib) of matches passing the ratio test, each b used once."""
    a64 = np.ascontiguousarray(da).view(np.uint64)
    b64 = np.ascontiguousarray(db).view(np.uint64)
    dist = np.bitwise_count(a64[:, None, :] ^ b64[None, :, :]).sum(axis=2, dtype=np.int32)
    if dist.shape[1] < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    two = np.partition(dist, 1, axis=1)[:, :2]
    best = dist.argmin(axis=1)
    ok = (two[:, 0] <= opts.max_hamming) & (two[:, 0] < opts.ratio * two[:, 1])
    ia, ib = np.flatnonzero(ok), best[ok]
    if ia.size == 0:
        return ia, ib
    # one-to-one: keep the closest a for each b
    order = np.lexsort((two[ia, 0], ib))
    first = np.r_[True, ib[order][1:] != ib[order][:-1]]
    keep = order[first]
    return ia[keep], ib[keep]


def _hull_area(pts: np.ndarray) -> float:
    if len(pts) < 3:
        return 0.0
    return float(cv2.contourArea(cv2.convexHull(pts.astype(np.float32))))


def verify_one(store: FeatureStore, a: int, b: int, opts: VerifyOptions) -> int:
    """Inlier count when the pair passes every check, else 0."""
    da, pa, wa, ha = _frame(store, a)
    db, pb, wb, hb = _frame(store, b)
    if len(da) < opts.min_inliers or len(db) < opts.min_inliers:
        return 0
    ia, ib = _ratio_matches(da, db, opts)
    if len(ia) < opts.min_inliers:
        return 0
    src, dst = pa[ia], pb[ib]
    m, inl = cv2.estimateAffinePartial2D(
        src, dst, method=cv2.RANSAC, ransacReprojThreshold=opts.reproj, maxIters=500
    )
    if m is None or inl is None:
        return 0
    inl = inl.ravel().astype(bool)
    n_in = int(inl.sum())
    if n_in < opts.min_inliers:
        return 0
    scale = float(np.hypot(m[0, 0], m[1, 0]))
    if not opts.min_scale <= scale <= opts.max_scale:
        return 0
    corners = np.array([[0, 0], [wa, 0], [wa, ha], [0, ha]], np.float32)
    proj = cv2.transform(corners[None], m)[0]
    rect = np.array([[0, 0], [wb, 0], [wb, hb], [0, hb]], np.float32)
    inter, _ = cv2.intersectConvexConvex(proj, rect)
    area_a = abs(float(cv2.contourArea(proj)))
    if inter <= 0 or area_a <= 0:
        return 0
    if min(inter / area_a, inter / (wb * hb)) < opts.min_overlap:
        return 0
    spread = min(_hull_area(src[inl]) / (wa * ha), _hull_area(dst[inl]) / (wb * hb))
    if spread < opts.min_spread:
        return 0
    return n_in


def verify_pairs(
    store: FeatureStore,
    i: np.ndarray,
    j: np.ndarray,
    options: VerifyOptions | None = None,
    *,
    transform: np.ndarray | None = None,
    accepted: np.ndarray | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> np.ndarray:
    """Inlier counts (int32, 0 = refused; 1 for a pair only the dense check accepted) for the
    row pairs ``i``/``j``; ``transform`` (default identity): variant k of j matches i.
    ``accepted`` (optional, int8, written in place) gets the orientation the dense check
    accepted a pair in.

    Fills missing local features first (:func:`ensure_local`). Cost per pair, for ORB and for
    the dense check when it runs: benchmarks/RESULTS.md, "Why the code is as it is".
    """
    opts = options or VerifyOptions()
    out = np.zeros(len(i), np.int32)
    if len(i) == 0:
        return out
    turn = np.zeros(len(i), np.int8) if transform is None else transform
    ensure_local(store, np.concatenate([i, j]), should_stop=should_stop)
    with opencv_threads(1):
        for k, (a, b, t) in enumerate(zip(i.tolist(), j.tolist(), turn.tolist(), strict=True)):
            if should_stop is not None and k % 256 == 0 and should_stop():
                break
            out[k] = verify_one(store, a, b, opts)
            ta, tb = store.crop_thumbs[a], store.crop_thumbs[b]
            if out[k] or not opts.dense or ta is None or tb is None:
                continue
            # the suggested orientation, then the identity (a smooth, nearly symmetric picture
            # can look closest to its crop through a mirror by chance)
            for turn_k in dict.fromkeys((t, 0)):
                floor = opts.dense_min_ncc_turned if turn_k else opts.dense_min_ncc
                if dense_score(ta, tb, turn_k) >= floor:
                    out[k] = 1
                    if accepted is not None:
                        accepted[k] = turn_k
                    break
    return out
