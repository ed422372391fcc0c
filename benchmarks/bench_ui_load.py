"""UI latency while a cold scan of 100,000 files runs, and how quickly escape stops the scan.

Run from the project root, in the venv:

    python benchmarks/bench_ui_load.py
    python benchmarks/bench_ui_load.py --tree DIR --cycles 20 --no-tmux

Writes a markdown report to benchmarks/results/ui_load.md and prints it. Bounded: each key
phase stops after ``--budget`` seconds, every wait has a timeout, and both scans are stopped
with escape once measured (a cold scan of the tree would take several minutes).

What the scan screen offers while scanning: its own ``escape`` (stop, keep partial), the app's
``ctrl+p`` (command palette) and ``ctrl+q`` (quit). The palette's "Errors" command opens the
errors screen, which ``escape`` closes. So one *cycle* of key presses is

    ctrl+p (palette opens) · E r r (each letter echoed in the palette's input) ·
    enter (the "Errors" hit runs: errors screen opens) · escape (errors screen closes)

and every other cycle types ``x y z`` and closes the palette with escape instead, so both
modal screens open and close. Each key waits for its visible result before the next is sent,
then 50 ms more (a fast typist's pace); waiting for the palette's search hits before enter is
not timed.

Part 1, headless (``App.run_test``, the approach of bench_table_latency.py): the key event goes
straight to the driver and the clock stops at the first screen update Textual composes
(``App._display``) whose screen shows the key's effect (the palette is the top screen, its
input holds the letters typed so far, the errors screen is on top, the scan screen is back).
"Any frame" is the first update of any kind after the key, often a progress repaint, so it
measures the event loop's reaction rather than the key's effect. Neither includes writing to
a terminal.

Part 2, cancel: ``escape`` on the scan screen, timed to the first frame that shows "stopping",
to the stop flag being set (the screen's ``stop_event`` is swapped for one that records when
it is set), and to the engine's ``scan()`` returning in the worker thread. ``compute_row`` is
wrapped to record when each call starts and ends: calls that start after the flag is set must
be 0; the calls still running when it was set give "the longest decode in flight".

Part 3, a real terminal: ``dedup-tui --no-cache --preview none TREE`` in tmux (private socket,
120×36); keys go in with ``tmux send-keys`` and ``tmux capture-pane -p`` is polled about every
5 ms until the expected change is on screen. The clock starts before the send-keys process is
spawned and stops when the capture that shows the change returns, so each figure includes two
tmux client round trips and up to one polling interval (the median capture time is reported).
A lone ESC byte is held by Textual's input parser for ``ESCDELAY`` in case more bytes of an
escape sequence follow, so every escape through a terminal costs at least that; the headless
parts bypass the parser. The app defaults ESCDELAY to 25 ms (Textual's own default is 100 ms;
see tui_dedup/cli.py) and its driver wakes up when that delay ends (Textual's waits in 0.1 s
steps); an ESCDELAY in the benchmark's environment reaches the app and is reported. tmux's
``escape-time`` is not involved: it applies to bytes a tmux *client* reads from its terminal,
and ``send-keys`` writes the key straight into the pane.

Part 4, the review screen (headless, after the cancel of part 2, on the partial result): down,
pagedown, o, space, p, g, g, d, escape, ?, escape, each timed to the first frame showing its
effect (the probed state changed, or the expected screen is on top). There is no scan then:
the review screen only exists once a scan has ended.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import textual
from textual import events
from textual.command import CommandInput, CommandList, CommandPalette

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import tui_dedup.engine.scan as engine_scan  # noqa: E402
import tui_dedup.tui.app as app_module  # noqa: E402
import tui_dedup.tui.screens.scan as scan_screen_mod  # noqa: E402
from tests.tui.ssh_harness import Tmux  # noqa: E402
from tui_dedup.engine.scan import ScanConfig, ScanProgress, ScanResult  # noqa: E402
from tui_dedup.engine.store import StoreBuilder  # noqa: E402
from tui_dedup.settings import RunSettings  # noqa: E402
from tui_dedup.tui.app import DedupApp  # noqa: E402
from tui_dedup.tui.screens.details import DetailsScreen  # noqa: E402
from tui_dedup.tui.screens.errors import ErrorsScreen  # noqa: E402
from tui_dedup.tui.screens.help import HelpScreen  # noqa: E402
from tui_dedup.tui.screens.review import ReviewScreen  # noqa: E402
from tui_dedup.tui.screens.scan import ScanScreen  # noqa: E402
from tui_dedup.tui.widgets.pair_table import PairTable  # noqa: E402
from tui_dedup.tui.widgets.progress import ScanProgressView  # noqa: E402

SIZE = (120, 36)
KEY_TIMEOUT = 10.0  # seconds for one key's visible result before it counts as lost
PACE = 0.05  # seconds between a key's visible result and the next key
POLL = 0.005  # seconds between two tmux captures
KEY_TARGET_MS = 100.0
CANCEL_UI_TARGET_MS = 200.0
ERRORS_QUERY = "Err"  # typed into the palette; its top hit is the "Errors" command
OTHER_QUERY = "xyz"  # typed on the cycles that close the palette with escape
KINDS = (
    "open palette (ctrl+p)",
    "type in palette (letter echoed)",
    "run Errors (enter): errors screen opens",
    "close errors screen (escape)",
    "close palette (escape)",
)
CHARS = {"ctrl+p": "\x10", "escape": "\x1b", "enter": "\r", "space": " ", "question_mark": "?"}
CHARS |= {k: None for k in ("down", "pagedown", "home")}  # keys without a character


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def cycle_keys(n: int) -> list[tuple[str, str]]:
    """(kind, key) in the order of cycle ``n``: even cycles open the errors screen."""
    errors = n % 2 == 0
    text = ERRORS_QUERY if errors else OTHER_QUERY
    keys = [(KINDS[0], "ctrl+p")] + [(KINDS[1], c) for c in text]
    if errors:
        keys += [(KINDS[2], "enter"), (KINDS[3], "escape")]
    else:
        keys += [(KINDS[4], "escape")]
    return keys


# -- headless: Pilot --------------------------------------------------------------------------


@dataclass
class Waiter:
    """Waits for the first frame after a key, and the first one whose screen passes ``pred``."""

    pred: Callable[[object], bool]
    t_any: float | None = None
    t_visible: float | None = None
    event: asyncio.Event = field(default_factory=asyncio.Event)


class TimedEvent(threading.Event):
    """The scan screen's stop flag, recording when it was first set."""

    def __init__(self) -> None:
        super().__init__()
        self.set_begin: float | None = None
        self.set_end: float | None = None

    def set(self) -> None:
        first = self.set_begin is None
        if first:
            self.set_begin = time.perf_counter()
        super().set()
        if first:
            self.set_end = time.perf_counter()


