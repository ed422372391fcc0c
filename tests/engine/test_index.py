"""The radius index agrees with brute force, and brute force agrees with the definition."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui_dedup.engine.index.search import (
    DIHEDRAL_INVERSE,
    Cancelled,
    brute_force_pairs,
    mih_pairs,
    radius_pairs,
)


def random_codes(rng: np.random.Generator, n: int, bits: int) -> np.ndarray:
    """(n, words) uint64 with the bits above ``bits`` zero, like a 100-bit hash in 2 words."""
    words = -(-bits // 64)
    codes = rng.integers(0, 2**64, (n, words), dtype=np.uint64, endpoint=False)
    if bits % 64:
        codes[:, -1] &= np.uint64((1 << (bits % 64)) - 1)
    return codes


def flip_bits(rng: np.random.Generator, row: np.ndarray, bits: int, count: int) -> np.ndarray:
    row = row.copy()
    for b in rng.choice(bits, count, replace=False):
        row[b // 64] ^= np.uint64(1 << int(b % 64))
    return row


def clustered(
    rng: np.random.Generator, n: int, bits: int, k: int = 1
) -> tuple[np.ndarray, np.ndarray | None]:
    """Random codes where a third of the rows are near copies (0-8 flips) of other rows.

    With k > 1, variants are random except for planted "rotated copies": variant t of row a is
    set near row b's code, so some pairs are only found through a non-identity variant.
    """
    codes = random_codes(rng, n, bits)
    m = n // 3
    for src, dst in zip(rng.integers(0, n, m), rng.integers(0, n, m), strict=True):
        codes[dst] = flip_bits(rng, codes[src], bits, int(rng.integers(0, 9)))
    if k == 1:
        return codes, None
    variants = np.stack([codes] + [random_codes(rng, n, bits) for _ in range(k - 1)], axis=1)
    for a, b in zip(rng.integers(0, n, m // 2), rng.integers(0, n, m // 2), strict=True):
        t = int(rng.integers(1, k))
        variants[a, t] = flip_bits(rng, codes[b], bits, int(rng.integers(0, 9)))
    return codes, variants


def reference(
    codes: np.ndarray,
    r: int,
    variants: np.ndarray | None = None,
    inverse: tuple[int, ...] = DIHEDRAL_INVERSE,
) -> dict[tuple[int, int], tuple[int, int]]:
    """The definition, pair by pair in Python: {(i, j): (distance, variant)}."""
    var = codes[:, None, :] if variants is None else variants
    out = {}
    for i, j in itertools.combinations(range(codes.shape[0]), 2):
        options = []
        for k in range(var.shape[1]):
            d_ji = sum(int(x).bit_count() for x in var[j, k] ^ codes[i])
            d_ij = sum(int(x).bit_count() for x in var[i, k] ^ codes[j])
            options += [(d_ji, k), (d_ij, inverse[k] if var.shape[1] > 1 else 0)]
        best = min(options)
        if best[0] <= r:
            out[(i, j)] = best
    return out


def as_dict(result: tuple[np.ndarray, ...]) -> dict[tuple[int, int], tuple[int, int]]:
    i, j, d, k = result
    return {(int(a), int(b)): (int(c), int(e)) for a, b, c, e in zip(i, j, d, k, strict=True)}


def assert_same(got: tuple[np.ndarray, ...], want: tuple[np.ndarray, ...]) -> None:
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)
        assert g.dtype == w.dtype


def check_contract(result: tuple[np.ndarray, ...], n: int) -> None:
    i, j, d, k = result
    assert (i.dtype, j.dtype, d.dtype, k.dtype) == (np.int32, np.int32, np.int16, np.int8)
    assert np.all(i < j) and np.all(j < n) and np.all(i >= 0)
    key = i.astype(np.int64) * n + j
    assert np.all(np.diff(key) > 0), "sorted by (i, j), each pair once"


# --- brute force is the reference: check it against the definition itself -----------------


@pytest.mark.parametrize("bits", [64, 100])
@pytest.mark.parametrize("k", [1, 8])
def test_brute_force_matches_definition(bits: int, k: int) -> None:
    rng = np.random.default_rng(bits + k)
    codes, variants = clustered(rng, 60, bits, k)
    for r in (0, 3, 8, 30):
        got = brute_force_pairs(codes, r, variants=variants)
        check_contract(got, 60)
        assert as_dict(got) == reference(codes, r, variants)


def test_brute_force_tiles_cover_the_triangle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tiny tiles: several off-diagonal and partial tiles, still every pair exactly once."""
    import tui_dedup.engine.index.brute as brute

    monkeypatch.setattr(brute, "_TILE_CELLS", 64 * 64)
    monkeypatch.setattr(brute, "_MIN_COLS", 48)  # 48-column tiles: partial and diagonal
    monkeypatch.setattr(brute, "_TASK_CELLS", 64 * 64 * 4)  # several row blocks per task
    rng = np.random.default_rng(7)
    codes = random_codes(rng, 150, 16)  # 16 used bits: many pairs within 5
    got = brute_force_pairs(codes, 5)
    check_contract(got, 150)
    assert as_dict(got) == reference(codes, 5)


