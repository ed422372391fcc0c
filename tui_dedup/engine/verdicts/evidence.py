"""The evidence row each verdict carries: what was measured, so a person can see why.

One structured numpy row per pair (``Pairs.evidence``), so the table, the JSON writer and the
details dialog read the same numbers. NaN (or -1) means "not measured": a pair settled by the
cheap evidence never needed the pixel check.
"""

from __future__ import annotations

import numpy as np

EVIDENCE = np.dtype(
    [
        ("pdq", "<i2"),  # 256-bit hash distance under the pair's transform (-1: not measured)
        ("chroma", "<f4"),  # largest colour-layout difference of a cell, in CIELAB a*b* units
        ("info", "<f4"),  # the lower of the two pictures' information scores
        ("fine", "<f4"),  # aligned fine-detail correlation at the working size (NaN: not run)
        ("coarse", "<f4"),  # aligned correlation of the two pictures' coarse layout
        ("cells", "<u2"),  # 4×4 bit mask of the cells that disagree (bit 0: top-left)
        ("scale", "<f4"),  # pixel count of b / pixel count of a
        ("kept", "<f4"),  # cropped: share of the larger picture the smaller one keeps
        ("capture", "i1"),  # EXIF: 1 same shot, -1 different shots, 0 no evidence
    ]
)
CELL_GRID = 4
_CELL_WORDS = {
    0: "top-left",
    1: "top",
    2: "top",
    3: "top-right",
    4: "left",
    5: "middle",
    6: "middle",
    7: "right",
    8: "left",
    9: "middle",
    10: "middle",
    11: "right",
    12: "bottom-left",
    13: "bottom",
    14: "bottom",
    15: "bottom-right",
}


def blank(n: int) -> np.ndarray:
    """``n`` rows of "nothing measured"."""
    out = np.zeros(n, EVIDENCE)
    out["pdq"] = -1
    for f in ("chroma", "info", "fine", "coarse", "scale", "kept"):
        out[f] = np.nan
    return out


def where(cells: int) -> str:
    """Words for the disagreeing cells of an edit ("bottom-left", "top, right")."""
    names = [_CELL_WORDS[c] for c in range(CELL_GRID * CELL_GRID) if cells >> c & 1]
    return ", ".join(dict.fromkeys(names)) or "somewhere small"
