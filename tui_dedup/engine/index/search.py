"""All pairs of hashes within a Hamming radius, in pure numpy, fast from ten to millions of rows.

Hashes arrive as ``codes``: a (n, words) uint64 array (bit order is the features module's;
unused high bits are zero). A pair ``(i, j)`` is reported when the smallest Hamming distance
between one image's code and any dihedral variant of the other's is ``<= max_distance``.

Three strategies, one answer:

* :func:`brute_force_pairs` XORs row blocks against long column blocks of the upper triangle
  and counts bits with ``np.bitwise_count`` (its CPU cost per pair: benchmarks/RESULTS.md,
  "Why the code is as it is"). It is the reference the others are tested against and the
  fastest path up to a few thousand rows at small radius (it never builds an n×n matrix:
  tiles of 256k cells).
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
:mod:`tui_dedup.engine.index.mih`.

Cancellation: ``should_stop()`` is polled between tasks on the calling thread; when it returns
True, :class:`Cancelled` is raised. Nothing partial is returned because an incomplete pair
list would group silently wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tui_dedup.engine.index.brute import _brute_candidates, brute_force_pairs
from tui_dedup.engine.index.hamming import (
    DIHEDRAL_INVERSE,
    Cancelled,
    Result,
    _concat,
    _empty,
    _finish,
    _prepare,
    _radii,
    _used_bits,
)
from tui_dedup.engine.index.mih import _plain_candidates, _variant_candidates, mih_pairs
from tui_dedup.engine.index.mih_plan import _COST_BRUTE, _COST_MIH_FIXED, _plan, _variant_plan

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
    """Cost-model estimates (CPU seconds) of the two halves of the search by each method.

    Keys: "brute"/"mih" for the plain codes-vs-codes part, "brute_variants"/"mih_variants"
    for the code-vs-non-identity-variant join (0 without variants). "auto" picks the cheaper
    method for each half independently.
    """
    words = -(-bits // 64)
    r, rv = _radii(max_distance, variant_max_distance)
    k = k if rv >= 0 else 1
    pairs = n * (n - 1) / 2 * words * _COST_BRUTE
    est = {"brute": pairs, "mih": float("inf"), "brute_variants": 0.0, "mih_variants": 0.0}
    if r > 0 and 2 * r <= bits:
        est["mih"] = _COST_MIH_FIXED + _plan(bits, r, n, n, True)[1]
    if k > 1:
        est["brute_variants"] = pairs * 2 * (k - 1)
        est["mih_variants"] = (
            _COST_MIH_FIXED + _variant_plan(bits, rv, n, k)[2]
            if rv > 0 and 2 * r <= bits
            else float("inf")
        )
    return est


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
    speed at large N with variants (at 1M rows with rotations, a smaller rotation radius saves
    most of the time: benchmarks/RESULTS.md, "matching" and "Why the code is as it is");
    results still follow the rule exactly, so brute force and MIH agree for any value.

    ``method``: "brute", "mih", or "auto", where a cost model fitted on the dev box picks per
    half of the search (exact equality always sorts): the plain part and the variant join are
    independent, so at 10k rows, radius 15 with rotations within 10, the plain part is brute
    force (MIH at radius 15 needs 4 chunks at 3 flips: more probes than pairs are worth) and
    the variants go through MIH (at radius 10, 3 chunks); from ~40k rows both halves use MIH.
    Where MIH overtakes brute force (64-bit codes, K=1) was measured per radius: later the
    larger the radius (benchmarks/RESULTS.md, "Why the code is as it is").
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
    c, v, inv = _prepare(codes, variants, inverse)
    if c.shape[0] < 2 or max_distance < 0:
        return _empty()
    bits = _used_bits(c, v)
    est = estimate_seconds(c.shape[0], bits, max_distance, v.shape[1], variant_max_distance)
    plain_mih = est["mih"] < est["brute"]
    var_mih = est["mih_variants"] < est["brute_variants"]
    if plain_mih and (var_mih or v.shape[1] == 1):
        return mih_pairs(codes, max_distance, **kw)
    if not plain_mih and not var_mih:
        return brute_force_pairs(codes, max_distance, **kw)
    # Hybrid: each half by its cheaper method, one exact evaluation of the union.
    r, rv = _radii(max_distance, variant_max_distance)
    if plain_mih:
        parts = _plain_candidates(c, bits, r, should_stop)
        parts.append(_brute_candidates(c, v, r, rv, should_stop, plain=False))
    else:
        parts = [_brute_candidates(c, v, r, -1, should_stop)]
        parts += _variant_candidates(c, v, bits, rv, should_stop)
    a, b = _concat(parts, np.int32)
    return _finish(c, v, inv, a, b)
