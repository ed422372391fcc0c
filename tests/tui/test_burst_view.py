"""The burst view in the app (issue #17): frames side by side with their numbers, the best one
kept, one key to move the rest after a confirmation that says they have no copy, and u to undo.
On generated bursts (tests/burst_images.py), checked on the files on disk."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from burst_images import Library, small_library
from conftest import screen_text, tree_digests, wait_for_review

from tui_dedup.review.settings import RunSettings
from tui_dedup.tui.app import create_app
from tui_dedup.tui.screens.bursts import BurstScreen
from tui_dedup.tui.screens.confirm import ConfirmScreen


@pytest.fixture(scope="module")
def master(tmp_path_factory) -> Library:
    return small_library(tmp_path_factory.mktemp("burst-view") / "Pictures", size=(640, 427))


@pytest.fixture
def root(master, tmp_path) -> Path:
    dest = tmp_path / "Pictures"
    shutil.copytree(master.root, dest)
    return dest


def _app(root: Path):
    settings = RunSettings([str(root)], use_cache=False)
    settings.preview = "halfblock"
    return create_app(settings)


async def _open(app, pilot) -> BurstScreen:
    await wait_for_review(app, pilot)
    await pilot.press("B")
    for _ in range(200):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if isinstance(app.screen, BurstScreen) and app.screen.found is not None:
            return app.screen
    raise AssertionError("the burst view never showed its bursts")


async def _until(app, pilot, done) -> bool:
    """Let workers and messages run until ``done()`` (at most 100 rounds); its last answer."""
    for _ in range(100):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if done():
            break
    await app.workers.wait_for_complete()
    await pilot.pause()
    return bool(done())


def _user_files(root: Path) -> dict[str, str]:
    """Every file of the person's, byte for byte (our own .dedup-tui folder left out)."""
    return {k: v for k, v in tree_digests(root).items() if not k.startswith(".dedup-tui/")}


def _moved(root: Path, master: Library) -> set[str]:
    return {
        str(p.relative_to(master.root))
        for b in master.bursts
        for p in b.paths
        if not (root / p.relative_to(master.root)).exists()
    }


async def test_the_best_frame_is_kept_and_the_rest_moved_then_undone(root, master) -> None:
    before = _user_files(root)
    app = _app(root)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await _open(app, pilot)
        assert screen.found is not None and len(screen.found.bursts) == 3
        text = screen_text(app)
        assert "Burst 1 of 3" in text and "keep 1, move 4" in text
        assert "#1 best · KEEP" in text and "sharp 100%" in text and "EV" in text
        first = screen.found.bursts[0]
        best = root / master.bursts[0].best_path.relative_to(master.root)
        assert screen.host.session.store.entries[first.best.row].path == str(best)

        await pilot.press("m")
        assert await _until(app, pilot, lambda: isinstance(app.screen, ConfirmScreen))
        dialog = screen_text(app)
        assert "These frames have no copy" in dialog and "4 file(s)" in dialog
        await pilot.press("y")
        await _until(app, pilot, lambda: bool(_moved(root, master)))
        moved = _moved(root, master)
        burst_a = {str(p.relative_to(master.root)) for p in master.bursts[0].paths}
        assert moved == burst_a - {str(master.bursts[0].best_path.relative_to(master.root))}
        assert best.exists()

        await pilot.press("u")  # the review's undo: a file batch asks first
        for _ in range(100):
            await app.workers.wait_for_complete()
            await pilot.pause()
            if isinstance(app.screen, ConfirmScreen):
                await pilot.press("y")
            if not _moved(root, master):
                break
        await app.workers.wait_for_complete()
        assert _user_files(root) == before


async def test_frames_picked_by_hand_stay(root, master) -> None:
    app = _app(root)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open(app, pilot)
        burst = screen.found.bursts[0]
        best_at = next(k for k, f in enumerate(burst.frames) if f.rank == 1)
        other = 0 if best_at != 0 else 1
        await pilot.press(*(["right"] * other), "space")
        assert screen.kept() == {burst.best.row, burst.frames[other].row}
        assert "keep 2, move 3" in screen_text(app)
        await pilot.press("b")  # the best one only, again
        assert screen.kept() == {burst.best.row}
        await pilot.press("j")
        assert "Burst 2 of 3" in screen_text(app)
        await pilot.press("escape")
        assert not isinstance(app.screen, BurstScreen)


async def test_every_burst_at_once_keeps_each_best_frame(root, master) -> None:
    app = _app(root)
    async with app.run_test(size=(120, 36)) as pilot:
        await _open(app, pilot)
        await pilot.press("M")
        assert await _until(app, pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await _until(app, pilot, lambda: bool(_moved(root, master)))
    frames = {str(p.relative_to(master.root)) for b in master.bursts for p in b.paths}
    best = {str(b.best_path.relative_to(master.root)) for b in master.bursts}
    assert _moved(root, master) == frames - best
    for b in master.bursts:
        assert (root / b.best_path.relative_to(master.root)).exists()