class TimedDedupApp(DedupApp):
    """The real app; every composed screen update is checked against the current waiter."""

    # a relative CSS_PATH resolves against the subclass's module: point at the app's own file
    CSS_PATH = str(Path(app_module.__file__).with_name(DedupApp.CSS_PATH))

    def __init__(self, settings: RunSettings) -> None:
        super().__init__(settings)
        self.waiter: Waiter | None = None
        self.frames = 0

    def _display(self, screen, renderable) -> None:
        if renderable is not None and not self._batch_count:
            now = time.perf_counter()
            self.frames += 1
            w = self.waiter
            if w is not None:
                if w.t_any is None:
                    w.t_any = now
                if w.t_visible is None and w.pred(screen):
                    w.t_visible = now
                    w.event.set()
        super()._display(screen, renderable)


def palette_text(screen) -> str | None:
    if not isinstance(screen, CommandPalette):
        return None
    return screen.query_one(CommandInput).value


def visible_pred(kind: str, typed: str) -> Callable[[object], bool]:
    if kind == KINDS[0]:
        return lambda s: palette_text(s) == ""
    if kind == KINDS[1]:
        return lambda s: palette_text(s) == typed
    if kind == KINDS[2]:
        return lambda s: isinstance(s, ErrorsScreen)
    return lambda s: isinstance(s, ScanScreen)  # both escapes: back to the scan screen


async def press(app: TimedDedupApp, key: str, pred: Callable[[object], bool]) -> Waiter:
    waiter = Waiter(pred)
    app.waiter = waiter
    t0 = time.perf_counter()
    app._driver.send_message(events.Key(key, CHARS.get(key, key)))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(waiter.event.wait(), KEY_TIMEOUT)
    app.waiter = None
    waiter.t_any = None if waiter.t_any is None else waiter.t_any - t0
    waiter.t_visible = None if waiter.t_visible is None else waiter.t_visible - t0
    return waiter


async def wait_for(probe: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.perf_counter() + timeout
    while not probe():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.01)


