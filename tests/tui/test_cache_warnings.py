"""The app shows what the feature cache had to say (issue #14: the CLI printed a damaged,
read-only or disabled cache on stderr, the app said nothing)."""

from __future__ import annotations

from conftest import record_notifications, wait_for_review

from tui_dedup.tui.app import create_app


async def test_a_damaged_cache_is_set_aside_and_the_app_says_so(settings, tmp_path) -> None:
    cache = tmp_path / "cache" / "features.sqlite"
    cache.parent.mkdir()
    cache.write_bytes(b"not a database " * 100)
    settings.use_cache = True
    settings.cache_path = str(cache)
    app = create_app(settings)
    shown = record_notifications(app)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        warnings = [m for m in shown if "feature cache" in m]
        assert len(warnings) == 1, shown
        assert "damaged" in warnings[0] and "starting afresh" in warnings[0]
        aside = [p.name for p in cache.parent.iterdir() if ".corrupt-" in p.name]
        assert len(aside) == 1 and aside[0] in warnings[0]  # it names where the file went
        assert len(app.screen.session.pairs) > 0  # and the review goes on


async def test_a_healthy_cache_brings_no_warning(settings, tmp_path) -> None:
    settings.use_cache = True
    settings.cache_path = str(tmp_path / "cache" / "features.sqlite")
    app = create_app(settings)
    shown = record_notifications(app)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        assert not [m for m in shown if "feature cache" in m], shown
