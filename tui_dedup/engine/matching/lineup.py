"""Two pictures of a pair lined up for a person's eyes: B on A's frame, and where they differ.

Why: two thumbnails side by side hide small differences (a caption, a cloned-out sign, a
different frame of a burst); flipping between two pictures shown *in one place, at one scale*
shows them at once, and a difference picture says where to look. Both need B turned by the
pair's transform (``Pairs.transform``: variant ``k`` of B matches A, as the matcher found) and
laid on A's pixels:

* same aspect ratio (a re-encode, a resize, a rotation once turned back): B is resized to A;
* otherwise (a crop, a shifted frame): B is placed by keypoints, the same registration the
  verdict stage uses (:func:`engine.verdicts.pixels.register`'s ORB + RANSAC, rotation-free),
  and what B does not cover is left out of the difference and shown as "only in A".

The difference is measured after a light blur (recompression and resampling noise are not
differences a person cares about) as the largest channel difference, and drawn over a dimmed
grey A: red where the pictures disagree (brighter = more), blue where B has no pixels.
Headless and deterministic; the review's compare view renders what this returns.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from tui_dedup.engine.files import thumbs
from tui_dedup.engine.matching import keypoints
from tui_dedup.engine.matching.compare import apply_transform
from tui_dedup.engine.model import ScanError

#: Aspect ratios within this (log ratio) are lined up by a resize alone.
SAME_ASPECT = 0.02
#: Grey-level difference (0..255, after the blur) below which two pixels count as the same.
VISIBLE = 28.0
BLUR_SIGMA = 1.0
#: A resize that leaves more than this share disagreeing is tried again by keypoints.
TRY_PLACING = 0.1
#: Keypoint placement, as the verdict stage's registration (at the thumbnail's scale).
_KEYPOINTS = 1000
_MIN_INLIERS = 12
_REPROJ = 3.0
_SCALE = (0.25, 4.0)
_MAX_ANGLE = 0.05  # radians: the pair's transform already turned B; a copy is not tilted


@dataclass(frozen=True, slots=True)
class LinedUp:
    """A, B on A's frame, and their difference; all BGR uint8 of A's shape."""

    a: np.ndarray
    b: np.ndarray  # B turned back, scaled (and placed) onto A; uncovered pixels grey
    difference: np.ndarray  # red where they differ, blue where B has no pixels, over dim A
    covered: float  # share of A's frame that B covers (1.0 unless placed by keypoints)
    changed: float  # share of the covered area that differs visibly
    placed: bool  # True: B was placed by keypoints (a crop or shifted frame)
    aligned: bool  # False: B could not be laid on A (the difference is not meaningful)


def _placement(a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """An affine (rotation-free similarity) taking B's pixels onto A's, or None."""
    m = keypoints.similarity(
        keypoints.detect(cv2.cvtColor(a, cv2.COLOR_BGR2GRAY), _KEYPOINTS),
        keypoints.detect(cv2.cvtColor(b, cv2.COLOR_BGR2GRAY), _KEYPOINTS),
        min_inliers=_MIN_INLIERS,
        reproj=_REPROJ,
    )
    if m is None:
        return None
    scale = float(np.hypot(m[0, 0], m[1, 0]))
    if not _SCALE[0] <= scale <= _SCALE[1] or abs(m[1, 0]) / scale > _MAX_ANGLE or m[0, 0] <= 0:
        return None
    return np.asarray(m, np.float32)


def _as_bgr(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR) if img.ndim == 2 else img


def line_up(a: np.ndarray, b: np.ndarray, transform: int = 0) -> LinedUp:
    """B turned back by ``transform`` and laid on A (see the module doc), with the difference.

    Same aspect ratio: B is resized onto A, and placed by keypoints only if that leaves more
    than :data:`TRY_PLACING` of the picture disagreeing (a crop that kept the aspect ratio).
    """
    a = np.ascontiguousarray(_as_bgr(a))
    b = apply_transform(_as_bgr(b), transform)
    h, w = a.shape[:2]
    same_shape = abs(np.log((w / h) / (b.shape[1] / b.shape[0]))) <= SAME_ASPECT
    best: LinedUp | None = None
    if same_shape:
        interp = cv2.INTER_AREA if b.shape[0] * b.shape[1] >= h * w else cv2.INTER_LINEAR
        best = _lined(a, cv2.resize(b, (w, h), interpolation=interp), np.ones((h, w), bool))
        if best.changed <= TRY_PLACING:
            return best
    m = _placement(a, b)
    if m is not None:
        on_a = cv2.warpAffine(b, m, (w, h), flags=cv2.INTER_AREA, borderValue=(128, 128, 128))
        ones = np.full(b.shape[:2], 255, np.uint8)
        cover = cv2.warpAffine(ones, m, (w, h), flags=cv2.INTER_NEAREST) > 127
        placed = _lined(a, on_a, cover, placed=True)
        if best is None or placed.changed < best.changed:
            return placed
    if best is not None:
        return best
    squeezed = cv2.resize(b, (w, h), interpolation=cv2.INTER_AREA)
    return _lined(a, squeezed, np.ones((h, w), bool), aligned=False)


def _lined(
    a: np.ndarray, on_a: np.ndarray, cover: np.ndarray, placed: bool = False, aligned: bool = True
) -> LinedUp:
    h, w = a.shape[:2]
    diff = np.zeros((h, w), np.float32)
    if cover.any():
        fa = cv2.GaussianBlur(a.astype(np.float32), (0, 0), BLUR_SIGMA)
        fb = cv2.GaussianBlur(on_a.astype(np.float32), (0, 0), BLUR_SIGMA)
        diff = np.abs(fa - fb).max(axis=2)
        diff[~cover] = 0.0
    seen = diff >= VISIBLE
    return LinedUp(
        a=a,
        b=np.ascontiguousarray(on_a),
        difference=difference_picture(a, diff, cover),
        covered=float(cover.mean()),
        changed=float(seen[cover].mean()) if cover.any() else 0.0,
        placed=placed,
        aligned=aligned,
    )


def difference_picture(a: np.ndarray, diff: np.ndarray, cover: np.ndarray) -> np.ndarray:
    """Dim grey A; red where ``diff`` is visible (brighter = larger), blue outside ``cover``."""
    grey = cv2.cvtColor(a, cv2.COLOR_BGR2GRAY).astype(np.float32) * 0.35
    out = np.repeat(grey[:, :, None], 3, axis=2)
    strength = np.clip((diff - VISIBLE * 0.5) / (255.0 - VISIBLE * 0.5), 0.0, 1.0)
    strength = np.where(diff >= VISIBLE, np.maximum(strength, 0.45), strength * 0.5)
    red = out[:, :, 2]
    out[:, :, 2] = red + (255.0 - red) * strength
    out[:, :, 0] *= 1.0 - strength
    out[:, :, 1] *= 1.0 - strength
    outside = ~cover
    out[outside] = out[outside] * 0.5 + np.array([140.0, 60.0, 20.0]) * 0.5
    return np.clip(out, 0, 255).astype(np.uint8)


def load_lined_up(path_a: str, path_b: str, side: int, transform: int = 0) -> LinedUp | ScanError:
    """Both files decoded at long side ``side`` (the preview's cached thumbnails), lined up."""
    a = thumbs.load_thumbnail(path_a, side)
    if isinstance(a, ScanError):
        return a
    b = thumbs.load_thumbnail(path_b, side)
    if isinstance(b, ScanError):
        return b
    return line_up(a, b, transform)
