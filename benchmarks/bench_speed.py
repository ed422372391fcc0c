"""Hashing speed: our whole scan vs the bare reduced decode vs imagehash's phash, in one run.

Command (from the project root, with the `bench` extra installed):

    python benchmarks/bench_speed.py [--jpegs 100] [--pngs 40] [--runs 3]

Data: photo-like 12 MP JPEGs (structure + sensor-like noise, quality 90, like a phone camera)
and 6 MP PNGs, generated once into benchmarks/data/speed/ (gitignored) and reused.
Measured per set, median of --runs runs, warm page cache (one untimed read first):
- ours: `dedup-tui scan DIR --no-cache` as a whole process (start-up, discovery, decoding,
  features, matching, JSON output), wall seconds and CPU seconds (user+sys of the child);
- bare decode: `np.fromfile` + `cv2.imdecode` in the same reduced mode we use
  (IMREAD_REDUCED_COLOR_8 for these sizes), single thread, CPU seconds per image — the floor;
- imagehash: `imagehash.phash(PIL.Image.open(p))`, the usual way, single thread.
Writes benchmarks/results/speed.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent
DATA = ROOT / "data" / "speed"
RESULTS = ROOT / "results" / "speed.md"


def _make_one(args: tuple[str, int, int, int, str]) -> None:
    from tui_dedup.demo import make_photo

    path, seed, w, h, ext = args
    if os.path.exists(path):
        return
    img = make_photo(seed, w // 4, h // 4)
    img = cv2.resize(img, (w, h), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    rng = np.random.default_rng(seed)
    img += rng.normal(0, 7, img.shape).astype(np.float32)  # sensor noise at full resolution
    img = np.clip(img, 0, 255).astype(np.uint8)
    params = [cv2.IMWRITE_JPEG_QUALITY, 90] if ext == ".jpg" else [cv2.IMWRITE_PNG_COMPRESSION, 3]
    ok, buf = cv2.imencode(ext, img, params)
    assert ok
    tmp = path + ".tmp"
    Path(tmp).write_bytes(buf.tobytes())
    os.replace(tmp, path)


def make_set(name: str, count: int, w: int, h: int, ext: str) -> Path:
    folder = DATA / name
    folder.mkdir(parents=True, exist_ok=True)
    jobs = [(str(folder / f"img_{k:04d}{ext}"), 10_000 + k, w, h, ext) for k in range(count)]
    with ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        list(pool.map(_make_one, jobs))
    return folder


def _child_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run_ours(folder: Path) -> tuple[float, float]:
    cmd = [
        sys.executable,
        "-m",
        "tui_dedup",
        "scan",
        str(folder),
        "--no-cache",
        "-q",
        "--format",
        "json",
        "-o",
        os.devnull,
    ]
    c0, t0 = _child_cpu(), time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - t0, _child_cpu() - c0


def run_bare(files: list[Path], flag: int) -> tuple[float, float]:
    c0, t0 = time.process_time(), time.perf_counter()
    for p in files:
        cv2.imdecode(np.fromfile(p, np.uint8), flag)
    return time.perf_counter() - t0, time.process_time() - c0


def run_bare_2threads(files: list[Path], flag: int) -> tuple[float, float]:
    """The bare decode on two threads, as our scan runs: what two cores decoding at once cost
    on this machine (a VM's two vCPUs share more than two real cores do)."""
    c0, t0 = time.process_time(), time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda p: cv2.imdecode(np.fromfile(p, np.uint8), flag), files))
    return time.perf_counter() - t0, time.process_time() - c0


def run_imagehash(files: list[Path]) -> tuple[float, float]:
    import imagehash
    from PIL import Image

    c0, t0 = time.process_time(), time.perf_counter()
    for p in files:
        imagehash.phash(Image.open(p))
    return time.perf_counter() - t0, time.process_time() - c0


def median_of(fn, runs: int) -> tuple[float, float]:
    walls, cpus = zip(*(fn() for _ in range(runs)), strict=True)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jpegs", type=int, default=100)
    ap.add_argument("--pngs", type=int, default=40)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    cv2.setNumThreads(1)
    sets = [
        (
            "12 MP JPEG",
            make_set("jpeg12mp", args.jpegs, 4000, 3000, ".jpg"),
            cv2.IMREAD_REDUCED_COLOR_8,
        ),
        ("6 MP PNG", make_set("png6mp", args.pngs, 3000, 2000, ".png"), cv2.IMREAD_COLOR),
    ]
    lines = [
        "| set | files | tool | wall s | images/s | CPU s/image | vs imagehash (images/s) |"
        " ours CPU / bare decode CPU |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, folder, flag in sets:
        files = sorted(folder.iterdir())
        for p in files:  # warm the page cache
            p.read_bytes()
        n = len(files)
        ours = median_of(lambda folder=folder: run_ours(folder), args.runs)
        bare = median_of(lambda files=files, flag=flag: run_bare(files, flag), args.runs)
        bare2 = median_of(lambda files=files, flag=flag: run_bare_2threads(files, flag), args.runs)
        ih = median_of(lambda files=files: run_imagehash(files), args.runs)
        rate = {k: n / v[0] for k, v in (("ours", ours), ("bare", bare), ("ih", ih))}
        cpu = {k: v[1] / n for k, v in (("ours", ours), ("bare", bare), ("ih", ih))}
        lines += [
            f"| {label} | {n} | dedup-tui scan (whole process, 2 cores) | {ours[0]:.2f} | "
            f"{rate['ours']:.1f} | {cpu['ours'] * 1000:.1f} ms | "
            f"**{rate['ours'] / rate['ih']:.1f}×** | **{cpu['ours'] / cpu['bare']:.2f}×** |",
            f"| {label} | {n} | bare np.fromfile + cv2.imdecode (1 thread) | {bare[0]:.2f} | "
            f"{rate['bare']:.1f} | {cpu['bare'] * 1000:.1f} ms | | 1.00× |",
            f"| {label} | {n} | bare decode, 2 threads (for reference) | {bare2[0]:.2f} | "
            f"{n / bare2[0]:.1f} | {bare2[1] / n * 1000:.1f} ms | | "
            f"{bare2[1] / bare[1]:.2f}× |",
            f"| {label} | {n} | imagehash.phash(Image.open(p)) (1 thread) | {ih[0]:.2f} | "
            f"{rate['ih']:.1f} | {cpu['ih'] * 1000:.1f} ms | 1.0× | |",
        ]
    header = (
        f"Hashing speed — `python benchmarks/bench_speed.py` — {time.strftime('%Y-%m-%d')}, "
        f"{os.cpu_count()} cores, median of {args.runs} runs, warm page cache.\n\n"
    )
    text = header + "\n".join(lines) + "\n"
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
