"""A frame decoded for ranking: never below a quarter of its resolution.

Why a quarter at most: focus and shake show in the finest detail, and each halving of the
decode halves the blur a measure can still see (a σ 0.7 px blur on a 24 MP frame is σ 0.18 px
at a quarter). Why reduce at all: a 24 MP JPEG decodes at 1/4 in a fraction of the time and
memory (libjpeg scales in its DCT stage), and at 1,500 px on the long side the difference
between a sharp frame and a soft one is what a person sees on a screen. So the decode is
reduced only while the long side stays at :data:`RANK_LONG_SIDE` or more, by 2 or 4, never 8.
Through engine/files/decode.py's one entry point, as every other decode (a RAW through its
embedded preview, upright); formats the decoder cannot reduce (PNG, HEIC, …) are brought to
the same size afterwards.
"""

from __future__ import annotations

import cv2
import numpy as np

from tui_dedup.engine.files.decode import DecodeLimits, decode_entry
from tui_dedup.engine.model import FileEntry, ScanError

#: The long side a reduced decode keeps at least (px).
RANK_LONG_SIDE = 1024
#: The reductions allowed: 1, 2 or 4 (≥ 1/4 of the linear resolution).
REDUCTIONS = (4, 2)


def rank_reduction(width: int, height: int) -> int:
    """The DCT-scale denominator for a ``width`` × ``height`` frame: 4, 2 or 1."""
    long = max(width, height)
    for r in REDUCTIONS:
        if long // r >= RANK_LONG_SIDE:
            return r
    return 1


def ranking_image(entry: FileEntry, limits: DecodeLimits | None = None) -> np.ndarray | ScanError:
    """The frame as BGR uint8 at its ranking size (see the module docstring), upright."""
    result = decode_entry(entry, limits or DecodeLimits(), reduction=rank_reduction, shrink=False)
    if isinstance(result, ScanError):
        return result
    image, meta = result
    h, w = image.shape[:2]
    r = rank_reduction(meta.width, meta.height)
    want = max(meta.width, meta.height) / r
    if r > 1 and max(w, h) > want * 1.01:
        s = want / max(w, h)
        size = (max(1, round(w * s)), max(1, round(h * s)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(image)
