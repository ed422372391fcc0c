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

How the multi-index search stays fast in numpy, and what rotations cost: see
:mod:`tui_dedup.engine.mih`.

Cancellation: ``should_stop()`` is polled between tasks on the calling thread; when it returns
True, :class:`Cancelled` is raised. Nothing partial is returned because an incomplete pair
list would group silently wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tui_dedup.engine.hamming import (
    DIHEDRAL_INVERSE,
    Cancelled,
    Result,
    _empty,
    _prepare,
    _radii,
    _used_bits,
    brute_force_pairs,
)
from tui_dedup.engine.mih import _COST_BRUTE, _COST_MIH_FIXED, _plan, mih_pairs

__all__ = [
    "DIHEDRAL_INVERSE",
    "Cancelled",
    "brute_force_pairs",
    "mih_pairs",
    "radius_pairs",
]


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
