"""Main-thread stalls from full garbage collections on the review screen of a big result.

Run from the project root, in the venv:

    python benchmarks/bench_review_gc.py                    # 100,000 files, ~100,000 pairs
    python benchmarks/bench_review_gc.py --no-freeze        # the same without gc_policy's freeze
    python benchmarks/bench_review_gc.py --files 20000 --pairs 20000 --presses 120

Prints a small markdown report (nothing is written). The real app runs headless
(``App.run_test``) through its real flow -- scan screen, ``ScanFinished``, match worker, review
screen -- but the scan returns a synthetic result of ``--files`` files at once (a
:class:`FileEntry` per file and zeroed feature columns, like a store read from the cache) and
matching returns ``--pairs`` random pairs over them, so the heap holds what a real result of
that size holds without minutes of decoding.

Measured on the review screen, over ``--presses`` key presses (down, pagedown, space, up...):

- key latency: key event sent to the driver → first composed screen update (``App._display``),
  as in bench_table_latency.py; p50/p95/max.
- every automatic generation-2 collection on the main thread (``gc.callbacks``), with its
  duration. Before each press ``--churn`` objects are made that stay alive for five presses,
  as in a bounded cache (Textual keeps several): they outlive the young collections and reach
  the old generation, so the collector's own rule (a full collection once the objects that
  reached the old generation since the last full one exceed 25 % of it) fires within the run,
  as it does over a long session.
- the cost of one full collection (``gc.collect()``) at the end, which is what any automatic
  one costs, and how many objects the collector walks (``gc.get_objects()``) versus how many
  are frozen (``gc.get_freeze_count()``).

CPU time of the main thread (``time.thread_time``) is reported next to wall time, as the
machine may be shared.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from textual import events

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import tui_dedup.review.pipeline as scan_screen_mod  # noqa: E402  (where the scan runs)
import tui_dedup.tui.app as app_module  # noqa: E402
import tui_dedup.tui.gc_policy as gc_policy  # noqa: E402
from tui_dedup.engine.features.columns import zeros as feature_zeros  # noqa: E402
from tui_dedup.engine.features.meta_columns import MetaColumns  # noqa: E402
from tui_dedup.engine.features.store import FeatureBlock, StoreBuilder  # noqa: E402
from tui_dedup.engine.files.digest import DIGEST_SIZE  # noqa: E402
from tui_dedup.engine.model import FileEntry, Pairs  # noqa: E402
from tui_dedup.engine.scan import ScanResult  # noqa: E402
from tui_dedup.review.session import ReviewSession  # noqa: E402
from tui_dedup.review.settings import RunSettings  # noqa: E402
from tui_dedup.review.thresholds import MatchOutcome  # noqa: E402
from tui_dedup.tui.app import DedupApp  # noqa: E402
from tui_dedup.tui.screens.review import ReviewScreen  # noqa: E402

SIZE = (120, 36)
KEYS = ("down", "down", "down", "pagedown", "space", "down", "space", "up", "pageup", "down")
CHARS = {"space": " "}
KEY_TIMEOUT = 10.0
PACE = 0.02  # seconds between a key's frame and the next key
CHURN_PRESSES = 5  # presses a churn object stays alive


def synthetic_result(root: str, n_files: int, hash_size: int = 8) -> ScanResult:
    """A scan result of ``n_files`` files: real entries, zeroed features, no decoding."""
    rng = np.random.default_rng(0)
    entries = [
        FileEntry(
            f"{root}/{2005 + f % 20}/{['trip', 'family', 'phone', 'scans'][f % 4]}_{f % 131:03d}"
            f"/IMG_{f:07d}.jpg",
            root,
            int(20_000 + f * 37 % 25_000_000),
            1_100_000_000_000_000_000 + f * 1_000_000_000,
            2049,
            1_000_000 + f,
        )
        for f in range(n_files)
    ]
    metas = MetaColumns(
        rng.choice([640, 1920, 4032], n_files).astype(np.int64),
        rng.choice([480, 1080, 3024], n_files).astype(np.int64),
        np.zeros(n_files, np.int32),
        ["JPEG"],
        np.full(n_files, np.nan),
        np.full(n_files, -1, np.int32),
        [],
        np.zeros(n_files, bool),
        np.zeros(n_files, np.float64),
    )
    hashes, features = feature_zeros(n_files, hash_size)
    features["detail"][:] = 40.0  # above the low-detail limit
    block = FeatureBlock(
        metas, hashes, features, np.zeros((n_files, DIGEST_SIZE), np.uint8), np.zeros(n_files, bool)
    )
    builder = StoreBuilder(hash_size)
    builder.add_block(entries, block)
    return ScanResult([root], builder.build(), [], [], False, n_files, 0, 1.0)


def synthetic_pairs(n_files: int, n_pairs: int) -> Pairs:
    """About ``n_pairs`` canonical pairs, each file paired with near neighbours."""
    rng = np.random.default_rng(1)
    i = rng.integers(0, n_files - 1, n_pairs)
    j = np.minimum(i + rng.integers(1, 60, n_pairs), n_files - 1)
    key = np.unique(i.astype(np.int64) * n_files + j)
    i, j = (key // n_files).astype(np.int32), (key % n_files).astype(np.int32)
    m = len(i)
    return Pairs(
        i,
        j,
        rng.integers(0, 12, m).astype(np.int16),
        rng.uniform(0.8, 1.0, m).astype(np.float32),
        np.zeros(m, np.int8),
        np.zeros(m, bool),
    )


class GcClock:
    """Durations of the collections run on the main thread, by generation (``gc.callbacks``)."""

    def __init__(self) -> None:
        self.main = threading.get_ident()
        self.full: list[float] = []  # seconds per generation-2 collection
        self.young = 0
        self._t0 = 0.0
        self.recording = False

    def __call__(self, phase: str, info: dict) -> None:
        if threading.get_ident() != self.main:
            return
        if phase == "start":
            self._t0 = time.perf_counter()
        elif self.recording:
            if info["generation"] == 2:
                self.full.append(time.perf_counter() - self._t0)
            else:
                self.young += 1


class TimedApp(DedupApp):
    """The real app; records when each screen update is composed."""

    CSS_PATH = str(Path(app_module.__file__).with_name(DedupApp.CSS_PATH))

    def __init__(self, settings: RunSettings) -> None:
        super().__init__(settings)
        self.frame = asyncio.Event()
        self.frame_at = 0.0

    def _display(self, screen, renderable) -> None:
        if renderable is not None and not self._batch_count:
            self.frame_at = time.perf_counter()
            self.frame.set()
        super()._display(screen, renderable)


async def press(app: TimedApp, key: str) -> float | None:
    app.frame.clear()
    t0 = time.perf_counter()
    app._driver.send_message(events.Key(key, CHARS.get(key, key if len(key) == 1 else None)))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(app.frame.wait(), KEY_TIMEOUT)
        return app.frame_at - t0
    return None


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run(args: argparse.Namespace) -> dict:
    root = tempfile.mkdtemp(prefix="bench-review-gc-")
    t = time.perf_counter()
    holder = [synthetic_result(root, args.files)]  # handed over once: the app owns it
    pairs = synthetic_pairs(args.files, args.pairs)
    built = time.perf_counter() - t

    def fake_scan(roots, config, *, cache=None, on_progress=None, should_stop=None):
        return holder.pop()

    def fake_compute(self, method, threshold, skips=None, should_stop=None):
        return MatchOutcome(method, threshold, pairs)

    clock = GcClock()
    gc.callbacks.append(clock)
    real_scan, real_compute = scan_screen_mod.scan, ReviewSession.compute
    scan_screen_mod.scan = fake_scan
    ReviewSession.compute = fake_compute
    out: dict = {"build": built}
    try:
        app = TimedApp(RunSettings(roots=[root], use_cache=False, preview="none"))
        async with app.run_test(size=SIZE) as pilot:
            deadline = time.perf_counter() + 60
            while not (isinstance(app.screen, ReviewScreen) and not app.screen.matching):
                if time.perf_counter() > deadline:
                    raise TimeoutError(f"no review screen ({app.screen_stack}, {app.problems})")
                await asyncio.sleep(0.02)
            review = app.screen
            await pilot.pause(0.3)
            out["pairs"] = len(review.model)
            out["frozen_at_review"] = gc.get_freeze_count()
            keep: list[list[object]] = []  # objects that stay alive, as caches do
            lat: list[float] = []
            clock.recording = True
            cpu0, wall0 = time.thread_time(), time.perf_counter()
            for n in range(args.presses):
                if args.churn:  # a bounded cache: what it holds lives for a few presses
                    keep.append([[k] for k in range(args.churn)])
                    if len(keep) > CHURN_PRESSES:
                        keep.pop(0)
                dt = await press(app, KEYS[n % len(KEYS)])
                if dt is None:
                    raise RuntimeError(f"no frame after {KEYS[n % len(KEYS)]!r}")
                lat.append(dt)
                await pilot.pause(PACE)
            clock.recording = False
            out["cpu"], out["wall"] = time.thread_time() - cpu0, time.perf_counter() - wall0
            out["lat"], out["full"], out["young"] = lat, list(clock.full), clock.young
            del keep
            out["tracked"] = len(gc.get_objects())
            out["frozen"] = gc.get_freeze_count()
            c0, t0 = time.thread_time(), time.perf_counter()
            gc.collect()
            out["collect"] = (time.perf_counter() - t0, time.thread_time() - c0)
            app.exit(0)
        out["frozen_after_exit"] = gc.get_freeze_count()
    finally:
        scan_screen_mod.scan, ReviewSession.compute = real_scan, real_compute
        gc.callbacks.remove(clock)
        os.rmdir(root)
    return out


def report(args: argparse.Namespace, r: dict) -> str:
    ms = [x * 1000 for x in r["lat"]]
    full = [x * 1000 for x in r["full"]]
    mode = "without the freeze (--no-freeze)" if args.no_freeze else "with gc_policy's freeze"
    return "\n".join(
        [
            f"# Review screen, {args.files:,} files, {r['pairs']:,} pairs: {mode}",
            "",
            f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load "
            f"{os.getloadavg()[0]:.1f}; synthetic result built in {r['build']:.1f} s; "
            f"{args.churn:,} objects per press kept for {CHURN_PRESSES} presses.",
            "",
            "| measure | value |",
            "|---|---:|",
            f"| key → frame, n | {len(ms)} |",
            f"| key → frame, p50 / p95 / max ms | {pct(ms, 0.5):.1f} / {pct(ms, 0.95):.1f} / "
            f"{max(ms):.1f} |",
            f"| key phase: wall s / main-thread CPU s | {r['wall']:.2f} / {r['cpu']:.2f} |",
            f"| automatic full (gen-2) collections on the main thread | {len(full)} |",
            f"| their duration, max / total ms | {max(full, default=0):.1f} / {sum(full):.1f} |",
            f"| young collections on the main thread | {r['young']} |",
            f"| objects frozen when the review screen came up | {r['frozen_at_review']:,} |",
            f"| objects a full collection walks / frozen, after the keys | {r['tracked']:,} / "
            f"{r['frozen']:,} |",
            f"| one `gc.collect()`: wall / CPU ms | {r['collect'][0] * 1000:.1f} / "
            f"{r['collect'][1] * 1000:.1f} |",
            f"| frozen objects after the app exited | {r['frozen_after_exit']:,} |",
            "",
            "Key latency median over all presses: "
            f"{statistics.median(ms):.1f} ms; presses slower than 100 ms: "
            f"{sum(1 for x in ms if x > 100)}.",
        ]
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--files", type=int, default=100_000)
    ap.add_argument("--pairs", type=int, default=100_000)
    ap.add_argument("--presses", type=int, default=150)
    ap.add_argument(
        "--churn", type=int, default=2_000, help="live objects made per press (0: none)"
    )
    ap.add_argument("--no-freeze", action="store_true", help="measure without the freeze")
    args = ap.parse_args()
    if args.no_freeze:
        gc_policy.HeapFrozen.hold = lambda self: None  # type: ignore[method-assign]
    state = tempfile.mkdtemp(prefix="bench-review-gc-state-")
    os.environ["DEDUP_TUI_STATE_DIR"] = state
    try:
        print(report(args, asyncio.run(run(args))))
    finally:
        import shutil

        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
