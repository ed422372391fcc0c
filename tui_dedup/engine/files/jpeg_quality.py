"""How hard a JPEG was compressed, read from its quantisation tables (a keeper tie-break).

Apart from the EXIF reader because it reads no EXIF: the decoder hands it Pillow's
``im.quantization`` while the header is open, and the ``jpeg-quality`` keeper rule prefers
the copy with the higher estimate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

#: The IJG (libjpeg) standard tables, natural (row-major) order, as Pillow's
#: ``im.quantization`` gives them.
IJG_LUMA = (
    *(16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55),
    *(14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62),
    *(18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92),
    *(49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99),
)
IJG_CHROMA = (
    *(17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99),
    *(24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99),
    *(99,) * 32,
)


def ijg_table(base: Sequence[int], quality: int) -> np.ndarray:
    """libjpeg's ``jpeg_quality_scaling`` applied to ``base`` (baseline: clamped to 1..255)."""
    q = min(max(int(quality), 1), 100)
    scale = 5000 // q if q < 50 else 200 - 2 * q
    return np.clip((np.asarray(base, np.int64) * scale + 50) // 100, 1, 255)


_FITS: np.ndarray | None = None  # (100, 2, 64) log of the scaled tables for q = 1..100


def _fits() -> np.ndarray:
    global _FITS
    if _FITS is None:
        _FITS = np.log(
            np.array(
                [[ijg_table(IJG_LUMA, q), ijg_table(IJG_CHROMA, q)] for q in range(1, 101)],
                np.float64,
            )
        )
    return _FITS


def estimate_jpeg_quality(tables: Mapping[int, Sequence[int]] | None) -> int | None:
    """The IJG quality whose scaled standard tables are closest to ``tables`` (Pillow's
    ``im.quantization``: table id → 64 values, natural order); None without a usable table.

    Why a fit and not a lookup: libjpeg, Pillow, OpenCV and most phones scale the standard
    tables, so the right quality fits exactly; cameras and editors use their own tables, and
    the closest scaled standard table (in log ratio, over the luma and the first chroma table)
    still ranks them on the same scale, which is all a tie-break between two copies needs.
    """
    if not tables:
        return None
    try:
        luma = np.asarray(tables.get(0, next(iter(tables.values()))), np.float64)
        chroma = np.asarray(tables[1], np.float64) if 1 in tables else None
    except (TypeError, ValueError):
        return None
    if luma.shape != (64,) or (chroma is not None and chroma.shape != (64,)):
        return None
    if luma.min() < 1 or (chroma is not None and chroma.min() < 1):
        return None
    fits = _fits()
    err = np.abs(fits[:, 0, :] - np.log(luma)).sum(axis=1)
    if chroma is not None:
        err += np.abs(fits[:, 1, :] - np.log(chroma)).sum(axis=1)
    return int(np.argmin(err)) + 1
