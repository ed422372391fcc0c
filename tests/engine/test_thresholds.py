"""Thresholds mean one thing everywhere: presets, similarities and bit distances agree."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui_dedup.engine.registry import (
    DEFAULT_METHOD,
    HASH_METHODS,
    HIST_METHODS,
    METHODS,
    PRESETS,
    Method,
    resolve_threshold,
)


@pytest.mark.parametrize("method", HASH_METHODS)
@pytest.mark.parametrize("hash_size", [8, 10, 16])
@pytest.mark.parametrize("preset", PRESETS)
def test_hash_presets(method: str, hash_size: int, preset: str) -> None:
    """Presets are 64-bit distances (tuned on the accuracy benchmark, so not pinned here),
    scaled to other sizes and floored: the similarity never gets looser than stated."""
    bits = hash_size * hash_size
    base = METHODS[method].presets[preset]
    t = resolve_threshold(method, hash_size, threshold=preset)
    assert t.max_distance == math.floor(base * bits / 64 + 1e-9)
    assert t.similarity == pytest.approx(1 - t.max_distance / bits)
    assert t.similarity >= 1 - base / 64 - 1e-9


def test_preset_scaling_golden() -> None:
    m = Method("x", "hash", "x", "x", {"strict": 4, "balanced": 10, "loose": 15})
    assert [m.preset_distance(p, 8) for p in PRESETS] == [4, 10, 15]
    assert [m.preset_distance(p, 10) for p in PRESETS] == [6, 15, 23]  # 100 bits
    assert [m.preset_distance(p, 16) for p in PRESETS] == [16, 40, 60]  # 256 bits
    assert m.preset_similarity("balanced", 10) == pytest.approx(0.85)


@pytest.mark.parametrize("method", HIST_METHODS)
def test_histogram_presets_are_similarities(method: str) -> None:
    sims = [resolve_threshold(method, threshold=p).similarity for p in PRESETS]
    assert all(resolve_threshold(method, threshold=p).max_distance is None for p in PRESETS)
    assert sims == sorted(sims, reverse=True)  # strict ≥ balanced ≥ loose
    assert all(0 < s <= 1 for s in sims)


@pytest.mark.parametrize("method", HASH_METHODS)
def test_presets_get_looser(method: str) -> None:
    d = [resolve_threshold(method, threshold=p).max_distance for p in PRESETS]
    assert d == sorted(d)


def test_default_is_balanced_phash() -> None:
    assert DEFAULT_METHOD == "phash"
    assert resolve_threshold("phash") == resolve_threshold("phash", threshold="balanced")


def test_similarity_0875_is_max_distance_8() -> None:
    by_sim = resolve_threshold("phash", 8, threshold=0.875)
    by_dist = resolve_threshold("phash", 8, max_distance=8)
    assert by_sim.max_distance == 8
    assert by_sim == by_dist
    assert by_dist.similarity == 0.875
    # a string number from the CLI means the same
    assert resolve_threshold("phash", 8, threshold="0.875") == by_dist
    # a hair stricter is one bit fewer
    assert resolve_threshold("phash", 8, threshold=0.876).max_distance == 7


def test_similarity_extremes() -> None:
    assert resolve_threshold("phash", 8, threshold=1.0).max_distance == 0
    assert resolve_threshold("phash", 8, threshold=0.0).max_distance == 64
    assert resolve_threshold("hist3", threshold=0.9).similarity == pytest.approx(0.9)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(HASH_METHODS), st.integers(4, 16), st.data())
def test_distance_similarity_round_trip(method: str, hash_size: int, data) -> None:
    bits = METHODS[method].bits(hash_size)
    d = data.draw(st.integers(0, bits))
    t = resolve_threshold(method, hash_size, max_distance=d)
    assert resolve_threshold(method, hash_size, threshold=t.similarity).max_distance == d
    # any similarity maps to the largest distance whose similarity still reaches it
    s = data.draw(st.floats(0, 1))
    r = resolve_threshold(method, hash_size, threshold=s)
    assert 1 - r.max_distance / bits >= s - 1e-9
    assert r.max_distance == bits or 1 - (r.max_distance + 1) / bits < s + 1e-9


@pytest.mark.parametrize(
    "kwargs",
    [
        {"threshold": "medium"},
        {"threshold": ""},
        {"threshold": 1.5},
        {"threshold": -0.1},
        {"threshold": math.nan},
        {"threshold": "1.01"},
        {"max_distance": -1},
        {"max_distance": 65},
    ],
)
def test_bad_values_are_errors(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        resolve_threshold("phash", 8, **kwargs)


def test_max_distance_is_for_hash_methods_only() -> None:
    with pytest.raises(ValueError, match="hash methods"):
        resolve_threshold("hist3", max_distance=3)
    with pytest.raises(ValueError, match="between 0 and 100"):
        resolve_threshold("phash", 10, max_distance=101)
    assert resolve_threshold("phash", 10, max_distance=100).similarity == 0.0


def test_every_method_is_documented() -> None:
    for name, m in METHODS.items():
        assert m.name == name
        assert m.kind in ("hash", "hist")
        assert m.title and m.description
        assert set(m.presets) == set(PRESETS)
