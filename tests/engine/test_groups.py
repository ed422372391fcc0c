"""Groups are stars around a keeper: near-duplicate similarity is not transitive."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tui_dedup.engine.matching.group import group_of, star_groups
from tui_dedup.engine.matching.match import match
from tui_dedup.engine.model import Pairs
from tui_dedup.engine.registry import resolve_threshold


def pairs_of(edges: list[tuple[int, int, float]]) -> Pairs:
    edges = sorted((min(a, b), max(a, b), s) for a, b, s in edges)
    m = len(edges)
    return Pairs(
        np.array([e[0] for e in edges], np.int32),
        np.array([e[1] for e in edges], np.int32),
        np.zeros(m, np.int16),
        np.array([e[2] for e in edges], np.float32),
        np.zeros(m, np.int8),
        np.zeros(m, bool),
    )


def check_groups(pairs: Pairs, n: int) -> None:
    """The invariants a user relies on when deleting 'the copies of the keeper'."""
    groups = star_groups(pairs, n)
    linked = set(zip(pairs.i.tolist(), pairs.j.tolist(), strict=True))
    seen: set[int] = set()
    for g in groups:
        assert g.members[0] == g.keeper
        assert len(g.members) >= 2
        assert len(set(g.members)) == len(g.members)
        for m in g.members[1:]:
            assert (min(g.keeper, m), max(g.keeper, m)) in linked, "member not paired with keeper"
        assert not seen & set(g.members), "a file in two groups"
        seen |= set(g.members)
    owner = group_of(groups, n)
    for k, g in enumerate(groups):
        assert all(owner[m] == k for m in g.members)
    assert int((owner >= 0).sum()) == len(seen)


def test_chain_is_never_one_component() -> None:
    """A~B, B~C, A≁C: A and C may share a group only as direct partners of its keeper (B)."""
    a, b, c = 0, 1, 2
    groups = star_groups(pairs_of([(a, b, 0.9), (b, c, 0.9)]), 3)
    assert len(groups) == 1
    assert groups[0].keeper == b
    assert sorted(groups[0].members) == [a, b, c]


def test_long_chain_splits_into_stars() -> None:
    # 0-1-2-3-4-5: connected components would lump all six together
    edges = [(k, k + 1, 0.9) for k in range(5)]
    p = pairs_of(edges)
    groups = star_groups(p, 6)
    check_groups(p, 6)
    assert len(groups) >= 2
    for g in groups:
        members = set(g.members)
        for x in members - {g.keeper}:
            for y in members - {g.keeper, x}:
                assert abs(x - y) <= 2  # only through the keeper, never further down the chain


def test_keeper_is_the_best_connected_file() -> None:
    # 0 has three partners; 4-5 is a separate pair
    p = pairs_of([(0, 1, 0.9), (0, 2, 0.95), (0, 3, 0.92), (1, 2, 0.99), (4, 5, 0.9)])
    groups = star_groups(p, 6)
    assert [g.keeper for g in groups] == [0, 4]
    assert groups[0].members == [0, 2, 3, 1]  # partners most similar first
    assert groups[1].members == [4, 5]


def test_no_pairs_no_groups() -> None:
    assert star_groups(Pairs.empty(), 5) == []
    assert np.all(group_of([], 5) == -1)


@settings(max_examples=150, deadline=None)
@given(st.integers(2, 30), st.data())
def test_group_invariants_on_random_graphs(n: int, data) -> None:
    iu, ju = np.triu_indices(n, 1)
    chosen = data.draw(st.lists(st.integers(0, iu.size - 1), unique=True, max_size=60))
    sims = data.draw(
        st.lists(st.floats(0.5, 1.0, width=32), min_size=len(chosen), max_size=len(chosen))
    )
    p = pairs_of([(int(iu[c]), int(ju[c]), s) for c, s in zip(chosen, sims, strict=True)])
    check_groups(p, n)
    # deterministic
    again = star_groups(p, n)
    assert [(g.keeper, g.members) for g in again] == [
        (g.keeper, g.members) for g in star_groups(p, n)
    ]


def test_groups_from_a_real_match_chain(make_store) -> None:
    """Hashes A, B, C with d(A,B)=d(B,C)=6 and d(A,C)=12 at threshold 8."""
    a = np.zeros(64, bool)
    b = a.copy()
    b[:6] = True
    c = b.copy()
    c[6:12] = True
    bits = np.stack([a, b, c])[:, None, :].repeat(8, axis=1)
    store = make_store(3, bits={"phash": bits})
    p = match(store, "phash", resolve_threshold("phash", max_distance=8))
    assert set(zip(p.i.tolist(), p.j.tolist(), strict=True)) == {(0, 1), (1, 2)}
    groups = star_groups(p, 3)
    assert [g.keeper for g in groups] == [1]
    check_groups(p, 3)
