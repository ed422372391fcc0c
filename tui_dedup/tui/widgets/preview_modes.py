"""Which picture protocol the preview uses, and how large a thumbnail that protocol needs.

Apart from the pane because it is about the terminal, not about pairs: textual-image asks the
terminal what it supports once, when it is imported, which must happen before ``App.run()``
takes the terminal (``run_app`` in tui/app.py imports it first for that reason; this module
imports it at the top, and the pane imports this module). Without a terminal (tests, pipes)
textual-image would pick a character-cell renderer; "auto" resolves to half-blocks there
instead, so tests see real pictures.
"""

from __future__ import annotations

from typing import Literal

from textual.widget import Widget

try:  # the terminal query happens here, at import, before the app takes over the terminal
    from textual_image import widget as _ti
    from textual_image.renderable.sixel import Image as _SixelRenderable
    from textual_image.renderable.tgp import Image as _TGPRenderable

    from tui_dedup.tui.widgets.halfblock import BandedHalfcellImage

    IMAGES_ERROR: str | None = None
except Exception as exc:  # no stdout, odd platform: metadata still works
    _ti = None  # type: ignore[assignment]
    IMAGES_ERROR = f"{type(exc).__name__}: {exc}"

Mode = Literal["auto", "kitty", "sixel", "halfblock", "none"]
MODES: tuple[str, ...] = ("auto", "kitty", "sixel", "halfblock", "none")
MODE_TITLES = {
    "kitty": "Kitty graphics",
    "sixel": "Sixel",
    "halfblock": "half-blocks",
    "none": "off",
}

#: Thumbnail sides are rounded up to a multiple of this, so small resizes hit the cache.
SIDE_STEP = 32
MAX_THUMB_SIDE = 1024


def resolve_mode(mode: str) -> tuple[str, type[Widget] | None]:
    """(effective mode, textual-image widget class) for a requested mode."""
    if mode not in MODES:
        raise ValueError(f"preview mode must be one of {', '.join(MODES)}, not {mode!r}")
    if mode == "none" or _ti is None:
        return "none", None
    if mode == "kitty":
        return "kitty", _ti.TGPImage
    if mode == "sixel":
        return "sixel", _ti.SixelImage
    if mode == "auto":
        best = _ti.AutoRenderable
        if best is _TGPRenderable:
            return "kitty", _ti.TGPImage
        if best is _SixelRenderable:
            return "sixel", _ti.SixelImage
    # "halfblock", or auto without a graphics protocol (including no terminal at all)
    return "halfblock", BandedHalfcellImage


def thumb_side(mode: str, cols: int, rows: int) -> int:
    """The thumbnail long side that fills ``cols``×``rows`` cells in ``mode``, no more."""
    if cols <= 0 or rows <= 0:
        return 128
    if mode == "halfblock":
        px_w, px_h = cols, rows * 2  # one pixel per cell across, two down
    else:
        cell = _ti.get_cell_size() if _ti is not None else None
        cw, ch = (cell.width, cell.height) if cell else (10, 20)
        px_w, px_h = cols * cw, rows * ch
    side = max(px_w, px_h)
    side = -(-side // SIDE_STEP) * SIDE_STEP
    return int(min(max(side, SIDE_STEP), MAX_THUMB_SIDE))