def errors_hit_ready(app: TimedDedupApp) -> bool:
    """The palette lists hits and the highlighted (first) one is the Errors command."""
    screen = app.screen
    if not isinstance(screen, CommandPalette):
        return False
    hits = screen.query_one(CommandList)
    if not hits.option_count or hits.highlighted is None:
        return False
    return "Errors" in str(hits.get_option_at_index(hits.highlighted).prompt)


def idle_scan(roots, config, *, cache=None, on_progress=None, should_stop=None) -> ScanResult:
    """Stands in for the engine in the baseline: the scan screen's repaints, no decoding."""
    t0 = time.monotonic()
    done = 0
    while not should_stop():
        elapsed = time.monotonic() - t0
        if on_progress is not None:
            on_progress(ScanProgress("hashing", done, 100_000, 0, 0, 0, elapsed, 150.0, "a.jpg"))
        done += 15
        time.sleep(engine_scan.PROGRESS_INTERVAL)
    empty = StoreBuilder(config.hash_size).build()
    return ScanResult(list(roots), empty, [], [], True, 0, 0, time.monotonic() - t0)


async def bench_pilot(
    tree: str,
    cycles: int,
    budget: float,
    min_hashed: int,
    workers: int,
    *,
    idle: bool = False,
    review_cycles: int = 0,
) -> dict:
    """Key cycles on the scan screen, then (unless ``idle``) the cancel measurements.

    ``idle``: the engine is replaced by :func:`idle_scan`, so the same screen with the same
    progress repaints shows what the keys cost without a scan competing for the CPU and GIL.
    """
    calls: list[list[float]] = []  # [start, end] per compute_row call
    scan_end: list[float] = []
    pool_end: list[float] = []
    builds: list[tuple[float, float]] = []
    real_compute_row, real_scan = engine_scan.compute_row, scan_screen_mod.scan
    real_pool, real_build = engine_scan._run_pool, StoreBuilder.build

    def timed_pool(*args, **kwargs):
        try:
            return real_pool(*args, **kwargs)
        finally:
            pool_end.append(time.perf_counter())

    def timed_build(self):
        t = time.perf_counter()
        try:
            return real_build(self)
        finally:
            builds.append((t, time.perf_counter()))

    def timed_compute_row(entry, config, want_digest):
        rec = [time.perf_counter(), 0.0]
        calls.append(rec)
        try:
            return real_compute_row(entry, config, want_digest)
        finally:
            rec[1] = time.perf_counter()

    def timed_scan(*args, **kwargs):
        try:
            return (idle_scan if idle else real_scan)(*args, **kwargs)
        finally:
            scan_end.append(time.perf_counter())

    engine_scan.compute_row = timed_compute_row
    engine_scan._run_pool = timed_pool
    StoreBuilder.build = timed_build
    scan_screen_mod.scan = timed_scan
    out: dict = {"keys": {k: [] for k in KINDS}, "lost": []}
    settings = RunSettings(
        roots=[tree],
        scan=ScanConfig(workers=workers),
        use_cache=False,
        preview="halfblock" if review_cycles else "none",  # the review part toggles it
    )
    app = TimedDedupApp(settings)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(lambda: isinstance(app.screen, ScanScreen), 30, "the scan screen")
            scan = app.screen
            stop = TimedEvent()
            scan.stop_event = stop
            await wait_for(
                lambda: (
                    (p := scan.query_one(ScanProgressView).progress) is not None
                    and p.stage == "hashing"
                    and p.done >= min_hashed
                ),
                120,
                f"the hashing stage with {min_hashed} files done",
            )
            p0, t_start = scan.query_one(ScanProgressView).progress, time.perf_counter()
            calls_start = len(calls)
            done_cycles = 0
            for n in range(cycles):
                for kind, key in cycle_keys(n):
                    typed = ""
                    if kind == KINDS[1]:
                        typed = palette_text(app.screen) + key
                    if kind == KINDS[2]:
                        await wait_for(lambda: errors_hit_ready(app), 30, "the Errors hit")
                    w = await press(app, key, visible_pred(kind, typed))
                    if w.t_visible is None:
                        out["lost"].append(f"cycle {n}: {key} ({kind}), screen {app.screen}")
                        raise RuntimeError(f"no visible result for {key}: {out['lost'][-1]}")
                    out["keys"][kind].append((w.t_visible, w.t_any))
                    await pilot.pause(PACE)
                done_cycles += 1
                if time.perf_counter() - t_start > budget:
                    break
            t_keys = time.perf_counter() - t_start
            p1 = scan.query_one(ScanProgressView).progress
            out["cycles"] = done_cycles
            out["phase"] = {
                "seconds": t_keys,
                "done_before": p0.done,
                "done_after": p1.done,
                "total": p1.total,
                "stage_after": p1.stage,
                "decodes": len(calls) - calls_start,
                "stopped_by_keys": stop.is_set(),
            }

            if idle:
                app.exit(0)
                return out

            # -- cancel ------------------------------------------------------------------------
            scan_worker = next(w for w in app.workers if w.group == "scan")
            t_press = time.perf_counter()
            w = await press(
                app,
                "escape",
                lambda s: isinstance(s, ScanScreen) and s.query_one(ScanProgressView).stopping,
            )
            await wait_for(lambda: scan_end, 60, "the scan worker to return")
            await wait_for(lambda: scan_worker.is_finished, 30, "the scan worker to finish")
            worker_finished = time.perf_counter()  # polled every 10 ms
            set_at = stop.set_end or float("nan")
            in_flight = [c for c in calls if c[0] <= set_at and (c[1] == 0.0 or c[1] > set_at)]
            await wait_for(lambda: all(c[1] for c in calls), 30, "decodes in flight to end")
            out["cancel"] = {
                "ui_visible": w.t_visible,
                "ui_any": w.t_any,
                "flag_set": (stop.set_begin or float("nan")) - t_press,
                "worker_done": scan_end[0] - t_press,
                "worker_after_flag": scan_end[0] - set_at,
                "worker_state": worker_finished - t_press,
                "pool_after_flag": (pool_end[0] - set_at) if pool_end else None,
                "build": (builds[-1][1] - builds[-1][0]) if builds else None,
                "in_flight": len(in_flight),
                "longest_in_flight": max((c[1] - c[0] for c in in_flight), default=0.0),
                "last_in_flight_end": max((c[1] for c in in_flight), default=set_at) - set_at,
                "started_after_flag": sum(1 for c in calls if c[0] > set_at),
                "started_after_press": sum(1 for c in calls if c[0] > t_press),
                "decodes_total": len(calls),
                "hashed": scan.query_one(ScanProgressView).progress.done,
            }
            if review_cycles:
                out["review"] = await bench_review(app, pilot, review_cycles, budget)
            app.exit(0)
    finally:
        engine_scan.compute_row = real_compute_row
        engine_scan._run_pool = real_pool
        StoreBuilder.build = real_build
        scan_screen_mod.scan = real_scan
    return out


