"""Each Textual patch (tui_dedup/tui/textual_patches/): a canary and a "still needed" test.

The canary fails when a private name the patch touches is gone or has changed (a method copied
or re-implemented from Textual is compared by a digest of Textual's source: a new digest means
"read Textual's new version, check the patch against it, then update the digest"). The
"still needed" test switches the patch off (DEDUP_TUI_NO_PATCH) and fails when Textual no
longer shows the problem: then the patch can go. Some patches also get a test that the patch,
switched on, does what it says. No wall-clock asserts: calls, renders and states are counted.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import selectors
import signal
import threading
import weakref
from functools import partial
from typing import ClassVar

import pytest
import textual
import textual.constants
import textual.worker
from textual import events
from textual.app import App, ComposeResult
from textual.command import CommandPalette, Provider
from textual.driver import Driver
from textual.drivers.linux_driver import LinuxDriver
from textual.message import Message
from textual.reactive import Reactive
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Footer, Label, LoadingIndicator, Static
from textual.worker import Worker

from tui_dedup.tui.driver import driver_class
from tui_dedup.tui.gc_policy import use_fresh_context_executor
from tui_dedup.tui.palette import open_palette
from tui_dedup.tui.screen_refresh import NoRepaintLoop
from tui_dedup.tui.textual_patches import (
    ENV_VAR,
    PATCHES,
    enabled,
    switched_off,
    unknown_names,
)
from tui_dedup.tui.textual_patches.delay_update import delay_update_until_command_ran
from tui_dedup.tui.textual_patches.driver import PromptEscapeLinuxDriver
from tui_dedup.tui.textual_patches.palette import QuietCommandPalette
from tui_dedup.tui.widgets.footer import QuietFooter


def _digest(obj: object) -> str:
    return hashlib.sha256(inspect.getsource(obj).encode()).hexdigest()[:16]  # type: ignore[arg-type]


def _params(func: object) -> list[str]:
    return list(inspect.signature(func).parameters)  # type: ignore[arg-type]


def _patch_off(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(ENV_VAR, name)
    assert not enabled(name)


@pytest.fixture(autouse=True)
def _patches_on(monkeypatch):
    """Every test starts with all patches on, whatever the environment running the suite says."""
    monkeypatch.delenv(ENV_VAR, raising=False)


# -- the switch ------------------------------------------------------------------------------


def test_the_switch_turns_off_the_patches_it_names(monkeypatch):
    assert all(enabled(name) for name in PATCHES)
    monkeypatch.setenv(ENV_VAR, " Palette, driver ,nosuch")
    assert not enabled("palette") and not enabled("driver")
    assert enabled("repaint") and enabled("footer")
    assert unknown_names() == ["nosuch"]
    monkeypatch.setenv(ENV_VAR, "all")
    assert switched_off() == set(PATCHES)
    with pytest.raises(KeyError):
        enabled("nosuch")


def test_every_patch_module_names_its_textual_versions_and_private_names():
    import importlib

    for patch in PATCHES.values():
        module = importlib.import_module(patch.module)
        assert patch.name == module.PATCH
        doc = module.__doc__ or ""
        assert doc.startswith(f"Patch ``{patch.name}``")
        assert "Upstream behaviour" in doc and "Private names touched" in doc
        assert "textual>=8.2.8,<8.3" in doc


def test_the_pin_is_the_range_the_patches_were_checked_against():
    version = tuple(int(p) for p in textual.__version__.split(".")[:3])
    assert (8, 2, 8) <= version < (8, 3, 0)


# -- palette ---------------------------------------------------------------------------------


class _PaletteApp(App[None]):
    def action_command_palette(self) -> None:
        open_palette(self)


def test_palette_canary():
    # reopen() re-does what _on_mount sets up: a new _on_mount needs a new reopen()
    assert _digest(CommandPalette._on_mount) == "bc2d41a5bf31dfa3"
    for name in ("_cancel_gather_commands", "_stop_busy_countdown", "_stop_no_matches_countdown"):
        assert _params(getattr(CommandPalette, name)) == ["self"]
    assert _params(CommandPalette._gather_commands) == ["self", "search_value"]
    assert inspect.iscoroutinefunction(CommandPalette._watch__show_busy)
    assert "LoadingIndicator).set_class(self._show_busy" in inspect.getsource(
        CommandPalette._watch__show_busy
    )
    assert isinstance(CommandPalette.__dict__["_provider_classes"], property)
    for name in ("_calling_screen", "_list_visible", "_show_busy"):
        assert isinstance(CommandPalette.__dict__[name], Reactive)
    init = inspect.getsource(CommandPalette.__init__)
    for name in ("_selected_command", "_providers", "_hit_count"):
        assert f"self.{name}" in init
    assert _params(Provider._post_init) == ["self"]
    assert "yield LoadingIndicator()" in inspect.getsource(CommandPalette.compose)
    assert "auto_refresh" in inspect.getsource(LoadingIndicator._on_mount)
    assert '"-ready"' in inspect.getsource(CommandPalette._gather_commands)


async def test_palette_still_needed_textual_animates_its_hidden_indicator_and_rebuilds(
    monkeypatch,
):
    _patch_off(monkeypatch, "palette")
    app = _PaletteApp()
    async with app.run_test() as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        first = app.screen
        assert type(first) is CommandPalette
        busy = first.query_one(LoadingIndicator)
        assert not busy.has_class("--visible")  # hidden...
        assert busy.auto_refresh is not None  # ...and animating all the same
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        assert app.screen is not first  # composed and mounted anew on every ctrl+p


async def test_palette_patched_is_kept_and_quiet_while_hidden():
    app = _PaletteApp()
    async with app.run_test() as pilot:
        for _ in range(2):
            await pilot.press("ctrl+p")
            await pilot.pause()
            palette = app.screen
            assert isinstance(palette, QuietCommandPalette)
            busy = palette.query_one(LoadingIndicator)
            assert not busy.has_class("--visible")
            assert busy.auto_refresh is None
            await pilot.press("escape")
            await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert app.screen is palette  # the same one, reset


# -- repaint ---------------------------------------------------------------------------------


class _Ping(Message):
    """A message that changes nothing on screen (the scan screen gets progress reports)."""


class _Under(NoRepaintLoop, Screen):
    def compose(self) -> ComposeResult:
        yield Label("0", id="n")


class _Over(NoRepaintLoop, ModalScreen[None]):
    """Counts the regions the covered screen passes up to it (Widget.refresh, public)."""

    passed_up = 0

    def compose(self) -> ComposeResult:
        yield Label("on top")

    def refresh(self, *regions, **kwargs) -> _Over:
        if regions:
            self.passed_up += 1
        return super().refresh(*regions, **kwargs)


class _CoveredApp(App[None]):
    def on_mount(self) -> None:
        self.push_screen(_Under())


async def _repaints_after_one_change() -> int:
    """How often a covered screen passes regions up while it handles 20 messages that change
    nothing, after one change."""
    app = _CoveredApp()
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        under = app.screen
        over = _Over()
        app.push_screen(over)
        await pilot.pause()
        under.query_one("#n", Label).update("1")
        await pilot.pause()
        before = over.passed_up
        for _ in range(20):
            under.post_message(_Ping())
            await pilot.pause()
        return over.passed_up - before


def test_repaint_canary():
    # the non-inline branch for a background screen is re-implemented in the patch
    assert _digest(Screen._compositor_refresh) == "7a40efe563816a06"
    assert _params(Screen._compositor_refresh) == ["self"]
    assert _params(Widget._set_dirty) == ["self", "regions"]
    assert isinstance(inspect.getattr_static(App, "_background_screens"), property)
    assert _params(App._update_mouse_over) == ["self", "screen"]
    from textual._compositor import Compositor

    assert "self._dirty_regions" in inspect.getsource(Compositor.__init__)
    widget_init = inspect.getsource(Widget.__init__)
    assert "self._repaint_required" in widget_init and "self._dirty_widgets" in inspect.getsource(
        Screen.__init__
    )


async def test_repaint_still_needed_textual_repaints_a_covered_screen_in_a_loop(monkeypatch):
    _patch_off(monkeypatch, "repaint")
    assert await _repaints_after_one_change() >= 10  # one full repaint per message: the loop


async def test_repaint_patched_stops_after_the_change():
    assert await _repaints_after_one_change() <= 1


# -- driver ----------------------------------------------------------------------------------

_ESCAPE_DELAY = 0.02  # seconds, as ESCDELAY=20 would set it


def _wait_while_escape_pending(cls: type[LinuxDriver], monkeypatch) -> tuple[float, list]:
    """Run ``cls``'s input thread over a pipe holding one ESC byte: the select() timeout used
    while the parser waits for more of a sequence, and the events the thread delivered.
    Called from an async test: a driver wants a running loop (the thread does not use it)."""
    monkeypatch.setattr(textual.constants, "ESCAPE_DELAY", _ESCAPE_DELAY)
    timeouts: list[float | None] = []

    class Recording(selectors.SelectSelector):
        def select(self, timeout=None):
            timeouts.append(timeout)
            return super().select(timeout)

    monkeypatch.setattr(selectors, "SelectSelector", Recording)
    handlers = {s: signal.getsignal(s) for s in (signal.SIGTSTP, signal.SIGCONT)}
    read_end, write_end = os.pipe()
    try:
        driver = cls(App())
        driver.fileno = read_end
        delivered: list = []

        def process_message(message) -> None:
            delivered.append(message)
            driver.exit_event.set()

        driver.process_message = process_message  # type: ignore[method-assign]
        os.write(write_end, b"\x1b")  # a lone escape key
        thread = threading.Thread(target=driver.run_input_thread, daemon=True)
        thread.start()
        thread.join(10)
        assert not thread.is_alive()
    finally:
        os.close(write_end)
        os.close(read_end)
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    # the first select() found the byte; the second waited while the parser had it pending
    wait = timeouts[1]
    assert wait is not None
    return wait, delivered


def test_driver_canary():
    # the patch is a copy of this loop with one line changed
    assert _digest(LinuxDriver.run_input_thread) == "d796af6d69db337d"
    from textual._loop import loop_last
    from textual._parser import ParseError
    from textual._time import get_time
    from textual._xterm_parser import XTermParser

    assert list(loop_last([1, 2])) == [(False, 1), (True, 2)]
    assert issubclass(ParseError, Exception)
    assert isinstance(get_time(), float)
    assert _params(XTermParser) == ["debug"]
    parser = XTermParser(False)
    assert parser._timeout_time is None
    list(parser.feed("\x1b"))
    assert parser._timeout_time is not None  # pending: the parser waits for more
    assert "self._debug" in inspect.getsource(Driver.__init__)


async def test_driver_still_needed_textual_waits_a_full_tenth_of_a_second(monkeypatch):
    _patch_off(monkeypatch, "driver")
    cls = driver_class(LinuxDriver)
    # Textual's own (under our output diet, tui/sgr_output.py)
    assert issubclass(cls, LinuxDriver) and not issubclass(cls, PromptEscapeLinuxDriver)
    wait, delivered = _wait_while_escape_pending(cls, monkeypatch)
    assert [e.key for e in delivered if isinstance(e, events.Key)] == ["escape"]
    assert wait > _ESCAPE_DELAY * 2  # the escape waits for select(), not for ESCDELAY


async def test_driver_patched_wakes_when_the_escape_is_due(monkeypatch):
    cls = driver_class(LinuxDriver)
    assert issubclass(cls, PromptEscapeLinuxDriver)
    wait, delivered = _wait_while_escape_pending(cls, monkeypatch)
    assert [e.key for e in delivered if isinstance(e, events.Key)] == ["escape"]
    assert wait <= _ESCAPE_DELAY


# -- delay_update ----------------------------------------------------------------------------


class _Rendered(Static):
    renders = 0

    def render(self):
        self.renders += 1
        return super().render()


class _CommandApp(App[None]):
    """delay_update as the palette calls it: just before it queues the chosen command."""

    def compose(self) -> ComposeResult:
        yield _Rendered("before", id="shown")

    def delay_update(self, delay: float = 0.05) -> None:
        if enabled("delay_update"):
            delay_update_until_command_ran(self, delay)
        else:
            super().delay_update(delay)


async def _renders_after_the_command() -> tuple[bool, int]:
    """Whether the command ran, and how often its change was rendered, 10 turns after."""
    app = _CommandApp()
    ran = []
    async with app.run_test() as pilot:
        await pilot.pause()
        shown = app.query_one("#shown", _Rendered)
        before = shown.renders

        def command() -> None:
            shown.update("after")
            ran.append(True)

        app.delay_update(60.0)  # a bound no test waits for
        app.call_later(command)
        for _ in range(10):
            await pilot.pause()
        return bool(ran), shown.renders - before


def test_delay_update_canary():
    # the patch re-implements this, with its end moved up to when the command has run
    assert _digest(App.delay_update) == "44f4c078fd32db17"
    assert _params(App._begin_batch) == ["self"] and _params(App._end_batch) == ["self"]
    assert "self._batch_count = 0" in inspect.getsource(App.__init__)
    # the release is queued behind the command: delay_update, dismiss, then the command
    source = inspect.getsource(CommandPalette._select_or_command)
    order = [
        source.index(s)
        for s in (
            "self.app.delay_update()",
            "self.dismiss()",
            "self.app.call_later(self._selected_command.command)",
        )
    ]
    assert order == sorted(order)


async def test_delay_update_still_needed_textual_holds_frames_after_the_command_ran(
    monkeypatch,
):
    _patch_off(monkeypatch, "delay_update")
    ran, renders = await _renders_after_the_command()
    assert ran
    assert renders == 0  # the command's change is held back for the whole delay


async def test_delay_update_patched_shows_the_change_once_the_command_ran():
    ran, renders = await _renders_after_the_command()
    assert ran and renders >= 1


# -- footer ----------------------------------------------------------------------------------


class _CountedFooter(QuietFooter):
    rebuilds = 0

    async def recompose(self) -> None:
        self.rebuilds += 1
        await super().recompose()


class _FooterApp(App[None]):
    BINDINGS: ClassVar = [("x", "bell", "Ring")]

    def compose(self) -> ComposeResult:
        yield _CountedFooter()


async def _rebuilds_for_unchanged_keys() -> int:
    app = _FooterApp()
    async with app.run_test() as pilot:
        await pilot.pause()
        footer = app.query_one(_CountedFooter)
        assert "Ring" in str(footer.query_one("FooterKey").render())
        before = footer.rebuilds
        for _ in range(3):  # what a modal opening or closing above the screen publishes
            app.screen.refresh_bindings()
            await pilot.pause()
        return footer.rebuilds - before


def test_footer_canary():
    # _keys_signature must cover everything compose reads from the bindings
    assert _digest(Footer.compose) == "8514ae6622cb1844"
    assert isinstance(Footer.__dict__["_bindings_ready"], Reactive)
    assert _params(Footer.bindings_changed) == ["self", "screen"]
    assert "self._bindings_ready = True" in inspect.getsource(Footer.bindings_changed)


async def test_footer_still_needed_textual_rebuilds_for_the_same_keys(monkeypatch):
    _patch_off(monkeypatch, "footer")
    assert await _rebuilds_for_unchanged_keys() == 3


async def test_footer_patched_keeps_the_same_keys():
    assert await _rebuilds_for_unchanged_keys() == 0


# -- executor --------------------------------------------------------------------------------


class _Box:
    """Stands for a screen or a scan result that a worker's arguments refer to."""


