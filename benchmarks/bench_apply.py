"""A 1,000-step move plan, before and after the safety rework of issue #13: plan, apply, undo.

    python benchmarks/bench_apply.py                    # 1,000 pairs, 3 rounds, OLD = 078dcca
    python benchmarks/bench_apply.py --pairs 200 --rounds 1
    python benchmarks/bench_apply.py --profile apply    # also cProfile each version's apply

Why against the old code in the same run: the rework (identity checked at the moment of
acting, paths walked component by component, locks, pairs re-matched at apply time, an undo
that restores before it removes) adds work to every step, and the machine's speed drifts
10–20 % within a day, so only a peer measured alongside says what the rework costs.

OLD is a ``git worktree`` of ``--old-rev`` (the last commit with the old actions code) in a
temp folder, NEW is this checkout as it stands (uncommitted edits included; the report says how
many files under ``tui_dedup/`` differ from HEAD). Both run with this venv's python,
``PYTHONPATH`` pointing at their source and the working directory outside both, so ``python -m
tui_dedup`` imports the intended copy (checked before timing). Each round, for each version
(order alternating), on a fresh ``cp -a`` of one generated library, with its own state, cache
and XDG data dirs:

1. ``scan ROOT`` once to fill the feature cache (timed, not compared: a warm-up);
2. ``plan ROOT --auto-select -o plan.json -q``;
3. ``apply plan.json`` (every step a move into the root's quarantine);
4. ``undo``.

Each command is a whole process, timed from outside, with its own CPU time (``os.wait4``).
After undo the library must hold the same files with the same bytes, mode and mtime as before
(``.dedup-tui/`` aside: lock files and empty quarantine folders may stay), or the run stops
with an error. The library: ``--pairs`` generated 160×120 photos (JPEG q90) in ``originals/``
and a half-size copy of each (q80) in ``copies/``, so ``--auto-select`` keeps the original and
marks the copy (a few chance pairs between different pictures can join groups and add a step or
two). Wall time is mostly fsync (journal records, renamed folders), so on a busy disk CPU time
is the steadier figure. Results go to ``benchmarks/results/apply.md``. The worktree and every
temp folder are removed at the end, also on failure.
"""

from __future__ import annotations

import argparse
import compileall
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from child_env import child_env

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "results" / "apply.md"
OLD_REV = "078dcca"
COMMANDS = ("scan", "plan", "apply", "undo")
COMPARED = ("plan", "apply", "undo")
STATE = ".dedup-tui"  # the tool's own folder in a root: locks, quarantine; not compared


def _make_pairs(args: tuple[str, int, int]) -> int:
    root, start, count = args
    import cv2

    from tui_dedup.demo import make_photo, write_jpeg

    for k in range(start, start + count):
        img = make_photo(k, 160, 120)
        write_jpeg(os.path.join(root, "originals", f"IMG_{k:04d}.jpg"), img, 90)
        half = cv2.resize(img, (80, 60), interpolation=cv2.INTER_AREA)
        write_jpeg(os.path.join(root, "copies", f"IMG_{k:04d}-small.jpg"), half, 80)
    return count


