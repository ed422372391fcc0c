"""Multi-index hashing (MIH): all pairs within a Hamming radius via chunk tables.

The used bits are cut into ``m`` chunks of about ``log2(n)`` bits. The generalised pigeonhole
principle (Qin et al., "GPH", ICDE 2018) says: if chunk thresholds ``t_c >= -1`` sum to
``r - m + 1``, any pair within ``r`` is within ``t_c`` on some chunk ``c`` (else the distance
would be ``>= sum(t_c + 1) = r + 1``). Every code is probed, per chunk, at every key within
``t_c`` bit flips in a direct-address table; candidates are verified with the exact popcount.
The chunk count and thresholds come from a small cost model (mih_plan.py), so
``r = 1`` probes one 21-bit chunk at radius 1 and ``r = 8`` at 1M rows probes three 21-bit
chunks at radius 2. The contract is :func:`tui_dedup.engine.index.search.radius_pairs`.

Why it is fast in numpy: codes are probed in the table's own key order, so ``key ^ flips``
walks the table nearly sequentially; a flip pattern ``e`` is only probed from the side whose
key has the highest bit of ``e`` clear, which finds each unordered pair once and halves the
work; the table keeps each bucket's first entries in flat "layers" so a probe is a 1-D gather
and a popcount, not an ``np.repeat`` (slow, and it holds the GIL); per-cell arrays are
reused per thread (fresh multi-MB arrays page-fault). Work is cut into tasks of ~2M cells on a
small thread pool (numpy's ufuncs and gathers release the GIL). One chunk table is alive at
a time, tables keep only word 0 per layer (positions come from the CSR offsets), and big
buckets are expanded in slices, so the search's own memory stays bounded even for real,
clustered pHashes (measured at 100k real pHashes and 1M random codes: benchmarks/RESULTS.md,
"Why the code is as it is").

Variants (rotations/mirrors): the distance is ``min over k`` in both directions, so the search
is the plain codes-vs-codes search plus a join of every code against a second table holding
all non-identity variants (``(K - 1) * n`` rows). That join has no symmetry to halve and 7x
the candidates per probe, which is why K=8 costs several times K=1 at radius 8
(benchmarks/RESULTS.md, "Why the code is as it is"); ``variant_max_distance`` trades recall
of rotated copies for speed (see :func:`radius_pairs`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np

from tui_dedup.engine.index.brute import brute_force_pairs
from tui_dedup.engine.index.hamming import (
    _CELLS,
    Result,
    _buffer,
    _concat,
    _empty,
    _exact_pairs,
    _expand,
    _finish,
    _popcount_rows,
    _prepare,
    _radii,
    _run,
    _used_bits,
)
from tui_dedup.engine.index.mih_plan import _plan, _variant_plan

__all__ = ["mih_pairs"]

_EXPAND = 1 << 18  # overflow candidates expanded at once per probe task (bounds memory)
# ---------------------------------------------------------------------------------------------
# multi-index hashing


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
    """Stable argsort of small non-negative int32 keys, faster than ``np.argsort``.

    (key << 32 | index) sorted as int64 takes numpy's SIMD sort and is stable by construction
    (measured: benchmarks/RESULTS.md, "Why the code is as it is").
    """
    packed = (keys.astype(np.int64) << 32) | np.arange(keys.size, dtype=np.int64)
    packed.sort()
    return (packed & 0xFFFFFFFF).astype(np.int32)


def _offsets(keys: np.ndarray, buckets: int) -> np.ndarray:
    """CSR offsets (int32, buckets + 1) of sorted keys, without bincount's int64 array.

    At 22-24 bits that array alone is 32-128 MB of transient peak memory.
    """
    offs = np.zeros(buckets + 1, np.int32)
    if keys.size:
        ends = np.flatnonzero(keys[1:] != keys[:-1]).astype(np.int32)
        last = keys[ends]
        offs[last + 1] = ends + 1
        offs[int(keys[-1]) + 1] = keys.size
        np.maximum.accumulate(offs, out=offs)
    return offs


class _Table:
    """One chunk's index over ``rows``: CSR plus direct-address "layers" for fast probing.

    Entries are sorted by chunk key; ``offs[key]:offs[key+1]`` are a bucket's positions. Layer
    ``L`` holds, per key, word 0 of the bucket's L-th entry (0 if none), so
    a probe is one 1-D gather + XOR + popcount per layer, with no ``np.repeat`` (which is slow
    and holds the GIL). Entries past the last layer are reached through ``offs``, flagged per
    bucket in a byte table. The layer count minimises a per-probe cost over the bucket sizes.
    """

    def __init__(self, rows: np.ndarray, lo: int, hi: int) -> None:
        keys = _chunk_key(rows, lo, hi)
        self.order = _argsort_keys(keys)
        self.keys = keys[self.order]
        self.rows = rows[self.order]
        self.offs = _offsets(self.keys, 1 << (hi - lo))
        counts = np.diff(self.offs)
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
        # Per layer only word 0 of the entry: its position is offs[key] + layer, looked up for
        # the rare hits (no per-bucket position arrays: 16 MB each at 22 bits).
        self.codes0: list[np.ndarray] = []
        for layer in range(self.layers):
            sel = np.flatnonzero(rank == layer)
            c0 = np.zeros(counts.size, np.uint64)
            c0[self.keys[sel]] = self.rows[sel, 0]
            self.codes0.append(c0)
        self.overflow = (
            (counts > self.layers).view(np.uint8) if pmf.size > self.layers + 1 else None
        )

    def probe(
        self, qkeys: np.ndarray, qsrc: np.ndarray, q0: np.ndarray, masks: np.ndarray, r: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """(qsrc, table position) of entries keyed qkey ^ mask whose word 0 is within r.

        Cells are mask-major over queries sorted by key, so the gathers walk nearly in order.
        Hits are rare: the layers' tests are ORed and the hit cells found with one
        ``flatnonzero``, then re-tested per layer on those few cells.
        """
        nq = qkeys.size
        cells = masks.size * nq
        probe = _buffer("keys", _CELLS, np.int32)[:cells]
        np.bitwise_xor(masks[:, None], qkeys[None, :], out=probe.reshape(-1, nq))
        gathered = _buffer("words", _CELLS, np.uint64)[:cells]
        counts = _buffer("counts", _CELLS, np.uint8)[:cells]
        near = _buffer("near", _CELLS, np.bool_)[:cells]
        near2 = _buffer("near2", _CELLS, np.bool_)[:cells] if self.layers > 1 else near
        src_parts, pos_parts = [qsrc[:0]], [self.order[:0]]
        for layer, c0 in enumerate(self.codes0):
            np.take(c0, probe, out=gathered, mode="wrap")  # keys are in range: skip the check
            np.bitwise_xor(gathered.reshape(-1, nq), q0, out=gathered.reshape(-1, nq))
            np.bitwise_count(gathered, out=counts)
            np.less_equal(counts, r, out=near if layer == 0 else near2)
            if layer:
                np.logical_or(near, near2, out=near)
        hit = np.flatnonzero(near).astype(np.int32)
        if hit.size:
            keys = probe[hit]
            qi = hit % nq
            start = self.offs[keys]
            size = self.offs[keys + 1] - start
            for layer in range(self.layers):
                ok = size > layer
                ok[ok] = np.bitwise_count(self.codes0[layer][keys[ok]] ^ q0[qi[ok]]) <= r
                src_parts.append(qsrc[qi[ok]])
                pos_parts.append(start[ok] + layer)
        if self.overflow is not None:
            np.take(self.overflow, probe, out=counts, mode="wrap")
            hit = np.flatnonzero(counts).astype(np.int32)
            keys = probe[hit]
            start = self.offs[keys] + self.layers
            size = self.offs[keys + 1] - start
            # Big buckets (clustered real hashes) expand to many candidates: in slices of about
            # _EXPAND entries, so the int arrays of one probe task stay a few MB.
            for s, e in _spans(size, _EXPAND):
                h, tp = _expand(hit[s:e], start[s:e], size[s:e])
                qi = h % nq
                ok = np.bitwise_count(self.rows[tp, 0] ^ q0[qi]) <= r
                src_parts.append(qsrc[qi[ok]])
                pos_parts.append(tp[ok])
        return np.concatenate(src_parts), np.concatenate(pos_parts)


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
        tasks.append(partial(_same_bucket, tab, s, e, after, r))
    for hb, masks in enumerate(_flip_masks(tab.offs.size.bit_length() - 1, t)):
        if masks.size:
            # Probe pattern e only from keys with its highest bit clear: finds each pair once.
            qpos = np.flatnonzero((tab.keys >> hb) & 1 == 0).astype(np.int32)
            step = max(1, _CELLS // masks.size)
            for s in range(0, qpos.size, step):
                tasks.append(partial(_probe_self, tab, qpos[s : s + step], masks, r))
    return tasks


def _spans(work: np.ndarray, unit: int = _CELLS) -> list[tuple[int, int]]:
    """Split positions into runs of about ``unit`` units of work each."""
    csum = np.cumsum(work, dtype=np.int64)
    if csum.size == 0 or csum[-1] == 0:
        return []
    cuts = np.searchsorted(csum, np.arange(unit, int(csum[-1]), unit), side="right")
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


def _join_tasks(
    tab: _Table, queries: np.ndarray, lo: int, hi: int, t: int, r: int, image: Any
) -> list[Callable[[], Any]]:
    """Tasks joining every row of ``queries`` against ``tab`` on one chunk (no symmetry).

    ``image(q, p)`` maps (query rows, table rows) to (image, image) pairs, dropping an image
    paired with itself (its own rotation near its code is not a pair).
    """
    qkeys = _chunk_key(queries, lo, hi)
    qorder = _argsort_keys(qkeys)  # probe in key order
    qkeys = qkeys[qorder]
    q0 = queries[qorder, 0]
    masks = np.concatenate([np.zeros(1, np.int32), *_flip_masks(hi - lo, t)])
    step = max(1, _CELLS // masks.size)

    def task(s: int) -> tuple[np.ndarray, np.ndarray]:
        sl = slice(s, s + step)
        a, b = tab.probe(qkeys[sl], qorder[sl], q0[sl], masks, r)
        if queries.shape[1] > 1:
            ok = _verify(queries, a, tab.rows, b, r)
            a, b = a[ok], b[ok]
        return image(a, tab.order[b])

    return [partial(task, s) for s in range(0, qkeys.size, step)]


def _plain_candidates(
    codes: np.ndarray, bits: int, r: int, should_stop: Callable[[], bool] | None
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Codes-vs-codes pairs within ``r`` (verified; a pair may come from several chunks)."""
    parts: list[tuple[np.ndarray, np.ndarray]] = []
    # One chunk table alive at a time keeps peak memory to ~one table plus the task buffers.
    for lo, hi, t in _plan(bits, r, codes.shape[0], codes.shape[0], True)[0]:
        tab = _Table(codes, lo, hi)
        parts += _run(_symmetric_tasks(tab, t, r), should_stop)
        del tab
    return parts


