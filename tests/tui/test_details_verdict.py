"""The details dialog says what a pair is and why (its kind and evidence), and auto-mark says
which copy the selected pair's group keeps and why.

A real library in tmp_path: a camera photo in the library, a half-size JPEG copy and a mirrored
copy in Downloads. Pilot presses the keys a user presses; what is checked is what is on screen.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import cv2
import pytest
from conftest import record_notifications, wait_for_review
from textual.app import App, ComposeResult
from textual.widgets import Label

from tui_dedup.demo import make_photo, write_jpeg
from tui_dedup.engine.scan import scan
from tui_dedup.engine.verdicts.evidence import blank
from tui_dedup.engine.verdicts.kinds import Kind
from tui_dedup.review.settings import RunSettings
from tui_dedup.tui.app import create_app
from tui_dedup.tui.screens.details import DetailsScreen
from tui_dedup.tui.widgets.pair_table import PairTable

ZOO = "2021/2021-09 Zoo/IMG_1203.jpg"
SMALL = "Downloads/IMG_1203 small.jpg"
MIRRORED = "Downloads/IMG_1203 mirrored.jpg"


@pytest.fixture
def library(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "home"  # the machine's own download folder never takes part
    (home / ".config").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    root = tmp_path / "Pictures"
    for rel in (ZOO, SMALL):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
    photo = make_photo(21, 640, 480)
    write_jpeg(root / ZOO, photo, 92)
    write_jpeg(root / SMALL, cv2.resize(photo, (320, 240), interpolation=cv2.INTER_AREA), 80)
    write_jpeg(root / MIRRORED, photo[:, ::-1], 92)
    write_jpeg(root / "other.jpg", make_photo(77, 480, 640), 90)
    return root


@pytest.fixture
def settings(library) -> RunSettings:
    return RunSettings(roots=[str(library)], use_cache=False, preview="none")


def select_pair(app, a: str, b: str) -> None:
    """Put the cursor on the pair of the two files (relative paths)."""
    screen = app.screen
    model = screen.model
    rows = {screen.session.paths[r]: r for r in range(screen.session.n_files)}
    want = {rows[a], rows[b]}
    for pos in range(len(model)):
        p = int(model.view[pos])
        if {int(model.pairs.i[p]), int(model.pairs.j[p])} == want:
            app.screen.query_one(PairTable).move_cursor(pos)
            return
    raise AssertionError(f"no pair {a} / {b}")


async def open_details(app, pilot) -> DetailsScreen:
    await pilot.press("d")
    await app.workers.wait_for_complete()
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, DetailsScreen)
    return screen


def screen_text(app) -> str:
    """The screen's rows as plain text, as a person reads them."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(seg.text for seg in strip) for strip in strips)


def kind_row(screen: DetailsScreen) -> str:
    return str(screen.query_one("#details-kind").render())


@pytest.mark.parametrize(
    ("other", "kind", "word"),
    [(SMALL, Kind.REENCODED, "re-encoded"), (MIRRORED, Kind.MIRRORED, "mirrored")],
)
async def test_details_say_what_the_pair_is_and_why(settings, other, kind, word):
    app = create_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_review(app, pilot)
        select_pair(app, ZOO, other)
        i, j, _ = app.screen.views.selected_pair()
        assert app.screen.session.verdict_of(i, j)[0] == kind
        details = await open_details(app, pilot)
        assert details.query_one("#details-kind-row").display
        text = kind_row(details)
        assert text.startswith(f"{word}: ")
        assert "256-bit hash" in text and "bits apart" in text  # the evidence, in words
        assert "hash256 " in text and "/256 bits" in text  # and in numbers
        if kind is Kind.MIRRORED:
            assert "as mirror" in text
        shown = screen_text(app)
        assert f"kind    {word}:" in shown
        assert "SSIM" in shown  # the pixel comparison is still there


async def test_reused_dialog_follows_the_pair(settings):
    app = create_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_review(app, pilot)
        select_pair(app, ZOO, SMALL)
        details = await open_details(app, pilot)
        assert kind_row(details).startswith("re-encoded: ")
        await pilot.press("escape")
        await pilot.pause()
        select_pair(app, ZOO, MIRRORED)
        again = await open_details(app, pilot)
        assert again is details  # the one, reused screen
        assert kind_row(details).startswith("mirrored: ")


@pytest.fixture
def folder_62():
    """A new folder whose path is 62 characters long, as pytest's own temp path for the test
    below is on a plain run: the path line wraps with its length, and a longer temp path (a
    pytest-xdist worker's adds ``popen-gw0/``) would push the dialog's last line off screen."""
    holder = tempfile.mkdtemp(prefix="dedup-fit-")
    folder = Path(holder, "lib".ljust(62 - len(holder) - 1, "_"))
    folder.mkdir()
    assert len(str(folder)) == 62
    yield folder
    shutil.rmtree(holder)


async def test_fits_80x24_with_the_kind_row(folder_62):
    """Every line on screen, no scrolling (file names short enough for one line each, as the
    path line wraps like any other)."""
    photo = make_photo(21, 640, 480)
    write_jpeg(folder_62 / "a.jpg", photo, 92)
    write_jpeg(folder_62 / "b.jpg", cv2.resize(photo, (320, 240), interpolation=cv2.INTER_AREA))
    app = create_app(RunSettings(roots=[str(folder_62)], use_cache=False, preview="none"))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_review(app, pilot)
        await open_details(app, pilot)
        shown = screen_text(app)
        for needle in ("Pair details", "kind    re-encoded:", "hash256", "hist1", "SSIM"):
            assert needle in shown, needle
        for needle in ("file A", "file B", "close"):
            assert needle in shown, needle
        assert shown.count("no camera metadata") == 2  # file B's last line too
        assert app.screen.query_one("#details-body").max_scroll_y == 0


async def test_auto_mark_says_which_copy_the_group_keeps_and_why(settings):
    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        shown = record_notifications(app)
        select_pair(app, SMALL, MIRRORED)  # the group's keeper is in neither file of the pair
        await pilot.press("a")
        await pilot.pause()
        assert shown, "auto-mark notified"
        note = shown[-1]
        assert f"this group keeps {ZOO} (keep: library folder" in note
        assert "every group keeps one copy" in note


async def test_a_pair_without_a_verdict_shows_no_kind_row(tmp_path):
    """Candidates without a verdict (an old remembered result): the dialog as before."""
    photo = make_photo(21, 640, 480)
    write_jpeg(tmp_path / "a.jpg", photo, 92)
    write_jpeg(tmp_path / "b.jpg", cv2.resize(photo, (320, 240), interpolation=cv2.INTER_AREA))
    store = scan([str(tmp_path)]).store
    row = blank(1)[0]
    row["pdq"] = 6

    class Host(App):
        def compose(self) -> ComposeResult:
            yield Label("review")

    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = DetailsScreen(store, 0, 1, "phash", 1.0, 0)
        app.push_screen(screen)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not screen.query_one("#details-kind-row").display
        assert "kind " not in screen_text(app)

        screen.show_pair(store, 0, 1, "phash", 1.0, 0, (int(Kind.REENCODED), row))
        await pilot.pause()
        assert screen.query_one("#details-kind-row").display
        assert kind_row(screen) == "re-encoded: 256-bit hash 6 bits apart\nhash256 6/256 bits"

        screen.show_pair(store, 0, 1, "phash", 1.0, 0)  # the reused screen: the row goes again
        await pilot.pause()
        assert not screen.query_one("#details-kind-row").display
