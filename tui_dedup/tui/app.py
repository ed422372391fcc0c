"""The Textual app: scan screen → review screen, the matching worker, and the entry points.

``create_app`` is the one factory the CLI and the tests use; ``run_app`` runs it and returns an
exit code. Workers are declared with a group, a description and ``exit_on_error=False``; one
``Worker.StateChanged`` handler turns any worker failure into a visible error instead of a
crash.
"""

from __future__ import annotations

import time
import weakref
from typing import ClassVar

from textual import events, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.driver import Driver
from textual.worker import Worker, WorkerState, get_current_worker

from tui_dedup.actions.skips import ReviewState, SkipStore
from tui_dedup.engine.index.search import Cancelled
from tui_dedup.engine.registry import Threshold
from tui_dedup.review.session import ReviewSession
from tui_dedup.review.settings import RunSettings
from tui_dedup.review.thresholds import threshold_label
from tui_dedup.tui.commands import DedupCommands
from tui_dedup.tui.driver import driver_class
from tui_dedup.tui.gc_policy import CollectWhenIdle, collect_soon, use_fresh_context_executor
from tui_dedup.tui.host import DedupHost
from tui_dedup.tui.messages import MatchFinished, ScanFinished
from tui_dedup.tui.palette import open_palette
from tui_dedup.tui.screens.confirm import ConfirmScreen
from tui_dedup.tui.screens.errors import ErrorsScreen
from tui_dedup.tui.screens.review import ReviewScreen
from tui_dedup.tui.screens.scan import ScanScreen
from tui_dedup.tui.textual_patches import enabled
from tui_dedup.tui.textual_patches.delay_update import delay_update_until_command_ran
from tui_dedup.tui.widgets.glyphs import ascii_only

ERRORS_SCREEN = "errors"  # installed-screen names: built once, reused on every open


