"""Pilot tests: ``--move-to``, ``--keep-in`` and the auto-mark rule chain in the app (issue
#16, item 9: what czkawka / dupeGuru users look for).

What a user does: open the app with ``--move-to DIR``, mark a copy, press m and read in the
dialog where it goes, find it there, undo; open it with ``--keep-in`` and see that nothing in
that folder gets marked, by any key; order the rules auto-mark uses with ``A``, and find the
next ``a`` using that order. Every check is on real files or on what the screen says.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import record_notifications, tree_digests, wait_for_review

from tui_dedup.cli.entry import _tui_parser, run_tui
from tui_dedup.cli.options import UsageError, settings_from_args
from tui_dedup.review.keepers import DEFAULT_RULES
from tui_dedup.tui.app import create_app
from tui_dedup.tui.screens.confirm import ConfirmScreen
from tui_dedup.tui.screens.marks_dialogs import PatternScreen, RuleChainScreen


def marked(screen) -> set[int]:
    return set(screen.model.marked_files().tolist())


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


async def answer_if_asked(app, pilot, key: str = "y") -> None:
    """More than 20 mark changes ask first."""
    await pilot.pause()
    if isinstance(app.screen, ConfirmScreen):
        await pilot.press(key)
        await pilot.pause()


# -- the options -------------------------------------------------------------------------------


def test_the_app_takes_move_to_and_keep_in(demo_dir, tmp_path):
    dest = tmp_path / "dest"
    args = _tui_parser().parse_args(
        [str(demo_dir), "--move-to", str(dest), "--keep-in", str(demo_dir / "2023")]
    )
    settings = settings_from_args(args)
    assert settings.move_to == os.path.realpath(dest)
    assert settings.keep_in == (os.path.realpath(demo_dir / "2023"),)


def test_a_move_to_holding_the_scanned_folder_is_refused_before_the_app_opens(demo_dir):
    with pytest.raises(UsageError, match="contains the scanned folder"):
        run_tui(["--move-to", str(demo_dir.parent), str(demo_dir)])


# -- --move-to -----------------------------------------------------------------------------------


@pytest.fixture(params=["same disk", "another disk"])
def destination(request, tmp_path, demo_dir) -> Iterator[Path]:
    """A --move-to folder on the library's filesystem, or on another (tmpfs: copy + verify)."""
    if request.param == "same disk":
        yield tmp_path / "dest"
        return
    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(demo_dir).st_dev:
        pytest.skip("needs /dev/shm on another filesystem than the test's tmp dir")
    top = Path(tempfile.mkdtemp(prefix="dedup-tui-test-", dir=shm))
    try:
        yield top / "dest"
    finally:
        shutil.rmtree(top, ignore_errors=True)


async def test_m_moves_into_move_to_and_undo_brings_the_file_back(settings, demo_dir, destination):
    dest = os.path.realpath(destination)
    settings.move_to = dest
    before = tree_digests(demo_dir)
    app = create_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_review(app, pilot)
        screen = app.screen
        await pilot.press("l", "space", "m")
        await app.workers.wait_for_complete()
        await pilot.pause()
        rel = screen.session.entries[next(iter(marked(screen)))].relpath
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen)
        assert dialog.title_text.startswith("Move: 1 file(s)")
        assert dialog.lines[0].startswith(f"Files go to {dest} (--move-to)")
        another = os.stat(Path(dest).parent).st_dev != os.stat(demo_dir).st_dev
        assert any("copied, verified" in line for line in dialog.lines) == another
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        (moved,) = [p for p in tree_digests(destination) if p.endswith(rel)]
        batch, root_name, inside = moved.split("/", 2)
        assert " move " in batch and root_name == demo_dir.name and inside == rel
        assert not (demo_dir / rel).exists()
        assert not (demo_dir / ".dedup-tui" / "duplicates").exists()  # not the quarantine

        await pilot.press("u")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen) and "Undo" in app.screen.title_text
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert tree_digests(demo_dir) == before  # every file back where it was, bit for bit
    assert not [p for p in tree_digests(destination) if p.endswith(".jpg")]


# -- --keep-in -----------------------------------------------------------------------------------


@pytest.fixture
def keep_holiday(settings, demo_dir):
    """The demo library with 2023/holiday (the camera originals) as a reference folder."""
    settings.keep_in = (os.path.realpath(demo_dir / "2023" / "holiday"),)
    return settings


def in_holiday(screen) -> Callable[[int], bool]:
    return lambda row: screen.session.paths[row].startswith("2023/holiday/")


