"""What the verdict stage costs: camera-like 12 MP JPEGs (1.4 bpp), with and without copies.

Command (from the project root, with the `bench` extra installed):

    python benchmarks/bench_verdicts.py [--count 60] [--runs 3]

Two sets, generated once into benchmarks/data/verdicts/ (gitignored) from the photographs of
Debian's ``mate-backgrounds`` (as bench_speed.py makes its real-photo set, at quality 93 with
more grain: ~2.1 MB, ~1.4 bits per pixel, like a camera's JPEG):

- ``different``: ``--count`` different pictures (non-overlapping cells of the photos).
  Measured as the verdicts issue asks: a whole-process ``dedup-tui scan --no-cache``
  against imagehash's pHash on the same files, interleaved, ``--runs`` rounds, medians;
  images per second and the ratio.
- ``copies``: ``--count // 2`` originals, each with one copy (half-size q 85, WebP, a 90° turn,
  a 6 % crop, a messenger-like 1600-px q 75, in turn): every file has a copy. The originals are
  non-overlapping cells of the photos, as in ``different`` (until 2026-12-05 they were random
  55–90 % regions, so originals of one photo overlapped, and once crops were looked for at the
  defaults 18 unplanned pairs between originals joined the 34 planted ones). Measured in one
  process: the cold scan (discovery, decode, features), matching, and the verdict stage, each
  timed; the verdict stage's share of a cold scan is what the issue bounds (≤ 50 %).

Writes benchmarks/results/verdicts.md and prints the load average (this machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
from bench_speed import PHOTOS, run_imagehash, run_ours
from child_env import child_env

ROOT = Path(__file__).resolve().parent
DATA = ROOT / "data" / "verdicts"
RESULTS = ROOT / "results" / "verdicts.md"
W, H = 4000, 3000


def _sources() -> list[str]:
    sys.path.insert(0, str(ROOT / "accuracy"))
    from build_dataset import BACKGROUNDS, fetch_packages

    unpacked = fetch_packages(ROOT / "accuracy" / "cache")
    return [str(unpacked / BACKGROUNDS / "mate" / "nature" / f"{p}.jpg") for p in PHOTOS]


def _camera_jpeg(path: Path, seed: int, source: str, cell: int | None = None) -> np.ndarray:
    """A 12 MP camera-like JPEG from ``source``: a random 55–90 % region, or with ``cell`` one
    cell of a 3×2 grid (cells do not overlap, so two cells of one photo are two pictures)."""
    rng = np.random.default_rng(seed)
    img = cv2.imread(source, cv2.IMREAD_COLOR)
    sh, sw = img.shape[:2]
    if cell is None:
        scale = rng.uniform(0.55, 0.9)
        ch = int(min(sh, sw * H / W) * scale)
        cw = int(ch * W / H)
        y, x = int(rng.integers(0, sh - ch + 1)), int(rng.integers(0, sw - cw + 1))
    else:
        gh, gw = sh // 2, sw // 3
        ch = int(min(gh, gw * H / W) * 0.95)
        cw = int(ch * W / H)
        y = (cell // 3) * gh + (gh - ch) // 2
        x = (cell % 3) * gw + (gw - cw) // 2
    img = cv2.resize(img[y : y + ch, x : x + cw], (W, H), interpolation=cv2.INTER_LANCZOS4)
    img = img.astype(np.float32) + rng.normal(0, 2.2, (H, W, 1)).astype(np.float32)
    out = np.clip(img, 0, 255).astype(np.uint8)
    if not path.exists():
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, 93])
        assert ok
        path.write_bytes(buf.tobytes())
    return out


def _copy(img: np.ndarray, k: int, folder: Path, name: str) -> None:
    kind = k % 5
    if kind == 0:
        small = cv2.resize(img, (W // 2, H // 2), interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(folder / f"{name}_half.jpg"), small, [cv2.IMWRITE_JPEG_QUALITY, 85])
    elif kind == 1:
        small = cv2.resize(img, (W // 2, H // 2), interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(folder / f"{name}.webp"), small, [cv2.IMWRITE_WEBP_QUALITY, 80])
    elif kind == 2:
        cv2.imwrite(
            str(folder / f"{name}_rot90.jpg"),
            np.rot90(img, -1).copy(),
            [cv2.IMWRITE_JPEG_QUALITY, 90],
        )
    elif kind == 3:
        cut = img[H * 6 // 100 :, W * 6 // 100 :]
        cv2.imwrite(str(folder / f"{name}_crop.jpg"), cut, [cv2.IMWRITE_JPEG_QUALITY, 90])
    else:
        small = cv2.resize(img, (1600, 1200), interpolation=cv2.INTER_AREA)
        cv2.imwrite(
            str(folder / f"IMG-2024{k:04d}-WA0000.jpg"), small, [cv2.IMWRITE_JPEG_QUALITY, 75]
        )


def make_sets(count: int) -> tuple[Path, Path]:
    sources = _sources()
    different = DATA / f"different-{count}"
    copies = DATA / f"copies-cells-{count}"
    different.mkdir(parents=True, exist_ok=True)
    copies.mkdir(parents=True, exist_ok=True)

    def one_different(k: int) -> None:  # cell k // 12 of photo k % 12: all different pictures
        path = different / f"DSC_{k:04d}.JPG"
        _camera_jpeg(path, 30_000 + k, sources[k % len(sources)], cell=(k // len(sources)) % 6)

    def one_pair(k: int) -> None:
        name = f"IMG_{k:04d}"
        marker = copies / f".{name}.done"
        if marker.exists():
            return
        cell = (k // len(sources)) % 6  # cells do not overlap: originals are all different
        img = _camera_jpeg(copies / f"{name}.JPG", 40_000 + k, sources[k % len(sources)], cell)
        _copy(img, k, copies, name)
        marker.write_text("")

    with ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        list(pool.map(one_different, range(count)))
        list(pool.map(one_pair, range(count // 2)))
    return different, copies


_STAGES = r"""
import json, sys, time
from tui_dedup.review.settings import RunSettings
from tui_dedup.review import pipeline
from tui_dedup.engine.matching.match import match
s = RunSettings([sys.argv[1]], use_cache=False)
t0 = time.perf_counter(); c0 = time.process_time()
scanned = pipeline.scan_library(s)
t1 = time.perf_counter(); c1 = time.process_time()
store = scanned.result.store
cand = match(store, s.method, s.threshold(), s.match)
t2 = time.perf_counter(); c2 = time.process_time()
pairs = pipeline.confirm_pairs(store, s, cand)
t3 = time.perf_counter(); c3 = time.process_time()
kinds = {}
for k in pairs.kind.tolist():
    kinds[k] = kinds.get(k, 0) + 1
