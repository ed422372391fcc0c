"""Shared pieces of the Hamming-radius search, and its exact-equality path.

Hashes arrive as ``codes``: a (n, words) uint64 array (bit order is the features module's;
unused high bits are zero). :mod:`tui_dedup.engine.index.search` is the entry point and
documents the contract; this module holds what every strategy (brute force in
:mod:`tui_dedup.engine.index.brute`, multi-index hashing in :mod:`tui_dedup.engine.index.mih`)
shares: input checks, the exact distance over variants, canonical output, the cancellable
thread pool, per-thread buffers; and :func:`_exact_pairs`, the ``max_distance == 0`` path:
exact equality by sorting.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

__all__ = [
    "DIHEDRAL_INVERSE",
    "Cancelled",
    "Result",
]

DIHEDRAL_INVERSE: tuple[int, ...] = (0, 3, 2, 1, 4, 5, 6, 7)
"""Inverse of each transform in model.TRANSFORMS order: rot90 <-> rot270; the rest (rot180 and
every mirror, which is a reflection) undo themselves."""

_CELLS = 1 << 19  # probe cells per MIH step: amortises numpy per-call cost, ~7 MB buffers
_THREADS = max(1, min(4, os.cpu_count() or 1))

Result = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


class Cancelled(Exception):
    """``should_stop()`` returned True; the search was abandoned and nothing is returned."""


# ---------------------------------------------------------------------------------------------
# shared helpers


def _prepare(
    codes: np.ndarray, variants: np.ndarray | None, inverse: Sequence[int] | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate and normalise to (codes (n, w), variants (n, K, w), inverse (K,))."""
    c = np.ascontiguousarray(codes, dtype=np.uint64)
    if c.ndim == 1:
        c = c[:, None]
    if c.ndim != 2 or c.shape[1] < 1:
        raise ValueError(f"codes must be (n, words) uint64, got shape {codes.shape}")
    if variants is None:
        return c, c[:, None, :], np.zeros(1, np.int64)
    v = np.ascontiguousarray(variants, dtype=np.uint64)
    if v.ndim == 2 and c.shape[1] == 1:
        v = v[:, :, None]
    if v.ndim != 3 or v.shape[0] != c.shape[0] or v.shape[2] != c.shape[1] or v.shape[1] < 1:
        raise ValueError(f"variants must be (n, K, words) matching codes, got {variants.shape}")
    if not np.array_equal(v[:, 0], c):
        raise ValueError("variants[:, 0] must equal codes (variant 0 is the identity)")
    k = v.shape[1]
    if inverse is None:
        if k == 1:
            inverse = (0,)
        elif k == len(DIHEDRAL_INVERSE):
            inverse = DIHEDRAL_INVERSE
        else:
            raise ValueError(f"inverse= is required for K={k} variants")
    inv = np.asarray(inverse, np.int64)
    if inv.shape != (k,) or not np.array_equal(np.sort(inv), np.arange(k)) or inv[0] != 0:
        raise ValueError("inverse must be a permutation of range(K) with inverse[0] == 0")
    if not np.array_equal(inv[inv], np.arange(k)):
        raise ValueError("inverse must be an involution (inverse[inverse[k]] == k)")
    return c, v, inv


def _popcount_rows(x: np.ndarray) -> np.ndarray:
    """Bits set per row over the last axis (words), as int16."""
    if x.shape[-1] == 1:
        return np.bitwise_count(x[..., 0]).astype(np.int16)
    return np.bitwise_count(x).sum(axis=-1, dtype=np.int16)


def _used_bits(codes: np.ndarray, variants: np.ndarray) -> int:
    """Bits up to the highest one that varies: 100-bit hashes in 2 words are chunked as 100.

    Bits that never vary add nothing to any distance, and chunking or flipping them wastes
    probes: pHash's top bit (the DC term) is always set, so its codes are chunked as 63 bits
    (a faster multi-index search at radius 15, measured on the 100k-image library:
    benchmarks/RESULTS.md, "Why the code is as it is").
    """
    flat = variants.reshape(-1, codes.shape[1])
    ored = np.bitwise_or.reduce(flat ^ flat[0], axis=0)
    top = [w * 64 + int(x).bit_length() for w, x in enumerate(ored.tolist()) if x]
    return max(top, default=1)


def _empty() -> Result:
    return (
        np.empty(0, np.int32),
        np.empty(0, np.int32),
        np.empty(0, np.int16),
        np.empty(0, np.int8),
    )


def _finish(
    codes: np.ndarray, variants: np.ndarray, inv: np.ndarray, a: np.ndarray, b: np.ndarray
) -> Result:
    """Canonicalise found pairs (any order, duplicates allowed), dedupe, measure exactly."""
    if a.size == 0:
        return _empty()
    n = codes.shape[0]
    lo = np.minimum(a, b).astype(np.int64)
    hi = np.maximum(a, b).astype(np.int64)
    key = np.unique(lo * n + hi)  # sorted by (i, j): deterministic output order
    i, j = np.divmod(key, n)
    dist, k = _evaluate(codes, variants, inv, i, j)
    return i.astype(np.int32), j.astype(np.int32), dist, k