def make_library(root: Path, pairs: int) -> None:
    """``pairs`` originals and their half-size copies, generated on all cores."""
    (root / "originals").mkdir(parents=True)
    (root / "copies").mkdir()
    step = max(1, -(-pairs // 8))
    jobs = [(str(root), k, min(step, pairs - k)) for k in range(0, pairs, step)]
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        sum(pool.map(_make_pairs, jobs))


def tree_digest(root: Path) -> dict[str, tuple[str, int, int]]:
    """Relative path → (sha256, mode, mtime_ns) of every file, ``.dedup-tui/`` left out."""
    out: dict[str, tuple[str, int, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        if Path(dirpath) == root and STATE in dirnames:
            dirnames.remove(STATE)
        for name in filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            with open(p, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
            out[os.path.relpath(p, root)] = (digest, st.st_mode, st.st_mtime_ns)
    return out


def leftovers(root: Path) -> list[str]:
    """What is left in the root's ``.dedup-tui/`` after undo (files only)."""
    base = root / STATE
    if not base.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in base.rglob("*") if not p.is_dir())


class LoadSampler:
    """The 1-minute load average every few seconds while the benchmark runs."""

    def __init__(self, every: float = 5.0) -> None:
        self.samples: list[float] = [os.getloadavg()[0]]
        self._stop = threading.Event()
        self._every = every
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            self.samples.append(os.getloadavg()[0])

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append(os.getloadavg()[0])


def version_env(src: Path, run_dir: Path) -> dict[str, str]:
    """child_env() with this version's source first on the path and private state dirs."""
    env = dict(child_env())
    env["PYTHONPATH"] = str(src)
    for var, sub in (
        ("DEDUP_TUI_STATE_DIR", "state"),
        ("DEDUP_TUI_CACHE_DIR", "cache"),
        ("XDG_DATA_HOME", "xdg-data"),
    ):
        env[var] = str(run_dir / sub)
        (run_dir / sub).mkdir(parents=True, exist_ok=True)
    return env


def run(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + system) of this child alone, and its stdout."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, text=True, cwd=cwd, env=env
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text, errors = out.read(), err.read()
    if code != 0:
        raise RuntimeError(f"exit {code}: {' '.join(cmd[1:])}\n{text[-2000:]}\n{errors[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, text


def commands(root: Path, plan: Path) -> dict[str, list[str]]:
    py = [sys.executable, "-m", "tui_dedup"]
    return {
        "scan": [*py, "scan", str(root), "--format", "json", "-o", os.devnull, "-q"],
        "plan": [*py, "plan", str(root), "--auto-select", "-o", str(plan), "-q"],
        "apply": [*py, "apply", str(plan)],
        "undo": [*py, "undo"],
    }


def one_round(
    label: str, src: Path, library: Path, before: dict, work: Path, k: int
) -> dict[str, object]:
    """Scan, plan, apply, undo on a fresh copy; times, plan size and steps; checks the undo."""
    run_dir = work / f"{label}-{k}"
    run_dir.mkdir()
    root = run_dir / "photos"
    subprocess.run(["cp", "-a", str(library), str(root)], check=True)
    env = version_env(src, run_dir)
    plan = run_dir / "plan.json"
    times: dict[str, tuple[float, float]] = {}
    left_after_apply = len(before)
    outputs: dict[str, str] = {}
    for name, cmd in commands(root, plan).items():
        wall, cpu, out = run(cmd, env, run_dir)
        times[name] = (wall, cpu)
        outputs[name] = out
        if name == "apply":
            left_after_apply = len(tree_digest(root))
        print(f"  {label} round {k} {name}: {wall:.2f} s wall, {cpu:.2f} s CPU", file=sys.stderr)
    steps = len(json.loads(plan.read_text())["steps"])
    after = tree_digest(root)
    if after != before:
        missing = sorted(set(before) - set(after))[:5]
        changed = sorted(p for p in before if p in after and after[p] != before[p])[:5]
        extra = sorted(set(after) - set(before))[:5]
        raise RuntimeError(
            f"{label} round {k}: the tree after undo differs from before "
            f"(missing {missing}, changed {changed}, extra {extra})"
        )
    info = {
        "times": times,
        "plan_bytes": plan.stat().st_size,
        "steps": steps,
        "moved": len(before) - left_after_apply,
        "leftovers": leftovers(root),
        "undo_out": outputs["undo"].strip().splitlines()[-1:] if outputs["undo"].strip() else [],
    }
    shutil.rmtree(run_dir)
    return info


def which_package(src: Path, work: Path) -> str:
    """The tui_dedup that ``python -m`` imports with this version's environment."""
    probe = work / "probe"
    probe.mkdir(exist_ok=True)
    env = version_env(src, probe)
    code = "import tui_dedup, os; print(os.path.dirname(tui_dedup.__file__))"
    r = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=probe, capture_output=True, text=True
    )
    return r.stdout.strip()


def profile(which: str, label: str, src: Path, library: Path, work: Path, top: int = 30) -> str:
    """cProfile of one version's ``which`` command on a fresh copy (the steps before it run
    unprofiled): the top functions by cumulative and by own time."""
    import io
    import pstats

    run_dir = work / f"profile-{label}"
    run_dir.mkdir()
    root = run_dir / "photos"
    subprocess.run(["cp", "-a", str(library), str(root)], check=True)
    env = version_env(src, run_dir)
    plan = run_dir / "plan.json"
    prof = run_dir / "out.prof"
    for name, cmd in commands(root, plan).items():
        if name == which:
            cmd = [sys.executable, "-m", "cProfile", "-o", str(prof), *cmd[1:]]
            run(cmd, env, run_dir)
            break
        run(cmd, env, run_dir)
    buf = io.StringIO()
    buf.write(f"===== {label}: {which} =====\n")
    stats = pstats.Stats(str(prof), stream=buf)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return buf.getvalue()


def dirty_files() -> list[str]:
    r = subprocess.run(
        ["git", "status", "--porcelain", "--", "tui_dedup"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    return [ln[3:] for ln in r.stdout.splitlines()]


def report(
    args: argparse.Namespace,
    rounds: dict[str, list[dict]],
    loads: list[float],
    files: int,
    old_desc: str,
    new_desc: str,
    dirty: list[str],
) -> str:
    def med(label: str, name: str, i: int) -> float:
        return statistics.median(r["times"][name][i] for r in rounds[label])

    sizes = {v: statistics.median(r["plan_bytes"] for r in rounds[v]) for v in rounds}
    steps = {v: rounds[v][0]["steps"] for v in rounds}
    lines = [
        f"## A {steps['NEW']:,}-step move plan, before and after the safety rework (issue #13)",
        "",
        f"Made by `python benchmarks/{' '.join([Path(sys.argv[0]).name, *sys.argv[1:]])}` on "
        f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, Python "
        f"{sys.version.split()[0]}. OLD = {old_desc}; NEW = {new_desc}"
        + (f" (uncommitted edits in {len(dirty)} files under `tui_dedup/`)" if dirty else "")
        + f". Library: {files:,} files, {args.pairs:,} generated 160×120 JPEGs and a half-size "
        "copy of each in another folder, one root, on the temp dir's filesystem. "
        f"{args.rounds} rounds, versions interleaved (order alternating), each on a fresh "
        "`cp -a` of the library with its own state, cache and XDG data dirs; every command a "
        "whole process (`python -m tui_dedup …`), wall and its own CPU time (`os.wait4`), "
        "medians. After each undo the tree was bit-identical to before (content, mode, mtime; "
        f"`.dedup-tui/` aside). Load average (1 min) during the run: {min(loads):.1f}–"
        f"{max(loads):.1f} (median {statistics.median(loads):.1f}).",
        "",
        "| command | OLD wall s | NEW wall s | NEW/OLD wall | OLD CPU s | NEW CPU s "
        "| NEW/OLD CPU |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name in COMMANDS:
        ow, nw, oc, nc = (
            med("OLD", name, 0),
            med("NEW", name, 0),
            med("OLD", name, 1),
            med("NEW", name, 1),
        )
        label = {
            "scan": "`scan` (warm-up: fills the cache)",
            "plan": "`plan ROOT --auto-select -o plan.json -q`",
            "apply": "`apply plan.json`",
            "undo": "`undo`",
        }[name]
        bold = "**" if name in COMPARED else ""
        lines.append(
            f"| {label} | {ow:.2f} | {nw:.2f} | {bold}{nw / ow:.2f}×{bold} | {oc:.2f} | "
            f"{nc:.2f} | {bold}{nc / oc:.2f}×{bold} |"
        )
    lines += [
        "",
        f"Plan file: OLD {sizes['OLD'] / 1024:.0f} KiB ({steps['OLD']:,} steps), NEW "
        f"{sizes['NEW'] / 1024:.0f} KiB ({steps['NEW']:,} steps): "
        f"{sizes['NEW'] / sizes['OLD']:.2f}×. Files apply moved out of the library: OLD "
        f"{rounds['OLD'][0]['moved']:,}, NEW {rounds['NEW'][0]['moved']:,}.",
        "",
        "Per round (wall / CPU s):",
        "",
        "| version | round | " + " | ".join(COMMANDS) + " |",
        "|---|---:|" + "---:|" * len(COMMANDS),
    ]
    for k in range(args.rounds):
        for v in ("OLD", "NEW"):
            t = rounds[v][k]["times"]
            cells = " | ".join(f"{t[c][0]:.2f} / {t[c][1]:.2f}" for c in COMMANDS)
            lines.append(f"| {v} | {k + 1} | {cells} |")
    for v in ("OLD", "NEW"):
        left = rounds[v][0]["leftovers"]
        lines += [
            "",
            f"{v}: left in `.dedup-tui/` after undo: "
            + (", ".join(f"`{p}`" for p in left) if left else "nothing")
            + (f"; undo said: {rounds[v][0]['undo_out'][0]}" if rounds[v][0]["undo_out"] else ""),
        ]
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=1000, help="picture pairs (steps in the plan)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds per version")
    ap.add_argument("--old-rev", default=OLD_REV, help="commit with the old actions code")
    ap.add_argument(
        "--profile",
        choices=COMPARED,
        help="also cProfile this command once per version, after the timed rounds",
    )
    ap.add_argument("--no-write", action="store_true", help="print only, do not write results")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="dedup-bench-apply-"))
    old_src = work / "old"
    worktree = False
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", args.old_rev],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        subprocess.run(
            ["git", "worktree", "add", "--detach", "-q", str(old_src), rev],
            cwd=REPO,
            check=True,
        )
        worktree = True
        compileall.compile_dir(str(old_src / "tui_dedup"), quiet=1)
        for label, src in (("OLD", old_src), ("NEW", REPO)):
            got = which_package(src, work)
            if Path(got) != src / "tui_dedup":
                raise RuntimeError(f"{label} imports {got!r}, not {src / 'tui_dedup'}")

        library = work / "library"
        t0 = time.perf_counter()
        make_library(library, args.pairs)
        before = tree_digest(library)
        print(
            f"generated {len(before):,} files in {time.perf_counter() - t0:.1f} s", file=sys.stderr
        )

        rounds: dict[str, list[dict]] = {"OLD": [], "NEW": []}
        with LoadSampler() as load:
            for k in range(args.rounds):
                order = ("OLD", "NEW") if k % 2 == 0 else ("NEW", "OLD")
                for label in order:
                    src = old_src if label == "OLD" else REPO
                    rounds[label].append(one_round(label, src, library, before, work, k + 1))
        text = report(
            args,
            rounds,
            load.samples,
            len(before),
            f"`{rev}` (git worktree)",
            f"`{head}` (this checkout)",
            dirty_files(),
        )
        if not args.no_write:
            RESULTS.parent.mkdir(parents=True, exist_ok=True)
            RESULTS.write_text(text)
        print(text)
        if args.profile:
            for label, src in (("OLD", old_src), ("NEW", REPO)):
                print(profile(args.profile, label, src, library, work))
        return 0
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"bench_apply: {exc}", file=sys.stderr)
        return 1
    finally:
        if worktree:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(old_src)], cwd=REPO, check=False
            )
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