# -- headless: the review screen's keys -------------------------------------------------------

REVIEW_KINDS = (
    "down (cursor moves)",
    "pagedown (cursor moves a page)",
    "o (next sort column)",
    "space (mark / unmark)",
    "p (preview pane shown / hidden)",
    "g (pairs ↔ groups)",
    "d (details screen opens)",
    "? (help screen opens)",
    "escape (details / help closes)",
)


def review_cycle(review: ReviewScreen, n: int) -> list[tuple[str, str, Callable[[], object]]]:
    """(kind, key, state probe) of cycle ``n``; a key's result is visible in the first frame
    whose probe differs from its value before the key (screen changes are probed by type)."""
    model = review.model
    table = review.query_one(PairTable)
    pane = review.query("#preview")
    keys = [
        (REVIEW_KINDS[0], "down", lambda: model.cursor),
        (REVIEW_KINDS[1], "pagedown", lambda: model.cursor),
        (REVIEW_KINDS[2], "o", lambda: (model.sort_column, table.scroll_y)),
        (REVIEW_KINDS[3], "space", lambda: int(model.marked_files().size)),
    ]
    if pane:
        keys.append((REVIEW_KINDS[4], "p", lambda: pane.first().has_class("hidden")))
    keys += [
        (REVIEW_KINDS[5], "g", lambda: review.group_mode),
        (REVIEW_KINDS[5], "g", lambda: review.group_mode),
        (REVIEW_KINDS[6], "d", None),
        (REVIEW_KINDS[8], "escape", None),
        (REVIEW_KINDS[7], "question_mark", None),
        (REVIEW_KINDS[8], "escape", None),
    ]
    if model.cursor and model.cursor + 3 * max(table.size.height, 1) >= len(model):
        keys.insert(0, ("", "home", lambda: model.cursor))  # not timed: keeps pagedown moving
    return keys


def review_pred(
    review: ReviewScreen, key: str, probe: Callable[[], object] | None, opens: dict
) -> Callable[[object], bool]:
    """The frame predicate: the probe's value changed, or the expected screen is on top."""
    if probe is not None:
        before = probe()
        return lambda s: s is review and probe() != before
    if key in opens:
        return lambda s: isinstance(s, opens[key])
    return lambda s: s is review


