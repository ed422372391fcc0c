"""Verdicts in words and in fields: one source for the JSON, the table and the details dialog.

Why here: a person must be able to see why a pair is called what it is ("re-encoded: 256-bit
hash 4 bits apart, half the pixels"), and the JSON must carry the same evidence for scripts.
Both read :data:`FIELDS`, so they cannot disagree.
"""

from __future__ import annotations

import math

import numpy as np

from tui_dedup.engine.model import TRANSFORMS
from tui_dedup.engine.verdicts.evidence import where
from tui_dedup.engine.verdicts.kinds import WORDS, Kind

#: JSON evidence fields: (name, evidence column, decimals); NaN / -1 are written as null.
FIELDS: tuple[tuple[str, str, int], ...] = (
    ("hash256_bits", "pdq", 0),
    ("colour_change", "chroma", 1),
    ("information", "info", 1),
    ("detail_match", "fine", 3),
    ("layout_match", "coarse", 3),
    ("pixel_ratio", "scale", 3),
    ("kept", "kept", 3),
)
CAPTURE_WORDS = {1: "same shot", -1: "different shots", 0: None}


def field_value(column: str, value: float, decimals: int) -> float | int | None:
    """A JSON value: rounded, or None when not measured."""
    if column == "pdq":
        return None if value < 0 else int(value)
    if math.isnan(value):
        return None
    return round(float(value), decimals)


def evidence_dict(row: np.void) -> dict[str, object]:
    """The JSON ``evidence`` object of one pair."""
    out: dict[str, object] = {
        name: field_value(col, float(row[col]), dec) for name, col, dec in FIELDS
    }
    cells = int(row["cells"])
    out["changed_at"] = where(cells) if cells else None
    out["capture"] = CAPTURE_WORDS.get(int(row["capture"]))
    return out


def describe(kind: int, row: np.void, transform: int = 0) -> str:
    """One line: the kind and the evidence that decided it."""
    k = Kind(kind)
    word = WORDS[k]
    bits: list[str] = []
    if k is Kind.EXACT:
        return "exact: the same bytes"
    capture = int(row["capture"])
    if capture < 0:
        bits.append("EXIF: taken moments apart (another shot)")
    elif capture > 0:
        bits.append("EXIF: the same shot")
    if k in (Kind.ROTATED, Kind.MIRRORED) and TRANSFORMS[transform]:
        bits.append(f"as {TRANSFORMS[transform]}")
    if k is Kind.EDITED and int(row["cells"]):
        bits.append(f"changed at {where(int(row['cells']))}")
    kept = float(row["kept"])
    if k is Kind.CROPPED and not math.isnan(kept):
        bits.append(f"keeps {kept:.0%}")
    pdq = int(row["pdq"])
    if pdq >= 0:
        bits.append(f"256-bit hash {pdq} bits apart")
    fine = float(row["fine"])
    if not math.isnan(fine):
        bits.append(f"detail match {fine:.2f}")
    chroma = float(row["chroma"])
    if k is Kind.DIFFERENT and not math.isnan(chroma) and chroma > 10:
        bits.append("other colours")
    scale = float(row["scale"])
    if not math.isnan(scale) and abs(scale - 1) > 0.01:
        bits.append(f"{scale:.0%} of the pixels")
    return f"{word}: " + ", ".join(bits) if bits else word