async def test_auto_mark_keeps_the_reference_copies(keep_holiday):
    app = create_app(keep_holiday)
    shown = record_notifications(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_review(app, pilot)
        screen = app.screen
        protected = {m for g in screen.session.groups for m in g.members if in_holiday(screen)(m)}
        assert protected
        await pilot.press("a")
        await answer_if_asked(app, pilot)
        now = marked(screen)
        assert now and not now & protected
        assert "never marked (--keep-in): " + keep_holiday.keep_in[0] in shown[-1]
        for g in screen.session.groups:  # a group holding a reference copy keeps it
            if protected & set(g.members):
                keeper, _why = screen.session.keeper_of(g.members[0])
                assert keeper in protected


async def test_marking_a_reference_file_by_hand_is_refused_and_says_why(keep_holiday):
    app = create_app(keep_holiday)
    shown = record_notifications(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_review(app, pilot)
        screen = app.screen
        f = await cursor_to(pilot, screen, in_holiday(screen))
        await pilot.press("space")
        await pilot.pause()
        assert marked(screen) == set()
        assert shown[-1] == (
            f"not marked: {screen.session.paths[f]} is in {keep_holiday.keep_in[0]}, a "
            "--keep-in folder, whose files are never moved or linked"
        )
        assert "\n" not in shown[-1]
        assert screen.check_action("undo", ()) is None  # nothing changed: nothing to undo


async def test_mark_by_folder_leaves_reference_files_and_says_so(keep_holiday):
    app = create_app(keep_holiday)
    shown = record_notifications(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_review(app, pilot)
        screen = app.screen
        await pilot.press("f")
        await pilot.pause()
        assert isinstance(app.screen, PatternScreen)
        await pilot.press(*"*IMG_2040*", "enter")  # the holiday original and its copies
        await answer_if_asked(app, pilot)
        now = marked(screen)
        assert now and not any(in_holiday(screen)(m) for m in now)
        assert all("IMG_2040" in screen.session.paths[m] for m in now)
        assert "1 file(s) in --keep-in folders left unmarked" in shown[-1]


async def test_the_move_dialog_names_the_protected_folder(keep_holiday):
    app = create_app(keep_holiday)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_review(app, pilot)
        screen = app.screen
        await cursor_to(pilot, screen, lambda r: not in_holiday(screen)(r))
        await pilot.press("space", "m")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert f"Never touched (--keep-in): {keep_holiday.keep_in[0]}" in app.screen.lines
        await pilot.press("n")


# -- the rule chain ------------------------------------------------------------------------------


async def test_A_orders_the_rules_and_the_next_a_uses_that_chain(settings):
    app = create_app(settings)
    shown = record_notifications(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_review(app, pilot)
        screen = app.screen
        await pilot.press("A")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, RuleChainScreen)
        # the dialog fits 80×24, and offers no rule the run cannot apply
        box = dialog.query_one(".dialog").region
        assert box.y >= 0 and box.bottom <= 24 and box.right <= 80
        names = [name for name, _ in dialog.choices]
        assert "preferred-folder" not in names and "size" in names
        assert dialog.picked == list(DEFAULT_RULES)  # the chain in use, numbered

        await pilot.press("c")  # clear, then pick size and then oldest
        for name in ("size", "oldest"):
            while dialog.query_one("OptionList").highlighted != names.index(name):
                await pilot.press("down")
            await pilot.press("space")
        summary = str(dialog.query_one("#chain-summary").render())
        assert "size > oldest > then the path" in summary
        await pilot.press("enter")
        await pilot.pause()
        question = app.screen
        assert isinstance(question, ConfirmScreen)  # the demo has more than 20 copies
        assert "rules, in order: size > oldest > then the path" in question.lines
        await pilot.press("y")
        await pilot.pause()
        first = marked(screen)
        assert first
        sizes = screen.session.store.column("size")
        for g in screen.session.groups:  # size first: every group keeps its biggest file
            kept = [m for m in g.members if m not in first]
            assert max(sizes[m] for m in kept) == max(sizes[m] for m in g.members)
        assert "rules, in order: size > oldest > then the path" in shown[-1]

        await pilot.press("c")  # unmark all (many: asks first); the next a remembers the chain
        await answer_if_asked(app, pilot)
        assert marked(screen) == set()
        await pilot.press("a")
        await pilot.pause()
        assert "rules, in order: size > oldest > then the path" in app.screen.lines
        await pilot.press("y")
        await pilot.pause()
        assert marked(screen) == first


async def test_the_chain_dialog_answers_escape_n_y_and_puts_the_default_back(settings):
    app = create_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_review(app, pilot)
        screen = app.screen
        for cancel in ("escape", "n"):  # nothing changes: not the chain, not the marks
            await pilot.press("A", "c", "space", cancel)
            await pilot.pause()
            assert app.screen is screen and marked(screen) == set()
            assert screen.session.keeping.rules == DEFAULT_RULES
        await pilot.press("A", "c", "space")  # the highlighted rule alone: raw
        await pilot.pause()
        assert app.screen.picked == ["raw"]
        await pilot.press("d")  # the default chain again
        assert app.screen.picked == list(DEFAULT_RULES)
        await pilot.press("c", "down", "space", "y")  # y applies, as Enter does
        await answer_if_asked(app, pilot, "n")  # the chain is chosen; the marks declined
        assert app.screen is screen and marked(screen) == set()
        assert screen.session.keeping.rules == ("resolution",)


async def test_preferred_folder_is_offered_with_keep_in_and_leads_the_chain(keep_holiday):
    app = create_app(keep_holiday)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_review(app, pilot)
        await pilot.press("A")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, RuleChainScreen)
        assert "preferred-folder" in [name for name, _ in dialog.choices]
        assert dialog.picked[0] == "preferred-folder"
        await pilot.press("c")  # nothing picked: the default chain, reference copies first
        summary = str(dialog.query_one("#chain-summary").render())
        assert summary.startswith("None picked, so the default: preferred-folder > raw >")