async def bench_review(app: TimedDedupApp, pilot, cycles: int, budget: float) -> dict:
    """The review screen's keys on the partial result the cancel left (Pilot, headless)."""
    await wait_for(
        lambda: isinstance(app.screen, ReviewScreen) and not app.screen.matching,
        120,
        f"the review screen after the cancel (stack: {app.screen_stack})",
    )
    review = app.screen
    if len(review.model) < 2:
        return {"skipped": f"{len(review.model)} pair(s) in the partial result"}
    await pilot.pause(0.5)
    out: dict = {"keys": {k: [] for k in REVIEW_KINDS}, "pairs": len(review.model)}
    opens = {"d": DetailsScreen, "question_mark": HelpScreen}
    t_start, done = time.perf_counter(), 0
    for n in range(cycles):
        for kind, key, probe in review_cycle(review, n):
            w = await press(app, key, review_pred(review, key, probe, opens))
            if w.t_visible is None:
                raise RuntimeError(f"review: no visible result for {key} ({kind}), {app.screen}")
            if kind:
                out["keys"][kind].append((w.t_visible, w.t_any))
            await pilot.pause(PACE)
        done += 1
        if time.perf_counter() - t_start > budget:
            break
    out["cycles"], out["seconds"] = done, time.perf_counter() - t_start
    return out


# -- a real terminal: tmux --------------------------------------------------------------------

SEARCH_ICON = "🔎"
SCAN_HINT = "escape: stop and review"


def tmux_palette_text(screen: str) -> str | None:
    for line in screen.splitlines():
        if SEARCH_ICON in line:
            text = line.split(SEARCH_ICON, 1)[1].strip()
            return "" if text.startswith("Search for commands") else text
    return None


def tmux_visible(kind: str, typed: str) -> Callable[[str], bool]:
    if kind == KINDS[0]:
        return lambda s: tmux_palette_text(s) == ""
    if kind == KINDS[1]:
        return lambda s: tmux_palette_text(s) == typed
    if kind == KINDS[2]:
        return lambda s: "could not be read" in s
    return lambda s: (
        tmux_palette_text(s) is None and "could not be read" not in s and SCAN_HINT in s
    )


TMUX_KEYS = {"ctrl+p": "C-p", "escape": "Escape", "enter": "Enter"}


class Poller:
    def __init__(self, tmux: Tmux) -> None:
        self.tmux = tmux
        self.capture_times: list[float] = []
        self.last = ""

    def until(self, cond: Callable[[str], bool], timeout: float) -> float | None:
        """perf_counter() when a capture that satisfies ``cond`` returned, or None."""
        deadline = time.perf_counter() + timeout
        while True:
            t = time.perf_counter()
            self.last = self.tmux.screen()
            now = time.perf_counter()
            self.capture_times.append(now - t)
            if cond(self.last):
                return now
            if now > deadline:
                return None
            time.sleep(POLL)


def bench_tmux(tree: str, cycles: int, budget: float, min_hashed: int, workers: int) -> dict:
    tmux_bin = shutil.which("tmux")
    if tmux_bin is None:
        return {"skipped": "tmux not found"}
    exe = Path(sys.executable).with_name("dedup-tui")
    argv = [str(exe)] if exe.exists() else [sys.executable, "-m", "tui_dedup"]
    argv += ["--no-cache", "--preview", "none", tree]
    if workers:
        argv[-1:-1] = ["--workers", str(workers)]
    home = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-ui-load-{os.getpid()}"
    tmux = Tmux(tmux_bin, home)
    poll = Poller(tmux)
    out: dict = {"keys": {k: [] for k in KINDS}, "argv": argv}
    hashed = re.compile(r"stage 2/3: hashing.*?hashed: ([\d,]+)", re.S)
    try:
        tmux.start(argv, *SIZE)

        def ready(s: str) -> bool:
            m = hashed.search(s)
            return m is not None and int(m.group(1).replace(",", "")) >= min_hashed

        if poll.until(ready, 120) is None:
            raise RuntimeError(f"tmux: hashing never started\n{tmux.framed()}")
        poll.capture_times.clear()
        t_start = time.perf_counter()
        done_cycles = 0
        for n in range(cycles):
            typed = ""
            for kind, key in cycle_keys(n):
                if kind == KINDS[1]:
                    typed += key
                if kind == KINDS[2]:
                    ok = poll.until(lambda s: "files the scan could not read" in s, 30)
                    if ok is None:
                        raise RuntimeError(f"tmux: no Errors hit\n{tmux.framed()}")
                t0 = time.perf_counter()
                tmux.send(TMUX_KEYS.get(key, key))
                t1 = poll.until(tmux_visible(kind, typed), KEY_TIMEOUT)
                if t1 is None:
                    tmux.check_alive(f"{key} ({kind})")
                    raise RuntimeError(f"tmux: no visible result for {key}\n{tmux.framed()}")
                out["keys"][kind].append(t1 - t0)
                time.sleep(PACE)
            done_cycles += 1
            if time.perf_counter() - t_start > budget:
                break
        out["cycles"] = done_cycles
        out["capture_ms"] = statistics.median(poll.capture_times) * 1000
        m = hashed.search(poll.last)
        out["still_hashing"] = m is not None
        # stop the scan the way a user would; the first "stopping" frame is the answer
        t0 = time.perf_counter()
        tmux.send("Escape")
        t1 = poll.until(lambda s: "stopping" in s, KEY_TIMEOUT)
        out["cancel"] = None if t1 is None else t1 - t0
        tmux.send("C-q")
        try:
            out["exit"] = tmux.wait_exit(timeout=30)
        except AssertionError:
            out["exit"] = "did not exit within 30 s"
    finally:
        tmux.close()
        shutil.rmtree(home, ignore_errors=True)
    return out


