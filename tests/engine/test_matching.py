"""match() against a brute-force reference computed here in plain numpy over all pairs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui_dedup.engine.features.hashes import VARIANTS, dihedral
from tui_dedup.engine.matching.match import match
from tui_dedup.engine.matching.pairs import MatchOptions, cap_partners, pair_scores
from tui_dedup.engine.model import TRANSFORMS, Pairs
from tui_dedup.engine.registry import HASH_METHODS, Threshold, resolve_threshold


def _inverse_transforms() -> list[int]:
    """Derived from the pixels, not copied from the engine: k' undoes k."""
    square = np.arange(16).reshape(4, 4)
    out = []
    for k in range(VARIANTS):
        turned = dihedral(square)[k]
        out.append(next(q for q in range(VARIANTS) if np.array_equal(dihedral(turned)[q], square)))
    return out


INVERSE = _inverse_transforms()


def clustered_bits(rng: np.random.Generator, n: int, nbits: int, rotated_every: int = 7):
    """Codes in clusters (near copies), plus some rows whose rotated variant is near another
    row's code (a rotated copy). Returns (n, VARIANTS, nbits) bool."""
    bits = rng.random((n, VARIANTS, nbits)) < 0.5
    centres = rng.random((max(2, n // 5), nbits)) < 0.5
    for r in range(n):
        c = centres[rng.integers(len(centres))].copy()
        flip = rng.choice(nbits, int(rng.integers(0, 8)), replace=False)
        c[flip] ^= True
        bits[r, 0] = c
    for r in range(rotated_every, n, rotated_every):
        src = int(rng.integers(n))
        k = int(rng.integers(1, VARIANTS))
        v = bits[src, 0].copy()
        v[rng.choice(nbits, int(rng.integers(0, 5)), replace=False)] ^= True
        bits[r, k] = v
    return bits


def reference_hash_pairs(
    bits: np.ndarray, radius: int, rotations: bool, usable: np.ndarray, digests: list
) -> dict[tuple[int, int], tuple[int, float, int, bool]]:
    """(i, j) → (distance, similarity, transform, exact), straight from the definitions."""
    n, k, nbits = bits.shape
    if not rotations:
        bits = bits[:, :1]
        k = 1
    codes = bits[:, 0]
    # d_ji[i, j, q]: variant q of j against i's code; d_ij[i, j, q]: variant q of i against j
    d_ji = (bits[None, :, :, :] != codes[:, None, None, :]).sum(-1)
    d_ij = d_ji.transpose(1, 0, 2)
    labels = np.array(list(range(k)) + [INVERSE[q] for q in range(k)])
    score = np.concatenate([d_ji, d_ij], axis=2) * 256 + labels  # ties: smaller label
    best = score.min(axis=2)
    dist, label = best // 256, best % 256
    out = {}
    for i, j in zip(*np.triu_indices(n, 1), strict=True):
        if usable[i] and usable[j] and dist[i, j] <= radius:
            d, t = int(dist[i, j]), int(label[i, j])
            if t != 0 and d > (2 * radius) // 3:
                # a rotation-only match must be closer (8 orientations = 8 chances); the
                # pair survives only if the images match as they are
                d, t = int((codes[i] != codes[j]).sum()), 0
                if d > radius:
                    continue
            out[(int(i), int(j))] = (d, 1 - d / nbits, t, False)
    for i in range(n):
        for j in range(i + 1, n):
            if digests[i] is not None and digests[i] == digests[j]:
                out[(i, j)] = (0, 1.0, 0, True)
    return out


def as_dict(p: Pairs) -> dict[tuple[int, int], tuple[int, float, int, bool]]:
    keys = list(zip(p.i.tolist(), p.j.tolist(), strict=True))
    assert len(set(keys)) == len(keys), "a pair is listed twice"
    return {
        key: (int(d), float(s), int(t), bool(e))
        for key, d, s, t, e in zip(
            keys, p.distance, p.similarity, p.transform, p.exact, strict=True
        )
    }


def assert_canonical(p: Pairs) -> None:
    assert p.i.dtype == np.int32 and p.j.dtype == np.int32
    assert np.all(p.i < p.j)
    keys = p.i.astype(np.int64) * (1 << 32) + p.j
    assert np.unique(keys).size == len(p)
    assert np.all((p.similarity >= 0) & (p.similarity <= 1))


@pytest.mark.parametrize("hash_size", [8, 10])
@pytest.mark.parametrize("rotations", [True, False])
@pytest.mark.parametrize("radius", [0, 6, 12])
def test_hash_match_equals_brute_force(make_store, hash_size, rotations, radius) -> None:
    rng = np.random.default_rng(hash_size * 100 + radius + rotations)
    n = 160
    nbits = hash_size * hash_size
    bits = clustered_bits(rng, n, nbits)
    detail = np.full(n, 40.0)
    detail[::23] = 0.5  # flat frames: hashes are noise, never matched by features
    digests: list[bytes | None] = [None] * n
    for r in (3, 4, 90):
        digests[r] = b"A" * 16
    digests[23] = digests[46] = b"B" * 16  # two flat frames, byte-identical: still exact
    digests[50] = b"C" * 16  # a digest nobody shares
    store = make_store(n, hash_size, bits={"phash": bits}, detail=detail, digests=digests)

    usable = detail >= 3.0
    want = reference_hash_pairs(bits, radius, rotations, usable, digests)
    got = match(
        store,
        "phash",
        Threshold(1 - radius / nbits, radius),
        MatchOptions(rotations=rotations, max_partners=10_000),
    )
    assert_canonical(got)
    g = as_dict(got)
    assert g.keys() == want.keys()
    for key, (d, s, t, e) in want.items():
        gd, gs, gt, ge = g[key]
        assert (gd, gt, ge) == (d, t, e), key
        assert gs == pytest.approx(s, abs=1e-6)
    assert any(not e for *_, e in want.values()) or radius == 0
    assert want[(3, 4)][3] and want[(23, 46)][3]


def test_low_detail_rows_match_when_asked(make_store) -> None:
    rng = np.random.default_rng(1)
    bits = clustered_bits(rng, 60, 64)
    detail = np.where(np.arange(60) % 2 == 0, 0.5, 40.0)
    store = make_store(60, bits={"phash": bits}, detail=detail)
    t = resolve_threshold("phash", max_distance=10)
    default = as_dict(match(store, "phash", t))
    asked = as_dict(match(store, "phash", t, MatchOptions(include_low_detail=True)))
    want = reference_hash_pairs(bits, 10, True, np.ones(60, bool), [None] * 60)
    assert asked.keys() == want.keys()
    assert all(detail[i] >= 3 and detail[j] >= 3 for i, j in default)
    assert set(default) < set(asked)


def test_threshold_is_inclusive(make_store) -> None:
    """0.875 on 64 bits keeps a pair at exactly 8 bits and drops one at 9."""
    base = np.zeros(64, bool)
    at8, at9 = base.copy(), base.copy()
    at8[:8] = True
    at9[20:29] = True
    bits = np.zeros((3, VARIANTS, 64), bool)
    bits[:, :] = np.stack([base, at8, at9])[:, None, :]
    bits[2, :, 60:] ^= True  # keep 1↔2 far apart, 0↔2 stays 9 + 4 = 13 away
    bits[2, 0, :] = at9
    bits[:, 1:] = np.random.default_rng(0).random((3, VARIANTS - 1, 64)) < 0.5
    store = make_store(3, bits={"phash": bits})
    got = as_dict(match(store, "phash", resolve_threshold("phash", threshold=0.875)))
    assert (0, 1) in got and got[(0, 1)][0] == 8 and got[(0, 1)][1] == 0.875
    assert (0, 2) not in got


def test_fewer_than_two_files(make_store) -> None:
    t = resolve_threshold("phash")
    assert len(match(make_store(0), "phash", t)) == 0
    assert len(match(make_store(1), "phash", t)) == 0
    assert len(match(make_store(1), "hist3", resolve_threshold("hist3"))) == 0


# --- histograms ---------------------------------------------------------------------------


def _near_copies(rng: np.random.Generator, h: np.ndarray, every: int) -> np.ndarray:
    h = h.copy()
    for r in range(every, len(h), every):
        src = int(rng.integers(len(h)))
        v = h[src] ** 2 * (1 + 0.1 * rng.random(h.shape[1]))
        h[r] = np.sqrt(v / v.sum() * (h[src] ** 2).sum())
    return h.astype(np.float32)


@pytest.mark.parametrize("method", ["hist3", "hist1"])
def test_hist_match_equals_dot_product_reference(make_store, method) -> None:
    rng = np.random.default_rng(7)
    n = 150
    store = make_store(n, seed=3)
    col = store.hist3 if method == "hist3" else store.hist1
    col[:] = _near_copies(rng, col, 4)
    col[20] = col[10]  # identical histograms: similarity exactly 1, never above
    store.detail[::31] = 0.5
    usable = store.detail >= 3.0

    sims = col.astype(np.float64) @ col.astype(np.float64).T
    upper = sims[np.triu_indices(n, 1)]
    s = 0.97
    while np.any(np.abs(upper - s) < 1e-4):  # keep float rounding away from the boundary
        s -= 3e-4
    want = {
        (i, j): min(1.0, sims[i, j])
        for i in range(n)
        for j in range(i + 1, n)
        if usable[i] and usable[j] and sims[i, j] >= s
    }
    got = match(store, method, Threshold(s, None), MatchOptions(max_partners=10_000))
    assert_canonical(got)
    g = as_dict(got)
    assert g.keys() == want.keys()
    assert len(want) > 10
    for key, sim in want.items():
        assert g[key][1] == pytest.approx(sim, abs=1e-5)
        assert g[key][0] == -1 and g[key][2] == 0
    assert g[(10, 20)][1] <= 1.0


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from(["hist3", "hist1"]))
def test_hist_similarity_in_unit_interval(make_store, seed, method) -> None:
    store = make_store(30, seed=seed)
    store.hist3[5] = store.hist3[6]
    store.hist1[5] = store.hist1[6]
    p = match(store, method, Threshold(0.0, None), MatchOptions(max_partners=10_000))
    assert len(p) == 30 * 29 // 2
    assert np.all((p.similarity >= 0) & (p.similarity <= 1))
    for scores in pair_scores(store, p).values():
        assert np.all((scores >= 0) & (scores <= 1))


# --- exact pairs, partner cap, second opinions ---------------------------------------------


def test_exact_pairs_replace_feature_pairs(make_store) -> None:
    bits = np.zeros((4, VARIANTS, 64), bool)
    bits[1, 0, :3] = True  # 0~1 by features at distance 3; also byte-identical
    bits[2:, :, 32:] = True
    bits[3, :, 32:35] = False  # 2~3 by features only, 3 bits apart in every variant
    store = make_store(4, bits={"phash": bits}, digests=[b"x" * 16, b"x" * 16, None, None])
    got = as_dict(match(store, "phash", resolve_threshold("phash", max_distance=5)))
    assert got[(0, 1)] == (0, 1.0, 0, True)
    assert got[(2, 3)][3] is False and got[(2, 3)][0] == 3
    assert len(got) == 2


def _pairs(i, j, sim, exact=None) -> Pairs:
    m = len(i)
    return Pairs(
        np.asarray(i, np.int32),
        np.asarray(j, np.int32),
        np.zeros(m, np.int16),
        np.asarray(sim, np.float32),
        np.zeros(m, np.int8),
        np.zeros(m, bool) if exact is None else np.asarray(exact, bool),
    )


def test_cap_partners_keeps_the_best() -> None:
    # file 0 is a hub with six partners; the exact one ranks first whatever its score
    p = _pairs(
        [0, 0, 0, 0, 0, 0],
        [1, 2, 3, 4, 5, 6],
        [0.90, 0.99, 0.95, 0.80, 0.97, 1.0],
        [False, False, False, False, False, True],
    )
    kept = as_dict(cap_partners(p, 3))
    assert set(kept) == {(0, 6), (0, 2), (0, 5)}
    assert as_dict(cap_partners(p, 10)) == as_dict(p)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 5))
