"""Screens built once and reused (errors, help, details), the footer that skips identical
rebuilds, the palette mask that ends with the command, and no full GC during a scan."""

from __future__ import annotations

import gc

from conftest import wait_for_review
from textual.command import CommandPalette
from textual.widgets import RichLog

from tui_dedup.engine.model import ScanError
from tui_dedup.tui.app import create_app
from tui_dedup.tui.gc_policy import FullCollectionsPaused
from tui_dedup.tui.screens.details import DetailsScreen
from tui_dedup.tui.screens.errors import ErrorsScreen
from tui_dedup.tui.screens.help import HelpScreen
from tui_dedup.tui.screens.review import ReviewScreen
from tui_dedup.tui.widgets.footer import QuietFooter


def log_text(screen: ErrorsScreen) -> str:
    return "\n".join(line.text for line in screen.query_one(RichLog).lines)


async def test_errors_screen_is_reused_and_follows_new_problems(settings):
    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        app.action_show_errors()
        await pilot.pause()
        first = app.screen
        assert isinstance(first, ErrorsScreen)
        await pilot.press("escape")
        app.problems.append("match failed: boom")
        app.session.result.errors = [ScanError("/x/broken.jpg", "cannot decode")]
        app.action_show_errors()
        await pilot.pause()
        assert app.screen is first  # the same screen, not a new one
        text = log_text(first)
        assert "broken.jpg: cannot decode" in text and "match failed: boom" in text
        assert "1 file(s) could not be read" in str(first.query_one("#errors-title").render())
        await pilot.press("escape")
        assert isinstance(app.screen, ReviewScreen)


async def test_palette_errors_command_opens_the_screen_and_ends_the_mask(settings):
    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"Errors")
        for _ in range(100):  # the palette searches in a worker
            await pilot.pause(0.02)
            if app.screen.query_one("CommandList").option_count:
                break
        await pilot.press("enter")
        for _ in range(50):
            await pilot.pause(0.01)
            if isinstance(app.screen, ErrorsScreen) and not app._batch_count:
                break
        assert isinstance(app.screen, ErrorsScreen)
        assert app._batch_count == 0  # updates flow again: the mask ended
        await pilot.press("escape")


async def test_help_and_details_are_reused(settings):
    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        review = app.screen
        await pilot.press("question_mark")
        await pilot.pause()
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        await pilot.press("escape")
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.screen is help_screen
        assert "Mark" in str(help_screen.query_one("#help-body").render())
        await pilot.press("escape")

        await pilot.press("d")
        await pilot.pause()
        details = app.screen
        assert isinstance(details, DetailsScreen)
        first_pair = (details.i, details.j)
        await app.workers.wait_for_complete()
        await pilot.press("escape")
        await pilot.press("down", "d")
        await pilot.pause()
        assert app.screen is details
        assert (details.i, details.j) == review.current_pair() != first_pair
        path_b = details.store.entries[details.j].path
        assert path_b.rsplit("/", 1)[-1] in str(details.query_one("#details-b").render())
        await pilot.press("escape")


async def test_details_drops_an_answer_for_the_previous_pair(settings):
    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        await pilot.press("d")
        await app.workers.wait_for_complete()
        await pilot.pause()
        details = app.screen
        assert isinstance(details, DetailsScreen)
        old_token = details._token
        details.show_pair(details.store, details.j, details.i)
        stale = ScanError("/stale.jpg", "from the previous pair")
        details.post_message(DetailsScreen.PixelsReady(stale, old_token))
        await pilot.pause()
        assert "stale" not in str(details.query_one("#details-pixels").render())


async def test_footer_is_not_rebuilt_when_its_keys_did_not_change(settings, monkeypatch):
    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        footer = app.screen.query_one(QuietFooter)
        calls = []
        real = QuietFooter.recompose

        async def counting(self):
            calls.append(self)
            return await real(self)

        monkeypatch.setattr(QuietFooter, "recompose", counting)
        await pilot.press("question_mark")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert footer not in calls  # a modal came and went: same keys, no rebuild
        await pilot.press("slash")  # the filter box takes focus: other keys apply
        await pilot.pause(0.1)
        assert footer in calls


def test_full_collections_paused_while_held_and_restored_by_the_last_holder():
    before = gc.get_threshold()
    a, b = FullCollectionsPaused(), FullCollectionsPaused()
    try:
        a.start()
        b.start()
        assert gc.get_threshold()[2] > 10**6
        assert gc.get_threshold()[:2] == before[:2]
        a.resume()  # not in reverse order: still paused for b
        assert gc.get_threshold()[2] > 10**6
        a.resume()  # a second resume is a no-op
        b.resume()
        assert gc.get_threshold() == before
    finally:
        gc.set_threshold(*before)


async def test_scan_screen_restores_gc_thresholds_when_the_scan_ends(settings):
    """The scan's pause ends with the scan; the review holds its own (full collections wait
    for a pause in the keys, gc_policy.CollectWhenIdle) until it goes."""
    before = gc.get_threshold()
    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        assert gc.get_threshold()[:2] == before[:2]
    assert gc.get_threshold() == before
