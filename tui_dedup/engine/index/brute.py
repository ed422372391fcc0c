"""The brute-force Hamming-radius search: every pair checked, in tiles, on the thread pool.

Row blocks are XORed against long column blocks of the upper triangle and bits counted with
``np.bitwise_count``. It is the reference the other strategies are tested against
(:mod:`tui_dedup.engine.index.search` documents the contract and when it is the fastest), and
the search a hybrid run uses for the variants (:func:`_brute_candidates` with ``plain=False``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np

from tui_dedup.engine.index.hamming import (
    Result,
    _buffer,
    _concat,
    _empty,
    _finish,
    _prepare,
    _radii,
    _run,
)

_TILE_CELLS = 1 << 18  # brute-force tile: its uint64 XOR buffer (2 MB) stays in L2/L3
_MIN_COLS = 256  # brute-force tiles are at least this wide (long inner loops), up to 8192
# brute-force cells per pool task: per-task overhead vs cancel latency (how long a task takes:
# benchmarks/RESULTS.md, "Why the code is as it is")
_TASK_CELLS = 1 << 24


def brute_force_pairs(
    codes: np.ndarray,
    max_distance: int,
    *,
    variants: np.ndarray | None = None,
    should_stop: Callable[[], bool] | None = None,
    inverse: Sequence[int] | None = None,
    variant_max_distance: int | None = None,
) -> Result:
    """Every pair checked: row blocks XORed against long column blocks + ``np.bitwise_count``.

    The reference implementation (its CPU cost per pair: benchmarks/RESULTS.md, "Why the code
    is as it is").
    Same contract as :func:`radius_pairs`.
    """
    codes, variants, inv = _prepare(codes, variants, inverse)
    r, rv = _radii(max_distance, variant_max_distance)
    if codes.shape[0] < 2 or r < 0:
        return _empty()
    a, b = _brute_candidates(codes, variants, r, rv, should_stop)
    return _finish(codes, variants, inv, a, b)


def _brute_candidates(
    codes: np.ndarray,
    variants: np.ndarray,
    r: int,
    rv: int,
    should_stop: Callable[[], bool] | None,
    plain: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i < j, int32) within ``r`` plainly or ``rv`` through a variant.

    ``plain=False`` skips the codes-vs-codes test (a hybrid search does that part elsewhere);
    ``rv < 0`` skips the variants. Every hit is exact, so the pairs need no verification.

    Why this shape: a tile is ``rows`` codes (a short block) XORed against a long contiguous
    column block, so numpy's inner loop is a long scalar-broadcast XOR (much cheaper per cell
    than square tiles), then ``bitwise_count`` into uint8 (the floor) and one ``min`` that
    rejects the usual hit-free tile. A task is a run of row blocks against all later columns
    (~``_TASK_CELLS``): Python overhead stays small and memory is a few per-thread buffers of
    ``_TILE_CELLS``. The costs per cell: benchmarks/RESULTS.md, "Why the code is as it is".
    """
    n, words = codes.shape
    kk = variants.shape[1] if rv >= 0 else 1
    if not plain and kk == 1:
        return np.empty(0, np.int32), np.empty(0, np.int32)
    cols = int(min(n, max(_MIN_COLS, _TILE_CELLS // 32)))
    rows = int(max(1, min(n, _TILE_CELLS // cols)))
    count_t = np.uint8 if words * 64 <= 255 else np.uint16
    # Per variant k a contiguous (n, words) block: the tiles slice rows of it.
    vt = np.ascontiguousarray(variants.transpose(1, 0, 2)) if kk > 1 else None

    def block(a0: int) -> tuple[np.ndarray, np.ndarray]:
        a1 = min(a0 + rows, n)
        out_i: list[np.ndarray] = []
        out_j: list[np.ndarray] = []
        for b0 in range(a0, n, cols):
            b1 = min(b0 + cols, n)
            shape = (a1 - a0, b1 - b0)
            cells = shape[0] * shape[1]
            x = _buffer("bf_x", rows * cols, np.uint64)[:cells].reshape(shape)
            tmp = _buffer("bf_tmp", rows * cols, count_t)[:cells].reshape(shape)
            tmp2 = _buffer("bf_tmp2", rows * cols, count_t)[:cells].reshape(shape)
            best = vbest = None
            if plain:
                best = _buffer("bf_best", rows * cols, count_t)[:cells].reshape(shape)
                _tile_counts(codes[a0:a1], codes[b0:b1], best, x, tmp2)
            if kk > 1:
                assert vt is not None
                vbest = _buffer("bf_v", rows * cols, count_t)[:cells].reshape(shape)
                _tile_counts(codes[a0:a1], vt[1, b0:b1], vbest, x, tmp2)
                for k in range(1, kk):  # both directions: variant k of the column, of the row
                    if k > 1:
                        _tile_counts(codes[a0:a1], vt[k, b0:b1], tmp, x, tmp2)
                        np.minimum(vbest, tmp, out=vbest)
                    _tile_counts(vt[k, a0:a1], codes[b0:b1], tmp, x, tmp2)
                    np.minimum(vbest, tmp, out=vbest)
            for counts, limit in ((best, r), (vbest, rv)):
                if counts is None:
                    continue
                if b0 == a0:  # the diagonal square: only j > i counts (i == j is distance 0)
                    w = min(a1 - a0, b1 - b0)
                    counts[:, :w][np.tri(w, dtype=np.bool_)] = np.iinfo(count_t).max
                if int(counts.min()) <= limit:
                    ii, jj = _tile_hits(counts, limit)
                    out_i.append(ii + a0)
                    out_j.append(jj + b0)
        if not out_i:
            return np.empty(0, np.int32), np.empty(0, np.int32)
        return np.concatenate(out_i), np.concatenate(out_j)

    def blocks(starts: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        return _concat([block(a0) for a0 in starts], np.int32)

    # Tasks of about _TASK_CELLS: several row blocks each near the end of the triangle.
    tasks: list[Callable[[], Any]] = []
    group: list[int] = []
    work = 0
    for a0 in range(0, n, rows):
        group.append(a0)
        work += rows * (n - a0)
        if work >= _TASK_CELLS or a0 + rows >= n:
            tasks.append(partial(blocks, tuple(group)))
            group, work = [], 0
    return _concat(_run(tasks, should_stop), np.int32)


def _tile_hits(counts: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) int32 of the cells <= limit in a tile known to hold at least one.

    Real libraries put a hit in most tiles at radius 15 (clusters of near copies), so this must
    not cost a full compare + ``nonzero`` pass: a row-wise ``min`` (cheap, contiguous) finds the
    few rows with hits and only those are scanned.
    """
    rows = np.flatnonzero(counts.min(axis=1) <= limit)
    ii, jj = np.divmod(np.flatnonzero(counts[rows] <= limit), counts.shape[1])
    return rows[ii].astype(np.int32), jj.astype(np.int32)


def _tile_counts(
    rows: np.ndarray, cols: np.ndarray, out: np.ndarray, x: np.ndarray, tmp: np.ndarray
) -> None:
    """out = popcount(rows[a] ^ cols[b]) summed over words, in the caller's buffers.

    ``tmp`` is scratch for words > 1 and must not alias ``out``.
    """
    np.bitwise_xor(rows[:, None, 0], cols[None, :, 0], out=x)
    np.bitwise_count(x, out=out)
    for w in range(1, rows.shape[1]):
        np.bitwise_xor(rows[:, None, w], cols[None, :, w], out=x)
        np.bitwise_count(x, out=tmp)
        np.add(out, tmp, out=out)
