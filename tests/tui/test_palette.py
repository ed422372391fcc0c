"""The command palette and the screens under it: quiet while open, fresh each time it opens."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from conftest import wait_for_review
from textual.app import App, ComposeResult
from textual.command import CommandInput, CommandList, CommandPalette
from textual.screen import ModalScreen, Screen
from textual.widgets import Label

import tui_dedup.review.pipeline as scan_screen  # where the scan runs
from tui_dedup.engine.features.store import StoreBuilder
from tui_dedup.engine.scan import ScanResult
from tui_dedup.engine.scan_progress import ScanProgress
from tui_dedup.tui.app import create_app
from tui_dedup.tui.screen_refresh import NoRepaintLoop
from tui_dedup.tui.screens.errors import ErrorsScreen
from tui_dedup.tui.screens.scan import ScanScreen
from tui_dedup.tui.widgets.progress import ScanProgressView


class Counted:
    """Counts the frames an app would write to the terminal."""

    frames = 0

    def _display(self, screen, renderable) -> None:
        if renderable is not None and not self._batch_count:
            self.frames += 1
        super()._display(screen, renderable)


class Under(NoRepaintLoop, Screen):
    """Receives a message every 0.1 s, as the scan screen does (its progress reports)."""

    def compose(self) -> ComposeResult:
        yield Label("0", id="n")

    def on_mount(self) -> None:
        self.set_interval(0.1, self.tick)

    def tick(self) -> None:
        pass  # nothing visible changes


class Over(NoRepaintLoop, ModalScreen[None]):
    def compose(self) -> ComposeResult:
        yield Label("on top")


class CoveredApp(Counted, App[None]):
    def on_mount(self) -> None:
        self.push_screen(Under())


async def test_a_change_under_a_modal_is_shown_and_costs_few_frames() -> None:
    """The covered screen passes its change up and is current when the modal closes."""
    app = CoveredApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        under = app.screen
        app.push_screen(Over())
        await pilot.pause(0.2)
        under.query_one("#n", Label).update("1")  # one change on the covered screen
        before = app.frames
        await pilot.pause(0.6)
        assert app.frames - before <= 3
        # and the change is on the terminal once the top screen closes
        app.pop_screen()
        await pilot.pause(0.1)
        assert "1" in str(under.query_one("#n", Label).render())


async def test_palette_is_quiet_while_open(settings) -> None:
    """No busy-indicator animation or covered-screen loop writing frames while nothing moves."""
    base = type(create_app(settings))

    class Frames(Counted, base):
        CSS_PATH = str(Path(sys.modules[base.__module__].__file__).with_name(base.CSS_PATH))

    app = Frames(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        await pilot.press("ctrl+p")
        await pilot.pause(0.6)  # the discovery list has come in
        assert isinstance(app.screen, CommandPalette)
        before = app.frames
        await pilot.pause(1.0)
        assert app.frames - before <= 3  # the search box's cursor blinks twice a second


async def until(pilot, ready, what: str) -> None:
    """Pause until ``ready()`` (the palette searches in a worker; a screen comes or goes a frame
    after its key), instead of a fixed wait long enough for a slow machine. Fails after ~5 s."""
    for _ in range(250):
        if ready():
            return
        await pilot.pause()
    raise AssertionError(f"never {what}")


async def test_palette_opens_fresh_after_a_command_ran(settings) -> None:
    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        review = app.screen
        await pilot.press("ctrl+p", *"errors")
        palette = app.screen
        assert isinstance(palette, CommandPalette)
        await until(pilot, lambda: palette.query_one(CommandList).option_count > 0, "a hit")
        await pilot.pause()  # every provider's hits are in
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ErrorsScreen), "the errors screen")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is review, "back to the review")

        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
        await pilot.pause()
        palette = app.screen
        box = palette.query_one(CommandInput)
        assert box.value == ""  # not the last search
        assert app.focused is box  # typing goes to the search box
        await pilot.press(*"help")
        hits = palette.query_one(CommandList)
        await until(pilot, lambda: hits.option_count > 0, "a hit for help")
        assert box.value == "help"
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is review, "the palette closed")


async def test_palette_follows_a_theme_change(settings) -> None:
    app = create_app(settings)

    def background():
        return app.screen.query_one("#--container").styles.background

    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        review = app.screen
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
        await pilot.pause()
        dark = background()
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is review, "the palette closed")
        app.theme = "textual-light"
        await pilot.pause()
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
        await until(pilot, lambda: background() != dark, "the light theme's background")


def _endless_scan(roots, config, *, cache=None, on_progress=None, should_stop=None, **_kw):
    """Stands in for the engine: a progress report every 0.1 s until stopped, no decoding."""
    done = 0
    while not should_stop():
        on_progress(ScanProgress("hashing", done, 100_000, 0, 0, 0, done / 10, 10.0, "a.jpg"))
        done += 1
        time.sleep(0.1)
    empty = StoreBuilder(config.hash_size).build()
    return ScanResult(list(roots), empty, [], [], True, 0, 0, done / 10)


async def test_palette_over_a_running_scan_writes_few_frames(settings, monkeypatch) -> None:
    """Progress reports keep coming under the palette; the terminal gets ~2 frames a second
    (cursor blink, a once-a-second progress figure and its repaint), not a full repaint
    per report."""
    monkeypatch.setattr(scan_screen, "scan", _endless_scan)
    base = type(create_app(settings))

    class Frames(Counted, base):
        CSS_PATH = str(Path(sys.modules[base.__module__].__file__).with_name(base.CSS_PATH))

    app = Frames(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        for _ in range(50):
            await pilot.pause(0.1)
            if isinstance(app.screen, ScanScreen):
                break
        scan = app.screen
        assert isinstance(scan, ScanScreen)
        await pilot.pause(0.3)
        await pilot.press("ctrl+p")
        await pilot.pause(0.6)
        assert isinstance(app.screen, CommandPalette)
        before = app.frames
        await pilot.pause(1.5)
        assert app.frames - before <= 10  # 15 reports; Textual alone wrote ~20 frames
        under = scan.query_one(ScanProgressView).progress.done
        await pilot.press("escape")
        await pilot.pause(0.05)
        assert app.screen is scan
        assert scan.query_one(ScanProgressView).progress.done > under  # the latest, at once
        await pilot.press("escape")  # stop the scan
