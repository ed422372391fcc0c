"""Remembered decisions: "not a duplicate" skips and saved review state."""

from __future__ import annotations

import os

import numpy as np
from conftest import write

from tui_dedup.actions import ReviewState, SkipStore, file_digest


def test_file_digest_is_blake2b_128_of_the_bytes(tmp_path):
    import hashlib

    p = write(tmp_path / "a.jpg", b"hello")
    assert file_digest(p) == hashlib.blake2b(b"hello", digest_size=16).hexdigest()
    assert len(file_digest(p)) == 32


def test_skip_survives_renames_and_restarts_and_is_order_independent(tmp_path):
    a = write(tmp_path / "a.jpg", "AAA")
    b = write(tmp_path / "b.jpg", "BBB")
    SkipStore().add(file_digest(a), file_digest(b))
    os.rename(a, tmp_path / "renamed.jpg")
    store = SkipStore()  # a new run
    assert store.contains(file_digest(b), file_digest(tmp_path / "renamed.jpg"))
    assert (file_digest(tmp_path / "renamed.jpg"), file_digest(b)) in store
    assert len(store) == 1
    store.add(file_digest(b), file_digest(tmp_path / "renamed.jpg"))
    assert len(SkipStore()) == 1


def test_filter_mask_100k_pairs(tmp_path):
    rng = np.random.default_rng(0)
    digests = np.array([f"{x:032x}" for x in rng.integers(0, 2**62, 2000)])
    a = digests[rng.integers(0, 2000, 100_000)]
    b = digests[rng.integers(0, 2000, 100_000)]
    store = SkipStore()
    for i in range(0, 50):
        store.add(a[i], b[i])
    keep = store.filter_mask(a, b)
    swapped = store.filter_mask(b, a)
    assert keep.dtype == bool and keep.shape == (100_000,)
    assert not keep[:50].any()
    assert (keep == swapped).all()
    expected = np.array([not store.contains(x, y) for x, y in zip(a, b, strict=False)])
    assert (keep == expected).all()


def test_skip_file_with_torn_last_line_still_loads(tmp_path):
    store = SkipStore()
    store.add("a" * 32, "b" * 32)
    with open(store.path, "a") as f:
        f.write('["cc')
    assert SkipStore().contains("b" * 32, "a" * 32)


def test_review_state_round_trips_keyed_by_sorted_roots(tmp_path):
    roots = [str(tmp_path / "b"), str(tmp_path / "a")]
    weird = os.fsdecode(b"/p/\xff name\n.jpg")
    ReviewState(roots, marks={"/p/x.jpg", weird}, skips=[("/p/1", "/p/2")], cursor=7).save()
    loaded = ReviewState.load(list(reversed(roots)))
    assert loaded is not None
    assert loaded.marks == {"/p/x.jpg", weird} and loaded.cursor == 7
    assert loaded.skips == [("/p/1", "/p/2")]
    assert ReviewState.load([str(tmp_path / "a")]) is None
    leftovers = [f for f in os.listdir(tmp_path / "state") if f.startswith(".tmp")]
    assert leftovers == []
