"""Words a newcomer understands (issue #16, item 7): the threshold in words and a key back to
it, help that says how it is organised and how to close it, one spelling of sizes."""

from __future__ import annotations

from conftest import screen_text, wait_for_review

from tui_dedup.actions.plan import human_bytes
from tui_dedup.tui.app import create_app
from tui_dedup.tui.screens.help import HelpScreen


def status(app) -> str:
    return str(app.screen.query_one("#status").render())


async def test_zero_puts_the_threshold_back_where_the_review_started(settings) -> None:
    settings.max_distance_arg = 8
    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        session = app.screen.session
        start = len(session.pairs)
        assert "phash within 8 bits (" in status(app)
        for key in ("plus", "plus", "plus"):
            await pilot.press(key)
            await wait_for_review(app, pilot)
        assert session.threshold.max_distance == 11
        await pilot.press("0")
        await wait_for_review(app, pilot)
        assert session.threshold.max_distance == 8
        assert len(session.pairs) == start
        assert "phash within 8 bits (" in status(app)


async def test_help_says_how_it_is_organised_and_how_to_close_it(settings) -> None:
    app = create_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_review(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        assert "escape, q or ? closes" in text
        assert "command palette" in text
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_sizes_are_spelt_one_way_in_the_status_bar_and_the_dialogs(settings) -> None:
    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        await pilot.press("space", "m")
        for _ in range(20):
            await pilot.pause(0.05)
            await app.workers.wait_for_complete()
        text = screen_text(app)
        assert " kB" in text or " MB" in text
        assert " KB" not in text
    assert human_bytes(248_900) == "248.9 kB"
    assert human_bytes(3_500_000_000_000) == "3.5 TB"
