"""Hashing speed: our whole scan vs the bare reduced decode vs imagehash's phash, in one run.

Command (from the project root, with the `bench` extra installed):

    python benchmarks/bench_speed.py [--jpegs 100] [--pngs 40] [--runs 3]

Data, generated once into benchmarks/data/speed/ (gitignored) and reused:
- 12 MP JPEGs, synthetic: photo-like structure plus per-pixel sensor-like noise, quality 90:
  ~3.3 MB (2.2 bits per pixel), like a phone photo of a detailed scene;
- 12 MP JPEGs from real photographs: the photos of Debian's ``mate-backgrounds`` (fetched as
  the accuracy benchmark fetches them; the set is skipped when apt-get is not there), cropped
  at random, scaled up to 4000×3000 with mild luminance noise, quality 90: ~1.6 MB (1.0 bpp);
- 6 MP PNGs.
JPEG decoding is mostly entropy decoding, whose cost follows the compressed size, while a full
decode (what imagehash does) adds a fixed per-pixel cost: the ratio to imagehash depends on the
bits per pixel, which is why the table shows them.
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
from child_env import child_env

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


#: The photographs (not artwork) of mate-backgrounds 1.26.
PHOTOS = (
    "Aqua", "Blinds", "Dune", "FreshFlower", "Garden", "GreenMeadow",
    "LadyBird", "RainDrops", "Storm", "TwoWings", "Wood", "YellowFlower",
)  # fmt: skip


def _make_real(args: tuple[str, int, str, int, int]) -> None:
    path, seed, source, w, h = args
    if os.path.exists(path):
        return
    rng = np.random.default_rng(seed)
    img = cv2.imread(source, cv2.IMREAD_COLOR)
    sh, sw = img.shape[:2]
    scale = rng.uniform(0.7, 1.0)
    ch = int(min(sh, sw * h / w) * scale)
    cw = int(ch * w / h)
    y, x = int(rng.integers(0, sh - ch + 1)), int(rng.integers(0, sw - cw + 1))
    img = img[y : y + ch, x : x + cw]
    if rng.random() < 0.5:
        img = img[:, ::-1]
    img = cv2.resize(img, (w, h), interpolation=cv2.INTER_LANCZOS4).astype(np.float32)
    img += rng.normal(0, 2.0, (h, w, 1)).astype(np.float32)  # luminance grain
    ok, buf = cv2.imencode(
        ".jpg", np.clip(img, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 90]
    )
    assert ok
    Path(path + ".tmp").write_bytes(buf.tobytes())
    os.replace(path + ".tmp", path)


def make_real_set(name: str, count: int, w: int, h: int) -> Path | None:
    """Camera-size JPEGs from real photographs, or None (with a note) when they cannot be had."""
    sys.path.insert(0, str(ROOT / "accuracy"))
    from build_dataset import BACKGROUNDS, fetch_packages

    try:
        unpacked = fetch_packages(ROOT / "accuracy" / "cache")
    except SystemExit as exc:
        print(f"bench_speed: skipping the real-photo set: {exc}", file=sys.stderr)
        return None
    sources = [str(unpacked / BACKGROUNDS / "mate" / "nature" / f"{p}.jpg") for p in PHOTOS]
    folder = DATA / f"{name}-{count}"  # our scan reads the whole folder: exactly these files
    folder.mkdir(parents=True, exist_ok=True)
    jobs = [
        (str(folder / f"photo_{k:04d}.jpg"), 20_000 + k, sources[k % len(sources)], w, h)
        for k in range(count)
    ]
    with ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        list(pool.map(_make_real, jobs))
    return folder


def make_set(name: str, count: int, w: int, h: int, ext: str) -> Path:
    folder = DATA / f"{name}-{count}"  # our scan reads the whole folder: exactly these files
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
    env = child_env()
    c0, t0 = _child_cpu(), time.perf_counter()
    subprocess.run(cmd, check=True, env=env)
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


def _dims(path: Path) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as im:
        return im.size


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
            "12 MP JPEG, synthetic",
            make_set("jpeg12mp", args.jpegs, 4000, 3000, ".jpg"),
            cv2.IMREAD_REDUCED_COLOR_8,
        ),
        (
            "12 MP JPEG, real photos",
            make_real_set("jpeg12mp_photos", args.jpegs, 4000, 3000),
            cv2.IMREAD_REDUCED_COLOR_8,
        ),
        ("6 MP PNG", make_set("png6mp", args.pngs, 3000, 2000, ".png"), cv2.IMREAD_COLOR),
    ]
    lines = [
        "| set | files | tool | wall s | images/s | CPU s/image | vs imagehash (images/s) |"
        " ours CPU / bare decode CPU |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, folder, flag in sets:
        if folder is None:
            continue
        files = sorted(folder.iterdir())
        size = sum(p.stat().st_size for p in files) / len(files)
        w, h = _dims(files[0])
        label = f"{name} ({size / 1e6:.1f} MB, {size * 8 / (w * h):.1f} bpp)"
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
