"""Rescan benchmark: a cold scan of 100,000 small images, then warm rescans of the unchanged tree.

    python benchmarks/bench_rescan.py                 # 100k files, cold + 3 warm runs
    python benchmarks/bench_rescan.py --n 20000       # smaller tree
    python benchmarks/bench_rescan.py --profile       # also cProfile one warm scan in-process
    python benchmarks/bench_rescan.py --phases        # also time each phase of one warm run
    python benchmarks/bench_rescan.py --reuse-cache F # start from a copy of cache F (no cold run)

Each run is a whole process (imports, discovery, cache load, store build, matching), timed
from outside, with the child's peak RSS from ``os.wait4``. It uses the headless CLI
(``python -m tui_dedup scan DIR --format json -o /dev/null -q --cache PATH``) when that exists, or
an equivalent ``python -c`` script that calls scan + match + group. Targets: warm rescan of
100k unchanged files < 2 s, peak RSS < 400 MB. A warm run reads the whole-store snapshot the
previous scan left beside the cache (``features.sqlite.stores/``, engine/cache_snapshot.py) and
the remembered match (``matches/``); ``--reuse-cache`` copies the SQLite file alone, so warm 1
rebuilds both and warm 2 and 3 are the steady state. The generated tree is kept under
``benchmarks/data/`` (gitignored) so reruns reuse it; results go to
``benchmarks/results/rescan.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from child_env import child_env

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DATA = HERE / "data"
RESULTS = HERE / "results" / "rescan.md"
PER_FOLDER = 1000
TARGET_WARM_S = 2.0
TARGET_RSS_MB = 400

# Equivalent of the headless CLI, for when it is not there; prints its own phase timings.
FALLBACK = r"""
import json, sys, time
t0 = time.perf_counter()
from tui_dedup.engine.cache import FeatureCache
from tui_dedup.engine.group import star_groups
from tui_dedup.engine.match import match
from tui_dedup.engine.registry import resolve_threshold
from tui_dedup.engine.scan import scan
t1 = time.perf_counter()
root, cache_path = sys.argv[1], sys.argv[2]
with FeatureCache.open(cache_path) as cache:
    res = scan([root], cache=cache)
    warnings = list(cache.warnings)
t2 = time.perf_counter()
pairs, groups = [], []
if sys.argv[3:] != ["scan-only"]:
    pairs = match(res.store, "phash", resolve_threshold("phash"))
    groups = star_groups(pairs, len(res.store))