class DedupApp(App[int]):
    """Find duplicate images in ``settings.roots`` and review them."""

    CSS_PATH = "app.tcss"
    TITLE = "dedup-tui"
    COMMANDS: ClassVar = App.COMMANDS | {DedupCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit_now", "Quit", show=False, priority=True, id="app.quit"),
        Binding("ctrl+p", "command_palette", "Commands", show=False, id="app.commands"),
    ]

    def __init__(self, settings: RunSettings) -> None:
        super().__init__()
        self.settings = settings
        self.session: ReviewSession | None = None
        self.skips = SkipStore()
        self.problems: list[str] = []
        self.resume_offered = False
        self._carry: ReviewState | None = None
        #: When a key or a click last came (time.monotonic): full collections wait for a
        #: pause (gc_policy.CollectWhenIdle).
        self.last_input = time.monotonic()
        self.collector = CollectWhenIdle(self, lambda: self.last_input)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown)):
            self.last_input = time.monotonic()
        await super().on_event(event)

    def get_driver_class(self) -> type[Driver]:
        """Textual's driver, but on Linux a lone escape arrives after ESCDELAY (tui.driver)."""
        return driver_class(super().get_driver_class())

    def action_command_palette(self) -> None:
        """Textual's palette, built once, quiet while open and shown in one frame (tui.palette)."""
        open_palette(self)

    def delay_update(self, delay: float = 0.05) -> None:
        """Hide the palette's closing frame until the command has run, not for a fixed 50 ms.

        ``delay`` stays as the upper bound; :mod:`tui_dedup.tui.textual_patches.delay_update`
        says why. Textual's own when that patch is off.
        """
        if enabled("delay_update"):
            delay_update_until_command_ran(self, delay)
        else:
            super().delay_update(delay)

    # -- helpers -------------------------------------------------------------------------------

    def roots_label(self) -> str:
        return ", ".join(self.settings.roots)

    def review_screen(self) -> ReviewScreen | None:
        """The review screen, also while the palette or a dialog covers it (they are on top
        of it in the stack: asking only for the active screen hid the palette's review
        commands, and made a re-match that finished under a dialog rebuild the screen)."""
        for screen in reversed(self.screen_stack):
            if isinstance(screen, ReviewScreen):
                return screen
        return None

    # -- lifecycle -----------------------------------------------------------------------------

    def on_mount(self) -> None:
        use_fresh_context_executor()  # before any thread worker: a finished one keeps nothing
        self.set_class(ascii_only(), "-ascii")  # ASCII borders under LANG=C (app.tcss)
        self.sub_title = self.roots_label()
        self.push_screen(ScanScreen())

    def start_scan(self) -> None:
        """Scan again from the start (the cache makes unchanged files instant)."""
        self.workers.cancel_group(self, "match")
        review = self.review_screen()
        if review is not None:
            self._carry = review.saved.state()  # marks survive a rescan
        self.session = None
        self.switch_screen(ScanScreen())
        # the old review screen is garbage once the switch is done, and the new scan screen
        # pauses the automatic full collections that would free it
        collect_soon(self, weakref.ref(review) if review is not None else None)

    def on_scan_finished(self, message: ScanFinished) -> None:
        for w in message.cache_warnings:  # the CLI prints them on stderr; here they show
            self.notify(w, title="feature cache", severity="warning", timeout=10)
        self.session = ReviewSession(self.settings, message.result)
        s = self.session
        self.start_match(s.method, s.threshold, first=True)

    @work(thread=True, exclusive=True, group="match", exit_on_error=False, description="match")
    def _match(
        self, session: ReviewSession, method: str, threshold: Threshold, first: bool
    ) -> None:
        worker = get_current_worker()
        stop = lambda: worker.is_cancelled  # noqa: E731
        try:
            if not first:  # +/-: the stored evidence answers at once; the pixel check follows
                quick = session.compute(method, threshold, self.skips, stop, quick=True)
                if worker.is_cancelled:
                    return
                self.post_message(MatchFinished(quick, first))
                if not quick.unconfirmed():
                    return
            outcome = session.compute(method, threshold, self.skips, stop)
        except Cancelled:
            return  # a newer request replaced this one: not an error
        if not worker.is_cancelled:
            self.post_message(MatchFinished(outcome, first))

    def start_match(self, method: str, threshold: Threshold, *, first: bool = False) -> None:
        """Re-match from the features in memory; a newer request cancels an older one."""
        if self.session is None:
            return
        self.session.request(method, threshold)
        label = threshold_label(method, threshold)
        if isinstance(self.screen, ScanScreen):
            self.screen.show_matching(label)
        elif (review := self.review_screen()) is not None:
            review.match_started()
        self._match(self.session, method, threshold, first)

    async def on_match_finished(self, message: MatchFinished) -> None:
        if self.session is None:
            return
        self.session.install(message.outcome)
        review = self.review_screen()
        if message.first or review is None:
            await self.switch_screen(ReviewScreen(self.session, self.settings.preview))
            carry, self._carry = self._carry, None
            if carry is not None and (review := self.review_screen()) is not None:
                review.saved.restore(carry, quiet=True)
            self.offer_resume()
        else:
            review.match_done()

    def offer_resume(self) -> None:
        review = self.review_screen()
        if self.resume_offered or review is None:
            return
        self.resume_offered = True
        state = ReviewState.load(self.settings.roots)
        if state is None or not (state.marks or state.skips):
            return

        def answer(yes: bool | None) -> None:
            if yes:
                review.saved.restore(state)
            else:
                ReviewState.discard(self.settings.roots)

        self.push_screen(
            ConfirmScreen(
                "Resume the last review of these folders?",
                resume_lines(len(state.marks), len(state.skips)),
                yes="Resume",
                no="Start fresh",
            ),
            answer,
        )

    # -- errors --------------------------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.report_worker_state(event)
        failed_match = event.state == WorkerState.ERROR and event.worker.group == "match"
        if failed_match and (review := self.review_screen()) is not None:
            review.match_done(failed=True)  # the pairs stay as they were

    def report_worker_state(self, event: Worker.StateChanged) -> None:
        """The one place a failed worker becomes a visible error (never a crash).

        Worker.StateChanged does not bubble: screens that start workers forward it here.
        """
        if event.state != WorkerState.ERROR:
            return
        worker = event.worker
        error = worker.error
        text = f"{worker.description or worker.name} failed: {type(error).__name__}: {error}"
        self.problems.append(text)
        self.notify(text, title="error", severity="error", timeout=10)
        if isinstance(self.screen, ScanScreen):
            self.screen.show_failure(text)

    def action_show_errors(self) -> None:
        """One errors screen for the whole run, composed on first use and reused after."""
        errors, skipped = [], []
        if self.session is not None:
            errors, skipped = self.session.result.errors, self.session.result.skipped
        if not self.is_screen_installed(ERRORS_SCREEN):
            self.install_screen(ErrorsScreen(), ERRORS_SCREEN)
        screen = self.get_screen(ERRORS_SCREEN)
        assert isinstance(screen, ErrorsScreen)
        screen.set_content(errors, skipped, self.problems)
        self.push_screen(ERRORS_SCREEN)

    def action_quit_now(self) -> None:
        review = self.review_screen()
        if review is not None:
            review.saved.save()
        self.exit(0)


_IS_A_HOST: type[DedupHost] = DedupApp  # mypy: the screens' view of the app still holds


def create_app(settings: RunSettings) -> DedupApp:
    """The one factory the CLI and the tests build the app with."""
    return DedupApp(settings)


def run_app(settings: RunSettings) -> int:
    """Run the TUI; returns the process exit code (0 done, 1 failure, 130 interrupted)."""
    if settings.preview != "none":
        try:
            # textual-image asks the terminal what it can draw at import time, which must
            # happen before Textual takes over the terminal.
            import textual_image.renderable  # noqa: F401
            from textual_image.widget import get_cell_size

            get_cell_size()  # cached: the preview must not query the terminal mid-run
        except Exception:  # no terminal, odd platform: the preview falls back by itself
            pass
    app = create_app(settings)
    try:
        result = app.run()
    except KeyboardInterrupt:
        return 130
    if app.return_code not in (None, 0):
        return app.return_code
    return int(result or 0)


def resume_lines(marks: int, skips: int) -> list[str]:
    """What the resume dialog says was saved, in words that match its buttons."""
    saved = [f"{marks} marked file(s)"] if marks else []
    saved += [f"{skips} pair(s) marked 'not a duplicate'"] if skips else []
    return [
        f"Saved last time: {' and '.join(saved)}.",
        "Resume puts the marks back; Start fresh begins with no marks"
        + (" (pairs marked 'not a duplicate' stay hidden)." if skips else "."),
    ]
