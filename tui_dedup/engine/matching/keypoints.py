"""ORB keypoints, and the similarity transform (uniform scale, shift, a turn) that lays one
picture's keypoints on another's.

Why one module: three stages place a picture on another by keypoints — the verdicts' crop
check (:func:`engine.verdicts.pixels.register`), the compare view's line-up
(:mod:`engine.matching.lineup`) and bursts (:mod:`engine.bursts.align`) — and each had its own
copy of the detector, the ratio test and RANSAC. Each still judges the transform it gets
(scale range, how far it may turn) by its own rules; this only finds it.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np

#: Lowe's ratio test: a match counts when it is clearly better than the second best.
RATIO = 0.8

_DETECTORS = threading.local()  # an ORB detector per thread and keypoint budget

Keypoints = tuple[np.ndarray, np.ndarray | None]  # (N×2 float32 positions, descriptors)


def orb(nfeatures: int) -> cv2.ORB:
    """This thread's ORB detector for ``nfeatures`` keypoints (detectors are not shared
    between threads)."""
    by_n: dict[int, cv2.ORB] | None = getattr(_DETECTORS, "by_n", None)
    if by_n is None:
        by_n = _DETECTORS.by_n = {}
    det = by_n.get(nfeatures)
    if det is None:
        det = by_n[nfeatures] = cv2.ORB.create(nfeatures=nfeatures, fastThreshold=8)
    return det


def detect(grey: np.ndarray, nfeatures: int) -> Keypoints:
    """ORB keypoints of a uint8 grey image: positions and descriptors."""
    kps, desc = orb(nfeatures).detectAndCompute(grey, None)
    return np.array([k.pt for k in kps], np.float32).reshape(-1, 2), desc


def similarity(
    onto: Keypoints,
    moved: Keypoints,
    *,
    min_inliers: int,
    reproj: float,
    max_iters: int = 2000,
) -> np.ndarray | None:
    """The 2×3 affine (rotation, uniform scale, shift) taking ``moved``'s points onto
    ``onto``'s: ratio-tested matches, then RANSAC; None with fewer than ``min_inliers``
    keypoints, matches or inliers."""
    (pa, da), (pb, db) = onto, moved
    if da is None or db is None or len(pa) < min_inliers or len(pb) < min_inliers:
        return None
    knn = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(db, da, k=2)
    good = [m[0] for m in knn if len(m) == 2 and m[0].distance < RATIO * m[1].distance]
    if len(good) < min_inliers:
        return None
    src = pb[[m.queryIdx for m in good]]
    dst = pa[[m.trainIdx for m in good]]
    m, inliers = cv2.estimateAffinePartial2D(
        src, dst, method=cv2.RANSAC, ransacReprojThreshold=reproj, maxIters=max_iters
    )
    if m is None or inliers is None or int(inliers.sum()) < min_inliers:
        return None
    return m
