"""The pixel check: two pictures compared, aligned, at a size where text and stars are visible.

Why: the hashes see a 64×64 (or 32×32) grey image. Two bank statements with one layout and
different numbers, or two star fields with a bright galaxy in the middle, are the same picture
at that size. At the working size (long side :data:`WORK_SIDE`) the digits and the stars are
there. Each file is decoded once at that size (a reduced JPEG decode where possible: about as
cheap as the scan's own), however many pairs it is in.

The comparison, with b turned by the pair's transform and both resized to their common size:

- ``fine``: correlation of band-passed detail (difference of Gaussians at 1 and 4 px of the
  common size): copies keep their detail in place; a burst frame, a stereo half or another
  statement moves or changes it. Gain and offset do not count (a brightened copy is a copy).
- ``coarse``: correlation of the two at 32 px: the same scene (a similar shot) keeps its layout.
- ``cells``: the fine correlation per cell of a 4×4 grid, to tell an edit in one place (a
  caption) from a change everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from tui_dedup.engine.features.hashes import to_gray
from tui_dedup.engine.files.decode import DecodeLimits, decode_entry
from tui_dedup.engine.files.thumbs import fit_long_side
from tui_dedup.engine.matching import keypoints
from tui_dedup.engine.model import FileEntry
from tui_dedup.engine.verdicts.evidence import CELL_GRID

WORK_SIDE = 512  # long side of the working image
WORK_MIN_SHORT = 256  # a reduced JPEG decode keeps at least this short side
COARSE_SIDE = 32
#: Pictures whose aspect ratios differ by more than this are not compared pixel by pixel
#: (a crop, or two different pictures): the crop check decides.
ASPECT_TOLERANCE = 0.04


@dataclass(frozen=True, slots=True)
class Aligned:
    fine: float
    coarse: float
    cell_fine: np.ndarray  # (CELL_GRID²,) float32
    cell_energy: np.ndarray  # (CELL_GRID²,) share of the detail energy in each cell
    kept: float = 1.0  # registered: share of the larger picture the smaller one covers
    registered: bool = False
    #: Registered: does one picture lie wholly inside the other (a crop), rather than both
    #: reaching past each other's edges (a shifted frame: a burst, a stereo half)?
    contained: bool = True
    fine_min8: float = 1.0  # the lowest fine correlation of the cells of an 8×8 grid with detail
    #: The layout correlation per cell of the CELL_GRID² grid left out in turn is not kept;
    #: instead the two coarse images, so a verdict can judge the layout outside an edit.
    coarse_a: np.ndarray | None = None
    coarse_b: np.ndarray | None = None
    #: The worst local disagreement: in windows of LOCAL_WINDOW px holding detail, the energy of
    #: the difference over the energy of the detail (0: the same; ~1: unrelated strokes).
    local_worst: float = 0.0


def working_image(entry: FileEntry, limits: DecodeLimits | None = None) -> np.ndarray | None:
    """The file's grey picture at long side ≤ WORK_SIDE (uint8), or None when unreadable.

    The preview's thumbnails (engine/files/thumbs.py) keep the *long* side at their size; this
    keeps the *short* side ≥ WORK_MIN_SHORT, which lets a 12 MP JPEG decode at 1/8 (as cheap as
    the scan's own decode) while digits and stars stay visible."""

    def reduction(width: int, height: int) -> int:
        short = min(width, height)
        for r in (8, 4, 2):
            if short // r >= WORK_MIN_SHORT:
                return r
        return 1

    # decode_entry: the one decoder (a RAW's embedded preview, as the scan and the preview use)
    result = decode_entry(entry, limits or DecodeLimits(), reduction=reduction, shrink=False)
    if not isinstance(result, tuple):
        return None
    return np.ascontiguousarray(fit_long_side(to_gray(result[0]), WORK_SIDE))


def same_aspect(a: np.ndarray, b: np.ndarray) -> bool:
    ra = a.shape[1] / a.shape[0]
    rb = b.shape[1] / b.shape[0]
    return abs(np.log(ra / rb)) <= ASPECT_TOLERANCE


def _ncc(x: np.ndarray, y: np.ndarray) -> float:
    x = x - x.mean()
    y = y - y.mean()
    den = float(np.sqrt((x * x).sum() * (y * y).sum()))
    return float((x * y).sum() / den) if den > 1e-6 else 0.0


def _dog(x: np.ndarray, fine: float = 1.0, coarse: float = 4.0) -> np.ndarray:
    return cv2.GaussianBlur(x, (0, 0), fine) - cv2.GaussianBlur(x, (0, 0), coarse)


#: The detail band a registered pair is compared in: a warp resamples one picture, which blurs
#: the finest band (crops of one photo fell to 0.56–0.89 at σ 1–4, 0.9+ at σ 2–6).
REG_BAND = (2.0, 6.0)


def _cells(
    da: np.ndarray, db: np.ndarray, mask: np.ndarray | None, g: int = CELL_GRID
) -> tuple[float, np.ndarray, np.ndarray]:
    """Correlation of the two detail maps overall and per cell of the CELL_GRID² grid, and each
    cell's share of the detail energy (vectorised: the maps are trimmed to a multiple of the
    grid, at most CELL_GRID - 1 pixels)."""
    if mask is not None:
        da, db = da * mask, db * mask
    h, w = (da.shape[0] // g) * g, (da.shape[1] // g) * g
    xa = da[:h, :w].reshape(g, h // g, g, w // g).transpose(0, 2, 1, 3).reshape(g * g, -1)
    xb = db[:h, :w].reshape(g, h // g, g, w // g).transpose(0, 2, 1, 3).reshape(g * g, -1)
    xa = xa - xa.mean(axis=1, keepdims=True)
    xb = xb - xb.mean(axis=1, keepdims=True)
    saa = (xa * xa).sum(axis=1)
    sbb = (xb * xb).sum(axis=1)
    sab = (xa * xb).sum(axis=1)
    den = np.sqrt(saa * sbb)
    cells = np.where(den > 1e-6, sab / np.maximum(den, 1e-12), 0.0).astype(np.float32)
    energy = ((saa + sbb) / max(float((saa + sbb).sum()), 1e-12)).astype(np.float32)
    return _ncc(da, db), cells, energy


#: A cell of the 8×8 grid is judged when it holds at least this share of the detail energy.
FINE_CELL_ENERGY = 1.0 / 256


def _min8(da: np.ndarray, db: np.ndarray, mask: np.ndarray | None) -> float:
    """The lowest correlation among the 8×8 cells that hold detail: where two statements of
    one layout differ (a column of amounts), while a copy agrees everywhere."""
    _, cells, energy = _cells(da, db, mask, 8)
    judged = energy >= FINE_CELL_ENERGY
    return float(cells[judged].min()) if judged.any() else 1.0


LOCAL_WINDOW = 12  # px at the working size: about one line of a statement's digits
LOCAL_MIN_DETAIL = 0.5  # windows with less than this share of the mean detail are not judged


def local_worst(da: np.ndarray, db: np.ndarray) -> float:
    """The worst window's difference energy over its detail energy (b scaled to a's gain):
    a changed amount on a statement is one window of unrelated strokes, while a copy's
    recompression spreads a little noise everywhere."""
    gain = float((da * db).sum()) / max(float((db * db).sum()), 1e-9)
    diff = da - gain * db
    k = (LOCAL_WINDOW, LOCAL_WINDOW)
    err = cv2.boxFilter(diff * diff, -1, k)
    det = cv2.boxFilter(da * da + gain * gain * db * db, -1, k)
    judged = det >= LOCAL_MIN_DETAIL * float(det.mean())
    if not judged.any():
        return 0.0
    return float((err[judged] / det[judged]).max())


def compare(a: np.ndarray, b: np.ndarray) -> Aligned:
    """Aligned comparison of two grey pictures of the same aspect ratio (b already turned)."""
    h = min(a.shape[0], b.shape[0])
    w = min(a.shape[1], b.shape[1])
    fa = cv2.resize(a, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32)
    fb = cv2.resize(b, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32)
    ca = cv2.resize(fa, (COARSE_SIDE, COARSE_SIDE), interpolation=cv2.INTER_AREA)
    cb = cv2.resize(fb, (COARSE_SIDE, COARSE_SIDE), interpolation=cv2.INTER_AREA)
    da, db = _dog(fa), _dog(fb)
    fine, cells, energy = _cells(da, db, None)
    return Aligned(
        fine,
        _ncc(ca, cb),
        cells,
        energy,
        fine_min8=_min8(da, db, None),
        local_worst=local_worst(da, db),
        coarse_a=ca,
        coarse_b=cb,
    )


def coarse_outside(res: Aligned, cells: int) -> float:
    """The layout correlation without the given cells (a bit mask of the CELL_GRID² grid): a
    logo on a flat wallpaper changes its coarse layout, the rest of the picture does not."""
    if res.coarse_a is None or res.coarse_b is None:
        return res.coarse
    keep = np.ones((CELL_GRID, CELL_GRID), bool)
    for c in range(CELL_GRID * CELL_GRID):
        if cells >> c & 1:
            keep[c // CELL_GRID, c % CELL_GRID] = False
    step = COARSE_SIDE // CELL_GRID
    mask = np.kron(keep, np.ones((step, step), bool))
    return _ncc(res.coarse_a[mask], res.coarse_b[mask])


# Registration: for pictures that are not aligned as they are (a crop, a shifted frame).
REG_KEYPOINTS = 500
REG_MIN_INLIERS = 24
REG_REPROJ = 2.5  # px at the working size
REG_SCALE = (0.4, 2.5)
REG_MAX_ANGLE = 0.05  # radians: a copy is not turned by a few degrees
CONTAINED = 0.99  # share of one picture inside the other for it to be a crop of it


def _footprint_inside(shape: tuple[int, ...], frame: tuple[int, ...], m: np.ndarray) -> float:
    """Share of a picture of ``shape`` that lands inside ``frame`` under the affine ``m``."""
    h, w = shape[:2]
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    quad = cv2.transform(corners[None], m)[0]
    fh, fw = frame[:2]
    rect = np.array([[0, 0], [fw, 0], [fw, fh], [0, fh]], np.float32)
    inter, _ = cv2.intersectConvexConvex(quad, rect)
    area = abs(float(cv2.contourArea(quad)))
    return float(inter) / area if area > 0 else 0.0


def register(a: np.ndarray, b: np.ndarray) -> Aligned | None:
    """One picture placed on the other by keypoints (rotation-free similarity), compared
    where they overlap, in the frame of the one whose content is smaller (the crop), so the
    other is only ever scaled down; None when no transform has enough keypoints."""
    m = keypoints.similarity(
        keypoints.detect(a, REG_KEYPOINTS),
        keypoints.detect(b, REG_KEYPOINTS),
        min_inliers=REG_MIN_INLIERS,
        reproj=REG_REPROJ,
        max_iters=1000,
    )
    if m is None:
        return None
    scale = float(np.hypot(m[0, 0], m[1, 0]))
    if not REG_SCALE[0] <= scale <= REG_SCALE[1] or abs(m[1, 0]) / scale > REG_MAX_ANGLE:
        return None
    if _footprint_inside(b.shape, a.shape, m) > _footprint_inside(
        a.shape, b.shape, cv2.invertAffineTransform(m)
    ):  # compare in the frame of the picture that shows less (the crop): it is covered whole
        a, b, m, scale = b, a, cv2.invertAffineTransform(m), 1.0 / scale
    h, w = a.shape
    fa = a.astype(np.float32)
    fb = cv2.warpAffine(b.astype(np.float32), m, (w, h), flags=cv2.INTER_AREA)
    cover = cv2.warpAffine(np.ones(b.shape, np.float32), m, (w, h), flags=cv2.INTER_NEAREST)
    # away from the edge of the warped picture, where the detail filter sees a step
    edge = np.ones((15, 15), np.uint8)
    mask = cv2.erode((cover > 0.5).astype(np.uint8), edge).astype(np.float32)
    covered = float((cover > 0.5).sum())
    if mask.mean() < 0.2:
        return None
    overlap = covered / (h * w)  # share of a that b covers
    inside = covered / max(scale * scale * b.size, 1.0)  # share of b that lies inside a
    kept = min(overlap, (h * w) / max(scale * scale * b.size, 1.0))
    da, db = _dog(fa, *REG_BAND), _dog(fb, *REG_BAND)
    fine, cells, energy = _cells(da, db, mask)
    ca = cv2.resize(fa * mask, (COARSE_SIDE, COARSE_SIDE), interpolation=cv2.INTER_AREA)
    cb = cv2.resize(fb * mask, (COARSE_SIDE, COARSE_SIDE), interpolation=cv2.INTER_AREA)
    return Aligned(
        fine,
        _ncc(ca, cb),
        cells,
        energy,
        kept=kept,
        registered=True,
        contained=max(overlap, inside) >= CONTAINED,
        fine_min8=_min8(da, db, mask),
        local_worst=local_worst(da * mask, db * mask),
    )
