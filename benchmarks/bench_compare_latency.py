"""Key-to-screen latency of the full-screen compare (issue #16, item 4), against the review
table's own Down key measured in the same run, interleaved.

Run from the project root, in the venv:

    python benchmarks/bench_compare_latency.py            # 12 MP photos, 80×24, 20 cycles
    python benchmarks/bench_compare_latency.py --size 160x50 --cycles 40

The real app (half-block pictures) on a generated library of camera-size JPEGs with copies
(re-encoded, mirrored, half-size). One cycle: ``down`` in the table (the peer), ``enter``
(open the compare), ``j`` (next pair), ``f`` (flip to A), ``f`` (flip to B), ``x``
(difference), ``b`` (side by side), ``escape`` (back). Each key's clock starts when the key
event is handed to the driver and stops at the first composed frame that shows its effect (the
title's position, the label, the screen) — the binding, the screen's work, Textual's frame
scheduling and compositing, everything but the terminal. Pictures are not waited for: they
follow once keys pause. *Picture after pause* is measured apart: from a ``j`` to the frame in
which both new pictures are on screen (the preview's debounce, two reduced decodes, the
lined-up views, the half-block render, a band of rows a frame). Writes
benchmarks/results/compare_latency.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from ui_load_common import TimedDedupApp, press  # noqa: E402

from tui_dedup.demo import make_photo, write_jpeg  # noqa: E402
from tui_dedup.review.settings import RunSettings  # noqa: E402
from tui_dedup.tui.screens.compare import CompareScreen  # noqa: E402
from tui_dedup.tui.widgets.halfblock import BandedHalfcellImage  # noqa: E402
from tui_dedup.tui.widgets.picture_frame import PictureFrame  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"


def make_library(dest: Path, bases: int, width: int, height: int) -> None:
    """``bases`` camera-size photos, each with a re-encode, a mirror and a half-size copy."""
    for k in range(bases):
        small = make_photo(100 + k, width // 4, height // 4)
        img = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
        folder = dest / f"{2015 + k % 8}" / f"event {k:02d}"
        for d in (folder, dest / "backup" / folder.name, dest / "phone", dest / "shared"):
            d.mkdir(parents=True, exist_ok=True)
        write_jpeg(folder / f"IMG_{k:04d}.jpg", img, 92)
        write_jpeg(dest / "backup" / folder.name / f"IMG_{k:04d}.jpg", img, 70)
        write_jpeg(dest / "phone" / f"IMG_{k:04d} mirrored.jpg", img[:, ::-1], 85)
        half = cv2.resize(img, (width // 2, height // 2), interpolation=cv2.INTER_AREA)
        write_jpeg(dest / "shared" / f"IMG_{k:04d}-small.jpg", half, 80)


def p95(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(0.95 * (len(xs) - 1)))]


async def run(library: Path, size: tuple[int, int], cycles: int) -> dict[str, list[float]]:
    settings = RunSettings(roots=[str(library)], use_cache=False, preview="halfblock")
    app = TimedDedupApp(settings)
    times: dict[str, list[float]] = {}
    pictures: list[float] = []

    def compare() -> CompareScreen | None:
        return app.screen if isinstance(app.screen, CompareScreen) else None

    def title_starts(prefix: str):
        return lambda _screen: (c := compare()) is not None and c.title_text.startswith(prefix)

    def label_starts(prefix: str):
        return lambda _screen: (c := compare()) is not None and c.label_text.startswith(prefix)

    async with app.run_test(size=size) as pilot:
        for _ in range(2000):  # the scan, the match and the verdicts
            await pilot.pause(0.05)
            review = app.screen
            if type(review).__name__ == "ReviewScreen" and not review.matching:
                break
        await app.workers.wait_for_complete()
        review = app.screen
        for n in range(cycles):
            row = review.views.model.cursor
            steps = [
                (
                    "table: down (peer)",
                    "down",
                    lambda _s, r=row: review.views.model.cursor == r + 1,
                ),
                ("compare: open (enter)", "enter", lambda _s: compare() is not None),
                ("compare: next pair (j)", "j", title_starts(f"{row + 3}/")),
                ("compare: flip (f)", "f", label_starts("A  ")),
                ("compare: flip again (f)", "f", label_starts("B  ")),
                ("compare: difference (x)", "x", label_starts("Difference")),
                (
                    "compare: side by side (b)",
                    "b",
                    lambda _s: (
                        compare() is not None and compare().query_one("#compare-sides").display
                    ),
                ),
                ("compare: back (escape)", "escape", lambda _s: compare() is None),
            ]
            for name, key, pred in steps:
                w = await press(app, key, pred)
                if w.t_visible is not None:
                    times.setdefault(name, []).append(w.t_visible)
                await pilot.pause()
            if n % 4 == 0:  # a picture after the keys pause, in the compare
                await pilot.press("enter")
                await pilot.pause(0.5)
                await app.workers.wait_for_complete()
                c = compare()
                assert c is not None
                frames = list(c.query_one("#compare-sides").query(PictureFrame))
                before = [f.shown for f in frames]
                t0 = time.perf_counter()
                await pilot.press("j")
                while time.perf_counter() - t0 < 10:
                    await pilot.pause(0.005)
                    if all(
                        f.shown is not None
                        and f.shown is not b
                        and all(p.revealed for p in f.query(BandedHalfcellImage))
                        for f, b in zip(frames, before, strict=True)
                    ):  # the last band of both pictures drawn
                        pictures.append(time.perf_counter() - t0)
                        break
                await pilot.press("escape")
                await pilot.pause()
            if review.views.model.cursor + 4 >= len(review.views.model):
                review.views.table.move_cursor(0)
                await pilot.pause()
    times["picture after pause (j, both pictures on screen)"] = pictures
    return times


def run_tmux(library: Path, size: tuple[int, int], cycles: int) -> dict[str, list[float]]:
    """The same cycle through a real terminal: ``dedup-tui`` in tmux, keys with ``send-keys``
    and the screen read with ``capture-pane`` every 5 ms (one control-mode client,
    ``ui_load_tmux.py``). The peer here is ``?`` / ``escape`` on the review (the help screen,
    built once and reused), since a row change is not visible in text without a preview."""
    import shutil

    from ui_load_tmux import ControlClient, Poller

    from tests.tui.ssh_harness import Tmux

    tmux_bin = shutil.which("tmux")
    if tmux_bin is None:
        raise SystemExit("tmux not found")
    exe = Path(sys.executable).with_name("dedup-tui")
    argv = [str(exe), "--no-cache", "--preview", "halfblock", str(library)]
    tmux = Tmux(tmux_bin, library.parent / "tmux")
    times: dict[str, list[float]] = {}
    try:
        tmux.start(argv, *size)
        control = ControlClient(tmux)
        poll = Poller(tmux, control)

        def title(s: str) -> str:
            return s.splitlines()[0].strip() if s else ""

        if poll.until(lambda s: " pairs " in s and "Sim" in s and "matching" not in s, 300) is None:
            raise RuntimeError(f"no review\n{tmux.framed()}")
        time.sleep(2)
        for n in range(cycles):
            steps = [
                ("review: help (?) (peer)", "?", lambda s: "escape, q or ? closes" in s),
                ("review: close help (escape) (peer)", "Escape", lambda s: "closes" not in s),
                ("compare: open (enter)", "Enter", lambda s: "Flip A/B" in s),
                ("compare: next pair (j)", "j", None),
                ("compare: flip (f)", "f", lambda s: "(as the file is)" in s),
                ("compare: flip again (f)", "f", lambda s: "onto A)" in s),
                ("compare: difference (x)", "x", lambda s: "Difference:" in s),
                (
                    "compare: side by side (b)",
                    "b",
                    lambda s: "Difference:" not in s and "onto A)" not in s,
                ),
                ("compare: back (escape)", "Escape", lambda s: "Flip A/B" not in s),
            ]
            for name, key, pred in steps:
                if pred is None:  # the position in the title moves on
                    before = title(poll.last).split(" ", 1)[0]
                    pred = lambda s, b=before: title(s).split(" ", 1)[0] not in ("", b)  # noqa: E731
                t0 = time.perf_counter()
                poll.send(key)
                t1 = poll.until(pred, 10)
                if t1 is None:
                    raise RuntimeError(f"no visible result for {name}\n{tmux.framed()}")
                times.setdefault(name, []).append(t1 - t0)
                time.sleep(0.3 if n % 2 else 0.05)  # pictures load in some cycles, not all
            poll.send("j" if n % 3 else "k")  # another pair next time
            poll.until(lambda s: True, 1)
        control.close()
    finally:
        tmux.close()
    return times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tmux", action="store_true", help="through a real terminal (tmux)")
    ap.add_argument("--size", default="80x24")
    ap.add_argument("--append", action="store_true", help="add to the results file")
    ap.add_argument("--cycles", type=int, default=20)
    ap.add_argument("--bases", type=int, default=8)
    ap.add_argument("--photo", default="4000x3000", help="generated photo size")
    args = ap.parse_args()
    size = tuple(int(x) for x in args.size.split("x"))
    pw, ph = (int(x) for x in args.photo.split("x"))
    with tempfile.TemporaryDirectory(prefix="dedup-compare-") as tmp:
        os.environ["DEDUP_TUI_STATE_DIR"] = str(Path(tmp) / "state")
        lib = Path(tmp) / "Pictures"
        make_library(lib, args.bases, pw, ph)
        load = os.getloadavg()
        if args.tmux:
            times = run_tmux(lib, size, args.cycles)  # type: ignore[arg-type]
        else:
            times = asyncio.run(run(lib, size, args.cycles))  # type: ignore[arg-type]
    peer_key = next(k for k in times if "(peer)" in k)
    peer = statistics.median(times[peer_key])
    lines = [
        f"# Compare view key latency ({'tmux' if args.tmux else 'headless'}, {size[0]}×{size[1]}, "
        f"{args.photo} JPEGs, half-blocks)",
        "",
        f"{platform.python_version()} on {os.cpu_count()} cores; load average before "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {args.cycles} cycles.",
        "",
        f"| key | n | median ms | p95 ms | median / {peer_key} |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, xs in times.items():
        if not xs:
            lines.append(f"| {name} | 0 | – | – | – |")
            continue
        med = statistics.median(xs)
        lines.append(
            f"| {name} | {len(xs)} | {med * 1000:.1f} | {p95(xs) * 1000:.1f} | {med / peer:.2f} |"
        )
    text = "\n".join(lines) + "\n"
    # one file per harness; runs at several sizes are appended with --append
    out = RESULTS / f"compare_latency{'_tmux' if args.tmux else ''}.md"
    if args.append and out.exists():
        text = out.read_text() + "\n" + text
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