# --- MIH against brute force -------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("bits", [64, 100, 128])
def test_mih_equals_brute_force_clustered(seed: int, bits: int) -> None:
    rng = np.random.default_rng(seed)
    codes, _ = clustered(rng, 1500, bits)
    for r in range(13):
        want = brute_force_pairs(codes, r)
        got = mih_pairs(codes, r)
        check_contract(got, 1500)
        assert_same(got, want)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("bits", [64, 100])
def test_mih_equals_brute_force_with_variants(seed: int, bits: int) -> None:
    rng = np.random.default_rng(100 + seed)
    codes, variants = clustered(rng, 700, bits, k=8)
    for r in (0, 1, 2, 4, 6, 8, 10, 12):
        want = brute_force_pairs(codes, r, variants=variants)
        assert len(want[0]) > 0
        got = mih_pairs(codes, r, variants=variants)
        check_contract(got, 700)
        assert_same(got, want)


@pytest.mark.parametrize("seed", range(3))
def test_mih_equals_brute_force_uniform(seed: int) -> None:
    """Uniform 20-bit codes: dense neighbourhoods, big buckets, the overflow path."""
    rng = np.random.default_rng(200 + seed)
    codes = random_codes(rng, 3000, 20)
    for r in (0, 1, 2, 3, 5):
        assert_same(mih_pairs(codes, r), brute_force_pairs(codes, r))


