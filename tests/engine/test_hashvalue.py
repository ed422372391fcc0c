"""The single-hash value type agrees with the store's arrays and round-trips through hex."""

from __future__ import annotations

import numpy as np
import pytest

from tui_dedup.demo import make_photo
from tui_dedup.engine.features.hashes import hash_features, pack_bits, to_gray
from tui_dedup.engine.features.hashvalue import HashValue


def test_hex_round_trip_and_distance_match_the_arrays() -> None:
    rng = np.random.default_rng(3)
    for bits in (64, 100):
        a_bits, b_bits = rng.random((2, bits)) < 0.5
        wa, wb = pack_bits(a_bits[None])[0], pack_bits(b_bits[None])[0]
        a, b = HashValue.from_words(wa, bits), HashValue.from_words(wb, bits)
        assert HashValue.from_hex(str(a), bits) == a
        assert len(str(a)) == (bits + 3) // 4
        assert a - b == int(np.bitwise_count(wa ^ wb).sum()) == int((a_bits != b_bits).sum())
        assert a.similarity(a) == 1.0


def test_left_half_bright_reads_as_leading_ones() -> None:
    img = np.zeros((64, 64), np.uint8)
    img[:, :32] = 255
    words = hash_features(img, 8, variants=False)["ahash"][0]
    assert str(HashValue.from_words(words, 64)) == "f0f0f0f0f0f0f0f0"


def test_different_sizes_do_not_compare() -> None:
    with pytest.raises(ValueError):
        _ = HashValue(1, 64) - HashValue(1, 100)
    with pytest.raises(ValueError):
        HashValue.from_hex("1ff", 8)


def test_a_real_photo_hash_round_trips() -> None:
    words = hash_features(to_gray(make_photo(5, 320, 240)), 8)["phash"][0]
    h = HashValue.from_words(words, 64)
    assert HashValue.from_hex(str(h)) == h
