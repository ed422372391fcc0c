"""How sharp a frame is next to the other frames of its burst, in a way noise cannot fool.

The measure: the energy of fine detail over the energy of medium detail, after a light
denoise, compared tile by tile on the area every frame shows.

- **Denoise**: a 3×3 median. Sensor noise is fine detail too, and a plain Laplacian variance
  (the common measure) rewards it: a blurred frame shot at a higher ISO scores as sharper. A
  median removes single-pixel noise and keeps edges where they are.
- **Fine over medium**: the band of a difference of Gaussians at σ 1–2 px over the band at
  σ 2–4 px. Blur takes the fine band first and the medium band later, so the ratio falls
  with blur; it does not depend on the scene's contrast or on the frame's exposure (a
  brighter frame has more of both), which a gradient energy does.
- **Tiles**: an 8×8 grid over the common area (engine/bursts/align.py). Only tiles with detail
  in every frame are judged (the :data:`TEXTURED` share with the most medium-band energy):
  a flat sky says nothing about focus but its noise. Each frame's ratio in a tile is compared
  with the other frames' ratios *in the same tile*, and a frame's score is the median of its
  tiles: a subject that moves across a few tiles does not decide.

Chosen on the tune half of benchmarks/bench_bursts.py, each candidate through the same
registration and tiles (figures in benchmarks/results/bursts.md): Laplacian energy put the
sharpest frame first in 54 % of bursts, Tenengrad after a 3×3 median in 78 %, gradient energy
after a Gaussian σ 1 in 80 %, the band ratios in 96 %; among those, this one orders the most
pairs of frames rightly (98.1 %, against 97.1 % without the median and 93.9 % at σ 0.7–2.8).
The registration changes little here (98.3 % unregistered: the shake is a few pixels and the
ratio is a local statistic); it keeps a frame that shows more of a textured border from
gaining by it.
"""

from __future__ import annotations

import cv2
import numpy as np

from tui_dedup.engine.bursts.align import to_stat

FINE = (1.0, 2.0)  # σ px of the ranking image: the fine band ...
MEDIUM = (2.0, 4.0)  # ... and the medium band it is measured against
GRID = 8
#: Share of the usable tiles judged: those with the most medium-band detail in every frame.
TEXTURED = 0.4
MIN_TILE_COVER = 0.6  # a tile is usable when the common area covers this share of it
_TINY = 1e-6


def _band(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return cv2.GaussianBlur(x, (0, 0), lo) - cv2.GaussianBlur(x, (0, 0), hi)


def denoised(grey: np.ndarray) -> np.ndarray:
    """The light denoise every measure here starts from (uint8 in, float32 out)."""
    return cv2.medianBlur(grey, 3).astype(np.float32)


def detail_maps(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(fine, medium) band energy of a uint8 grey frame, averaged down to the measuring grid
    (engine/bursts/align.py) so a burst's maps stay small."""
    x = denoised(grey)
    fine = _band(x, *FINE)
    medium = _band(x, *MEDIUM)
    return to_stat(fine * fine), to_stat(medium * medium)


def _tile_means(maps: np.ndarray, mask: np.ndarray, g: int = GRID) -> tuple[np.ndarray, np.ndarray]:
    """Per map and tile: the mean over the mask; and per tile the mask's cover."""
    n, h, w = maps.shape
    th, tw = h // g, w // g
    m = mask[: th * g, : tw * g].reshape(g, th, g, tw)
    cover = m.sum(axis=(1, 3))
    x = (maps[:, : th * g, : tw * g] * mask[None, : th * g, : tw * g]).reshape(n, g, th, g, tw)
    sums = x.sum(axis=(2, 4))
    means = sums / np.maximum(cover, 1.0)[None]
    return means.reshape(n, -1), (cover / max(th * tw, 1)).ravel()


def relative_scores(
    fine: list[np.ndarray], medium: list[np.ndarray], mask: np.ndarray
) -> np.ndarray:
    """Each frame's sharpness against its burst, in natural-log units (0: the burst's median
    frame; +0.1: about 10 % more fine detail per unit of medium detail). The maps are on the
    reference grid; ``mask`` is the common area."""
    f = np.stack(fine).astype(np.float64)
    m = np.stack(medium).astype(np.float64)
    if float(mask.sum()) < 1:
        mask = np.ones(mask.shape, np.float32)
    g = GRID if min(mask.shape) >= 2 * GRID else 1
    tf, cover = _tile_means(f, mask, g)
    tm, _ = _tile_means(m, mask, g)
    usable = cover >= MIN_TILE_COVER
    if not usable.any():
        usable = cover > 0
    texture = np.log(tm[:, usable] + _TINY).min(axis=0)
    keep = max(1, round(TEXTURED * texture.size))
    judged = np.flatnonzero(usable)[np.argsort(-texture)[:keep]]
    ratio = np.log(tf[:, judged] + _TINY) - np.log(tm[:, judged] + _TINY)
    rel = ratio - np.median(ratio, axis=0, keepdims=True)
    out = np.median(rel, axis=1)
    return np.where(np.isfinite(out), out, 0.0)


def laplacian_variance(grey: np.ndarray) -> float:
    """The plain measure (variance of the Laplacian): the benchmark's peer, fooled by noise."""
    return float(cv2.Laplacian(grey.astype(np.float32), cv2.CV_32F).var())
