"""Peer baselines for the accuracy benchmark: imagehash's pHash, dHash and aHash.

Used the way most duplicate finders use the library: ``Image.open(path)`` (no EXIF transpose,
Pillow's default conversion), ``imagehash.<fn>(image, hash_size=8)``, then every pair compared by
brute-force Hamming distance (numpy popcount over 64-bit words). Similarity is
``(64 - distance) / 64``, so "Hamming <= 10" is "similarity >= 54/64".
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
from PIL import Image

from tui_dedup.engine import evaluate as ev

BITS = 64
PEERS = {"phash": "phash", "dhash": "dhash", "ahash": "average_hash"}
FIXED_DISTANCE = 10


def _hash_file(path: str) -> tuple[int, ...]:
    import imagehash

    with Image.open(path) as im:
        return tuple(
            int(np.packbits(getattr(imagehash, fn)(im, hash_size=8).hash.ravel()).view(">u8")[0])
            for fn in PEERS.values()
        )


def hash_files(paths: list[str], workers: int | None = None) -> dict[str, np.ndarray]:
    """method → uint64 array of hashes, one per path (in order)."""
    workers = workers or min(2, os.cpu_count() or 1)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        rows = list(pool.map(_hash_file, paths, chunksize=16))
    table = np.array(rows, dtype=np.uint64).reshape(len(paths), len(PEERS))
    return {name: table[:, k] for k, name in enumerate(PEERS)}


def all_pairs_distance(hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair ``i < j`` with its Hamming distance."""
    i, j = np.triu_indices(len(hashes), k=1)
    return i, j, np.bitwise_count(hashes[i] ^ hashes[j]).astype(np.int64)


@dataclass(frozen=True)
class PeerResult:
    method: str
    tuned_distance: int  # best-F1 Hamming threshold on the tune split
    fixed: ev.Score  # test split at Hamming <= FIXED_DISTANCE
    tuned: ev.Score  # test split at Hamming <= tuned_distance
    curve: list[ev.SweepPoint]  # test split


def similarity_at(distance: int) -> float:
    return (BITS - distance) / BITS


def evaluate_peers(truth: ev.Truth, *, workers: int | None = None) -> list[PeerResult]:
    hashes = hash_files(list(truth.paths), workers)
    results = []
    for method, h in hashes.items():
        i, j, d = all_pairs_distance(h)
        sim = (BITS - d) / BITS
        tune = ev.label_index_pairs(truth, i, j, sim, split="tune")
        test = ev.label_index_pairs(truth, i, j, sim, split="test")
        grid = [similarity_at(k) for k in range(BITS + 1)]
        best = ev.best_threshold(ev.sweep(tune, grid), min_precision=None)
        tuned_distance = round(BITS * (1 - best.threshold)) if best else 0
        results.append(
            PeerResult(
                method=method,
                tuned_distance=tuned_distance,
                fixed=ev.score(test, similarity_at(FIXED_DISTANCE)),
                tuned=ev.score(test, similarity_at(tuned_distance)),
                curve=ev.sweep(test, grid),
            )
        )
    return results