class _WorkerApp(App[None]):
    def on_mount(self) -> None:
        use_fresh_context_executor()  # what the app does on mount


async def _box_survives_its_thread_worker() -> bool:
    app = _WorkerApp()
    async with app.run_test() as pilot:
        box = _Box()
        ref = weakref.ref(box)
        worker = app.run_worker(partial(id, box), thread=True)
        await worker.wait()
        del worker, box
        await pilot.pause()
        import gc

        gc.collect()
        return ref() is not None


def test_executor_canary():
    # what the patch relies on: thread workers run on the loop's default executor, and set
    # textual.worker.active_worker in the pool thread
    source = inspect.getsource(Worker._run_threaded)
    assert "loop.run_in_executor(None," in source
    assert "active_worker.set(self)" in source
    assert "active_worker" in vars(textual.worker)


async def test_executor_still_needed_textual_keeps_a_finished_workers_arguments(monkeypatch):
    _patch_off(monkeypatch, "executor")
    assert await _box_survives_its_thread_worker()


async def test_executor_patched_keeps_nothing_alive():
    assert not await _box_survives_its_thread_worker()


_SOURCES: dict[type, str] = {}


def _textual_source(cls: type) -> str:
    if cls not in _SOURCES:
        try:
            _SOURCES[cls] = inspect.getsource(cls)
        except (OSError, TypeError):
            _SOURCES[cls] = ""
    return _SOURCES[cls]