def test_variant_radius_is_honoured_the_same_way() -> None:
    rng = np.random.default_rng(5)
    codes, variants = clustered(rng, 600, 64, k=8)
    for r, rv in [(8, 5), (8, 0), (8, -1), (4, 4), (0, 0)]:
        kw = {"variants": variants, "variant_max_distance": rv}
        want = brute_force_pairs(codes, r, **kw)
        assert_same(mih_pairs(codes, r, **kw), want)
    full = as_dict(brute_force_pairs(codes, 8, variants=variants))
    strict = as_dict(brute_force_pairs(codes, 8, variants=variants, variant_max_distance=3))
    plain = as_dict(brute_force_pairs(codes, 8))
    assert set(plain) <= set(strict) <= set(full)
    assert len(plain) < len(strict) < len(full)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(0, 300),
    bits=st.sampled_from([8, 12, 24, 64, 100]),
    r=st.integers(0, 12),
    k=st.sampled_from([1, 2, 8]),
)
def test_all_methods_agree(seed: int, n: int, bits: int, r: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    codes, variants = clustered(rng, n, bits, k) if n else (random_codes(rng, 0, bits), None)
    inverse = None if k != 2 else (0, 1)
    want = brute_force_pairs(codes, r, variants=variants, inverse=inverse)
    check_contract(want, n)
    for method in ("mih", "auto"):
        got = radius_pairs(codes, r, variants=variants, method=method, inverse=inverse)
        assert_same(got, want)


# --- semantics and edge cases -----------------------------------------------------------


def test_minimal_distance_and_variant_orientation() -> None:
    """k says which variant of j matches i; a match found from i's side is inverted."""
    base = np.array([[0b1111]], np.uint64)
    codes = np.array([[0], [0xFF00]], np.uint64)
    variants = np.zeros((2, 8, 1), np.uint64)
    variants[:, 0] = codes
    variants[:, 1:] = 0xFFFF_FFFF  # far from everything
    variants[0, 1] = 0xFF00 ^ 0b1  # rot90 of row 0 is 1 bit from row 1 ...
    variants[1, 3] = base  # ... and rot270 of row 1 is 4 bits from row 0
    for method in ("brute", "mih"):
        i, j, d, k = radius_pairs(codes, 8, variants=variants, method=method)
        # Found from i's side as variant 1 (rot90) -> reported as rot270 of j matching i.
        assert (i.tolist(), j.tolist(), d.tolist(), k.tolist()) == ([0], [1], [1], [3])
    variants[0, 1] = 0xFFFF_FFFF
    variants[1, 5] = 0  # mirror+rot90 of row 1 equals row 0 exactly: distance 0 beats 4
    for method in ("brute", "mih"):
        _, _, d, k = radius_pairs(codes, 8, variants=variants, method=method)
        assert (d.tolist(), k.tolist()) == ([0], [5])


def test_ties_go_to_the_smaller_variant() -> None:
    codes = np.array([[0], [0xF0]], np.uint64)
    variants = np.repeat(codes[:, None, :], 8, axis=1)  # every variant is the code itself
    for method in ("brute", "mih"):
        _, _, d, k = radius_pairs(codes, 4, variants=variants, method=method)
        assert (d.tolist(), k.tolist()) == ([4], [0])


def test_distance_is_inclusive() -> None:
    codes = np.array([[0], [0xFF], [0x1FF]], np.uint64)  # distances 8, 9, 1
    for method in ("brute", "mih", "auto"):
        assert as_dict(radius_pairs(codes, 8, method=method)) == {
            (0, 1): (8, 0),
            (1, 2): (1, 0),
        }


@pytest.mark.parametrize("method", ["brute", "mih", "auto"])
@pytest.mark.parametrize("n", [0, 1, 2])
def test_tiny_inputs(method: str, n: int) -> None:
    codes = np.zeros((n, 1), np.uint64)
    result = radius_pairs(codes, 3, method=method)
    check_contract(result, n)
    assert len(result[0]) == (1 if n == 2 else 0)
    variants = np.zeros((n, 8, 1), np.uint64)
    assert len(radius_pairs(codes, 0, variants=variants, method=method)[0]) == (n == 2)


def test_exact_duplicates_by_sorting() -> None:
    rng = np.random.default_rng(3)
    codes = random_codes(rng, 2000, 128)
    codes[1000:1500] = codes[:500]  # 500 exact copies
    codes[1500:1510] = codes[0]  # and a group of 12 equal rows
    got = radius_pairs(codes, 0)
    assert_same(got, brute_force_pairs(codes, 0))
    assert len(got[0]) == 499 + 12 * 11 // 2
    assert np.all(got[2] == 0)


def test_one_dimensional_codes_are_accepted() -> None:
    codes = np.array([5, 7, 1 << 63], np.uint64)
    assert as_dict(radius_pairs(codes, 1)) == {(0, 1): (1, 0)}


def test_radius_over_half_the_bits_falls_back_to_brute_force() -> None:
    rng = np.random.default_rng(9)
    codes = random_codes(rng, 200, 64)
    assert_same(mih_pairs(codes, 40), brute_force_pairs(codes, 40))
    assert len(mih_pairs(codes, 64)[0]) == 200 * 199 // 2


def test_bad_inputs_are_rejected() -> None:
    codes = np.zeros((4, 1), np.uint64)
    with pytest.raises(ValueError, match="variants"):
        radius_pairs(codes, 2, variants=np.ones((4, 8, 1), np.uint64))  # variant 0 != codes
    with pytest.raises(ValueError, match="inverse"):
        radius_pairs(codes, 2, variants=np.zeros((4, 3, 1), np.uint64))
    with pytest.raises(ValueError, match="method"):
        radius_pairs(codes, 2, method="fast")


@pytest.mark.parametrize("method", ["brute", "mih"])
def test_should_stop_raises_cancelled(method: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import tui_dedup.engine.index.brute as brute
    import tui_dedup.engine.index.hamming as hamming
    import tui_dedup.engine.index.mih as mih

    monkeypatch.setattr(brute, "_TILE_CELLS", 1 << 10)  # many small tasks
    monkeypatch.setattr(brute, "_TASK_CELLS", 1 << 14)
    monkeypatch.setattr(hamming, "_CELLS", 1 << 10)
    monkeypatch.setattr(mih, "_CELLS", 1 << 10)  # mih imports hamming's value by name
    rng = np.random.default_rng(1)
    codes, _ = clustered(rng, 3000, 64)
    calls = []

    def stop_on_third_poll() -> bool:
        calls.append(1)
        return len(calls) >= 3

    with pytest.raises(Cancelled):
        radius_pairs(codes, 6, method=method, should_stop=stop_on_third_poll)
    assert len(calls) == 3, "polled between tasks, and not again after stopping"
    # A should_stop that stays False changes nothing.
    assert_same(
        radius_pairs(codes, 6, method=method, should_stop=lambda: False),
        brute_force_pairs(codes, 6),
    )


def test_should_stop_before_any_work() -> None:
    codes = np.zeros((10, 1), np.uint64)
    with pytest.raises(Cancelled):
        radius_pairs(codes, 2, method="brute", should_stop=lambda: True)


def test_index_does_not_import_textual() -> None:
    import subprocess
    import sys

    code = "import sys, tui_dedup.engine.index.search; assert 'textual' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# --- hybrid search, bounded memory paths, constant bits -----------------------------------


@pytest.mark.parametrize("plain_mih", [True, False])
def test_hybrid_halves_agree_with_brute_force(
    plain_mih: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "auto" may search the plain part and the variant join by different methods."""
    import tui_dedup.engine.index.search as index

    def fake(*args: object, **kw: object) -> dict[str, float]:
        return {
            "brute": 2.0 if plain_mih else 1.0,
            "mih": 1.0 if plain_mih else 2.0,
            "brute_variants": 1.0 if plain_mih else 2.0,
            "mih_variants": 2.0 if plain_mih else 1.0,
        }

    monkeypatch.setattr(index, "estimate_seconds", fake)
    rng = np.random.default_rng(11)
    codes, variants = clustered(rng, 400, 64, 8)
    for r, rv in ((9, 6), (6, 6), (5, 0)):
        kw = {"variants": variants, "variant_max_distance": rv}
        assert_same(radius_pairs(codes, r, **kw), brute_force_pairs(codes, r, **kw))


def test_big_buckets_expand_in_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    """Overflow candidates of large buckets are verified in small slices: same pairs."""
    import tui_dedup.engine.index.mih as mih

    monkeypatch.setattr(mih, "_EXPAND", 7)
    rng = np.random.default_rng(5)
    base = random_codes(rng, 40, 64)
    # 1500 near copies of 40 seeds: buckets of ~40 entries on every chunk.
    codes = np.stack(
        [flip_bits(rng, base[i % 40], 64, int(rng.integers(0, 6))) for i in range(1500)]
    )
    for r in (3, 7):
        assert_same(mih_pairs(codes, r), brute_force_pairs(codes, r))


def test_constant_bits_are_not_chunked() -> None:
    """A bit set in every code and variant (pHash's top bit) is left out of the chunks."""
    from tui_dedup.engine.index.hamming import _used_bits

    rng = np.random.default_rng(3)
    codes, variants = clustered(rng, 500, 64, 8)
    codes |= np.uint64(1 << 63)
    variants |= np.uint64(1 << 63)
    assert _used_bits(codes, variants) == 63
    for r in (4, 10):
        kw = {"variants": variants, "variant_max_distance": r - 2}
        assert_same(mih_pairs(codes, r, **kw), brute_force_pairs(codes, r, **kw))


def test_csr_offsets_match_bincount() -> None:
    from tui_dedup.engine.index.mih import _offsets

    rng = np.random.default_rng(2)
    for size in (0, 1, 50, 3000):
        keys = np.sort(rng.integers(0, 1 << 10, size)).astype(np.int32)
        want = np.concatenate([[0], np.cumsum(np.bincount(keys, minlength=1 << 10))])
        np.testing.assert_array_equal(_offsets(keys, 1 << 10), want)


def test_chunk_tables_stay_within_the_memory_budget() -> None:
    """No chunk wider than the budget allows (a table costs ~13 B per bucket whatever its
    rows): at 100k codes 3 x 20 bits of 64 (four bits left out), not 21 + 21 + 22 (a 54 MB
    table); tables of many rows may widen with them."""
    from tui_dedup.engine.index.mih_plan import _TABLE_BUDGET, _budget_bits, _plan

    for n, bits in ((100_000, 20), (700_000, 20), (1_000_000, 21)):
        plan, _cost = _plan(64, 8, n, n, True)
        assert max(hi - lo for lo, hi, _t in plan) <= _budget_bits(n) == bits
        assert 13 << _budget_bits(n) <= max(_TABLE_BUDGET, 32 * n)
        # the generalised pigeonhole condition: thresholds + 1 sum to r + 1
        assert sum(t + 1 for _lo, _hi, t in plan) == 9
    assert _budget_bits(7_000_000) > 21


@pytest.mark.parametrize("seed", range(2))
def test_mih_with_a_left_out_bit_equals_brute_force(seed: int, monkeypatch) -> None:
    import tui_dedup.engine.index.mih_plan as mih_plan

    monkeypatch.setattr(mih_plan, "_budget_bits", lambda rows: 5)  # 64 bits -> 12 x 5, 4 left out
    rng = np.random.default_rng(300 + seed)
    codes, variants = clustered(rng, 600, 64, k=8)
    for r in (2, 6, 10):
        assert_same(
            mih_pairs(codes, r, variants=variants), brute_force_pairs(codes, r, variants=variants)
        )
