"""How well a frame is exposed: clipped highlights, crushed shadows, the mean level.

Three numbers a person can read:

- ``clipped``: the share of the frame whose brightest channel is at the top of the range
  (:data:`CLIP_LEVEL`: detail there is gone);
- ``crushed``: the share whose grey level is at the bottom (:data:`CRUSH_LEVEL`: black);
- ``level``: the mean level's distance from mid-grey, in stops (EV): the mean linear luminance
  (sRGB decoded) against 18 % grey, so +1 is one stop brighter than mid-grey. Stops, because
  that is how an exposure error is counted, and because a dark scene's frames differ little
  in 8-bit levels and a lot in light (a night frame one stop under moves its mean from 23 to
  14 of 255).

The shares are counted on medians of 3×3 samples of the frame spread over the measuring grid
(engine/bursts/align.py, long side 512), never on single pixels or on averages: noise lifts
single pixels of a white page over the clipping level, which is no lost highlight; and in a
dark area the noise of a frame shot at a higher ISO, cut off at black, lifts an average (and
the brightest of three noisy channels) above the crushing level, so a noisier frame would
count fewer crushed shadows than a clean one. A median of a clipped or crushed area stays at
the end of the range whatever the noise; shadows are judged on the grey level, highlights on
the brightest channel (one saturated channel is a lost highlight).

A frame is judged against its burst, never alone: a night scene is dark in every frame and a
snow field bright, and only a frame exposed worse than its siblings loses (:func:`penalty`),
by more than auto-exposure's jitter between frames (the ``TOLERANCE``s).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from tui_dedup.engine.bursts.align import stat_size, to_stat

CLIP_LEVEL = 253
CRUSH_LEVEL = 2
MID_GREY = 0.18  # linear luminance of middle grey
_DARKEST = 2.0**-12  # a black frame's mean, for the logarithm
#: sRGB-encoded 8-bit value → linear light.
_LINEAR = np.array(
    [v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4 for v in np.arange(256) / 255],
    np.float32,
)
_LUMA = np.array([0.0722, 0.7152, 0.2126], np.float32)  # B, G, R (Rec. 709)
#: How much each kind of fault costs, in the sharpness score's units (its natural log): 10 %
#: more of the frame clipped than the burst's typical frame costs 0.1 × W_CLIPPED; a frame one
#: stop from its siblings costs (1 − LEVEL_TOLERANCE) × W_LEVEL. Chosen on the tune half of
#: benchmarks/bench_bursts.py: a frame 1.5–2 stops off, or with a third of it clipped, loses
#: to a well-exposed one a σ 0.7 px blur step softer (about 0.3 of sharpness); a frame a third
#: of a stop off pays nothing, and one half a stop off pays less than a blur step costs.
W_CLIPPED = 6.0
W_CRUSHED = 3.0
W_LEVEL = 0.4
#: Differences below these are auto-exposure's jitter between frames, not a fault. Clipped:
#: on the tune half, frames exposed like their siblings (±5 %) clipped up to 3.3 % more of
#: the frame than the burst's typical frame (highlights near the top: a frame 2 % brighter
#: clips them), frames over-exposed in a bright scene 56 % and more. Crushed: a clean frame's
#: black areas are black, a noisy frame's are noise cut off at black, a little above it even
#: as a median, so the frames of one night burst differ by a few percent for their noise
#: alone; an under-exposed frame pays for its level anyway.
CLIPPED_TOLERANCE = 0.05
CRUSHED_TOLERANCE = 0.05
LEVEL_TOLERANCE = 1 / 3  # EV


@dataclass(frozen=True, slots=True)
class Exposure:
    clipped: float  # share of the frame whose brightest channel is ≥ CLIP_LEVEL
    crushed: float  # share of the frame whose grey level is ≤ CRUSH_LEVEL
    level: float  # the mean luminance against mid-grey, in stops (EV)


def exposure(image: np.ndarray) -> Exposure:
    """The exposure numbers of a BGR (or grey) uint8 image."""
    spread = cv2.resize(image, stat_size(image.shape), interpolation=cv2.INTER_NEAREST)
    samples = cv2.medianBlur(spread, 3)
    top = samples.max(axis=2) if samples.ndim == 3 else samples
    grey = cv2.cvtColor(spread, cv2.COLOR_BGR2GRAY) if spread.ndim == 3 else spread
    bottom = cv2.medianBlur(grey, 3)
    n = max(int(top.size), 1)
    image = to_stat(image)
    linear = _LINEAR[image]
    luma = linear @ _LUMA if image.ndim == 3 else linear
    mean = max(float(luma.mean()), _DARKEST)
    return Exposure(
        clipped=float(np.count_nonzero(top >= CLIP_LEVEL)) / n,
        crushed=float(np.count_nonzero(bottom <= CRUSH_LEVEL)) / n,
        level=math.log2(mean / MID_GREY),
    )


def _better_half(values: list[float]) -> float:
    """The lower median: the typical frame of the better half (of two frames, the better)."""
    return sorted(values)[(len(values) - 1) // 2]


def penalty(frames: list[Exposure]) -> list[float]:
    """Per frame, what its exposure costs against its burst, beyond the jitter.

    - clipped and crushed: how much more of the frame than in the burst's typical frame of
      its better half (:func:`_better_half`). Why not against the best frame: one frame
      brighter than the rest in a night scene has fewer crushed shadows, and every other frame
      would pay for it.
    - the level: the stops between the frame and the burst's median level, in either
      direction. What exposure a scene wants is what most of its frames have (a white page
      sits two stops above mid-grey, a night street three below, both rightly); a frame a
      stop and a half from its siblings has a fault (a light that caught the meter, a flash
      that did not fire), on whichever side of mid-grey it lands. Of two frames neither is
      the majority: both pay half, and sharpness decides.
    """
    if not frames:
        return []
    clip0 = _better_half([e.clipped for e in frames])
    crush0 = _better_half([e.crushed for e in frames])
    typical = float(np.median([e.level for e in frames]))
    return [
        W_CLIPPED * max(0.0, e.clipped - clip0 - CLIPPED_TOLERANCE)
        + W_CRUSHED * max(0.0, e.crushed - crush0 - CRUSHED_TOLERANCE)
        + W_LEVEL * max(0.0, abs(e.level - typical) - LEVEL_TOLERANCE)
        for e in frames
    ]
