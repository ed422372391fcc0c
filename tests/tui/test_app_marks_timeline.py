"""Pilot tests: marks and skips you can take back, on the demo library.

What a user does: auto-mark and undo it, redo it, invert, mark everything under a folder,
look at the pairs skipped and unskip one; a key that would change more than 20 marks asks
first with the count and the bytes.
"""

from __future__ import annotations

import re

from conftest import record_notifications, wait_for_review

from tui_dedup.tui.app import create_app
from tui_dedup.tui.screens.confirm import ConfirmScreen
from tui_dedup.tui.screens.marks_dialogs import PatternScreen, SkipsScreen


def marked(screen) -> set[int]:
    return set(screen.model.marked_files().tolist())


def every_group_keeps_a_copy(screen) -> bool:
    now = marked(screen)
    return all(any(m not in now for m in g.members) for g in screen.session.groups)


def shown_pairs(screen) -> set[tuple[int, int]]:
    p = screen.session.pairs
    return set(zip(p.i.tolist(), p.j.tolist(), strict=True))


async def auto_mark_confirmed(app, pilot) -> int:
    """Press a; more than 20 marks: the dialog says how many and how many bytes; yes."""
    await pilot.press("a")
    await pilot.pause()
    dialog = app.screen
    assert isinstance(dialog, ConfirmScreen)
    assert re.fullmatch(r"Auto-mark: mark \d+ file\(s\), [\d.]+ [kMG]?B\?", dialog.title_text)
    await pilot.press("y")
    await pilot.pause()
    return len(marked(app.screen))


async def test_auto_mark_is_undone_and_redone_in_one_step(settings):
    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        screen = app.screen
        shown = record_notifications(app)
        n = await auto_mark_confirmed(app, pilot)
        assert n > 20
        await pilot.press("u")
        await pilot.pause()
        assert marked(screen) == set()
        assert f"undid: auto-mark ({n} files)" in shown[-1]
        status = str(screen.query_one("#status").render())
        assert "0 marked" in status
        assert f"undid: auto-mark ({n} files) (U redoes)" in status  # stays, unlike the toast
        await pilot.press("U")
        await pilot.pause()
        assert len(marked(screen)) == n
        assert f"redid: auto-mark ({n} files)" in shown[-1]
        assert "undid:" not in str(screen.query_one("#status").render())
        assert every_group_keeps_a_copy(screen)


async def test_more_than_20_marks_asks_first_and_no_leaves_them(settings):
    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        screen = app.screen
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is screen and marked(screen) == set()
        assert screen.check_action("undo", ()) is None  # nothing happened: nothing to undo


async def test_space_undo_and_unmark_all(settings):
    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        screen = app.screen
        await pilot.press("space", "down", "l", "space")
        two = marked(screen)
        assert len(two) == 2
        await pilot.press("u")
        assert len(marked(screen)) == 1
        await pilot.press("ctrl+r")  # redo, the other way
        assert marked(screen) == two
        await pilot.press("c")  # unmark all: two marks, no question
        await pilot.pause()
        assert marked(screen) == set()
        await pilot.press("u")
        assert marked(screen) == two


async def test_invert_never_leaves_a_group_without_an_unmarked_file(settings):
    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        screen = app.screen
        shown = record_notifications(app)
        await pilot.press("space")  # one file of the first pair
        before = marked(screen)
        await pilot.press("i")
        await pilot.pause()
        if isinstance(app.screen, ConfirmScreen):
            await pilot.press("y")
            await pilot.pause()
        after = marked(screen)
        assert after and after != before and not (before & after)
        assert every_group_keeps_a_copy(screen)
        assert "left alone: group" in shown[-1]  # groups with no mark would lose every copy
        await pilot.press("u")
        assert marked(screen) == before


async def test_mark_everything_under_a_folder(settings, demo_dir):
    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        screen = app.screen
        await pilot.press("f")
        await pilot.pause()
        assert isinstance(app.screen, PatternScreen)
        await pilot.press(*"backup/", "enter")
        await pilot.pause()
        if isinstance(app.screen, ConfirmScreen):
            await pilot.press("y")
            await pilot.pause()
        paths = screen.session.paths
        now = marked(screen)
        assert now and all(paths[m].startswith("backup/") for m in now)
        grouped = {m for g in screen.session.groups for m in g.members}
        under = {m for m in grouped if paths[m].startswith("backup/")}
        assert now == under
        assert every_group_keeps_a_copy(screen)


async def test_a_pattern_never_marks_a_groups_last_copy(settings):
    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        screen = app.screen
        shown = record_notifications(app)
        await pilot.press("f", *"*.*", "enter")  # every file: no group may lose them all
        await pilot.pause()
        assert app.screen is screen and marked(screen) == set()
        assert "left alone: group 1 (" in shown[-1]


async def test_unskip_brings_a_pair_back_and_forgets_it(settings):
    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        screen = app.screen
        skips = app.skips
        _, i, j = screen.model.current()
        pair = (min(i, j), max(i, j))
        digests = (screen.session.digest(i), screen.session.digest(j))
        assert screen.check_action("skips", ()) is None  # nothing skipped yet
        await pilot.press("s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert pair not in shown_pairs(screen) and skips.contains(*digests)

        await pilot.press("S")
        await pilot.pause()
        assert isinstance(app.screen, SkipsScreen)
        await pilot.press("u")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen is screen
        assert pair in shown_pairs(screen)
        assert not skips.contains(*digests)
        assert screen.session.skip_digests == []


async def test_undo_of_a_skip_brings_the_pair_back_and_redo_hides_it(settings):
    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        screen = app.screen
        _, i, j = screen.model.current()
        pair = (min(i, j), max(i, j))
        digests = (screen.session.digest(i), screen.session.digest(j))
        await pilot.press("s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("u")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert pair in shown_pairs(screen) and not app.skips.contains(*digests)
        await pilot.press("U")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert pair not in shown_pairs(screen) and app.skips.contains(*digests)
