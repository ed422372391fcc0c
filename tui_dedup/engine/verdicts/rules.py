"""The acceptance rules of a verdict: the thresholds (:class:`VerdictOptions`) and how one pixel
comparison of two working images is judged by them (:func:`judge`).

:mod:`tui_dedup.engine.verdicts.confirm` applies them in order of cost (its docstring lists the
evidence); the comparisons themselves are in :mod:`tui_dedup.engine.verdicts.pixels`. The
thresholds come from the tune half of benchmarks/library and benchmarks/accuracy (figures in
benchmarks/RESULTS.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tui_dedup.engine.verdicts import pixels
from tui_dedup.engine.verdicts.evidence import CELL_GRID
from tui_dedup.engine.verdicts.kinds import Kind


@dataclass(frozen=True, slots=True)
class VerdictOptions:
    """Acceptance rules (tuned on the tune halves; see the module docstring)."""

    # Of 256 bits: a copy on the hash alone, for colour pictures with structure. Grey pictures
    # always get the pixel check: two bank statements of one layout sit 12–22 bits apart.
    pdq_sure: int = 8
    pdq_sure_turned: int = 6  # ... when a rotation or mirror was needed
    # A whole-picture copy (not a crop, not an edit) is never further than this (tune halves:
    # re-encoded copies ≤ 62 bits); a burst frame against a sibling's copy reached 78–104.
    pdq_copy_max: int = 64
    info_sure: float = 3.0  # least information score for the hash alone to decide
    chroma_max: float = 10.0  # a*b* units: a larger colour change is another picture
    pdq_layout: int = 48  # ... judged when the 256-bit hashes say the layouts line up
    fine_copy: float = 0.80  # fine-detail correlation of a copy
    cell_copy: float = 0.55  # ... of each cell holding detail
    cell_energy: float = 1.0 / 64  # a cell with less than this share of the detail is not judged
    edit_cells: int = 2  # most cells an edit may change (of CELL_GRID²)
    coarse_similar: float = 0.85  # coarse layout correlation of a similar shot
    coarse_copy: float = 0.9  # ... of a copy (brightness and contrast do not move it)
    min8_strict: float = 0.9  # grey pictures with structure: the worst 8×8 cell of a copy
    # ... and their worst 12-px window (difference over detail energy): copies of a statement
    # (JPEG q60, half size, blur) ≤ 0.01; another month's statement of one layout ~1.2.
    local_strict: float = 0.35
    min8_dark: float = 0.5  # dark sparse pictures: the worst 8×8 cell of a copy
    register_coarse: float = 0.5  # below this coarse agreement no registration is tried
    crop_check_coarse: float = 0.8  # ... and no dense crop check for pictures of one shape
    fine_registered: float = 0.8  # detail correlation of a registered copy (a crop; σ 2–6)
    crop_kept: float = 0.97  # a registered copy keeping less than this is "cropped"
    cache_images: int = 256  # working images kept while confirming (~0.2 MB each)


def bad_cells(res: pixels.Aligned, opts: VerdictOptions) -> int:
    judged = res.cell_energy >= opts.cell_energy
    bad = judged & (res.cell_fine < opts.cell_copy)
    return int(sum(1 << c for c in np.flatnonzero(bad)))


@dataclass(frozen=True, slots=True)
class Strictness:
    """How a pair's pictures are judged, from their cheap evidence.

    ``strict``: grey pictures with structure (documents, scans, line art): every 8×8 cell with
    detail must agree, and no "edit" is allowed (a changed amount is another statement).
    ``dark``: low-information pictures (night skies): their few details must agree in place.
    """

    strict: bool = False
    dark: bool = False
    #: One picture's tiles match a window of the other's (engine/matching/crop_windows.py): a
    #: crop of nearly the same shape lies misaligned as it is, so it is registered even when
    #: the plain comparison's layout disagrees.
    window: bool = False


def decide(res: pixels.Aligned, opts: VerdictOptions, how: Strictness) -> Kind:
    """A copy kind, or SIMILAR / DIFFERENT, for one aligned comparison."""
    bad = bad_cells(res, opts)
    nbad = bin(bad).count("1")
    fine = opts.fine_registered if res.registered else opts.fine_copy
    if 0 < nbad <= opts.edit_cells and not how.strict and not how.dark:
        # An edit: everything outside the changed cells agrees, in detail (flat cells agree by
        # having none) and in layout (a logo on a flat wallpaper moves the whole picture's).
        good = np.array([not (bad >> c & 1) for c in range(CELL_GRID * CELL_GRID)])
        judged = res.cell_energy >= opts.cell_energy
        if (res.cell_fine[good & judged] >= fine).all() and (
            pixels.coarse_outside(res, bad) >= opts.coarse_copy
        ):
            return Kind.EDITED
    if res.coarse < opts.coarse_copy:  # another layout of tones: a dark vs a light variant
        return (
            Kind.SIMILAR if res.coarse >= opts.coarse_similar and not how.strict else Kind.DIFFERENT
        )
    floor8 = opts.min8_strict if how.strict else opts.min8_dark if how.dark else -1.0
    local_ok = not how.strict or res.local_worst <= opts.local_strict
    if nbad == 0 and res.fine >= fine and res.fine_min8 >= floor8 and local_ok:
        return Kind.REENCODED
    if how.strict or how.dark:
        return Kind.DIFFERENT
    return Kind.SIMILAR if res.coarse >= opts.coarse_similar else Kind.DIFFERENT


def judge(
    a: np.ndarray, b: np.ndarray, opts: VerdictOptions, how: Strictness
) -> tuple[Kind, pixels.Aligned | None, bool]:
    """The verdict of two working images (b turned), the comparison that decided it, and
    whether the crop check (engine/matching/verify.py) may still turn it into a crop.

    Pictures of one shape are compared as they lie; when that fails but their layout agrees,
    or when their shapes differ, one is placed on the other by keypoints. A registered match
    is a crop only when one picture lies wholly inside the other: two frames that each reach
    past the other's edge were shot from a moved camera (a burst, a stereo pair).
    """
    res = None
    verdict = Kind.DIFFERENT
    if pixels.same_aspect(a, b):
        res = pixels.compare(a, b)
        verdict = decide(res, opts, how)
        if verdict in (Kind.REENCODED, Kind.EDITED):
            return verdict, res, False
        if res.coarse < opts.register_coarse and not how.window:
            return verdict, res, False
    reg = pixels.register(a, b)
    if reg is None:  # too few keypoints (a smooth picture): the dense check may place one in
        # the other, when their layouts agree or their shapes differ; it is no evidence for
        # night skies and documents
        hopeful = res is None or res.coarse >= opts.crop_check_coarse
        return verdict, res, hopeful and not (how.dark or how.strict)
    found = decide(reg, opts, how)
    if found in (Kind.REENCODED, Kind.EDITED):
        if not reg.contained:
            return (Kind.DIFFERENT if how.strict or how.dark else Kind.SIMILAR), reg, False
        return (Kind.CROPPED if reg.kept < opts.crop_kept else found), reg, False
    if res is None:
        return found, reg, False
    return verdict, res, False
