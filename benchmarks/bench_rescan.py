"""Rescan benchmark: a cold scan of 100,000 small images, then warm rescans of the unchanged tree.

    python benchmarks/bench_rescan.py                 # 100k files, cold + 3 warm runs
    python benchmarks/bench_rescan.py --n 20000       # smaller tree
    python benchmarks/bench_rescan.py --profile       # also cProfile one warm scan in-process
    python benchmarks/bench_rescan.py --phases        # also time each phase of one warm run
    python benchmarks/bench_rescan.py --reuse-cache F # start from a copy of cache F (no cold run)
    python benchmarks/bench_rescan.py --no-identity   # skip the chmod -R / rename runs

Each run is a whole process (imports, discovery, cache load, store build, matching), timed
from outside, with the child's peak RSS from ``os.wait4``. It uses the headless CLI
(``python -m tui_dedup scan DIR --format json -o /dev/null -q --cache PATH``) when that exists, or
an equivalent ``python -c`` script that calls scan + match + group. Targets: warm rescan of
100k unchanged files < 2 s, peak RSS < 400 MB. A warm run reads the whole-store snapshot the
previous scan left beside the cache (``features.sqlite.stores/``, engine/cache/snapshot.py) and
the remembered match (``matches/``); ``--reuse-cache`` copies the SQLite file alone, so warm 1
rebuilds both and warm 2 and 3 are the steady state. The generated tree is kept under
``benchmarks/data/`` (gitignored) so reruns reuse it; results go to
``benchmarks/results/rescan.md``.

Then, with the same cache (unless ``--no-identity``), what a changed ctime costs (issue #13: a
cache row is valid for (path, size, mtime_ns, ctime_ns), a changed ctime costs a re-check of
the file's first and last 64 KiB, never a decode): a plain warm rescan, counted, as the
baseline of the same run; a rescan after ``chmod -R g+w`` on the tree (every file's ctime
moves); the next one; after renaming one top folder (1,000 files at new paths, their ctimes
unchanged); after renaming the tree's root (every path changes). Each run is the same CLI
command inside a wrapper that counts decodes and re-checks. The tree is put back afterwards
(modes and names; the ctimes stay moved, which no later run depends on).
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
from tui_dedup.engine.cache.features import FeatureCache
from tui_dedup.engine.matching.group import star_groups
from tui_dedup.engine.matching.match import match
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


# The CLI scan, counting decodes (scan.compute_row) and edge re-checks (cache_identity).
COUNTED = r"""
import json, sys, threading
from tui_dedup.cli import main  # first: it sets the environment numpy starts with
from tui_dedup.engine.cache import identity as cache_identity
from tui_dedup.engine import scan as scan_mod
counts = {"decoded": 0, "rechecked": 0, "passed": 0}
lock = threading.Lock()
real_row, real_edge = scan_mod.compute_row, cache_identity.edge_matches
def compute_row(*a):
    with lock:
        counts["decoded"] += 1
    return real_row(*a)
def edge_matches(*a):
    ok = real_edge(*a)
    with lock:
        counts["rechecked"] += 1
        counts["passed"] += ok
    return ok
scan_mod.compute_row, cache_identity.edge_matches = compute_row, edge_matches
rc = main(sys.argv[1:])
print(json.dumps(counts))
sys.exit(rc)
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
    from tui_dedup.engine.cache.features import FeatureCache
    from tui_dedup.engine.matching.group import star_groups
    from tui_dedup.engine.matching.match import match
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
from tui_dedup.engine.cache.features import FeatureCache
from tui_dedup.engine.files.discover import discover
from tui_dedup.engine.matching.group import star_groups
from tui_dedup.engine.matching.match import match
from tui_dedup.engine.registry import resolve_threshold
from tui_dedup.engine.scan import scan
from tui_dedup.review.export import render
from tui_dedup.review.result import Result
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


IdentityRow = tuple[str, float, float, float, dict[str, int]]


def identity_runs(root: Path, cache: Path) -> list[IdentityRow]:
    """The ctime section (see the module docstring); the tree is put back in ``finally``."""
    rows: list[IdentityRow] = []

    def measure(label: str, scan_root: Path) -> None:
        cli = command(scan_root, cache, use_cli=True)[3:]  # after "python -m tui_dedup"
        wall, cpu, rss, out = run([sys.executable, "-c", COUNTED, *cli])
        counts = json.loads(out.strip().splitlines()[-1])
        rows.append((label, wall, cpu, rss, counts))
        print(f"{label}: {wall:.2f} s, cpu {cpu:.2f} s, {rss:.0f} MB, {counts}", file=sys.stderr)

    top = sorted(p for p in root.iterdir() if p.is_dir())[0]
    top_moved = top.with_name(top.name + " renamed")
    root_moved = root.with_name(root.name + "-renamed")
    try:
        measure("warm, unchanged (baseline)", root)
        subprocess.run(["chmod", "-R", "g+w", str(root)], check=True)
        measure("after `chmod -R g+w` (every ctime moved)", root)
        measure("next rescan", root)
        top.rename(top_moved)
        measure(f"after renaming `{top.name}` (1,000 files)", root)
        root.rename(root_moved)
        measure("after renaming the root (every path)", root_moved)
    finally:
        if root_moved.exists() and not root.exists():
            root_moved.rename(root)
        if top_moved.exists() and not top.exists():
            top_moved.rename(top)
        subprocess.run(["chmod", "-R", "g-w", str(root)], check=False)
    return rows


def identity_lines(rows: list[IdentityRow], n: int, loads: tuple[float, float]) -> list[str]:
    base_wall, base_cpu = rows[0][1], rows[0][2]
    out = [
        "## A changed ctime: chmod -R and renames (issue #13)",
        "",
        "Same cache, right after the runs above; each run the same CLI command in a wrapper "
        "that counts decodes and edge re-checks (first and last 64 KiB of a file, compared with "
        f"the digest stored in its cache row). Load average {loads[0]:.1f} before, "
        f"{loads[1]:.1f} after.",
        "",
        "| run | wall (s) | CPU (s) | peak RSS (MB) | decoded | re-checked (passed) "
        "| wall vs baseline |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, w, c, r, k in rows:
        extra = f"+{w - base_wall:.2f} s" if label != rows[0][0] else ""
        out.append(
            f"| {label} | {w:.2f} | {c:.2f} | {r:.0f} | {k['decoded']:,} | "
            f"{k['rechecked']:,} ({k['passed']:,}) | {extra} |"
        )
    chmod, after = rows[1], rows[2]
    per_file = (chmod[1] - base_wall) / n * 1e6
    out += [
        "",
        f"`chmod -R` on {n:,} files cost {chmod[1] - base_wall:.2f} s wall "
        f"({chmod[2] - base_cpu:.2f} CPU-s, ~{per_file:.0f} µs a file) over the baseline, "
        f"once, with {chmod[4]['decoded']:,} files decoded; the next rescan took "
        f"{after[1]:.2f} s with {after[4]['rechecked']:,} re-checks (the rows were re-stamped "
        "with the new ctimes).",
        "",
    ]
    return out


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
    ap.add_argument("--no-identity", action="store_true", help="skip the chmod -R and rename runs")
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
        ident: list[str] = []
        if not args.no_identity and cli_available():
            load0 = os.getloadavg()[0]
            id_rows = identity_runs(root, cache)
            ident = identity_lines(id_rows, args.n, (load0, os.getloadavg()[0]))

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
    lines += ident
    text = "\n".join(lines)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    print(text)
    if prof:
        print(prof)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
