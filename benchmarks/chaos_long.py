"""The long chaos run: at least 2,000 steps of tests/actions/chaos.py over many seeds.

Run from the project root, in the venv (as root, so the tmpfs variants can mount):

    python benchmarks/chaos_long.py                       # seeds 1, 2, ... until 2,000 steps
    python benchmarks/chaos_long.py --total 4000 --steps 60
    python benchmarks/chaos_long.py --seeds 17 --steps 50 --no-write   # one seed again

Each seed gets a fresh world (one or two libraries of a few dozen generated pictures, maybe a
small tmpfs, one or two users) and ``--steps`` random scan / plan / apply / undo commands and
interferences; the oracle runs after every step (see tests/actions/chaos.py). Unlike the test,
a seed does not stop at its first failure: every loss is counted, so the figures say how much
is lost, not only whether.

Prints the figures and writes ``benchmarks/results/chaos_long.md``: steps, commands,
interferences of each kind, kills that landed, files lost (must be 0), changes outside (must be
0), refusals (commands that stopped with a message), and one line per failure with its seed
and step, so each can be replayed with ``CHAOS_SEEDS=<seed>``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "tests" / "actions"))
sys.path.insert(0, str(HERE))

import chaos  # noqa: E402
from child_env import child_env  # noqa: E402

RESULTS = HERE / "results" / "chaos_long.md"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--total", type=int, default=2000, help="stop after this many steps (2000)")
    ap.add_argument("--steps", type=int, default=50, help="steps per seed (50)")
    ap.add_argument("--seeds", default=None, help="seed list (e.g. 17 or 1-40); default 1, 2, ...")
    ap.add_argument("--no-write", action="store_true", help=f"do not write {RESULTS.name}")
    ap.add_argument("--keep", action="store_true", help="keep each seed's folder (printed)")
    args = ap.parse_args()

    # Child processes run with bytecode, as an installed copy does (see child_env.py).
    child_env()
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

    seeds = chaos.parse_seeds(args.seeds) if args.seeds else None
    total = chaos.Figures(seeds=0)
    failures: list[str] = []
    skipped: list[str] = []
    t0 = time.monotonic()
    seed = 0
    while True:
        if seeds is not None:
            if not seeds:
                break
            seed = seeds.pop(0)
        else:
            if total.steps >= args.total:
                break
            seed += 1
        base = tempfile.mkdtemp(prefix=f"chaos-{seed}-")
        try:
            report = chaos.run_seed(
                seed, os.path.join(base, "world"), args.steps, stop_on_failure=False
            )
        except chaos.TmpfsUnavailable as e:
            skipped.append(f"seed {seed} ({chaos.variant_for(seed).label()}): {e}")
            print(f"seed {seed}: skipped, {e}", flush=True)
            shutil.rmtree(base, ignore_errors=True)
            continue
        total.add(report.figures)
        for f in report.failures:
            failures.append(
                f"seed {seed} ({report.variant.label()}) step {f.step}, {f.kind}: "
                + " | ".join(f.lines[:4])
            )
        status = f"{len(report.failures)} failure(s)" if report.failures else "ok"
        print(
            f"seed {seed:4d} {report.variant.label():<40} {report.figures.steps:3d} steps "
            f"{report.figures.seconds:5.1f} s  {status}",
            flush=True,
        )
        if report.failures:
            log = Path(base) / "report.txt"
            log.write_text(report.message())
            print(f"    full report: {log}", flush=True)
        elif not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    wall = time.monotonic() - t0

    lines = [
        "# Chaos: long run",
        "",
        f"`python benchmarks/chaos_long.py --total {args.total} --steps {args.steps}` on "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores; wall time {wall:.0f} s.",
        "",
        *(f"- {ln}" for ln in total.lines()),
        "",
    ]
    if skipped:
        lines += ["Seeds skipped (no tmpfs here):", "", *(f"- {s}" for s in skipped), ""]
    lines += [f"Failures: {len(failures)}", ""]
    lines += [f"- {f}" for f in failures[:200]]
    if len(failures) > 200:
        lines.append(f"- ... and {len(failures) - 200} more")
    text = "\n".join(lines).rstrip() + "\n"
    print()
    print(text)
    if not args.no_write:
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(text)
        print(f"wrote {RESULTS}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
