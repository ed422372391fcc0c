"""The scan screen: starts scanning at once, shows live progress, escape stops it.

The engine runs in one thread worker; its throttled callbacks become replaceable
:class:`ScanProgressed` messages, so the loop draws only the newest snapshot. Escape sets a
flag the engine polls: no new file starts, files in flight finish, and the partial result goes
on to matching and review like a complete one.
"""

from __future__ import annotations

import threading
import time
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Header, Label
from textual.worker import Worker, get_current_worker

from tui_dedup.engine.scan import ScanResult
from tui_dedup.engine.scan_progress import ScanProgress
from tui_dedup.review.pipeline import scan_library
from tui_dedup.tui.gc_policy import FullCollectionsPaused
from tui_dedup.tui.host import host_of
from tui_dedup.tui.messages import ScanFinished, ScanProgressed
from tui_dedup.tui.screen_refresh import NoRepaintLoop
from tui_dedup.tui.widgets.footer import QuietFooter
from tui_dedup.tui.widgets.progress import ScanProgressView

COVERED_PROGRESS_INTERVAL = 1.0  # seconds between progress repaints while a screen covers this


class ScanScreen(NoRepaintLoop, Screen):
    """Progress of one scan of ``app.settings.roots``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "stop_scan", "Stop (keep partial)", id="scan.stop"),
    ]

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Worker events do not bubble: hand failures to the app's single handler."""
        host_of(self.app).report_worker_state(event)

    def __init__(self) -> None:
        super().__init__()
        self.stop_event = threading.Event()
        self.finished = False
        self._gc_pause = FullCollectionsPaused()  # no full GC while keys wait
        self._latest: ScanProgress | None = None
        self._last_shown = 0.0  # monotonic time the view last took a report

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="scan-box"):
            roots = host_of(self.app).settings.roots
            yield Label(f"Scanning {', '.join(roots)}", id="scan-roots", markup=False)
            yield ScanProgressView(roots, id="scan-progress")
            yield Label("escape: stop and review what was found so far", id="scan-hint")
        yield QuietFooter()

    def on_mount(self) -> None:
        self._gc_pause.start()
        self.run_scan()

    def on_unmount(self) -> None:
        self._gc_pause.resume()  # in case the worker never ran to its end

    @work(thread=True, exclusive=True, group="scan", exit_on_error=False, description="scan")
    def run_scan(self) -> ScanResult:
        worker = get_current_worker()

        def should_stop() -> bool:
            return self.stop_event.is_set() or worker.is_cancelled

        def progress(p: ScanProgress) -> None:
            self.post_message(ScanProgressed(p))

        try:
            scanned = scan_library(
                host_of(self.app).settings, on_progress=progress, should_stop=should_stop
            )
        finally:
            # the scan is over: the collector's own thresholds again, after one collection
            # here (the screen shows "matching") instead of on the review screen's first keys
            self._gc_pause.resume(collect=True)
        if not worker.is_cancelled:
            self.post_message(ScanFinished(scanned.result, scanned.cache_warnings))
        return scanned.result

    @on(ScanProgressed)
    def show_progress(self, message: ScanProgressed) -> None:
        # Under the palette (or any screen that lets this one show through) Textual repaints
        # the whole top screen for any change down here: the whole screen to the terminal per
        # progress tick instead of the lines that changed, and a full render the keys wait
        # behind (benchmarks/RESULTS.md, "Why the code is as it is"). Covered, the figures
        # move once a second; the latest are shown the moment this screen is on top again.
        self._latest = message.progress
        now = time.monotonic()
        if self.is_active or now - self._last_shown >= COVERED_PROGRESS_INTERVAL:
            self._last_shown = now
            self.query_one(ScanProgressView).progress = message.progress

    def on_screen_resume(self) -> None:
        if self._latest is not None:
            self.query_one(ScanProgressView).progress = self._latest

    def show_matching(self, label: str) -> None:
        self.finished = True
        view = self.query_one(ScanProgressView)
        view.matching = label
        self.query_one("#scan-hint", Label).update("matching the features in memory...")
        self.refresh_bindings()

    def show_failure(self, text: str) -> None:
        self.finished = True
        self.query_one("#scan-hint", Label).update(
            f"{text}\nctrl+q quits; ctrl+p > Rescan tries again"
        )
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop_scan" and (self.finished or self.stop_event.is_set()):
            return None
        return True

    def action_stop_scan(self) -> None:
        self.stop_event.set()
        self.query_one(ScanProgressView).stopping = True
        self.query_one("#scan-hint", Label).update("stopping: keeping what was scanned so far")
        self.refresh_bindings()
