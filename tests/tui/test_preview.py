"""The preview pane, driven through the Pilot: what a person sees for a pair."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image as PILImage
from textual.app import App, ComposeResult
from textual.widgets import Static

from tui_dedup.demo import make_photo, write_jpeg
from tui_dedup.engine.features.store import FeatureStore
from tui_dedup.engine.files import thumbs
from tui_dedup.engine.scan import scan
from tui_dedup.tui.widgets import preview as preview_mod
from tui_dedup.tui.widgets import preview_modes
from tui_dedup.tui.widgets.preview import PreviewPane

TAKEN = "2021:06:05 14:30:00"


def write_camera_jpeg(path: Path, bgr: np.ndarray) -> None:
    """A JPEG with the EXIF a camera writes: make, model, date taken and a GPS block."""
    exif = PILImage.Exif()
    exif[0x010F] = "Canon"
    exif[0x0110] = "Canon EOS 5D"
    exif.get_ifd(0x8769)[0x9003] = TAKEN
    exif.get_ifd(0x8825)[1] = "N"
    PILImage.fromarray(np.ascontiguousarray(bgr[:, :, ::-1])).save(path, exif=exif, quality=92)


def make_library(root: Path) -> FeatureStore:
    """Rows (sorted by path): 0 a small blurred copy, 1 the camera original, 2 another photo."""
    photo = make_photo(21, 640, 480)
    small = cv2.GaussianBlur(cv2.resize(photo, (320, 240), interpolation=cv2.INTER_AREA), (0, 0), 2)
    write_jpeg(root / "a_small.jpg", small, 70)
    write_camera_jpeg(root / "b_orig.jpg", photo)
    write_jpeg(root / "c_other.jpg", make_photo(77, 480, 640), 90)
    store = scan([str(root)]).store
    assert [os.path.basename(e.path) for e in store.entries] == [
        "a_small.jpg",
        "b_orig.jpg",
        "c_other.jpg",
    ]
    return store


@pytest.fixture
def store(tmp_path: Path) -> FeatureStore:
    thumbs.clear_cache()
    return make_library(tmp_path)


@pytest.fixture
def loads(monkeypatch) -> list[tuple[str, int]]:
    """Every thumbnail load the pane asks for: (file name, max_side)."""
    calls: list[tuple[str, int]] = []
    real = thumbs.load_thumbnail

    def counting(path: str, max_side: int):
        calls.append((os.path.basename(path), max_side))
        return real(path, max_side)

    monkeypatch.setattr(thumbs, "load_thumbnail", counting)
    return calls


class PreviewApp(App):
    def __init__(self, mode: str = "auto") -> None:
        super().__init__()
        self.preview_mode = mode

    def compose(self) -> ComposeResult:
        yield PreviewPane(mode=self.preview_mode, id="preview")


def side_text(pane: PreviewPane, side: str) -> str:
    return pane.side_text(side)


def placeholder(pane: PreviewPane, side: str) -> Static:
    return pane.query_one(f"#preview-frame-{side} .preview-placeholder", Static)


async def settle(pilot) -> None:
    """Past the debounce, the worker done, its message handled."""
    await pilot.pause(0.3)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_both_sides_metadata_and_badge_on_the_better_side(store, loads) -> None:
    app = PreviewApp()
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.query_one(PreviewPane)
        pane.show_pair(store, 0, 1)
        await pilot.pause()
        a, b = side_text(pane, "a"), side_text(pane, "b")
        assert "a_small.jpg" in a and "320×240" in a and "JPEG" in a
        mtime = os.stat(store.entries[0].path).st_mtime
        assert f"modified {datetime.fromtimestamp(mtime):%Y-%m-%d %H:%M}" in a
        assert "no camera metadata" in a
        assert "b_orig.jpg" in b and "640×480" in b
        assert "taken 2021-06-05 14:30" in b
        assert "Canon EOS 5D · GPS" in b
        assert f"{store.entries[1].size / 1000:.1f} kB" in b
        # the right side is the bigger, sharper original; the left one gets no badge
        assert pane.badge_text("b") == "larger · sharper"
        assert pane.badge_text("a") == ""

        await settle(pilot)
        assert pane.mode == "halfblock"  # no terminal under run_test: half-blocks, not text art
        assert sorted(name for name, _ in loads) == ["a_small.jpg", "b_orig.jpg"]
        for side in ("a", "b"):
            img = pane.query_one(f"#preview-frame-{side} .preview-image")
            assert img.display and img.image is not None
            assert not placeholder(pane, side).display
            # aspect ratio kept: the 4:3 pictures are wider than tall (half-blocks: 2 px/row)
            w, h = img.size
            assert 0 < w <= pane.query_one(f"#preview-frame-{side}").size.width
            assert w / (2 * h) == pytest.approx(4 / 3, rel=0.2)
        assert "▀" in app.export_screenshot()


async def test_thumbnails_are_sized_to_the_pane(store, loads) -> None:
    app = PreviewApp()
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.query_one(PreviewPane)
        pane.show_pair(store, 0, 1)
        await settle(pilot)
        frame = pane.query_one("#preview-frame-a").content_size
        sides = {side for _, side in loads}
        assert len(sides) == 1
        (side,) = sides
        assert max(frame.width, 2 * frame.height) <= side < max(frame.width, 2 * frame.height) + 32
        assert side <= 128  # half-blocks need one pixel per cell across: never the full photo


async def test_rapid_calls_are_debounced_into_one_load_of_the_last_pair(
    store, loads, monkeypatch
) -> None:
    # Key repeat on a slow link: each call restarts the timer, so nothing is decoded or sent
    # until the calls pause. The window is widened here so that the event-loop turns between
    # calls (tens of ms on a loaded CI box) stay well inside it, while the whole burst lasts
    # longer than one window: a timer that was not restarted would fire in the middle.
    monkeypatch.setattr(preview_mod, "DEBOUNCE", 0.4)
    app = PreviewApp()
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.query_one(PreviewPane)
        sequence = [(0, 1), (0, 2), (1, 2), (0, 1), (0, 2)] * 5 + [(1, 2)]
        for i, j in sequence:
            pane.show_pair(store, i, j)
            assert "…" in str(placeholder(pane, "a").render())  # never a stale picture
            await pilot.pause()
        assert loads == []
        await pilot.pause(0.6)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert sorted(name for name, _ in loads) == ["b_orig.jpg", "c_other.jpg"]
        assert pane.pair == (1, 2)
        assert "b_orig.jpg" in side_text(pane, "a")
        assert "c_other.jpg" in side_text(pane, "b")
        assert "480×640" in side_text(pane, "b")
        # a portrait picture keeps its shape: taller than wide
        img = pane.query_one("#preview-frame-b .preview-image")
        assert img.display and img.size.width < 2 * img.size.height


async def test_a_burst_without_pauses_loads_once_and_revisits_hit_the_cache(store, loads) -> None:
    app = PreviewApp()
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.query_one(PreviewPane)
        for k in range(50):
            pane.show_pair(store, k % 2, 2)
        await settle(pilot)
        assert sorted(name for name, _ in loads) == ["b_orig.jpg", "c_other.jpg"]
        assert pane.pair == (1, 2)
        # the next pair after a pause loads on its own; going back is served from the cache
        pane.show_pair(store, 0, 1)
        await settle(pilot)
        assert len(loads) == 4
        cached = thumbs.cache_size()
        pane.show_pair(store, 1, 2)
        await settle(pilot)
        assert len(loads) == 6 and thumbs.cache_size() == cached


async def test_mode_none_shows_metadata_only(store, loads) -> None:
    app = PreviewApp(mode="none")
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.query_one(PreviewPane)
        pane.show_pair(store, 0, 1)
        await settle(pilot)
        assert loads == []
        assert not pane.query(".preview-image")
        assert not pane.query_one("#preview-frame-a").display
        assert "a_small.jpg" in side_text(pane, "a")
        assert "Canon EOS 5D" in side_text(pane, "b")
        assert pane.badge_text("b") == "larger · sharper"
        assert "▀" not in app.export_screenshot()


async def test_transform_is_named_and_clear_empties(store, loads) -> None:
    app = PreviewApp()
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.query_one(PreviewPane)
        pane.show_pair(store, 0, 1, transform=4)
        await settle(pilot)
        assert "matched as mirror of A" in side_text(pane, "b")
        pane.clear()
        await pilot.pause()
        assert pane.pair is None
        assert side_text(pane, "a").strip() == "" and side_text(pane, "b").strip() == ""
        assert not pane.query_one("#preview-frame-a .preview-image").display


async def test_a_file_gone_since_the_scan_shows_a_reason(store, loads) -> None:
    os.remove(store.entries[0].path)
    app = PreviewApp()
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.query_one(PreviewPane)
        pane.show_pair(store, 0, 1)
        await settle(pilot)
        assert (
            str(placeholder(pane, "a").render())
            == "cannot preview: vanished before it could be read"
        )
        assert pane.query_one("#preview-frame-b .preview-image").display


async def test_renderer_failure_falls_back_to_metadata_with_a_note(store, monkeypatch) -> None:
    def refuse(self, value):
        if value is not None:
            raise RuntimeError("no colours")

    halfcell = preview_modes._ti.HalfcellImage
    monkeypatch.setattr(halfcell, "image", property(halfcell.image.fget, refuse), raising=True)
    app = PreviewApp(mode="halfblock")
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.query_one(PreviewPane)
        pane.show_pair(store, 0, 1)
        await settle(pilot)
        assert pane.mode == "none"
        note = str(pane.query_one("#preview-note", Static).render())
        assert note.startswith("half-blocks failed: RuntimeError: no colours")
        assert note.endswith("showing metadata only")
        assert "b_orig.jpg" in side_text(pane, "b")


def test_modes_resolve() -> None:
    assert preview_modes.resolve_mode("none") == ("none", None)
    assert preview_modes.resolve_mode("halfblock")[0] == "halfblock"
    assert preview_modes.resolve_mode("kitty")[0] == "kitty"
    assert preview_modes.resolve_mode("sixel")[0] == "sixel"
    assert preview_modes.resolve_mode("auto")[0] in ("kitty", "sixel", "halfblock")
    with pytest.raises(ValueError):
        preview_modes.resolve_mode("ascii")
    assert preview_modes.thumb_side("halfblock", 48, 20) == 64
    assert preview_modes.thumb_side("kitty", 48, 20) <= preview_modes.MAX_THUMB_SIDE