print(json.dumps({"scan": [t1 - t0, c1 - c0], "match": [t2 - t1, c2 - c1],
                  "confirm": [t3 - t2, c3 - c2], "pairs": len(pairs), "kinds": kinds,
                  "files": len(store)}))
"""


def stages(folder: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _STAGES, str(folder)],
        check=True,
        capture_output=True,
        text=True,
        env=child_env(),
    )
    return json.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=60)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    cv2.setNumThreads(1)
    different, copies = make_sets(args.count)
    files = sorted(different.glob("*.JPG"))
    mb = sum(p.stat().st_size for p in files) / len(files) / 1e6
    bpp = 8 * mb * 1e6 / (W * H)
    ours, theirs, st = [], [], []
    for _ in range(args.runs):
        ours.append(run_ours(different))
        theirs.append(run_imagehash(files))
        st.append(stages(copies))
    n = len(files)
    ow, oc = statistics.median(w for w, _ in ours), statistics.median(c for _, c in ours)
    iw, ic = statistics.median(w for w, _ in theirs), statistics.median(c for _, c in theirs)
    scan_w = statistics.median(s["scan"][0] for s in st)
    match_w = statistics.median(s["match"][0] for s in st)
    conf_w = statistics.median(s["confirm"][0] for s in st)
    conf_c = statistics.median(s["confirm"][1] for s in st)
    load = os.getloadavg()
    lines = [
        "# Verdict stage cost",
        "",
        f"Load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; medians of "
        f"{args.runs} interleaved rounds.",
        "",
        f"**{n} different 12 MP JPEGs** ({mb:.2f} MB, {bpp:.2f} bits per pixel):",
        "",
        "| | wall s | CPU s | images/s (wall) |",
        "|---|---:|---:|---:|",
        f"| dedup-tui scan --no-cache (whole process) | {ow:.2f} | {oc:.2f} | {n / ow:.1f} |",
        f"| imagehash pHash (one thread) | {iw:.2f} | {ic:.2f} | {n / iw:.1f} |",
        f"| ratio | | | **{iw / ow:.2f}×** |",
        "",
        f"**Every file has a copy** ({st[-1]['files']} files, {st[-1]['pairs']} pairs, kinds "
        f"{st[-1]['kinds']}):",
        "",
        "| stage | wall s |",
        "|---|---:|",
        f"| cold scan (discover, decode, features) | {scan_w:.2f} |",
        f"| matching | {match_w:.3f} |",
        f"| verdicts (CPU {conf_c:.2f} s) | {conf_w:.2f} |",
        f"| verdicts / (scan + matching) | **{conf_w / (scan_w + match_w):.0%}** |",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