t3 = time.perf_counter()
print(json.dumps({
    "files": len(res.store), "decoded": res.decoded, "from_cache": res.from_cache,
    "errors": len(res.errors), "pairs": len(pairs), "groups": len(groups),
    "t_import": t1 - t0, "t_scan": t2 - t1, "t_match": t3 - t2, "warnings": warnings,
}))
"""


def _make_folder(args: tuple[str, int, int]) -> int:
    folder, start, count = args
    from tui_dedup.demo import make_photo, write_jpeg

    os.makedirs(folder, exist_ok=True)
    for k in range(start, start + count):
        # Every 50th file is a recompressed copy of its predecessor, so matching finds pairs.
        seed = k - 1 if k % 50 == 49 else k
        write_jpeg(os.path.join(folder, f"IMG_{k:06d}.jpg"), make_photo(seed, 64, 48), 85)
    return count


def ensure_tree(n: int) -> Path:
    """Generate (once) ``n`` 64×48 JPEGs in folders of 1,000, in parallel."""
    root = DATA / f"rescan-{n}"
    marker = root / ".complete"
    if marker.exists():
        return root
    if root.exists():
        shutil.rmtree(root)
    jobs = [
        (str(root / f"d{k // PER_FOLDER:03d}"), k, min(PER_FOLDER, n - k))
        for k in range(0, n, PER_FOLDER)
    ]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        done = 0
        for c in pool.map(_make_folder, jobs):
            done += c
            print(f"\rgenerating {done:,}/{n:,}", end="", file=sys.stderr, flush=True)
    print(f"\ngenerated {n:,} files in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    marker.write_text(str(n))
    return root


def cli_available() -> bool:
    try:
        r = subprocess.run(
            [sys.executable, "-m", "tui_dedup", "scan", "--help"],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0 and "--cache" in r.stdout


def command(root: Path, cache: Path, use_cli: bool, scan_only: bool = False) -> list[str]:
    if use_cli:
        return [
            sys.executable,
            "-m",
            "tui_dedup",
            "scan",
            str(root),
            "--format",
            "json",
            "-o",
            os.devnull,
            "-q",
            "--cache",
            str(cache),
        ]
    return [sys.executable, "-c", FALLBACK, str(root), str(cache)] + ["scan-only"] * scan_only


def run(cmd: list[str]) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds, peak RSS (MB) of this child alone, and its stdout."""
    env = child_env()
    with tempfile.TemporaryFile("w+") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.PIPE, text=True, cwd=REPO, env=env
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read() if proc.stderr else ""
        out.seek(0)
        text = out.read()
    if proc.returncode != 0:
        raise SystemExit(f"child failed ({proc.returncode}): {' '.join(cmd[:4])}\n{err}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, text


def profile_warm(root: Path, cache: Path) -> str:
    """cProfile of one warm scan in-process, top functions by cumulative time."""
    import cProfile
    import io
    import pstats

    sys.path.insert(0, str(REPO))
    from tui_dedup.engine.cache import FeatureCache
    from tui_dedup.engine.group import star_groups
    from tui_dedup.engine.match import match
    from tui_dedup.engine.registry import resolve_threshold
    from tui_dedup.engine.scan import scan

    prof = cProfile.Profile()
    prof.enable()
    with FeatureCache.open(cache) as c:
        res = scan([str(root)], cache=c)
    pairs = match(res.store, "phash", resolve_threshold("phash"))
    star_groups(pairs, len(res.store))
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(30)
    return buf.getvalue()


PHASES = r"""
import json, os, resource, sys, time
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
marks = [("start", time.perf_counter(), cpu())]
def mark(label):
    marks.append((label, time.perf_counter(), cpu()))
from tui_dedup.engine.cache import FeatureCache
from tui_dedup.engine.discover import discover
from tui_dedup.engine.group import star_groups
from tui_dedup.engine.match import match
from tui_dedup.engine.registry import resolve_threshold
from tui_dedup.engine.scan import scan
from tui_dedup.output import Result, render
mark("imports")
root, cache_path = sys.argv[1], sys.argv[2]
discover([root])
mark("discovery alone")
with FeatureCache.open(cache_path) as cache:
    res = scan([root], cache=cache)
mark("scan (discovery + cache + store)")
th = resolve_threshold("phash")
pairs = match(res.store, "phash", th)
mark("match")
groups = star_groups(pairs, len(res.store))
mark("groups")
result = Result([root], "phash", th, res.store, pairs, groups, res.errors, res.skipped)
data = render(result, "json")
with open(os.devnull, "wb") as f:
    f.write(data)
mark("JSON")
rows = [
    (label, t - marks[k][1], c - marks[k][2])
    for k, (label, t, c) in enumerate(marks[1:])
]
print(json.dumps({"phases": rows, "pairs": len(pairs), "json_mb": len(data) / 2**20}))
"""


def phases_warm(root: Path, cache: Path) -> tuple[list[tuple[str, float, float]], str]:
    """One warm run in a child, timed per phase (wall, CPU); the discovery-alone phase is
    extra work (scan discovers again), shown to split the scan phase."""
    wall, cpu, rss, out = run([sys.executable, "-c", PHASES, str(root), str(cache)])
    info = json.loads(out.strip().splitlines()[-1])
    rows = [(label, w, c) for label, w, c in info["phases"]]
    note = (
        f"{info['pairs']:,} pairs, JSON {info['json_mb']:.0f} MB; whole child {wall:.2f} s wall, "
        f"{cpu:.2f} s CPU, peak RSS {rss:.0f} MB"
    )
    return rows, note


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="files in the tree")
    ap.add_argument("--warm", type=int, default=3, help="warm runs")
    ap.add_argument("--profile", action="store_true", help="cProfile one warm scan")
    ap.add_argument("--phases", action="store_true", help="time each phase of one warm run")
    ap.add_argument("--no-cli", action="store_true", help="always use the python -c script")
    ap.add_argument(
        "--scan-only",
        action="store_true",
        help="python -c script without matching (implies --no-cli)",
    )
    ap.add_argument("--reuse-cache", help="copy this cache file instead of a cold run")
    args = ap.parse_args()

    root = ensure_tree(args.n)
    use_cli = not args.no_cli and not args.scan_only and cli_available()
    how = "python -m tui_dedup scan" if use_cli else "python -c (scan + match + group)"
    if args.scan_only:
        how = "python -c (discovery + cache + store build, no matching)"
    rows: list[tuple[str, float, float, float, str]] = []
    with tempfile.TemporaryDirectory(prefix="dedup-bench-") as tmp:
        cache = Path(tmp) / "features.sqlite"
        if args.reuse_cache:
            shutil.copy(args.reuse_cache, cache)
        for k in range(1 + args.warm):
            if k == 0 and args.reuse_cache:
                continue
            label = "cold" if k == 0 else f"warm {k}"
            wall, cpu, rss, out = run(command(root, cache, use_cli, args.scan_only))
            detail = ""
            if not use_cli:
                info = json.loads(out.strip().splitlines()[-1])
                detail = (
                    f"decoded {info['decoded']:,}, cached {info['from_cache']:,}, "
                    f"pairs {info['pairs']:,}; import {info['t_import']:.2f} s, "
                    f"scan {info['t_scan']:.2f} s, match {info['t_match']:.2f} s"
                )
                if info["warnings"]:
                    detail += "; warnings: " + " | ".join(info["warnings"])
            rows.append((label, wall, cpu, rss, detail))
            print(
                f"{label}: {wall:.2f} s, cpu {cpu:.2f} s, {rss:.0f} MB  {detail}", file=sys.stderr
            )
        size_mb = cache.stat().st_size / 2**20
        prof = profile_warm(root, cache) if args.profile else ""
        phases = phases_warm(root, cache) if args.phases else None

    warm = [(w, c) for label, w, c, *_ in rows if label.startswith("warm")]
    warm_wall = statistics.median(w for w, _ in warm)
    warm_cpu = statistics.median(c for _, c in warm)
    peak = max(r for label, _, _, r, _ in rows if label.startswith("warm"))
    load = os.getloadavg()[0]
    lines = [
        f"# Rescan benchmark: {args.n:,} files (64×48 JPEG)",
        "",
        f"Command: `python {' '.join(sys.argv)}`; each run is a whole "
        f"process via {how}, {os.cpu_count()} cores, load average {load:.1f} at the end "
        f"(other work on the machine inflates wall time; CPU time is the steadier figure). "
        f"Cache file after the runs: {size_mb:.1f} MB.",
        "",
        "| run | wall (s) | CPU (s) | peak RSS (MB) | detail |",
        "|---|---:|---:|---:|---|",
        *(f"| {label} | {w:.2f} | {c:.2f} | {r:.0f} | {d} |" for label, w, c, r, d in rows),
        "",
        f"Warm median {warm_wall:.2f} s wall, {warm_cpu:.2f} s CPU (target < "
        f"{TARGET_WARM_S:.0f} s wall: {'met' if warm_wall < TARGET_WARM_S else 'MISSED'}); "
        f"warm peak RSS {peak:.0f} MB (target < {TARGET_RSS_MB} MB: "
        f"{'met' if peak < TARGET_RSS_MB else 'MISSED'}).",
        "",
    ]
    if phases is not None:
        prow, note = phases
        lines += [
            "Phases of one warm run, in-process (`--phases`): " + note,
            "",
            "| phase | wall (s) | CPU (s) |",
            "|---|---:|---:|",
            *(f"| {label} | {w:.2f} | {c:.2f} |" for label, w, c in prow),
            "",
        ]
    text = "\n".join(lines)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    print(text)
    if prof:
        print(prof)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
