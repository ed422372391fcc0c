"""The pair details screen: every method's score, the pixel comparison, both files, a verdict."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image as PILImage
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Label, Static

from tui_dedup.demo import make_photo, write_jpeg
from tui_dedup.engine.features.store import FeatureStore
from tui_dedup.engine.files import thumbs
from tui_dedup.engine.matching import compare as compare_mod
from tui_dedup.engine.registry import METHODS
from tui_dedup.engine.scan import scan
from tui_dedup.tui.screens import details as details_mod
from tui_dedup.tui.screens.details import DetailsScreen

TAKEN = "2021:06:05 14:30:00"


def make_library(root: Path) -> FeatureStore:
    """Rows: 0 a small blurred copy, 1 the camera original (EXIF), 2 an unrelated photo.

    (The same library as test_preview.py; the test folders are not packages, so it is repeated
    rather than imported.)
    """
    photo = make_photo(21, 640, 480)
    small = cv2.GaussianBlur(cv2.resize(photo, (320, 240), interpolation=cv2.INTER_AREA), (0, 0), 2)
    write_jpeg(root / "a_small.jpg", small, 70)
    exif = PILImage.Exif()
    exif[0x010F] = "Canon"
    exif[0x0110] = "Canon EOS 5D"
    exif.get_ifd(0x8769)[0x9003] = TAKEN
    exif.get_ifd(0x8825)[1] = "N"
    rgb = np.ascontiguousarray(photo[:, :, ::-1])
    PILImage.fromarray(rgb).save(root / "b_orig.jpg", exif=exif, quality=92)
    write_jpeg(root / "c_other.jpg", make_photo(77, 480, 640), 90)
    return scan([str(root)]).store


@pytest.fixture
def store(tmp_path: Path) -> FeatureStore:
    thumbs.clear_cache()
    return make_library(tmp_path)


class Host(App):
    """The screen needs only an app to sit on."""

    def compose(self) -> ComposeResult:
        yield Label("review")


def text_of(screen: DetailsScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def screen_text(app: App) -> str:
    return "\n".join(
        "".join(seg.text for seg in strip) for strip in app.screen._compositor.render_strips()
    )


async def open_details(pilot, screen: DetailsScreen) -> DetailsScreen:
    pilot.app.push_screen(screen)
    await pilot.pause()
    return screen


async def test_lists_every_method_then_the_pixels_when_the_worker_lands(store, monkeypatch):
    started = []
    real = compare_mod.compare_images

    def counting(*args, **kwargs):
        started.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(details_mod, "compare_images", counting)
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_details(pilot, DetailsScreen(store, 0, 1, "phash", 0.96875, 0))
        table = screen.query_one("#details-methods", DataTable)
        assert [str(k.value) for k in table.rows] == list(METHODS)
        for name in METHODS:
            row = table.get_row(name)
            assert row[1] == METHODS[name].title
            assert row[2].endswith("%")
        assert table.get_row("phash")[0] == "phash ▶"
        assert table.get_row("dhash")[0] == "dhash"
        assert "phash 96.9%" in str(screen.query_one("#details-dialog").border_title)

        await app.workers.wait_for_complete()
        await pilot.pause()
        assert len(started) == 1
        pixels = text_of(screen, "#details-pixels")
        assert pixels.startswith("SSIM 0.9")
        assert "MSE" in pixels and "PSNR" in pixels and "dB" in pixels
        assert "B is larger · B is sharper" in pixels
        assert screen.comparison is not None and screen.comparison.ssim > 0.9
        assert text_of(screen, "#details-verdict") == "same picture, different size and encoding"

        a, b = text_of(screen, "#details-a"), text_of(screen, "#details-b")
        assert store.entries[0].path in a and "320×240" in a
        assert store.entries[1].path in b and "Canon EOS 5D · GPS" in b
        assert "taken 2021-06-05 14:30" in b and "larger · sharper" in b


async def test_computing_line_until_the_comparison_lands(store, monkeypatch):
    import threading

    gate = threading.Event()
    real = compare_mod.compare_images

    def held(*args, **kwargs):
        gate.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(details_mod, "compare_images", held)
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_details(pilot, DetailsScreen(store, 0, 1))
        assert text_of(screen, "#details-pixels") == "computing…"
        assert "waiting for the pixel comparison" in text_of(screen, "#details-verdict")
        gate.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert text_of(screen, "#details-pixels").startswith("SSIM")


async def test_byte_identical_and_unrelated_verdicts(tmp_path: Path) -> None:
    photo = make_photo(5, 400, 300)
    write_jpeg(tmp_path / "a.jpg", photo)
    shutil.copyfile(tmp_path / "a.jpg", tmp_path / "b.jpg")
    write_jpeg(tmp_path / "c.jpg", make_photo(6, 400, 300))
    store = scan([str(tmp_path)]).store
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_details(pilot, DetailsScreen(store, 0, 1))
        assert text_of(screen, "#details-verdict").startswith("byte-identical")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "PSNR ∞" in text_of(screen, "#details-pixels")
        assert text_of(screen, "#details-verdict").startswith("byte-identical")
        await pilot.press("escape")

        screen = await open_details(pilot, DetailsScreen(store, 0, 2))
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert text_of(screen, "#details-verdict").startswith("different pictures")
        assert screen.query_one("#details-verdict").has_class("-doubt")


async def test_mirrored_copy_is_compared_turned_back(tmp_path: Path) -> None:
    photo = make_photo(8, 480, 360)
    write_jpeg(tmp_path / "a.jpg", photo, 95)
    write_jpeg(tmp_path / "b.jpg", photo[:, ::-1], 95)
    store = scan([str(tmp_path)]).store
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_details(pilot, DetailsScreen(store, 0, 1, "phash", 1.0, 4))
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "B matched as mirror of A" in str(screen.query_one("#details-dialog").border_title)
        assert text_of(screen, "#details-verdict") == "same picture, different encoding (mirror)"


async def test_a_vanished_file_is_a_line_not_a_crash(store):
    os.remove(store.entries[1].path)
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_details(pilot, DetailsScreen(store, 0, 1))
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert text_of(screen, "#details-pixels").endswith("vanished before it could be read")
        assert text_of(screen, "#details-verdict") == "cannot compare pixels — compare visually"


@pytest.mark.parametrize("key", ["escape", "d", "q"])
async def test_keys_close(store, key):
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_details(pilot, DetailsScreen(store, 0, 1))
        await app.workers.wait_for_complete()
        assert isinstance(app.screen, DetailsScreen)
        await pilot.press(key)
        await pilot.pause()
        assert not isinstance(app.screen, DetailsScreen)


async def test_fits_80x24(store):
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_details(pilot, DetailsScreen(store, 0, 1, "phash", 0.96875, 0))
        await app.workers.wait_for_complete()
        await pilot.pause()
        shown = screen_text(app)
        for needle in (
            "Pair details",
            "hist1",
            "SSIM",
            "file A",
            "file B",
            "Canon EOS 5D",
            "close",
        ):
            assert needle in shown, needle
        table = screen.query_one("#details-methods", DataTable)
        assert table.virtual_size.width <= table.scrollable_content_region.width  # no h-scroll