# -- report -----------------------------------------------------------------------------------


def escdelay_text() -> str:
    if "ESCDELAY" in os.environ:
        return f"{os.environ['ESCDELAY']} ms, from the environment"
    return "25 ms, the app's default"


def fmt_ms(seconds: float | None) -> str:
    return "?" if seconds is None else f"{seconds * 1000:,.1f} ms"


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def key_rows(where: str, keys: dict[str, list], any_col: bool) -> list[str]:
    rows, every = [], []
    for kind in keys:
        got = keys.get(kind, [])
        if not got:
            continue
        ms = [(g[0] if any_col else g) * 1000 for g in got]
        every += ms
        extra = f" | {pct([g[1] * 1000 for g in got], 0.5):,.1f}" if any_col else ""
        rows.append(
            f"| {where} | {kind} | {len(ms)} | {pct(ms, 0.5):,.1f} | {pct(ms, 0.95):,.1f} | "
            f"{max(ms):,.1f}{extra} |"
        )
    if every:
        p50, p95 = pct(every, 0.5), pct(every, 0.95)
        extra = " | " if any_col else ""
        rows.append(
            f"| {where} | **all keys** (target p95 < {KEY_TARGET_MS:.0f} ms: "
            f"{verdict(p95 < KEY_TARGET_MS)}) | {len(every)} | **{p50:,.1f}** | **{p95:,.1f}** | "
            f"{max(every):,.1f}{extra} |"
        )
    return rows


