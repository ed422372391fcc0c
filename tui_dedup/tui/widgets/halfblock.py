"""Half-block pictures drawn a band of rows per frame, so a key never waits behind a picture.

Why: textual-image's half-block widget builds a whole picture in one ``render()`` on the event
loop: a Rich ``Segment`` and ``Style`` per cell, then Textual's compositing and the escape codes
of every cell. At 160×50 a compare picture is ~7,000 cells, 100–150 ms in one go on this
machine; a key pressed meanwhile waits for all of it (issue #16: p95 over 100 ms through tmux
for every key while pictures arrive, under 60 ms with pictures off). Here the widget keeps
textual-image's sizing (its public ``HalfcellImage``: the picture fits its cells at the
terminal's cell aspect) and draws through Textual's line API: a new picture is revealed
:data:`ROWS_PER_BAND` rows at a time, each band its own small frame, with the event loop free
between bands. Rows not yet revealed keep the previous picture of the same size (a wipe, not
a blank flash). Each row is built once, with exactly the cells textual-image draws.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from PIL import Image as PILImage
from rich.color import Color
from rich.color_triplet import ColorTriplet
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region
from textual.strip import Strip
from textual_image.renderable.halfcell import Image as HalfcellRenderable
from textual_image.widget import HalfcellImage

#: Rows revealed per frame: ~1–2 ms of building each, so a band's frame stays small.
ROWS_PER_BAND = 6

_UPPER_HALF = "▀"


class AcyclicStrip(Strip):
    """A ``Strip`` that does not keep itself in its own cache.

    Textual's ``Strip.divide`` caches its answer, and the answer for a cut at the strip's own
    end is ``[self]``: every strip the compositor divides that way refers to itself, so it
    and all its segments outlive their last use as cyclic garbage that only a full garbage
    collection frees. For a picture that is ~35,000 objects (a segment, a style, two colours
    per cell) each time it changes, and the full collections that followed walked 600,000
    objects at a time, 400–650 ms on a key press (issue #16). Answering ``[self]`` without
    caching it costs nothing; any other division is Textual's own."""

    def divide(self, cuts: Iterable[int]) -> Sequence[Strip]:
        cuts = [cut for cut in cuts if cut <= self.cell_length]
        if cuts == [self.cell_length]:
            return [self]
        return super().divide(cuts)


class BandedHalfcellImage(HalfcellImage, Renderable=HalfcellRenderable):
    """A half-block picture (textual-image's sizing and cells) revealed a band at a time."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        self._picture: PILImage.Image | None = None
        self._pixels: np.ndarray | None = None  # (2·rows, cols, 3) uint8, for _built
        self._built = (0, 0)  # (cols, rows) the lines were built for; (0, 0): none yet
        self._lines: dict[int, Strip] = {}
        self._old: dict[int, Strip] = {}  # the previous picture's lines, while bands arrive
        self._old_built = (0, 0)
        self._revealed = 0
        self._chain = 0  # which picture the scheduled band belongs to
        self._pending = False  # a band is scheduled
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    @property  # type: ignore[override]
    def image(self) -> object:
        return HalfcellImage.image.fget(self)  # type: ignore[attr-defined]

    @image.setter
    def image(self, value: object) -> None:
        HalfcellImage.image.fset(self, value)  # type: ignore[attr-defined]
        self._picture = value if isinstance(value, PILImage.Image) else None
        self._old, self._old_built = self._lines, self._built
        self._lines, self._built = {}, (0, 0)
        self._pixels = None
        self._revealed = 0
        self._chain += 1  # a band still scheduled for the old picture stops there
        self._pending = False
        self._schedule()

    def on_mount(self) -> None:
        self._schedule()

    def on_resize(self) -> None:
        self._schedule()  # laid out at last (a band finds no rows while the size is 0)

    def _schedule(self) -> None:
        """The next band, after the next frame: one band a frame, keys in between."""
        if self._picture is not None and self.is_mounted and not self._pending:
            self._pending = True
            self.call_after_refresh(self._next_band, self._chain)

    @property
    def revealed(self) -> bool:
        """Is the whole picture on screen (no band still to come)?"""
        return self._picture is None or self._revealed >= self.content_size.height > 0

    def _next_band(self, chain: int) -> None:
        if chain != self._chain:
            return  # another picture came since; its own band is scheduled
        self._pending = False
        height = self.content_size.height
        if self._picture is None or height <= 0 or self._revealed >= height:
            return
        top = self._revealed
        self._revealed = min(height, top + ROWS_PER_BAND)
        self.refresh(Region(0, top, self.content_size.width, self._revealed - top))
        if self._revealed < height:
            self._schedule()
        else:
            self._old = {}  # the previous picture is gone from the screen

    def render_lines(self, crop: Region) -> list[Strip]:
        """The lines as Textual finishes them (styles, filters), as strips the compositor's
        division does not tie into cycles (:class:`AcyclicStrip`)."""
        return [AcyclicStrip(list(line), line.cell_length) for line in super().render_lines(crop)]

    def render_line(self, y: int) -> Strip:
        width, height = self.content_size
        if self._picture is None or width <= 0 or height <= 0:
            return Strip.blank(width, self.rich_style)
        if (width, height) != self._built:
            if self._built != (0, 0):  # the terminal was resized: the picture at once
                self._revealed = height
            self._built = (width, height)
            self._pixels = None
            self._lines = {}
        if y >= self._revealed:
            old = self._old.get(y) if self._old_built == self._built else None
            return old or Strip.blank(width, self.rich_style)
        line = self._lines.get(y)
        if line is None:
            line = self._lines[y] = self._build(y, width, height)
        return line

    def _build(self, y: int, width: int, height: int) -> Strip:
        """Row ``y``: an upper half block per cell, the upper pixel as its colour and the
        lower one as its background (textual-image's cells, from the same resize)."""
        if self._pixels is None:
            assert self._picture is not None
            rgb = self._picture.convert("RGB").resize((width, height * 2))
            self._pixels = np.asarray(rgb)
        upper = self._pixels[2 * y].tolist()
        lower = self._pixels[2 * y + 1].tolist()
        return Strip(
            [
                Segment(
                    _UPPER_HALF,
                    Style(
                        color=Color.from_triplet(ColorTriplet(*u)),
                        bgcolor=Color.from_triplet(ColorTriplet(*lo)),
                    ),
                )
                for u, lo in zip(upper, lower, strict=True)
            ],
            width,
        )
