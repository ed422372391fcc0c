"""Half-block pictures arrive a band of rows at a time (issue #16: no key waits behind a
picture being drawn), and the finished picture is cell for cell what textual-image draws."""

from __future__ import annotations

import numpy as np
from PIL import Image
from textual.app import App, ComposeResult
from textual_image.widget import HalfcellImage

from tui_dedup.tui.widgets.halfblock import ROWS_PER_BAND, BandedHalfcellImage

CSS = """
Screen { layout: horizontal; }
HalfcellImage, BandedHalfcellImage { width: 40; height: 20; }
"""


def picture(seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 255, (90, 120, 3), dtype=np.uint8))


class Pictures(App[None]):
    CSS = CSS

    def compose(self) -> ComposeResult:
        yield BandedHalfcellImage(picture(1))
        yield HalfcellImage(picture(1))


def cells(widget, rows: int) -> list[list[tuple[str, object, object]]]:
    """Each row as (character, colour, background) per cell."""
    return [
        [
            (seg.text, seg.style.color.triplet, seg.style.bgcolor.triplet)
            for seg in widget.render_line(y)
            if seg.style is not None and seg.style.color is not None
        ]
        for y in range(rows)
    ]


async def until(pilot, ok, tries: int = 200) -> None:
    for _ in range(tries):
        if ok():
            return
        await pilot.pause(0.01)
    raise AssertionError("never happened")


async def test_a_picture_is_revealed_in_bands_and_matches_textual_image() -> None:
    app = Pictures()
    async with app.run_test(size=(80, 20)) as pilot:
        banded = app.query_one(BandedHalfcellImage)
        plain = app.query_one(HalfcellImage.__name__)
        await until(pilot, lambda: banded.revealed)
        assert banded.content_size == plain.content_size
        rows = banded.content_size.height
        assert rows > ROWS_PER_BAND  # it took more than one band
        assert cells(banded, rows) == cells(plain, rows)
        # a new picture: drawn as separate repaints of one band each, the rest follows
        bands: list[tuple[int, int]] = []
        repaint = banded.refresh

        def spy(*regions, **kw):
            bands.extend((r.y, r.height) for r in regions)
            return repaint(*regions, **kw)

        banded.refresh = spy
        banded.image = picture(2)
        assert not banded.revealed
        await until(pilot, lambda: banded.revealed)
        assert bands == [(y, min(ROWS_PER_BAND, rows - y)) for y in range(0, rows, ROWS_PER_BAND)]
        plain.image = picture(2)
        await pilot.pause()
        assert cells(banded, rows) == cells(plain, rows)
