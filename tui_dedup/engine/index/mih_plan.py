"""How multi-index hashing cuts the bits: chunk widths and thresholds from a cost model.

Why a model: the cheapest plan depends on the row count (table size vs probes per query), on
the radius (how the GPH thresholds are spread) and on which side of the code-variant join
holds the table, and a wrong choice costs several times the time or the memory. The model
counts probes, expected candidates, table entries and buckets, each weighted by a cost fitted
to measurements; the search itself (engine/index/mih.py) only carries a plan out. The index's
"auto" mode compares the same estimates with brute force (engine/index/search.py).
"""

from __future__ import annotations

from math import comb

_MAX_CHUNK_BITS = 24  # direct-address table of 2**24 int32 offsets = 64 MB
_TABLE_BUDGET = 16 << 20  # bytes per chunk table, at least (see _budget_bits)

# Cost model in CPU seconds, fitted to measurements on the 2-core dev box (numpy 2.4, AVX2).
# Only "auto" uses the absolute values (MIH vs brute force); plans depend on the ratios.
_COST_PROBE = 8e-9  # one probe cell: flip, gather, XOR, popcount, compare (plus layers)
_COST_CANDIDATE = 11e-9  # per table entry expected in a probed bucket
_COST_ENTRY = 150e-9  # per entry: chunk key, sort, reorder, layers
_COST_BUCKET = 3e-9  # per bucket of a direct-address table: offsets, layers
_COST_MIH_FIXED = 5e-3  # Python set-up: flip masks, task lists, thread pool
_COST_BRUTE = 1.0e-9  # per pair, word and direction of the brute-force tiles (hits included)

Plan = list[tuple[int, int, int]]  # (lo bit, hi bit, threshold) per probed chunk


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
        # Chunks wider than the memory budget allows leave bits out (chunk threshold -1: the
        # GPH sum still holds), e.g. 3 x 21 of 64 bits instead of 21 + 21 + 22.
        covered = min(bits, m * _budget_bits(table))
        edges = [covered * c // m for c in range(m + 1)]
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


def _budget_bits(rows: int) -> int:
    """Widest chunk whose table fits ``_TABLE_BUDGET`` (more for tables of many rows).

    A table costs ~13 B per bucket (offsets, one layer of word 0, overflow flags) whatever
    its row count: at 22 bits that is 54 MB, a large share of a 100k-file scan's peak, for
    only slightly fewer candidates than at 21 bits. At 100k files (100k codes, 700k rotated
    variants) 20-bit tables instead of 21 lower the scan's peak for a little more matching
    time (benchmarks/RESULTS.md, "Why the code is as it is"); from 500k rows on, the 32 B per
    row allowance decides.
    """
    budget = max(_TABLE_BUDGET, 32 * rows)
    return max(8, min(_MAX_CHUNK_BITS, (budget // 13).bit_length() - 1))


def _variant_plan(bits: int, rv: int, n: int, kk: int) -> tuple[bool, Plan, float]:
    """(table holds the codes?, plan, cost): the cheaper side of the code-variant join.

    The (K - 1) * n variants as the table allow longer chunks (fewer probes) but the tables
    are large and probed at random (cache misses); the n codes as the table keep them small
    and cache-resident for K - 1 times the probes. The cost model weighs both.
    """
    plan_v, cost_v = _plan(bits, rv, n * (kk - 1), n, False)
    plan_c, cost_c = _plan(bits, rv, n, n * (kk - 1), False)
    if cost_c < cost_v:
        return True, plan_c, cost_c
    return False, plan_v, cost_v
