"""Remembered match results: a hit returns exactly what a fresh match would; any change misses."""

from __future__ import annotations

import numpy as np

import tui_dedup.engine.cache.matches as mc
from tui_dedup.engine.matching.match import match
from tui_dedup.engine.matching.pairs import MatchOptions
from tui_dedup.engine.registry import Threshold


def _same(a, b) -> None:
    for f in ("i", "j", "distance", "similarity", "transform", "exact"):
        got, want = getattr(a, f), getattr(b, f)
        assert got.dtype == want.dtype and np.array_equal(got, want), f


def test_hit_equals_fresh_match_and_skips_the_work(make_store, tmp_path, monkeypatch) -> None:
    store = make_store(300, digests=[b"D" * 16] * 3 + [None] * 297)
    th, opts = Threshold(1 - 24 / 64, 24), MatchOptions()
    first = mc.cached_match(store, "phash", th, opts, str(tmp_path))
    _same(first, match(store, "phash", th, opts))
    calls = []
    monkeypatch.setattr(mc, "match", lambda *a, **k: calls.append(1))
    _same(mc.cached_match(store, "phash", th, opts, str(tmp_path)), first)
    assert calls == []


def test_any_change_of_features_or_settings_is_a_miss(make_store, tmp_path) -> None:
    store = make_store(50)
    th, opts = Threshold(1 - 20 / 64, 20), MatchOptions()
    key = mc.match_key(store, "phash", th, opts)
    assert mc.match_key(store, "phash", Threshold(1 - 19 / 64, 19), opts) != key
    assert mc.match_key(store, "dhash", th, opts) != key
    assert mc.match_key(store, "phash", th, MatchOptions(rotations=False)) != key
    store.hashes["phash"][7, 0, 0] ^= np.uint64(1)
    assert mc.match_key(store, "phash", th, opts) != key


def test_only_a_few_results_are_kept_and_a_broken_file_is_recomputed(make_store, tmp_path):
    store = make_store(40)
    opts = MatchOptions()
    for d in range(8):
        mc.cached_match(store, "phash", Threshold(1 - d / 64, d), opts, str(tmp_path))
    assert len(list(tmp_path.glob("*.npz"))) == mc.KEEP
    th = Threshold(1 - 30 / 64, 30)
    fresh = mc.cached_match(store, "phash", th, opts, str(tmp_path))
    (tmp_path / f"{mc.match_key(store, 'phash', th, opts)}.npz").write_bytes(b"garbage")
    _same(mc.cached_match(store, "phash", th, opts, str(tmp_path)), fresh)


def test_a_change_to_the_matching_code_is_a_miss(make_store, monkeypatch) -> None:
    """The package version does not change between commits: the key carries a digest of the
    deciding modules' source, so a moved tuning constant never serves old pairs."""
    import tui_dedup.engine.cache.engine_digest as ed

    store = make_store(30)
    th, opts = Threshold(1 - 20 / 64, 20), MatchOptions()
    key = mc.match_key(store, "phash", th, opts)
    monkeypatch.setattr(mc, "engine_digest", lambda: "another build")
    assert mc.match_key(store, "phash", th, opts) != key
    files = [f for name in ed.DECIDING for f in ed._files(name)]
    assert any(f.endswith("matching/pairs.py") for f in files)
    assert any("verdicts" in f for f in files)


def test_the_engine_digest_follows_the_source(tmp_path, monkeypatch) -> None:
    import tui_dedup.engine.cache.engine_digest as ed

    src = tmp_path / "constants.py"
    src.write_text("MAX = 15\n")
    monkeypatch.setattr(ed, "DECIDING", ("x",))
    monkeypatch.setattr(ed, "_files", lambda name: [str(src)])
    ed.engine_digest.cache_clear()
    first = ed.engine_digest()
    src.write_text("MAX = 16\n")
    ed.engine_digest.cache_clear()
    try:
        assert ed.engine_digest() != first
    finally:
        ed.engine_digest.cache_clear()
