"""UI latency while a cold scan of 100,000 files runs, and how quickly escape stops the scan.

Run from the project root, in the venv:

    python benchmarks/bench_ui_load.py
    python benchmarks/bench_ui_load.py --tree DIR --cycles 20 --no-tmux

Writes a markdown report to benchmarks/results/ui_load.md and prints it. This file has the
scan-screen parts (1 and 2) and the entry point; part 3 is in ui_load_tmux.py, part 4 in
ui_load_review.py, the report in ui_load_report.py, and what they share in ui_load_common.py.

Bounded: each key phase stops after ``--budget`` seconds, every wait has a timeout, and both
scans are stopped with escape once measured (a cold scan of the tree would take several
minutes).

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
120×36); keys go in with ``send-keys`` and the screen is read with ``capture-pane -p``, both
commands of one tmux control-mode client (``tmux -C``) that stays attached; the screen is read
every 5 ms. The clock starts before the send-keys command is written and stops when the
capture that shows the change returns, so each figure includes up to one polling interval
(the median capture time is reported). ``--tmux-clients`` instead spawns a tmux client
process per key and per read, as this benchmark did until 2026-11-28: two process spawns
more per key, and reads every ~11 ms.
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
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from textual.command import CommandInput, CommandList, CommandPalette

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ui_load_common import (  # noqa: E402
    KINDS,
    PACE,
    SIZE,
    TimedDedupApp,
    cycle_keys,
    press,
    wait_for,
)
from ui_load_report import report  # noqa: E402
from ui_load_review import bench_review  # noqa: E402
from ui_load_tmux import bench_tmux  # noqa: E402

import tui_dedup.engine.scan as engine_scan  # noqa: E402
import tui_dedup.review.pipeline as scan_screen_mod  # noqa: E402  (where the scan runs)
from tui_dedup.engine.features.store import StoreBuilder  # noqa: E402
from tui_dedup.engine.scan import ScanConfig, ScanResult  # noqa: E402
from tui_dedup.engine.scan_progress import ScanProgress  # noqa: E402
from tui_dedup.review.settings import RunSettings  # noqa: E402
from tui_dedup.tui.screens.errors import ErrorsScreen  # noqa: E402
from tui_dedup.tui.screens.scan import ScanScreen  # noqa: E402
from tui_dedup.tui.widgets.progress import ScanProgressView  # noqa: E402

# -- headless: Pilot --------------------------------------------------------------------------


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


def palette_text(screen) -> str | None:
    """The search box's text once the box is in the composed frame (the palette's first
    frame can be the dimmed screen alone), else None."""
    if not isinstance(screen, CommandPalette):
        return None
    box = screen.query_one(CommandInput)
    if box not in screen._compositor.visible_widgets:
        return None
    return box.value


def visible_pred(kind: str, typed: str) -> Callable[[object], bool]:
    if kind == KINDS[0]:
        return lambda s: palette_text(s) == ""
    if kind == KINDS[1]:
        return lambda s: palette_text(s) == typed
    if kind == KINDS[2]:
        return lambda s: isinstance(s, ErrorsScreen)
    return lambda s: isinstance(s, ScanScreen)  # both escapes: back to the scan screen


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
                        typed = (palette_text(app.screen) or "") + key
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
    ap.add_argument(
        "--tmux-clients",
        action="store_true",
        help="part 3 through a tmux client process per key and per read (the old harness)",
    )
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
            term = bench_tmux(*common, clients=args.tmux_clients)
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
