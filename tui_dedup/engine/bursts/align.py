"""Frames of a burst laid on one another: where each lands on a reference frame, and the area
every frame shows.

Why: a hand-held burst shakes, so frame edges differ by a few percent, and a frame that shows
more of a textured border would look sharper for it. The frames are compared on their common
area only: each is placed on the reference by keypoints (ORB + RANSAC, a rotation-and-scale
transform, as the verdicts' registration in engine/verdicts/pixels.py), else by phase
correlation (a shift only: night scenes and blurred frames have few keypoints), else left where
it is. Only masks and smooth energy maps are moved (engine/bursts/sharpness.py), never the
pixels a measure looks at: resampling a frame would blur it by a fraction of a pixel that
depends on its shift.
"""

from __future__ import annotations

import cv2
import numpy as np

from tui_dedup.engine.matching.keypoints import Keypoints, detect, similarity

#: Long side (px) of the grid on which frames are registered and measured.
STAT_SIDE = 512
REG_KEYPOINTS = 800
REG_MIN_INLIERS = 16
REG_REPROJ = 2.0  # px on the STAT_SIDE grid
#: A transform beyond these is a failed registration, not a burst's shake.
MAX_SCALE_STEP = 0.1
MAX_ANGLE = 0.1  # radians
MAX_SHIFT = 0.2  # of the long side
PHASE_MIN_RESPONSE = 0.05
#: Pixels of the common area left out along its edge (the detail filters see a step there).
EDGE = 3


def stat_size(shape: tuple[int, ...], side: int = STAT_SIDE) -> tuple[int, int]:
    """(width, height) of an image of ``shape`` on the measuring grid (never enlarged)."""
    h, w = shape[:2]
    s = min(1.0, side / max(h, w))
    return max(1, round(w * s)), max(1, round(h * s))


def to_stat(img: np.ndarray, side: int = STAT_SIDE) -> np.ndarray:
    """An image or energy map averaged down to the measuring grid."""
    size = stat_size(img.shape, side)
    if size == (img.shape[1], img.shape[0]):
        return img
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA)


def keypoints(grey: np.ndarray) -> Keypoints:
    """ORB keypoints of a uint8 grey image on the measuring grid."""
    return detect(grey, REG_KEYPOINTS)


def _plausible(m: np.ndarray, shape: tuple[int, ...]) -> bool:
    scale = float(np.hypot(m[0, 0], m[1, 0]))
    angle = abs(float(np.arctan2(m[1, 0], m[0, 0])))
    shift = float(np.hypot(m[0, 2], m[1, 2]))
    return (
        abs(scale - 1.0) <= MAX_SCALE_STEP
        and angle <= MAX_ANGLE
        and shift <= MAX_SHIFT * max(shape[:2]) * 1.5
    )


def _by_keypoints(ref: Keypoints, frame: Keypoints) -> np.ndarray | None:
    m = similarity(ref, frame, min_inliers=REG_MIN_INLIERS, reproj=REG_REPROJ)
    return None if m is None else m.astype(np.float64)


def _by_phase(ref: np.ndarray, frame: np.ndarray) -> np.ndarray | None:
    if ref.shape != frame.shape:
        return None
    a, b = ref.astype(np.float32), frame.astype(np.float32)
    window = cv2.createHanningWindow((a.shape[1], a.shape[0]), cv2.CV_32F)
    (dx, dy), response = cv2.phaseCorrelate(a, b, window)
    if response < PHASE_MIN_RESPONSE:
        return None
    # b is a moved by (dx, dy): a point of b lies at (x - dx, y - dy) on a
    return np.array([[1.0, 0.0, -dx], [0.0, 1.0, -dy]])


def register(
    ref_grey: np.ndarray, ref_kp: Keypoints, grey: np.ndarray, kp: Keypoints
) -> tuple[np.ndarray, str]:
    """The 2×3 transform taking the frame's grid to the reference's, and how it was found
    (``"keypoints"``, ``"phase"`` or ``"none"``: scaled to the reference's size only)."""
    m = _by_keypoints(ref_kp, kp)
    if m is not None and _plausible(m, ref_grey.shape):
        return m, "keypoints"
    m = _by_phase(ref_grey, grey)
    if m is not None and _plausible(m, ref_grey.shape):
        return m, "phase"
    sy = ref_grey.shape[0] / grey.shape[0]
    sx = ref_grey.shape[1] / grey.shape[1]
    return np.array([[sx, 0.0, 0.0], [0.0, sy, 0.0]]), "none"


def warp(img: np.ndarray, m: np.ndarray, ref_shape: tuple[int, ...]) -> np.ndarray:
    """A frame's map (energy, mask) laid on the reference grid; outside the frame: 0."""
    h, w = ref_shape[:2]
    return cv2.warpAffine(
        img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )


def common_area(shapes: list[tuple[int, ...]], ms: list[np.ndarray], ref_shape: tuple[int, ...]):
    """The reference-grid mask (float32 0/1) of what every frame shows, its edge left out."""
    h, w = ref_shape[:2]
    common = np.ones((h, w), np.float32)
    for shape, m in zip(shapes, ms, strict=True):
        cover = warp(np.ones(shape[:2], np.float32), m, ref_shape)
        common = np.minimum(common, (cover > 0.999).astype(np.float32))
    common[:EDGE, :] = common[-EDGE:, :] = 0
    common[:, :EDGE] = common[:, -EDGE:] = 0
    kernel = np.ones((2 * EDGE + 1, 2 * EDGE + 1), np.uint8)
    return cv2.erode(common, kernel)
