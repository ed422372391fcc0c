"""Pilot tests of the scan screen: live progress, escape keeps a partial, reviewable result."""

from __future__ import annotations

import contextlib
import threading

from conftest import screen_text, wait_for_review
from textual.worker import WorkerFailed

import tui_dedup.engine.scan as scan_mod
from tui_dedup.tui.app import create_app
from tui_dedup.tui.screens.errors import ErrorsScreen
from tui_dedup.tui.screens.review import ReviewScreen
from tui_dedup.tui.screens.scan import ScanScreen
from tui_dedup.tui.widgets.progress import ScanProgressView

FIRST = 6  # files that decode freely before the gate closes


def gate_scan(monkeypatch) -> tuple[threading.Event, list[int]]:
    """Let FIRST files through, then hold every further decode until the gate opens."""
    gate = threading.Event()
    started: list[int] = []
    lock = threading.Lock()
    real = scan_mod.compute_row

    def slow(entry, config, want_digest):
        with lock:
            started.append(1)
            n = len(started)
        if n > FIRST:
            gate.wait(timeout=30)
        return real(entry, config, want_digest)

    monkeypatch.setattr(scan_mod, "compute_row", slow)
    return gate, started


async def test_escape_stops_scan_and_partial_result_is_reviewable(settings, monkeypatch):
    gate, started = gate_scan(monkeypatch)
    app = create_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, ScanScreen)
        view = screen.query_one(ScanProgressView)
        # Progress is throttled, so wait for the gate (files held) and any hashing snapshot.
        while len(started) <= FIRST or view.progress is None or view.progress.done < 2:
            await pilot.pause()
        text = screen_text(app)
        assert "stage 2/3: hashing" in text
        assert "files found:" in text and "ETA" in text
        await pilot.press("escape")
        assert view.stopping  # the UI answered before the engine did
        assert "stopping" in screen_text(app)
        in_flight = len(started)
        gate.set()
        await wait_for_review(app, pilot)
        review = app.screen
        assert isinstance(review, ReviewScreen)
        result = review.session.result
        assert result.cancelled
        assert len(started) == in_flight  # no new file started after escape
        assert 1 <= len(result.store) < 39
        assert "partial scan" in screen_text(app)


async def test_progress_messages_replace_each_other():
    from tui_dedup.engine.scan_progress import ScanProgress
    from tui_dedup.tui.messages import ScanProgressed

    p = ScanProgress("hashing", 1, 10, 0, 0, 0, 0.1, 10.0)
    assert ScanProgressed(p).can_replace(ScanProgressed(p))


async def test_errors_screen_lists_unreadable_file(settings):
    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, ErrorsScreen)
        assert "broken.jpg" in screen_text(app)
        await pilot.press("escape")
        assert isinstance(app.screen, ReviewScreen)


async def test_small_terminal_and_resize(settings):
    app = create_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_review(app, pilot)
        text = screen_text(app)
        assert "pairs" in text and "Sim" in text
        await pilot.resize_terminal(60, 20)
        await pilot.pause()
        await pilot.resize_terminal(160, 50)
        await pilot.pause()
        assert "Modified" in screen_text(app)


async def test_no_color(settings, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = create_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_review(app, pilot)
        assert app.no_color  # Textual strips colours; marks still show as a glyph
        await pilot.press("space")
        assert "1 marked" in screen_text(app)
        assert "pairs" in screen_text(app)


def test_ascii_fallbacks_under_lang_c(monkeypatch):
    from tui_dedup.tui.widgets.progress import bar
    from tui_dedup.tui.widgets.status import ascii_only

    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_CTYPE", raising=False)
    monkeypatch.setenv("LANG", "C")
    assert ascii_only()
    assert bar(0.5, 10) == "#####-----"
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert not ascii_only()


async def test_worker_failure_is_shown_not_a_crash(settings, monkeypatch):
    import tui_dedup.review.pipeline as session_mod

    def broken(*args, **kwargs):
        raise RuntimeError("index exploded")

    monkeypatch.setattr(session_mod, "cached_match", broken)
    app = create_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(100):
            await app.workers.wait_for_complete()
            await pilot.pause()
            if app.problems:
                break
        assert app.is_running
        assert any("index exploded" in p for p in app.problems)
        assert "index exploded" in screen_text(app)
        await pilot.press("ctrl+q")
    assert not app.is_running


async def test_scan_worker_failure_is_shown_on_the_scan_screen(settings, monkeypatch):
    """Worker events do not bubble to the app: the scan screen must forward its failure."""
    import tui_dedup.review.pipeline as scan_screen_mod

    def broken(*args, **kwargs):
        raise OSError("disk unplugged")

    monkeypatch.setattr(scan_screen_mod, "scan", broken)
    app = create_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(100):
            # the scan worker fails on purpose: waiting on it raises while Textual still
            # holds it (a race that xdist's timing hits now and then)
            with contextlib.suppress(WorkerFailed):
                await app.workers.wait_for_complete()
            await pilot.pause()
            if app.problems:
                break
        assert app.is_running
        assert isinstance(app.screen, ScanScreen)
        assert "disk unplugged" in screen_text(app)
        await pilot.press("ctrl+q")
    assert not app.is_running


def test_ascii_fallback_survives_pythons_c_locale_coercion(monkeypatch):
    """Under LANG=C, Python itself sets LC_CTYPE=C.UTF-8 (PEP 538): still ASCII glyphs."""
    from tui_dedup.tui.widgets.glyphs import ascii_only

    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.setenv("LANG", "C")
    monkeypatch.setenv("LC_CTYPE", "C.UTF-8")
    assert ascii_only()
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert not ascii_only()
