"""The command palette: method, preset, export and rescan commands do what they say."""

from __future__ import annotations

import json

from conftest import wait_for_review
from textual.command import CommandPalette

from tui_dedup.tui.app import create_app
from tui_dedup.tui.commands import DedupCommands


def command(app, title: str):
    provider = DedupCommands(app.screen)
    for t, _help, callback in provider.commands():
        if t == title:
            return callback
    raise AssertionError(f"no command {title!r}")


async def test_palette_lists_methods_presets_and_exports(settings):
    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        titles = [t for t, _, _ in DedupCommands(app.screen).commands()]
        for t in ("Rescan", "Method: dhash", "Threshold: strict", "Export JSON", "Export CSV"):
            assert t in titles
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press("escape")


async def test_method_and_preset_commands_rematch(settings):
    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        command(app, "Method: dhash")()
        await wait_for_review(app, pilot)
        assert app.session.method == "dhash"
        assert "dhash" in str(app.screen.query_one("#status").render())
        command(app, "Threshold: strict")()
        await wait_for_review(app, pilot)
        strict = len(app.session.pairs)
        command(app, "Threshold: loose")()
        await wait_for_review(app, pilot)
        assert len(app.session.pairs) >= strict
        assert len(app.screen.model) == len(app.session.pairs)


async def test_export_json(settings, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        command(app, "Export JSON")()
        await app.workers.wait_for_complete()
        await pilot.pause()
        n = len(app.session.pairs)
    out = list(tmp_path.glob("dedup-tui-*.json"))
    assert len(out) == 1
    data = json.loads(out[0].read_text())
    assert len(data["pairs"]) == n


async def test_rescan_returns_to_review(settings):
    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        first = app.session
        command(app, "Rescan")()
        await pilot.pause()
        await wait_for_review(app, pilot)
        assert app.session is not first
        assert len(app.session.pairs) == len(first.pairs)


async def test_the_open_palette_finds_review_commands_by_typing(settings):
    """Issue #16 item 2: typing "method", "preset" or "export" in the palette found nothing,
    because the commands were offered only while the review screen was the active screen —
    which it is not while the palette is open."""
    from textual.command import CommandInput, CommandList

    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        for query, expected in (
            ("method", "Method: dhash"),
            ("threshold", "Threshold: strict"),
            ("export", "Export JSON"),
        ):
            await pilot.press("ctrl+p")
            await pilot.pause()
            palette = app.screen
            assert isinstance(palette, CommandPalette)
            palette.query_one(CommandInput).value = query
            shown: list[str] = []
            for _ in range(50):  # the search runs in the palette's own task
                await pilot.pause()
                hits = palette.query_one(CommandList)
                shown = [str(hits.get_option_at_index(k).prompt) for k in range(hits.option_count)]
                if any(expected in s for s in shown):
                    break
            assert any(expected in s for s in shown), (query, shown)
            await pilot.press("escape")
            await pilot.pause()


def test_the_resume_dialog_speaks_of_what_was_saved_in_the_words_of_its_buttons():
    from tui_dedup.tui.app import resume_lines

    assert resume_lines(3, 0) == [
        "Saved last time: 3 marked file(s).",
        "Resume puts the marks back; Start fresh begins with no marks.",
    ]
    text = " ".join(resume_lines(0, 2))
    assert "0 marked" not in text and "2 pair(s)" in text and "stay hidden" in text
