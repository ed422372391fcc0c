"""The frames of each burst measured and ranked: sharpness first, badly exposed frames lose.

Each frame is decoded once at its ranking size (engine/bursts/ranking_image.py), measured
(exposure.py; the detail maps of sharpness.py) and placed on the burst's reference frame, the
middle one in time (align.py). A frame's score is its sharpness against the burst (natural-log
units) minus what its exposure costs against the burst's typical well-exposed frame; rank 1
is the highest score. Sharpness dominates: a frame must be clearly worse exposed than its siblings
to lose to a softer one (the weights in exposure.py).

What a person reads per frame: ``sharpness`` (1.0 for the sharpest frame of the burst, 0.8
for one with a fifth less fine detail for its medium detail), the three exposure numbers and
the rank.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np

from tui_dedup.engine.bursts import align
from tui_dedup.engine.bursts.exposure import Exposure, exposure, penalty
from tui_dedup.engine.bursts.ranking_image import ranking_image
from tui_dedup.engine.bursts.sharpness import detail_maps, relative_scores
from tui_dedup.engine.files.decode import DecodeLimits
from tui_dedup.engine.memory import opencv_threads
from tui_dedup.engine.model import FileEntry, ScanError

#: Frames smaller than this (px, short side) are not ranked: no detail to judge.
MIN_SIDE = 32


@dataclass(frozen=True, slots=True)
class RankedFrame:
    """One frame of a burst and its numbers (None: the frame could not be read)."""

    row: int
    sharpness: float | None = None  # 1.0: the sharpest frame of its burst
    exposure: Exposure | None = None
    score: float | None = None  # sharpness (log) − exposure penalty: what the rank sorts
    rank: int | None = None  # 1: the best frame


@dataclass(frozen=True, slots=True)
class RankedBurst:
    frames: list[RankedFrame]  # in time order

    @property
    def best(self) -> RankedFrame | None:
        return next((f for f in self.frames if f.rank == 1), None)

    def by_rank(self) -> list[RankedFrame]:
        """Best first; frames that could not be read last, in time order."""
        return sorted(self.frames, key=lambda f: (f.rank is None, f.rank or 0))


@dataclass(slots=True)
class Measured:
    """What one frame's pixels say, before the burst compares them (small: the maps are on
    the measuring grid)."""

    row: int
    exposure: Exposure
    grey: np.ndarray  # uint8, measuring grid: registration
    keypoints: align.Keypoints
    fine: np.ndarray  # fine-band energy, measuring grid
    medium: np.ndarray


def measure(row: int, entry: FileEntry, limits: DecodeLimits | None = None) -> Measured | ScanError:
    """Decode one frame at its ranking size and measure it."""
    image = ranking_image(entry, limits)
    if isinstance(image, ScanError):
        return image
    h, w = image.shape[:2]
    if min(h, w) < MIN_SIDE:
        return ScanError(entry.path, f"too small to rank as a burst frame ({w}×{h} px)")
    return measure_image(row, image)


def measure_image(row: int, image: np.ndarray) -> Measured:
    """Measure a frame already decoded at its ranking size (BGR uint8)."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    fine, medium = detail_maps(grey)
    small = align.to_stat(grey)
    return Measured(row, exposure(image), small, align.keypoints(small), fine, medium)


def reference_of(frames: Sequence[Measured]) -> int:
    """The frame the others are placed on: the middle one in time (the least shake away)."""
    return len(frames) // 2


def rank_measured(frames: Sequence[Measured]) -> list[RankedFrame]:
    """Rank the measured frames of one burst (in time order) against each other."""
    if not frames:
        return []
    ref = frames[reference_of(frames)]
    ms = [align.register(ref.grey, ref.keypoints, f.grey, f.keypoints)[0] for f in frames]
    mask = align.common_area([f.grey.shape for f in frames], ms, ref.grey.shape)
    fine = [align.warp(f.fine, m, ref.grey.shape) for f, m in zip(frames, ms, strict=True)]
    medium = [align.warp(f.medium, m, ref.grey.shape) for f, m in zip(frames, ms, strict=True)]
    sharp = relative_scores(fine, medium, mask)
    cost = penalty([f.exposure for f in frames])
    scores = [float(s) - c for s, c in zip(sharp.tolist(), cost, strict=True)]
    order = sorted(range(len(frames)), key=lambda k: -scores[k])
    rank = {k: n + 1 for n, k in enumerate(order)}
    top = float(sharp.max())
    return [
        RankedFrame(
            f.row,
            sharpness=round(math.exp(float(s) - top), 4),
            exposure=f.exposure,
            score=round(sc, 4),
            rank=rank[k],
        )
        for k, (f, s, sc) in enumerate(zip(frames, sharp.tolist(), scores, strict=True))
    ]


Progress = Callable[[int, int], None]


def rank_bursts(
    entries: Sequence[FileEntry],
    bursts: Sequence[Sequence[int]],
    limits: DecodeLimits | None = None,
    *,
    workers: int = 0,
    should_stop: Callable[[], bool] | None = None,
    on_progress: Progress | None = None,
) -> tuple[list[RankedBurst], list[ScanError]]:
    """Every burst (rows of ``entries``, in time order) ranked, and the frames that could not
    be read as error records (they stay in their burst, unranked). Bursts are measured one
    after another, the frames of each in parallel; a stop request ends between bursts, and
    the bursts not reached are left out."""
    total = sum(len(b) for b in bursts)
    done = 0
    out: list[RankedBurst] = []
    errors: list[ScanError] = []
    n = workers or max(1, 2 * (os.cpu_count() or 2))
    with (
        ThreadPoolExecutor(max_workers=n, thread_name_prefix="dedup-bursts") as pool,
        opencv_threads(1),
    ):
        for rows in bursts:
            if should_stop is not None and should_stop():
                break
            results = list(pool.map(lambda r: measure(r, entries[r], limits), rows))
            measured = [m for m in results if isinstance(m, Measured)]
            errors += [e for e in results if isinstance(e, ScanError)]
            ranked = {f.row: f for f in rank_measured(measured)}
            out.append(RankedBurst([ranked.get(r, RankedFrame(r)) for r in rows]))
            done += len(rows)
            if on_progress is not None:
                on_progress(done, total)
    return out, errors