def test_cap_partners_reference(seed, cap) -> None:
    rng = np.random.default_rng(seed)
    n = 15
    iu, ju = np.triu_indices(n, 1)
    pick = rng.random(iu.size) < 0.4
    i, j = iu[pick], ju[pick]
    sim = rng.permutation(i.size) / max(1, i.size) * 0.5 + 0.5  # distinct scores
    exact = rng.random(i.size) < 0.1
    p = _pairs(i, j, sim, exact)
    # a pair survives when it is among the `cap` best of both of its files
    rank_key = {k: (not exact[k], -sim[k]) for k in range(i.size)}
    keep = set()
    for k in range(i.size):
        ok = True
        for f in (i[k], j[k]):
            mine = [q for q in range(i.size) if f in (i[q], j[q])]
            ok &= sorted(mine, key=rank_key.get).index(k) < cap
        if ok:
            keep.add((int(i[k]), int(j[k])))
    got = cap_partners(p, cap)
    assert set(as_dict(got)) == keep
    counts = np.bincount(np.concatenate([got.i, got.j]), minlength=n)
    assert counts.max(initial=0) <= cap


def test_match_applies_the_partner_cap(make_store) -> None:
    bits = np.zeros((12, VARIANTS, 64), bool)  # all identical codes: 66 pairs
    store = make_store(12, bits={"phash": bits})
    p = match(store, "phash", resolve_threshold("phash"), MatchOptions(max_partners=3))
    counts = np.bincount(np.concatenate([p.i, p.j]), minlength=12)
    assert counts.max() <= 3
    assert len(p) > 0


