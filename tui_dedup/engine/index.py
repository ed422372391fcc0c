"""All pairs of hashes within a Hamming radius, in pure numpy, fast from ten to millions of rows.

Hashes arrive as ``codes``: a (n, words) uint64 array (bit order is the features module's;
unused high bits are zero). A pair ``(i, j)`` is reported when the smallest Hamming distance
between one image's code and any dihedral variant of the other's is ``<= max_distance``.

Three strategies, one answer:

* :func:`brute_force_pairs` XORs square tiles of the upper triangle and counts bits with
  ``np.bitwise_count``. It is the reference the others are tested against and the fastest path
  up to a few thousand rows (it never builds an n×n matrix: tiles of 256k cells).
* :func:`mih_pairs` is multi-index hashing. The used bits are cut into ``m`` chunks of about
  ``log2(n)`` bits. The generalised pigeonhole principle (Qin et al., "GPH", ICDE 2018) says: if
  chunk thresholds ``t_c >= -1`` sum to ``r - m + 1``, any pair within ``r`` is within ``t_c`` on
  some chunk ``c`` (else the distance would be ``>= sum(t_c + 1) = r + 1``). Every code is
  probed, per chunk, at every key within ``t_c`` bit flips in a direct-address table;
  candidates are verified with the exact popcount. The chunk count and thresholds come from a
  small cost model (probes vs. candidates), so ``r = 1`` probes one 21-bit chunk at radius 1
  and ``r = 8`` at 1M rows probes three 21-bit chunks at radius 2.
* ``max_distance == 0`` is exact equality: a sort, whatever the method.

Why it is fast in numpy: codes are probed in the table's own key order, so ``key ^ flips``
walks the table nearly sequentially; a flip pattern ``e`` is only probed from the side whose
key has the highest bit of ``e`` clear, which finds each unordered pair once and halves the
work; the table keeps each bucket's first entries in flat "layers" so a probe is a 1-D gather
and a popcount, not an ``np.repeat`` (slow, and it holds the GIL); per-cell arrays are
reused per thread (fresh multi-MB arrays page-fault). Work is cut into tasks of ~2M cells on a
small thread pool (numpy's ufuncs and gathers release the GIL). One chunk table is alive at
a time: peak RSS at 1M rows is ~0.3 GB for K=1 and ~0.6 GB with K=8 (data included).

Variants (rotations/mirrors): the distance is ``min over k`` in both directions, so the search
is the plain codes-vs-codes search plus a join of every code against a second table holding
all non-identity variants (``(K - 1) * n`` rows). That join has no symmetry to halve and 7x
the candidates per probe, which is why K=8 costs ~5x K=1 at radius 8; ``variant_max_distance``
trades recall of rotated copies for speed (see :func:`radius_pairs`).

Cancellation: ``should_stop()`` is polled between tasks on the calling thread; when it returns
True, :class:`Cancelled` is raised. Nothing partial is returned because an incomplete pair
list would group silently wrong.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from math import comb
from typing import Any

import numpy as np

__all__ = [
    "DIHEDRAL_INVERSE",
    "Cancelled",
    "brute_force_pairs",
    "mih_pairs",
    "radius_pairs",
]

DIHEDRAL_INVERSE: tuple[int, ...] = (0, 3, 2, 1, 4, 5, 6, 7)
"""Inverse of each transform in model.TRANSFORMS order: rot90 <-> rot270; the rest (rot180 and
every mirror, which is a reflection) undo themselves."""

_CELLS = 1 << 21  # probe cells per MIH step: amortises numpy's per-call cost, ~30 MB buffers
_TILE_CELLS = 1 << 18  # brute-force tile: its uint64 XOR buffer (2 MB) stays in L2/L3
_MAX_CHUNK_BITS = 24  # direct-address table of 2**24 int32 offsets = 64 MB
_THREADS = max(1, min(4, os.cpu_count() or 1))

# Cost model in CPU seconds, fitted to measurements on the 2-core dev box (numpy 2.4, AVX2).
# Only "auto" uses the absolute values (MIH vs brute force); plans depend on the ratios.
_COST_PROBE = 8e-9  # one probe cell: flip, gather, XOR, popcount, compare (plus layers)
_COST_CANDIDATE = 11e-9  # per table entry expected in a probed bucket
_COST_ENTRY = 150e-9  # per entry: chunk key, sort, reorder, layers
_COST_BUCKET = 3e-9  # per bucket of a direct-address table: offsets, layers
_COST_MIH_FIXED = 5e-3  # Python set-up: flip masks, task lists, thread pool
_COST_BRUTE = 1.9e-9  # per pair, word and direction of the brute-force tiles

Result = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
Plan = list[tuple[int, int, int]]  # (lo bit, hi bit, threshold) per probed chunk


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
    """Bits up to the highest one set anywhere: 100-bit hashes in 2 words are chunked as 100."""
    ored = np.bitwise_or.reduce(variants.reshape(-1, codes.shape[1]), axis=0)
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


def _concat(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    if not parts:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _radii(max_distance: int, variant_max_distance: int | None) -> tuple[int, int]:
    """(r, rv): the radius for codes vs codes and for non-identity variants (rv <= r)."""
    r = int(max_distance)
    rv = r if variant_max_distance is None else min(int(variant_max_distance), r)
    return r, max(rv, -1)


# ---------------------------------------------------------------------------------------------
# brute force


def brute_force_pairs(
    codes: np.ndarray,
    max_distance: int,
    *,
    variants: np.ndarray | None = None,
    should_stop: Callable[[], bool] | None = None,
    inverse: Sequence[int] | None = None,
    variant_max_distance: int | None = None,
) -> Result:
    """Every pair checked: upper-triangle tiles, XOR + ``np.bitwise_count``.

    The reference implementation, and the fastest below ~3k rows (~1.9 ns per pair and word
    of CPU; tiles of 256k cells measured ~2x faster than tiles of a few million, which spill
    out of L2). Same contract as :func:`radius_pairs`.
    """
    codes, variants, inv = _prepare(codes, variants, inverse)
    n, words = codes.shape
    r, rv = _radii(max_distance, variant_max_distance)
    if n < 2 or r < 0:
        return _empty()
    kk = variants.shape[1] if rv >= 0 else 1
    side = max(64, int((_TILE_CELLS / words) ** 0.5))
    count_t = np.uint8 if words * 64 <= 255 else np.uint16

    def tile(a0: int, b0: int) -> tuple[np.ndarray, np.ndarray]:
        a1, b1 = min(a0 + side, n), min(b0 + side, n)
        cells = (a1 - a0) * (b1 - b0)
        x = _buffer("bf_x", side * side, np.uint64)[:cells].reshape(a1 - a0, b1 - b0)
        best = _buffer("bf_best", side * side, count_t)[:cells].reshape(x.shape)
        tmp = _buffer("bf_tmp", side * side, count_t)[:cells].reshape(x.shape)
        tmp2 = _buffer("bf_tmp2", side * side, count_t)[:cells].reshape(x.shape)
        _tile_counts(codes[a0:a1], codes[b0:b1], best, x, tmp2)
        vbest = best  # with rv < r the variants get their own minimum and threshold
        if kk > 1 and rv < r:
            vbest = _buffer("bf_v", side * side, count_t)[:cells].reshape(x.shape)
            vbest.fill(255)
        for k in range(1, kk):  # both directions: variant k of the column row, then of the row
            _tile_counts(codes[a0:a1], variants[b0:b1, k], tmp, x, tmp2)
            np.minimum(vbest, tmp, out=vbest)
            _tile_counts(variants[a0:a1, k], codes[b0:b1], tmp, x, tmp2)
            np.minimum(vbest, tmp, out=vbest)
        # The usual tile has no hit: one cheap reduction instead of compare + nonzero.
        if best.min() > r and (vbest is best or vbest.min() > rv):
            return np.empty(0, np.int64), np.empty(0, np.int64)
        hit = best <= r
        if vbest is not best:
            hit |= vbest <= rv
        if a0 == b0:
            hit &= np.arange(a1 - a0)[:, None] < np.arange(b1 - b0)[None, :]
        ii, jj = np.nonzero(hit)
        return ii + a0, jj + b0

    tasks = [(lambda a=a, b=b: tile(a, b)) for a in range(0, n, side) for b in range(a, n, side)]
    i, j = _concat(_run(tasks, should_stop))
    return _finish(codes, variants, inv, i, j)


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
# multi-index hashing


def _ball(bits: int, radius: int) -> int:
    return sum(comb(bits, d) for d in range(radius + 1))


def _plan(bits: int, r: int, table: int, queries: int, symmetric: bool) -> tuple[Plan, float]:
    """Cheapest (chunks, thresholds) by the cost model; thresholds by greedy marginal cost.

    Thresholds t_c >= -1 with sum(t_c + 1) = r + 1 (GPH). Per chunk of b bits at threshold t:
    queries * ball(b, t) probes and as many times table / 2**b candidates, plus table building.
    The symmetric (codes vs codes) search probes each flip pattern from one side only.
    """
    best: tuple[Plan, float] = ([], float("inf"))
    half = 0.5 if symmetric else 1.0
    lo_m = -(-bits // _MAX_CHUNK_BITS)
    for m in range(lo_m, bits + 1):
        edges = [bits * c // m for c in range(m + 1)]
        sizes = [edges[c + 1] - edges[c] for c in range(m)]

        def cost(b: int, t: int) -> float:
            if t < 0:
                return 0.0
            per_probe = _COST_PROBE + _COST_CANDIDATE * table / 2.0**b
            build = _COST_ENTRY * table + _COST_BUCKET * 2.0**b
            return build + half * queries * _ball(b, t) * per_probe

        ts = [-1] * m
        for _ in range(r + 1):
            c = min(range(m), key=lambda c: cost(sizes[c], ts[c] + 1) - cost(sizes[c], ts[c]))
            ts[c] += 1
        total = sum(cost(sizes[c], ts[c]) for c in range(m))
        if total < best[1]:
            best = ([(edges[c], edges[c + 1], ts[c]) for c in range(m) if ts[c] >= 0], total)
        if m > r + 1 and sizes[0] < 8:
            break
    return best


def _chunk_key(rows: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Bits [lo, hi) of each row (bit 0 = lowest bit of word 0) as int32."""
    wl, sl = divmod(lo, 64)
    wh = (hi - 1) // 64
    mask = np.uint64((1 << (hi - lo)) - 1)
    key = rows[:, wl] >> np.uint64(sl)
    if wh != wl:
        key = key | (rows[:, wh] << np.uint64(64 - sl))
    return (key & mask).astype(np.int32)