def test_no_private_textual_name_outside_the_patches():
    """The fence: outside textual_patches/, no module of tui/ imports ``textual._*``, reaches
    into ``app._x``/``screen._x``, or defines or uses on a Textual subclass a private name that
    the Textual class it extends has (its handlers like ``_on_click`` included)."""
    import ast
    import importlib
    import pkgutil
    import re
    from pathlib import Path

    import tui_dedup.tui as tui

    offenders = []
    for info in pkgutil.walk_packages(tui.__path__, "tui_dedup.tui."):
        if ".textual_patches" in info.name:
            continue
        module = importlib.import_module(info.name)
        source = Path(module.__file__).read_text()  # type: ignore[arg-type]
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("textual._"):
                offenders.append(f"{info.name}: imports {node.module}")
            if isinstance(node, ast.Import):
                offenders += [
                    f"{info.name}: imports {a.name}"
                    for a in node.names
                    if a.name.startswith("textual._")
                ]
        for m in re.finditer(r"\.(?:app|screen|parent|_app)\.(_[a-z]\w*)", source):
            offenders.append(f"{info.name}: uses {m.group(0)}")
        for cls in vars(module).values():
            if not inspect.isclass(cls) or cls.__module__ != info.name:
                continue
            bases = [b for b in cls.__mro__[1:] if b.__module__.startswith("textual")]
            own = _textual_source(cls)
            names = set(re.findall(r"def (_[a-z]\w*)", own))
            names |= set(re.findall(r"self\.(_[a-z]\w*)", own))
            for name in sorted(names):
                for base in bases:
                    if name in base.__dict__ or re.search(
                        rf"self\.{name}\b", _textual_source(base)
                    ):
                        offenders.append(f"{cls.__qualname__}.{name} is {base.__qualname__}'s")
                        break
    assert offenders == []