@pytest.mark.parametrize("method", HASH_METHODS)
def test_pair_scores_agree_with_the_primary_match(make_store, method) -> None:
    rng = np.random.default_rng(11)
    bits = clustered_bits(rng, 120, 64, rotated_every=3)
    store = make_store(120, bits={method: bits})
    p = match(store, method, resolve_threshold(method, max_distance=12))
    p = p.take(np.flatnonzero(~p.exact))
    assert len(p) > 20 and np.any(p.transform != 0)
    scores = pair_scores(store, p)
    assert np.allclose(scores[method], p.similarity)
    assert set(scores) >= {"phash", "dhash", "ahash", "hist3", "hist1"}
    assert all(v.shape == (len(p),) for v in scores.values())


def test_transform_names() -> None:
    assert TRANSFORMS[0] is None
    assert len(TRANSFORMS) == VARIANTS
    assert INVERSE == [0, 3, 2, 1, 4, 5, 6, 7]


def test_many_identical_files_are_listed_as_a_star_and_never_capped(make_store) -> None:
    """1,000 byte-identical files (a backup copied in many times) must not become half a
    million pairs, and none of them may be dropped by the per-file partner cap."""
    n = 1000
    store = make_store(n, digests=[b"S" * 16] * n)
    got = match(store, "phash", Threshold(1.0, 0), MatchOptions(max_partners=50))
    exact = got.take(np.flatnonzero(got.exact))
    assert len(exact) == n - 1
    assert set(exact.j.tolist()) == set(range(1, n))
    assert set(exact.i.tolist()) == {0}