def _variant_candidates(
    codes: np.ndarray,
    variants: np.ndarray,
    bits: int,
    rv: int,
    should_stop: Callable[[], bool] | None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Pairs (a, b) where a non-identity variant of b is within ``rv`` of a's code."""
    n, kk = variants.shape[:2]
    flat = np.ascontiguousarray(variants[:, 1:]).reshape(-1, codes.shape[1])
    codes_table, plan, _ = _variant_plan(bits, rv, n, kk)

    def image(q: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if codes_table:
            q = q // (kk - 1)
        else:
            p = p // (kk - 1)
        keep = q != p
        return q[keep].astype(np.int32), p[keep].astype(np.int32)

    parts: list[tuple[np.ndarray, np.ndarray]] = []
    table, queries = (codes, flat) if codes_table else (flat, codes)
    for lo, hi, t in plan:
        tab = _Table(table, lo, hi)
        parts += _run(_join_tasks(tab, queries, lo, hi, t, rv, image), should_stop)
        del tab
    return parts


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
    parts = _plain_candidates(codes, bits, r, should_stop)
    if rv >= 0 and variants.shape[1] > 1:
        parts += _variant_candidates(codes, variants, bits, rv, should_stop)
    a, b = _concat(parts, np.int32)
    return _finish(codes, variants, inv, a, b)