def report(
    args, base: dict | None, pilot: dict | None, term: dict | None, load0, load1, t_run: float
) -> str:
    cmd = "python benchmarks/bench_ui_load.py" + (
        "" if args.argv_text == "" else f" {args.argv_text}"
    )
    lines = [
        "# UI latency under a cold scan, and cancel",
        "",
        f"Command: `{cmd}`, run from the project root in the venv.",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M')}; {platform.machine()}, {os.cpu_count()} CPUs; "
        f"Python {platform.python_version()}, Textual {textual.__version__}; tree "
        f"`{os.path.relpath(args.tree, ROOT)}` scanned cold (`use_cache=False`, "
        f'`preview="none"` for the scan, "halfblock" for part 4; decode threads: '
        f"{args.workers or 'default, two per core'}), "
        f"terminal {SIZE[0]}×{SIZE[1]}. Load average (1/5/15 min) "
        f"{load0[0]:.1f}/{load0[1]:.1f}/{load0[2]:.1f} at the start, "
        f"{load1[0]:.1f}/{load1[1]:.1f}/{load1[2]:.1f} at the end (which includes this "
        f"benchmark's own scans); whole run {t_run:.0f} s.",
        "",
        "Keys per cycle: ctrl+p, three letters, then enter on the Errors hit + escape (even "
        "cycles) or escape closing the palette (odd cycles); each key waits for its visible "
        f"result, then {PACE * 1000:.0f} ms. See the script's docstring for exactly what is "
        "timed.",
        "",
    ]
    if pilot is not None:
        ph = pilot["phase"]
        rate = (ph["done_after"] - ph["done_before"]) / ph["seconds"]
        leaked = "no (BUG: an escape reached the scan screen)" if ph["stopped_by_keys"] else "yes"
        lines += [
            "## 1. Keys during the scan, headless (Pilot)",
            "",
            "Latency = key event sent → first composed screen update that shows the key's "
            "effect. *Any frame* = first update of any kind after the key (often a progress "
            "repaint). *Idle screen* is the control: the same screen and progress repaints "
            "with the engine replaced by a stub that decodes nothing.",
            "",
            "| where | key → visible result | n | p50 ms | p95 ms | max ms | p50 any frame ms |",
            "|---|---|---:|---:|---:|---:|---:|",
            *(key_rows("idle screen", base["keys"], any_col=True) if base else []),
            *key_rows("**scanning**", pilot["keys"], any_col=True),
            "",
            f"{pilot['cycles']} cycles in {ph['seconds']:.1f} s. The scan kept going: "
            f"{ph['done_before']:,} → {ph['done_after']:,} of {ph['total']:,} files "
            f"({rate:,.0f} files/s, {ph['decodes']:,} decodes during the key phase); stage at "
            f"the end: {ph['stage_after']}; stop flag untouched by the keys: "
            f"{leaked}.",
            "",
        ]
        c = pilot["cancel"]
        worker_target = max(1.0, c["longest_in_flight"])
        ui, ui_any = c["ui_visible"], c["ui_any"]
        ui_any_text = "lost" if ui_any is None else f"{ui_any * 1000:,.1f} ms"
        lines += [
            "## 2. Cancel (escape on the scan screen, headless)",
            "",
            "| measure | value | target | verdict |",
            "|---|---:|---|---|",
            f'| escape → first frame showing "stopping" | '
            f"{'lost' if ui is None else f'{ui * 1000:,.1f} ms'} | < "
            f"{CANCEL_UI_TARGET_MS:.0f} ms | "
            f"{verdict(ui is not None and ui * 1000 < CANCEL_UI_TARGET_MS)} |",
            f"| escape → first frame of any kind | {ui_any_text} | – | – |",
            f"| escape → stop flag set | {c['flag_set'] * 1000:,.1f} ms | – | – |",
            f"| escape → scan worker's `scan()` returned | {c['worker_done'] * 1000:,.1f} ms | "
            f"≤ max(1 s, longest decode in flight) = {worker_target * 1000:,.0f} ms | "
            f"{verdict(c['worker_done'] <= worker_target)} |",
            f"| stop flag → `scan()` returned | {c['worker_after_flag'] * 1000:,.1f} ms (decode "
            f"pool drained after {fmt_ms(c['pool_after_flag'])}, then the feature store build "
            f"took {fmt_ms(c['build'])}) | – | – |",
            f"| escape → Textual's scan worker finished (`is_finished`, polled every 10 ms) | "
            f"{c['worker_state'] * 1000:,.1f} ms | – | – |",
            f"| decodes in flight when the flag was set | {c['in_flight']} (longest "
            f"{c['longest_in_flight'] * 1000:,.1f} ms; last ended "
            f"{c['last_in_flight_end'] * 1000:,.1f} ms after the flag) | – | – |",
            f"| `compute_row` calls started after the flag was set | "
            f"{c['started_after_flag']} | 0 | {verdict(c['started_after_flag'] == 0)} |",
            f"| `compute_row` calls started between the key and the flag | "
            f"{c['started_after_press'] - c['started_after_flag']} | – (the key's own latency) "
            f"| – |",
            "",
            f"Files hashed when stopped: {c['hashed']:,} ({c['decodes_total']:,} "
            "`compute_row` calls in this scan).",
            "",
        ]
    if term is not None:
        lines += ["## 3. Keys during the scan, through tmux", ""]
        if "skipped" in term:
            lines += [f"Skipped: {term['skipped']}.", ""]
        else:
            cancel = term["cancel"]
            shown = " ".join(
                os.path.relpath(a, ROOT) if a.startswith("/") else a for a in term["argv"]
            )
            lines += [
                f"`{shown}`"
                f" in tmux {SIZE[0]}×{SIZE[1]} (private socket). Latency = before `tmux "
                "send-keys` is spawned → the `tmux capture-pane -p` that first shows the "
                "change has returned: it includes tmux's own latency, two tmux client "
                f"processes and the polling (median capture {term['capture_ms']:.1f} ms, "
                f"then {POLL * 1000:.0f} ms sleep). Escapes include ESCDELAY "
                f"({escdelay_text()}: a lone ESC byte waits for a possible escape sequence); "
                "tmux's escape-time does not apply to `send-keys`.",
                "",
                "| where | key → visible result | n | p50 ms | p95 ms | max ms |",
                "|---|---|---:|---:|---:|---:|",
                *key_rows("tmux", term["keys"], any_col=False),
                "",
                f"{term['cycles']} cycles; scan still hashing at the end: "
                f"{'yes' if term['still_hashing'] else 'no'}. Escape on the scan screen → "
                f'"stopping" on the terminal: '
                f"{'not seen' if cancel is None else f'{cancel * 1000:,.1f} ms'} (target < "
                f"{CANCEL_UI_TARGET_MS:.0f} ms: "
                f"{verdict(cancel is not None and cancel * 1000 < CANCEL_UI_TARGET_MS)}); "
                f"ctrl+q then: exit status {term['exit']}.",
                "",
            ]
    review = (pilot or {}).get("review")
    if review is not None:
        lines += ["## 4. Review screen keys, headless (Pilot)", ""]
        if "skipped" in review:
            lines += [f"Skipped: {review['skipped']}.", ""]
        else:
            lines += [
                f"After the cancel, on the review screen of the partial result "
                f"({review['pairs']:,} pairs; preview pane in half-block mode, thumbnails "
                "decoded in a worker as the cursor moves). Per cycle: down, pagedown, o, "
                "space, p, g, g, d, escape, ?, escape; each key waits for its visible result "
                f"(the cursor, sort column, mark count, pane or screen changed in a composed "
                f"frame), then {PACE * 1000:.0f} ms. There is no scan at this point: the review "
                "screen exists only once a scan has ended.",
                "",
                "| where | key → visible result | n | p50 ms | p95 ms | max ms | "
                "p50 any frame ms |",
                "|---|---|---:|---:|---:|---:|---:|",
                *key_rows("review", review["keys"], any_col=True),
                "",
                f"{review['cycles']} cycles in {review['seconds']:.1f} s.",
                "",
            ]
    if load0[0] > (os.cpu_count() or 1):
        lines += [
            "**The machine was busy (load average above the CPU count) during this run: "
            "the latencies are upper bounds; rerun on an idle machine for representative "
            "numbers.**",
            "",
        ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tree", default=str(ROOT / "benchmarks/data/rescan-100000"))
    ap.add_argument("--cycles", type=int, default=50, help="key cycles per part (see docstring)")
    ap.add_argument("--budget", type=float, default=60.0, help="seconds per key phase, at most")
    ap.add_argument("--min-hashed", type=int, default=200, help="files hashed before keys start")
    ap.add_argument("--workers", type=int, default=0, help="decode threads (0: app default)")
    ap.add_argument(
        "--review-cycles",
        type=int,
        default=50,
        help="review-screen key cycles after the cancel (0: skip that part)",
    )
    ap.add_argument("--no-baseline", action="store_true", help="skip the idle-screen control")
    ap.add_argument("--no-pilot", action="store_true")
    ap.add_argument("--no-tmux", action="store_true")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/ui_load.md")
    args = ap.parse_args()
    args.argv_text = " ".join(sys.argv[1:])
    args.tree = os.path.abspath(args.tree)
    if not os.path.isdir(args.tree):
        sys.exit(f"no such tree: {args.tree} (generate it with benchmarks/bench_rescan.py)")

    # marks made by the review part are saved as the app goes: keep them out of the user's
    # state dir (the tmux child inherits this too)
    state = tempfile.mkdtemp(prefix="bench-ui-load-state-")
    os.environ["DEDUP_TUI_STATE_DIR"] = state
    load0, t0 = os.getloadavg(), time.perf_counter()
    base = pilot = term = None
    common = (args.tree, args.cycles, args.budget, args.min_hashed, args.workers)
    if not args.no_pilot:
        if not args.no_baseline:
            base = asyncio.run(bench_pilot(*common, idle=True))
            print("baseline (idle screen) done", file=sys.stderr)
        pilot = asyncio.run(bench_pilot(*common, review_cycles=args.review_cycles))
        print("pilot part done", file=sys.stderr)
    if not args.no_tmux:
        try:
            term = bench_tmux(*common)
        except Exception as exc:  # keep the other parts' figures; say what went wrong
            term = {"skipped": f"failed: {type(exc).__name__}: {exc}"}
        print("tmux part done", file=sys.stderr)
    shutil.rmtree(state, ignore_errors=True)
    text = report(args, base, pilot, term, load0, os.getloadavg(), time.perf_counter() - t0)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
