"""Pilot tests that check the user's files on disk: move, undo, quit, resume."""

from __future__ import annotations

import os

from conftest import record_notifications, tree_digests, wait_for_review

from tui_dedup.actions.skips import ReviewState
from tui_dedup.tui.app import create_app
from tui_dedup.tui.screens.confirm import ConfirmScreen
from tui_dedup.tui.screens.review_state import SAVE_DELAY


async def test_move_then_undo(settings, demo_dir):
    before = tree_digests(demo_dir)
    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        screen = app.screen
        model = screen.model
        n_pairs = len(model)
        await pilot.press("l")  # side B
        f = model.current_file()
        rel = screen.session.entries[f].relpath
        src = demo_dir / rel
        await pilot.press("space", "m")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "1 file(s)" in app.screen.title_text
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        (dest,) = (demo_dir / ".dedup-tui" / "duplicates").glob(f"*/{rel}")  # its batch folder
        assert not src.exists() and dest.exists()
        # every pair showing the moved file is gone, and its mark with it
        assert len(model) < n_pairs
        assert f not in set(model.pairs.i.tolist()) | set(model.pairs.j.tolist())
        assert model.marked_files().size == 0
        await pilot.press("u")  # files would move again: it asks first
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen) and "Undo" in app.screen.title_text
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert src.exists() and not dest.exists()
        assert len(model) == n_pairs
    after = {k: v for k, v in tree_digests(demo_dir).items() if not k.startswith(".dedup-tui")}
    assert after == before


async def _mark_b_and_press_m(app, pilot):
    """Mark file B of the first pair and press m; returns (file B's path, the keeper's path)."""
    await wait_for_review(app, pilot)
    screen = app.screen
    await pilot.press("l")
    f = screen.model.current_file()
    keeper = screen.session.plan_groups([f])[0][0]  # the copy that stays for this file
    await pilot.press("space", "m")
    await app.workers.wait_for_complete()
    await pilot.pause()
    return screen.session.entries[f].path, keeper.path


async def test_keeper_changed_after_review_is_refused_at_m(settings, demo_dir):
    """Issue #13: the copy that stays was replaced after the review (same size, mtime put
    back): `m` refuses that file with its reason and nothing moves."""
    app = create_app(settings)
    shown = record_notifications(app)
    async with app.run_test(size=(120, 36)) as pilot:
        marked, keeper = await _mark_b_and_press_m(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        st = os.stat(keeper)
        with open(keeper, "r+b") as f:  # another picture, same size, old mtime
            f.write(bytes(b ^ 0xFF for b in f.read(64)))
        os.utime(keeper, ns=(st.st_atime_ns, st.st_mtime_ns))
        before = tree_digests(demo_dir)
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert os.path.exists(marked)
        assert any("skipped 1" in m and "content changed since the scan" in m for m in shown)
    assert tree_digests(demo_dir) == before


async def test_lock_held_by_another_process_is_refused_at_m(settings, demo_dir):
    """Issue #13: another dedup-tui changing files in the same tree: `m` says who and
    changes nothing."""
    import subprocess
    import sys

    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from tui_dedup.actions.locks import tree_lock\n"
            "with tree_lock([sys.argv[1]], command='dedup-tui apply other.json'):\n"
            "    print('held', flush=True); sys.stdin.read()",
            str(demo_dir),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        before = tree_digests(demo_dir)
        app = create_app(settings)
        shown = record_notifications(app)
        async with app.run_test(size=(120, 36)) as pilot:
            marked, _keeper = await _mark_b_and_press_m(app, pilot)
            await pilot.press("y")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert os.path.exists(marked)
            assert any(f"pid {holder.pid}" in m and "other.json" in m for m in shown), shown
        assert tree_digests(demo_dir) == before
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


async def test_trash_disabled_without_marks_and_refuses_whole_group(settings, demo_dir):
    """Marking every file of a group: the plan refuses it, nothing moves."""
    before = tree_digests(demo_dir)
    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        screen = app.screen
        group = screen.session.groups[0]
        for f in group.members:
            screen.model.set_mark(f)
        screen.marks_changed()
        await pilot.press("m")
        await app.workers.wait_for_complete()
        await pilot.pause()
        # only refused steps (or the other groups' none): either no dialog, or no group-1 file
        if isinstance(app.screen, ConfirmScreen):
            await pilot.press("n")
    assert tree_digests(demo_dir) == before


async def test_quit_leaves_every_file_untouched(settings, demo_dir):
    before = tree_digests(demo_dir)
    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        await pilot.press("a")  # auto-mark: lots of marks, nothing moved
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)  # more than 20 marks: asks first
        await pilot.press("y")
        assert app.screen.model.marked_files().size > 0
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot.pause()
    assert not app.is_running
    assert tree_digests(demo_dir) == before
    assert not (demo_dir / ".dedup-tui").exists()


async def test_marks_are_offered_back_after_restart(settings, demo_dir):
    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        model = app.screen.model
        await pilot.press("down", "down", "space")
        marked = {app.screen.session.entries[int(r)].path for r in model.marked_files()}
        cursor = model.cursor
        # saved as you go: no quit needed (a crash here would lose nothing)
        await pilot.pause(SAVE_DELAY + 0.3)
        state = ReviewState.load([str(demo_dir)])
        assert state is not None and state.marks == marked

    app2 = create_app(settings)
    async with app2.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app2, pilot)
        assert isinstance(app2.screen, ConfirmScreen)
        assert "Resume" in app2.screen.title_text
        await pilot.press("y")
        await pilot.pause()
        review = app2.screen
        got = {review.session.entries[int(r)].path for r in review.model.marked_files()}
        assert got == marked
        assert review.model.cursor == cursor


async def test_declining_resume_starts_fresh(settings, demo_dir):
    ReviewState(
        [str(demo_dir)], marks={os.path.join(str(demo_dir), "2023/holiday/IMG_2040.jpg")}
    ).save()
    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        await pilot.press("n")
        await pilot.pause()
        assert app.screen.model.marked_files().size == 0
    assert ReviewState.load([str(demo_dir)]) is None or not ReviewState.load([str(demo_dir)]).marks
