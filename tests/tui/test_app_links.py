"""Pilot tests: hard links and symlinks from the app, only for exact copies on one filesystem
(issue #16, item 9).

What a user does: mark a byte-identical copy, press L (or pick "Symlink marked exact copies"
in the command palette), read what a link means in the dialog, say yes, and find the copy's
name now showing the kept file; u puts the original back. A copy that is not byte-identical,
or whose twin is on another disk, is refused with its reason and nothing on disk changes.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import record_notifications, tree_digests, wait_for_review

from tui_dedup.tui.app import create_app
from tui_dedup.tui.commands import DedupCommands
from tui_dedup.tui.screens.confirm import ConfirmScreen

ORIGINAL = "2023/holiday/IMG_2041.jpg"
COPY = "backup/IMG_2041 copy.jpg"  # a byte copy: the pair is "exact"


@pytest.fixture
def with_copy(settings, demo_dir):
    shutil.copyfile(demo_dir / ORIGINAL, demo_dir / COPY)
    return settings


async def cursor_to(pilot, screen, want: Callable[[int], bool]) -> int:
    """Walk the pair table down (and to the side) until the cursor is on a file ``want``s."""
    model = screen.model
    for _ in range(len(model)):
        _, i, j = model.current()
        if want(i) or want(j):
            await pilot.press("h" if want(i) else "l")
            return model.current_file()
        await pilot.press("down")
    raise AssertionError("no such file in the table")


async def mark(app, pilot, rel: str) -> int:
    """Find ``rel`` through the filter, put the cursor on it and mark it (space)."""
    screen = app.screen
    await pilot.press("slash", *rel.rpartition("/")[2], "enter")
    await pilot.pause()
    f = await cursor_to(pilot, screen, lambda r: screen.session.paths[r].endswith(rel))
    await pilot.press("space")
    await pilot.pause()
    assert f in set(screen.model.marked_files().tolist())
    return f


async def settle(app, pilot) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()


def command(app, title: str):
    for t, _help, callback in DedupCommands(app.screen).commands():
        if t == title:
            return callback
    raise AssertionError(f"no command {title!r}")


async def test_L_hard_links_an_exact_copy_and_undo_puts_it_back(with_copy, demo_dir):
    before = tree_digests(demo_dir)
    original, copy = demo_dir / ORIGINAL, demo_dir / COPY
    app = create_app(with_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_review(app, pilot)
        await mark(app, pilot, COPY)
        await pilot.press("L")
        await settle(app, pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen)
        assert dialog.title_text.startswith("Hard link: 1 file(s)")
        assert dialog.lines[0].startswith("A hard link gives the copy that stays a second name")
        assert str(dialog.query_one("#yes").label) == "Link [y]"
        await pilot.press("y")
        await settle(app, pilot)
        # the copy's name now shows the original: one file on the disk, two names
        assert os.path.samefile(copy, original) and not copy.is_symlink()
        kept = list((demo_dir / ".dedup-tui" / "duplicates").rglob("IMG_2041 copy.jpg"))
        assert len(kept) == 1  # the copy itself waits in the quarantine for an undo

        await pilot.press("u")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen) and "Undo" in app.screen.title_text
        await pilot.press("y")
        await settle(app, pilot)
        assert not os.path.samefile(copy, original)
    after = {k: v for k, v in tree_digests(demo_dir).items() if not k.startswith(".dedup-tui")}
    assert after == before


async def test_a_symlink_from_the_palette_and_undo(with_copy, demo_dir):
    before = tree_digests(demo_dir)
    original, copy = demo_dir / ORIGINAL, demo_dir / COPY
    app = create_app(with_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_review(app, pilot)
        await mark(app, pilot, COPY)
        command(app, "Symlink marked exact copies")()
        await settle(app, pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen)
        assert dialog.title_text.startswith("Symlink: 1 file(s)")
        assert "if that copy is moved or deleted later, the link is broken" in dialog.lines[0]
        await pilot.press("y")
        await settle(app, pilot)
        assert copy.is_symlink() and os.path.samefile(copy, original)
        await pilot.press("u")
        await pilot.pause()
        await pilot.press("y")
        await settle(app, pilot)
        assert not copy.is_symlink()
    after = {k: v for k, v in tree_digests(demo_dir).items() if not k.startswith(".dedup-tui")}
    assert after == before


async def test_a_copy_that_is_not_exact_is_refused_and_nothing_changes(with_copy, demo_dir):
    before = tree_digests(demo_dir)
    app = create_app(with_copy)
    shown = record_notifications(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_review(app, pilot)
        screen = app.screen
        small = "phone/WhatsApp Images/IMG-2024-WA0001.jpg"  # a smaller re-encoded copy
        await mark(app, pilot, small)
        await pilot.press("L")
        await settle(app, pilot)
        assert app.screen is screen  # no dialog: nothing could be linked
        assert shown[-1] == (
            f"1 file(s) ({small}): no exact (byte-identical) copy stays unmarked; a link "
            "needs the same bytes (m moves such a file instead)"
        )
    assert tree_digests(demo_dir) == before


async def test_with_an_exact_and_a_re_encoded_copy_only_the_exact_one_is_linked(
    with_copy, demo_dir
):
    app = create_app(with_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_review(app, pilot)
        await mark(app, pilot, COPY)
        await pilot.press("escape")  # the filter goes; the marks stay
        await mark(app, pilot, "phone/WhatsApp Images/IMG-2024-WA0001.jpg")
        await pilot.press("L")
        await settle(app, pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen)
        assert dialog.title_text.startswith("Hard link: 1 file(s)")
        refused = [line for line in dialog.lines if line.startswith("REFUSED")]
        assert len(refused) == 1 and "IMG-2024-WA0001.jpg): no exact" in refused[0]
        await pilot.press("n")
        await settle(app, pilot)
    assert not (demo_dir / ".dedup-tui" / "duplicates").exists()


@pytest.fixture
def other_disk(demo_dir) -> Iterator[Path]:
    """A folder on another filesystem (tmpfs) holding a byte copy of a demo photo."""
    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(demo_dir).st_dev:
        pytest.skip("needs /dev/shm on another filesystem than the test's tmp dir")
    top = Path(tempfile.mkdtemp(prefix="dedup-tui-test-", dir=shm))
    try:
        shutil.copyfile(demo_dir / ORIGINAL, top / "IMG_2041 twin.jpg")
        yield top
    finally:
        shutil.rmtree(top, ignore_errors=True)


async def test_a_twin_on_another_filesystem_is_refused(settings, demo_dir, other_disk):
    settings.roots.append(str(other_disk))
    before = {**tree_digests(demo_dir), **tree_digests(other_disk)}
    app = create_app(settings)
    shown = record_notifications(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_review(app, pilot)
        screen = app.screen
        await mark(app, pilot, "IMG_2041 twin.jpg")
        await pilot.press("L")
        await settle(app, pilot)
        assert app.screen is screen
        assert shown[-1] == (
            f"1 file(s) ({other_disk.name}/IMG_2041 twin.jpg): its exact copy is on another "
            "filesystem; a link needs both on one"
        )
    assert {**tree_digests(demo_dir), **tree_digests(other_disk)} == before


async def test_the_palette_link_command_without_marks_says_what_to_do(with_copy, demo_dir):
    app = create_app(with_copy)
    shown = record_notifications(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_review(app, pilot)
        screen = app.screen
        assert screen.check_action("apply", ("hardlink",)) is None  # L is dimmed: no marks
        command(app, "Hard link marked exact copies")()
        await settle(app, pilot)
        assert app.screen is screen
        assert shown[-1] == "nothing is marked: mark the copies to remove first (space)"
    assert not (demo_dir / ".dedup-tui").exists()