def _evaluate(
    codes: np.ndarray, variants: np.ndarray, inv: np.ndarray, i: np.ndarray, j: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Minimal distance over both directions and all variants, and the variant achieving it.

    The reported ``k`` is always oriented "variant k of j matches i" (model.Pairs.transform):
    a match found as ``variants[i, k]`` vs ``codes[j]`` is reported as ``inverse[k]``. Ties go
    to the smaller reported k.
    """
    kk = variants.shape[1]
    if kk == 1:
        return _popcount_rows(codes[i] ^ codes[j]), np.zeros(i.size, np.int8)
    labels = np.concatenate([np.arange(kk), inv]).astype(np.int32)
    dist = np.empty(i.size, np.int16)
    var = np.empty(i.size, np.int8)
    step = max(1, _CELLS // (2 * kk))
    for s in range(0, i.size, step):
        ii, jj = i[s : s + step], j[s : s + step]
        d_ji = _popcount_rows(variants[jj] ^ codes[ii][:, None, :])  # variant k of j vs i
        d_ij = _popcount_rows(variants[ii] ^ codes[jj][:, None, :])  # variant k of i vs j
        score = np.concatenate([d_ji, d_ij], axis=1).astype(np.int32) * 256 + labels
        best = score.min(axis=1)
        dist[s : s + step] = best >> 8
        var[s : s + step] = best & 255
    return dist, var


def _run(tasks: list[Callable[[], Any]], should_stop: Callable[[], bool] | None) -> list[Any]:
    """Run tasks on the pool, polling should_stop on this thread between completions."""
    if should_stop is not None and should_stop():
        raise Cancelled
    if _THREADS == 1 or len(tasks) < 2:
        out = []
        for t in tasks:
            out.append(t())
            if should_stop is not None and should_stop():
                raise Cancelled
        return out
    stop = threading.Event()

    def guarded(task: Callable[[], Any]) -> Any:
        return None if stop.is_set() else task()

    with ThreadPoolExecutor(_THREADS, thread_name_prefix="radius-pairs") as pool:
        futures = [pool.submit(guarded, t) for t in tasks]
        try:
            out = []
            for f in futures:
                out.append(f.result())
                if should_stop is not None and should_stop():
                    raise Cancelled
            return out
        finally:
            stop.set()  # pending tasks return at once, so leaving the pool is quick


def _concat(
    parts: list[tuple[np.ndarray, np.ndarray]], dtype: type = np.int64
) -> tuple[np.ndarray, np.ndarray]:
    if not parts:
        return np.empty(0, dtype), np.empty(0, dtype)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _radii(max_distance: int, variant_max_distance: int | None) -> tuple[int, int]:
    """(r, rv): the radius for codes vs codes and for non-identity variants (rv <= r)."""
    r = int(max_distance)
    rv = r if variant_max_distance is None else min(int(variant_max_distance), r)
    return r, max(rv, -1)


# ---------------------------------------------------------------------------------------------
# exact equality (max_distance == 0)


def _row_key(rows: np.ndarray) -> np.ndarray:
    """One uint64 per row, equal for equal rows (collisions are filtered by verification)."""
    key = rows[:, 0].copy()
    for w in range(1, rows.shape[1]):
        key = key * np.uint64(0x9E3779B97F4A7C15) ^ rows[:, w]
    return key


def _exact_pairs(codes: np.ndarray, variants: np.ndarray, inv: np.ndarray) -> Result:
    """Pairs at distance 0 by sorting: equal runs of codes, then variants searched in them."""
    n = codes.shape[0]
    key = _row_key(codes)
    order = np.argsort(key, kind="stable")
    skey = key[order]
    ends = np.searchsorted(skey, skey, side="right")
    pos = np.arange(n)
    a, b = _expand(pos, pos + 1, ends - pos - 1)  # each position with the rest of its run
    parts = [(order[a], order[b])]
    kk = variants.shape[1]
    if kk > 1:
        flat = variants[:, 1:].reshape(-1, codes.shape[1])
        vkey = _row_key(flat)
        lo = np.searchsorted(skey, vkey, side="left")
        hi = np.searchsorted(skey, vkey, side="right")
        src, p = _expand(np.arange(flat.shape[0]), lo, hi - lo)
        parts.append((src // (kk - 1), order[p]))
    a, b = _concat(parts)
    keep = a != b
    return _keep_within(codes, variants, inv, a[keep], b[keep], 0)


def _keep_within(
    codes: np.ndarray, variants: np.ndarray, inv: np.ndarray, a: np.ndarray, b: np.ndarray, r: int
) -> Result:
    i, j, d, k = _finish(codes, variants, inv, a, b)
    ok = d <= r
    return i[ok], j[ok], d[ok], k[ok]


def _expand(src: np.ndarray, start: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(src[t], start[t] + 0..count[t]-1) for every t, flattened; singles skip np.repeat."""
    one = count == 1
    many = count > 1
    s1, p1 = src[one], start[one]
    if not many.any():
        return s1, p1
    c = count[many]
    total = int(c.sum())
    first = np.cumsum(c) - c
    s2 = np.repeat(src[many], c)
    p2 = np.repeat(start[many] - first, c) + np.arange(total)
    return np.concatenate([s1, s2]), np.concatenate([p1, p2])


# ---------------------------------------------------------------------------------------------
# per-thread buffers


_local = threading.local()


def _buffer(name: str, size: int, dtype: type) -> np.ndarray:
    """This thread's reusable buffer ``name`` of at least ``size`` items.

    Fresh multi-MB numpy arrays come from mmap and page-fault on first touch; in the hot loops
    that measured slower than the arithmetic itself (benchmarks/RESULTS.md, "Why the code is as
    it is"), so per-cell arrays are reused.
    """
    buf = getattr(_local, name, None)
    if buf is None or buf.size < size or buf.dtype != dtype:
        buf = np.empty(size, dtype)
        setattr(_local, name, buf)
    return buf
