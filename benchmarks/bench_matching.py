"""Speed of the Hamming-radius pair search (tui_dedup.engine.index.search) at a million hashes.

Command (from the project root, venv active; ~2-3 minutes on the 2-core dev box):

    python benchmarks/bench_matching.py            # writes benchmarks/results/matching.md
    python benchmarks/bench_matching.py --n 200000 --no-write   # quicker look

Data: N uniform random 64-bit codes (seed 20240611); 1% of the rows are overwritten with
planted near-duplicates: clusters of a seed row plus 4 copies with 0-8 random bit flips, half of
the copies "rotated" (the code of a random non-identity variant of the seed, plus flips).
Variants are simulated as 7 fixed random bit permutations of the code plus 0-3 random flips
each: a rotated image's hash is not an exact permutation, and this keeps that property.
Each run is one fresh search (tables are built inside the timing); CPU is user+system time of
all threads (a fair figure when other jobs share the box, which inflates wall time); peak RSS
is the process maximum so far (``ru_maxrss``), so rows are ordered from small to large.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tui_dedup.engine.index.search import brute_force_pairs, radius_pairs  # noqa: E402

SEED = 20240611
K = 8


def flip(rng: np.random.Generator, codes: np.ndarray, max_flips: int) -> np.ndarray:
    """Each row with 0..max_flips random bits flipped (duplicates positions may cancel)."""
    out = codes.copy()
    n = codes.shape[0]
    counts = rng.integers(0, max_flips + 1, n)
    for f in range(max_flips):
        rows = np.flatnonzero(counts > f)
        out[rows] ^= np.uint64(1) << rng.integers(0, 64, rows.size).astype(np.uint64)
    return out


def permute_bits(codes: np.ndarray, perm: np.ndarray) -> np.ndarray:
    raw = np.ascontiguousarray(codes).view(np.uint8).reshape(-1, 8)
    bits = np.unpackbits(raw, axis=1, bitorder="little")[:, perm]
    return np.ascontiguousarray(np.packbits(bits, axis=1, bitorder="little")).view(np.uint64)[:, 0]


def make_data(n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(codes (n, 1), variants (n, k, 1)) with the planted clusters described above."""
    rng = np.random.default_rng(SEED)
    codes = rng.integers(0, 2**64, n, dtype=np.uint64, endpoint=False)
    perms = [np.arange(64)] + [rng.permutation(64) for _ in range(k - 1)]
    n_copies = n // 100
    seeds = rng.choice(n, n_copies // 4, replace=False)
    copy_of = np.repeat(seeds, 4)
    targets = rng.choice(np.setdiff1d(np.arange(n), seeds), copy_of.size, replace=False)
    src = codes[copy_of]
    rotated = rng.random(copy_of.size) < 0.5
    which = rng.integers(1, k, copy_of.size)
    for t in range(1, k):
        sel = rotated & (which == t)
        src[sel] = permute_bits(src[sel], perms[t])
    codes[targets] = flip(rng, src, 8)
    variants = np.empty((n, k, 1), np.uint64)
    variants[:, 0, 0] = codes
    for t in range(1, k):
        variants[:, t, 0] = flip(rng, permute_bits(codes, perms[t]), 3)
    return codes[:, None], variants


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(label: str, fn, *args, **kw) -> str:
    """Run once; the table row: wall s, CPU s (all threads), pairs, peak RSS so far."""
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args, **kw)
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"  {label}: {dt:.2f} s wall, {cpu:.2f} s CPU, {len(out[0])} pairs", flush=True)
    return f"{dt:.2f} | {cpu:.2f} | {len(out[0]):,} | {peak_rss_mb():.0f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--brute-n", type=int, default=100_000)
    ap.add_argument("--radius", type=int, default=8)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    r = args.radius

    rows: list[str] = []
    print(f"generating {args.n} codes with K={K} variants ...", flush=True)
    codes, variants = make_data(args.n, K)
    base_rss = peak_rss_mb()
    bn, small_c = args.brute_n, codes[: args.brute_n]

    c0 = time.process_time()
    res = timed(f"brute K=1 N={bn}", brute_force_pairs, small_c, r)
    brute_rate = bn * (bn - 1) / 2 / (time.process_time() - c0)  # per CPU-second
    rows.append(f"| {bn:,} | 1 | {r} | brute | {res} |")
    res = timed(f"auto K=1 N={bn}", radius_pairs, small_c, r)
    rows.append(f"| {bn:,} | 1 | {r} | auto (MIH) | {res} |")
    res = timed(f"exact K=1 N={args.n}", radius_pairs, codes, 0)
    rows.append(f"| {args.n:,} | 1 | 0 | auto (sort) | {res} |")
    res = timed(f"auto K=1 N={args.n}", radius_pairs, codes, r)
    rows.append(f"| {args.n:,} | 1 | {r} | auto (MIH) | {res} |")
    for rv in (5, 6, r):
        label = f"{r}, variants {rv}" if rv != r else f"{r}"
        res = timed(
            f"auto K={K} variant radius {rv}",
            radius_pairs,
            codes,
            r,
            variants=variants,
            variant_max_distance=rv,
        )
        rows.append(f"| {args.n:,} | {K} | {label} | auto (MIH) | {res} |")

    table = "\n".join(
        [
            "| N | K | radius | method | wall s | CPU s | pairs | peak RSS MB |",
            "|---:|---:|---|---|---:|---:|---:|---:|",
            *rows,
        ]
    )
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    text = (
        "# Hamming-radius pair search (`tui_dedup.engine.index.search`)\n\n"
        "Made by `python benchmarks/bench_matching.py` "
        f"({platform.machine()}, {platform.python_version()}, numpy {np.__version__}, "
        f"{len(os.sched_getaffinity(0))} cores).\n"
        f"Uniform random 64-bit codes + 1% planted clusters (seed {SEED}); data alone: "
        f"{base_rss:.0f} MB RSS.\n\n"
        f"{table}\n\n"
        f"Brute force: {brute_rate / 1e9:.2f}e9 pairs per CPU-second; at {args.n:,} rows it "
        f"would take ~{args.n * (args.n - 1) / 2 / brute_rate:.0f} CPU-s (K=1).\n"
        f"Load average during the run (1/5/15 min): {load}.\n"
    )
    print()
    print(text)
    if not args.no_write:
        out = ROOT / "benchmarks" / "results" / "matching.md"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