def _flip_masks(bits: int, radius: int) -> list[np.ndarray]:
    """Non-zero flip patterns of <= radius bits, grouped by their highest set bit."""
    groups: list[list[int]] = [[] for _ in range(bits)]

    def rec(mask: int, below: int, left: int) -> None:
        for b in range(below):
            m = mask | (1 << b)
            groups[m.bit_length() - 1].append(m)
            if left > 1:
                rec(m, b, left - 1)

    if radius > 0:
        rec(0, bits, radius)
    return [np.array(sorted(g), np.int32) for g in groups]


def _argsort_keys(keys: np.ndarray) -> np.ndarray:
    """Stable argsort of small non-negative int32 keys, 3-5x faster than ``np.argsort``.

    (key << 32 | index) sorted as int64 takes numpy's SIMD sort and is stable by construction.
    """
    packed = (keys.astype(np.int64) << 32) | np.arange(keys.size, dtype=np.int64)
    packed.sort()
    return (packed & 0xFFFFFFFF).astype(np.int32)


class _Table:
    """One chunk's index over ``rows``: CSR plus direct-address "layers" for fast probing.

    Entries are sorted by chunk key; ``offs[key]:offs[key+1]`` are a bucket's positions. Layer
    ``L`` holds, per key, word 0 of the bucket's L-th entry and its position (-1 if none), so
    a probe is one 1-D gather + XOR + popcount per layer, with no ``np.repeat`` (which is slow
    and holds the GIL). Entries past the last layer are reached through ``offs``, flagged per
    bucket in a byte table. The layer count minimises a per-probe cost over the bucket sizes.
    """

    def __init__(self, rows: np.ndarray, lo: int, hi: int) -> None:
        keys = _chunk_key(rows, lo, hi)
        self.order = _argsort_keys(keys)
        self.keys = keys[self.order]
        self.rows = rows[self.order]
        counts = np.bincount(self.keys, minlength=1 << (hi - lo))
        self.offs = np.zeros(counts.size + 1, np.int32)
        np.cumsum(counts, out=self.offs[1:])
        pmf = np.bincount(counts) / counts.size  # share of buckets (~ of probes) by size
        sizes = np.arange(pmf.size)

        def cost(
            w: int,
        ) -> float:  # ns per probe, measured: layer 7, flag 3, overflow 15 + 12/entry
            over = np.maximum(sizes - w, 0)
            tail = float(pmf[w + 1 :].sum())
            return 7 * w + (3 + 15 * tail + 12 * float(pmf @ over) if tail else 0)

        self.layers = min(range(1, 9), key=cost)
        rank = np.arange(keys.size, dtype=np.int32) - self.offs[self.keys]
        self.codes0: list[np.ndarray] = []
        self.pos: list[np.ndarray] = []
        for layer in range(self.layers):
            sel = np.flatnonzero(rank == layer)
            c0 = np.zeros(counts.size, np.uint64)
            c0[self.keys[sel]] = self.rows[sel, 0]
            p = np.full(counts.size, -1, np.int32)
            p[self.keys[sel]] = sel
            self.codes0.append(c0)
            self.pos.append(p)
        self.overflow = (
            (counts > self.layers).view(np.uint8) if pmf.size > self.layers + 1 else None
        )

    def probe(
        self, qkeys: np.ndarray, qsrc: np.ndarray, q0: np.ndarray, masks: np.ndarray, r: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """(qsrc, table position) of entries keyed qkey ^ mask whose word 0 is within r.

        Cells are mask-major over queries sorted by key, so the gathers walk nearly in order.
        """
        nq = qkeys.size
        cells = masks.size * nq
        probe = _buffer("keys", _CELLS, np.int32)[:cells]
        np.bitwise_xor(masks[:, None], qkeys[None, :], out=probe.reshape(-1, nq))
        gathered = _buffer("words", _CELLS, np.uint64)[:cells]
        counts = _buffer("counts", _CELLS, np.uint8)[:cells]
        near = _buffer("near", _CELLS, np.bool_)[:cells]
        src_parts, pos_parts = [], []
        for c0, p in zip(self.codes0, self.pos, strict=True):
            np.take(c0, probe, out=gathered, mode="wrap")  # keys are in range: skip the check
            np.bitwise_xor(gathered.reshape(-1, nq), q0, out=gathered.reshape(-1, nq))
            np.bitwise_count(gathered, out=counts)
            np.less_equal(counts, r, out=near)
            hit = np.flatnonzero(near)
            tp = p[probe[hit]]
            ok = tp >= 0
            src_parts.append(qsrc[hit[ok] % nq])
            pos_parts.append(tp[ok])
        if self.overflow is not None:
            np.take(self.overflow, probe, out=counts, mode="wrap")
            hit = np.flatnonzero(counts)
            keys = probe[hit]
            start = self.offs[keys] + self.layers
            hit, tp = _expand(hit, start, self.offs[keys + 1] - start)
            qi = hit % nq
            ok = np.bitwise_count(self.rows[tp, 0] ^ q0[qi]) <= r
            src_parts.append(qsrc[qi[ok]])
            pos_parts.append(tp[ok])
        return np.concatenate(src_parts), np.concatenate(pos_parts)


_local = threading.local()


def _buffer(name: str, size: int, dtype: type) -> np.ndarray:
    """This thread's reusable buffer ``name`` of at least ``size`` items.

    Fresh multi-MB numpy arrays come from mmap and page-fault on first touch; in the hot loops
    that measured 2-4x slower than the arithmetic itself, so per-cell arrays are reused.
    """
    buf = getattr(_local, name, None)
    if buf is None or buf.size < size or buf.dtype != dtype:
        buf = np.empty(size, dtype)
        setattr(_local, name, buf)
    return buf


def _verify(
    qrows: np.ndarray, q: np.ndarray, trows: np.ndarray, t: np.ndarray, r: int
) -> np.ndarray:
    return np.flatnonzero(_popcount_rows(qrows[q] ^ trows[t]) <= r)


def _symmetric_tasks(tab: _Table, t: int, r: int) -> list[Callable[[], Any]]:
    """Tasks finding the codes-vs-codes pairs within ``t`` flips on this chunk, each once."""
    tasks: list[Callable[[], Any]] = []
    # Same bucket: each position with the rest of its bucket.
    pos = np.arange(tab.keys.size)
    after = tab.offs[tab.keys + 1] - pos - 1
    for s, e in _spans(after):
        tasks.append(lambda s=s, e=e: _same_bucket(tab, s, e, after, r))
    for hb, masks in enumerate(_flip_masks(tab.offs.size.bit_length() - 1, t)):
        if masks.size:
            # Probe pattern e only from keys with its highest bit clear: finds each pair once.
            qpos = np.flatnonzero((tab.keys >> hb) & 1 == 0).astype(np.int32)
            step = max(1, _CELLS // masks.size)
            for s in range(0, qpos.size, step):
                tasks.append(lambda q=qpos[s : s + step], m=masks: _probe_self(tab, q, m, r))
    return tasks


def _spans(work: np.ndarray) -> list[tuple[int, int]]:
    """Split positions into runs of about _CELLS units of work each."""
    csum = np.cumsum(work)
    if csum.size == 0 or csum[-1] == 0:
        return []
    cuts = np.searchsorted(csum, np.arange(_CELLS, int(csum[-1]), _CELLS), side="right")
    edges = np.unique(np.concatenate([[0], cuts, [work.size]]))
    return list(zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True))


def _same_bucket(
    tab: _Table, s: int, e: int, after: np.ndarray, r: int
) -> tuple[np.ndarray, np.ndarray]:
    pos = np.arange(s, e)
    a, b = _expand(pos, pos + 1, after[s:e])
    ok = _verify(tab.rows, a, tab.rows, b, r)
    return tab.order[a[ok]], tab.order[b[ok]]


def _probe_self(
    tab: _Table, qpos: np.ndarray, masks: np.ndarray, r: int
) -> tuple[np.ndarray, np.ndarray]:
    a, b = tab.probe(tab.keys[qpos], qpos, tab.rows[qpos, 0], masks, r)
    if tab.rows.shape[1] > 1:
        ok = _verify(tab.rows, a, tab.rows, b, r)
        a, b = a[ok], b[ok]
    return tab.order[a], tab.order[b]


def _variant_tasks(
    tab: _Table, codes: np.ndarray, kk: int, lo: int, hi: int, t: int, r: int
) -> list[Callable[[], Any]]:
    """Tasks joining every code against the non-identity variants in ``tab`` on one chunk."""
    qkeys = _chunk_key(codes, lo, hi)
    qorder = _argsort_keys(qkeys)  # probe in key order
    qkeys = qkeys[qorder]
    q0 = codes[qorder, 0]
    masks = np.concatenate([np.zeros(1, np.int32), *_flip_masks(hi - lo, t)])
    step = max(1, _CELLS // masks.size)
    return [
        lambda s=s: _probe_variants(
            tab, qkeys[s : s + step], qorder[s : s + step], q0[s : s + step], masks, codes, kk, r
        )
        for s in range(0, qkeys.size, step)
    ]


def _probe_variants(
    tab: _Table,
    qkeys: np.ndarray,
    qsrc: np.ndarray,
    q0: np.ndarray,
    masks: np.ndarray,
    codes: np.ndarray,
    kk: int,
    r: int,
) -> tuple[np.ndarray, np.ndarray]:
    a, b = tab.probe(qkeys, qsrc, q0, masks, r)
    if codes.shape[1] > 1:
        ok = _verify(codes, a, tab.rows, b, r)
        a, b = a[ok], b[ok]
    other = tab.order[b] // (kk - 1)
    keep = a != other  # an image's own rotation near its code is not a pair
    return a[keep], other[keep]


def mih_pairs(
    codes: np.ndarray,
    max_distance: int,
    *,
    variants: np.ndarray | None = None,
    should_stop: Callable[[], bool] | None = None,
    inverse: Sequence[int] | None = None,
    variant_max_distance: int | None = None,
) -> Result:
    """Multi-index hashing (see the module docstring); same contract as :func:`radius_pairs`.

    ``max_distance == 0`` takes the sorting path; a radius over half the used bits falls back
    to brute force (every chunk would need a huge flip ball).
    """
    codes, variants, inv = _prepare(codes, variants, inverse)
    n = codes.shape[0]
    r, rv = _radii(max_distance, variant_max_distance)
    if n < 2 or r < 0:
        return _empty()
    if r == 0:
        return _exact_pairs(codes, variants if rv == 0 else variants[:, :1], inv)
    bits = _used_bits(codes, variants)
    if 2 * r > bits:
        kw: dict[str, Any] = {"variants": variants, "inverse": inv, "variant_max_distance": rv}
        return brute_force_pairs(codes, r, should_stop=should_stop, **kw)
    kk = variants.shape[1] if rv >= 0 else 1
    parts: list[tuple[np.ndarray, np.ndarray]] = []
    # One chunk table alive at a time keeps peak memory to ~one table plus the task buffers.
    for lo, hi, t in _plan(bits, r, n, n, True)[0]:
        parts += _run(_symmetric_tasks(_Table(codes, lo, hi), t, r), should_stop)
    if kk > 1:
        flat = np.ascontiguousarray(variants[:, 1:]).reshape(-1, codes.shape[1])
        for lo, hi, t in _plan(bits, rv, n * (kk - 1), n, False)[0]:
            tab = _Table(flat, lo, hi)
            parts += _run(_variant_tasks(tab, codes, kk, lo, hi, t, rv), should_stop)
    a, b = _concat(parts)
    return _finish(codes, variants, inv, a, b)


# ---------------------------------------------------------------------------------------------
# entry point


def estimate_seconds(
    n: int, bits: int, max_distance: int, k: int = 1, variant_max_distance: int | None = None
) -> dict[str, float]:
    """Cost-model estimates (CPU seconds) of both methods: "auto" picks the smaller."""
    words = -(-bits // 64)
    r, rv = _radii(max_distance, variant_max_distance)
    k = k if rv >= 0 else 1
    brute = n * (n - 1) / 2 * words * (2 * k - 1) * _COST_BRUTE
    mih = float("inf")
    if r > 0 and 2 * r <= bits:
        mih = _COST_MIH_FIXED + _plan(bits, r, n, n, True)[1]
        if k > 1:
            mih += _plan(bits, rv, n * (k - 1), n, False)[1]
    return {"brute": brute, "mih": mih}


def radius_pairs(
    codes: np.ndarray,
    max_distance: int,
    *,
    variants: np.ndarray | None = None,
    should_stop: Callable[[], bool] | None = None,
    method: str = "auto",
    inverse: Sequence[int] | None = None,
    variant_max_distance: int | None = None,
) -> Result:
    """All pairs within ``max_distance`` bits -> (i int32, j int32, distance int16, variant int8).

    Pair (i, j), ``i < j``, each once, sorted by (i, j), is reported when
    ``min_k popcount(variants[a, k] ^ codes[b]) <= max_distance`` for (a, b) = (i, j) or (j, i).
    ``distance`` is that minimum; ``variant`` is oriented "variant k of j matches i" (a match
    found from i's side is reported as ``inverse[k]``; ``inverse`` defaults to
    :data:`DIHEDRAL_INVERSE` for K=8 in model.TRANSFORMS order); ties go to the smaller k.

    ``variant_max_distance`` (default ``max_distance``) is a stricter radius for the
    non-identity variants only: the plain comparison keeps ``max_distance``. It exists for
    speed at large N with variants (at 1M rows, K=8: radius 8 everywhere ~45 CPU-s, rotations
    within 5 ~14 CPU-s; see benchmarks/results/matching.md); results still follow the rule
    exactly, so brute force and MIH agree for any value.

    ``method``: "brute", "mih", or "auto", where a cost model fitted on the dev box picks
    (exact equality always sorts). Measured crossover for 64-bit codes: MIH is faster from
    ~3k rows at radius 2-8 (K=1) and ~1k rows with K=8; at radius 12 from ~5k; at radius 16
    (4 chunks of 16 bits) only from ~30k; over ~20 bits of 64 brute force always wins.
    Raises :class:`Cancelled` when ``should_stop()`` turns True (polled between tasks).
    """
    if method not in ("auto", "brute", "mih"):
        raise ValueError(f"unknown method {method!r}")
    kw: dict[str, Any] = {
        "variants": variants,
        "should_stop": should_stop,
        "inverse": inverse,
        "variant_max_distance": variant_max_distance,
    }
    if method == "brute":
        return brute_force_pairs(codes, max_distance, **kw)
    if method == "mih" or max_distance == 0:
        return mih_pairs(codes, max_distance, **kw)
    c, v, _ = _prepare(codes, variants, inverse)
    if c.shape[0] < 2:
        return _empty()
    bits = _used_bits(c, v)
    est = estimate_seconds(c.shape[0], bits, max_distance, v.shape[1], variant_max_distance)
    if est["mih"] < est["brute"]:
        return mih_pairs(codes, max_distance, **kw)
    return brute_force_pairs(codes, max_distance, **kw)
