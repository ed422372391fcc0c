"""Golden hash values and the bit-order convention.

The hex strings below were produced by the current algorithms on deterministic generated
photos. If one of them changes, every hash in every user's cache changes meaning: bump
``features.FEATURE_VERSION`` (so caches are recomputed) and only then update the values here.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tui_dedup.demo import make_photo
from tui_dedup.engine.features.hashes import (
    VARIANTS,
    dihedral,
    extract,
    hash_features,
    pack_bits,
    to_gray,
    unpack_bits,
)
from tui_dedup.engine.files.decode import DecodeLimits, decode_bytes


def hexof(words: np.ndarray) -> str:
    """Words → hex, most significant word first (the documented convention)."""
    return "".join(f"{int(w):016x}" for w in words)


def hex_from_bitstring(bits: str) -> str:
    """Independent reference: a '0'/'1' string, row-major, zero-padded to whole 64-bit words."""
    padded = bits + "0" * (-len(bits) % 64)
    return f"{int(padded, 2):0{len(padded) // 4}x}"


GOLDEN = {
    (1, 8): ("c5c1dfcfc3e181c7", "0d03353b8f8f0f0c", "f2cc5760b69e806e"),
    (2, 8): ("4fdf814161e1fbf9", "993a138fcfc382a3", "e31a9ce7c2386c8d"),
    (3, 8): ("cfc706000107c7c7", "1c8c0c23331c1c8c", "b256b29969d334b8"),
    (1, 10): (
        "c3703e073fc6f8360f818078f0000000",
        "8644a4bc691ce1fc7e1b07c3c0000000",
        "f2f3357d80b2269808baf2da90000000",
    ),
    (2, 10): (
        "47f3f8cd01205c1f0fc3ffffb0000000",
        "ac67855e1fc6f1fc1f07b1ac30000000",
        "eb06a9c39cc2ce36c23443b7e0000000",
    ),
    (3, 10): (
        "c7f8f03c0c0000303e0fe3f870000000",
        "0e459d244d108671f1388620c0000000",
        "b6d5af2a656936c36ae3490490000000",
    ),
}


@pytest.mark.parametrize(("seed", "n"), sorted(GOLDEN))
def test_golden_hashes_of_generated_photos(seed: int, n: int) -> None:
    hashes = hash_features(to_gray(make_photo(seed)), n)
    got = tuple(hexof(hashes[m][0]) for m in ("ahash", "dhash", "phash"))
    assert got == GOLDEN[(seed, n)]
    for m in ("ahash", "dhash", "phash"):
        assert hashes[m].shape == (VARIANTS, (n * n + 63) // 64)
        assert hashes[m].dtype == np.uint64


def test_golden_hashes_survive_the_decode_pipeline() -> None:
    """A lossless PNG through the real decoder (reduced decode + shrink) hashes the same."""
    data = cv2.imencode(".png", make_photo(1))[1].tobytes()
    decoded = decode_bytes("photo.png", data, DecodeLimits())
    assert isinstance(decoded, tuple)
    hashes = extract(decoded[0], 8)[0]
    assert tuple(hexof(hashes[m][0]) for m in ("ahash", "dhash", "phash")) == GOLDEN[(1, 8)]


@pytest.mark.parametrize("n", [8, 10])
def test_ahash_bit_order_left_half_bright(n: int) -> None:
    """Row-major, MSB first: each row of a left-bright image is 1…10…0."""
    gray = np.zeros((4 * n * 8, 4 * n * 8), np.uint8)
    gray[:, : gray.shape[1] // 2] = 200
    row = "1" * (n // 2) + "0" * (n - n // 2)
    got = hexof(hash_features(gray, n, variants=False)["ahash"][0])
    assert got == hex_from_bitstring(row * n)
    if n == 8:
        assert got == "f0f0f0f0f0f0f0f0"


def test_ahash_bit_order_top_half_bright_and_single_corner() -> None:
    gray = np.zeros((256, 256), np.uint8)
    gray[:128] = 200
    assert hexof(hash_features(gray, 8, variants=False)["ahash"][0]) == "ffffffff00000000"
    corner = np.zeros((256, 256), np.uint8)
    corner[:32, :32] = 255  # exactly the first cell of the 8×8 grid: bit 0, the MSB
    assert hexof(hash_features(corner, 8, variants=False)["ahash"][0]) == "8000000000000000"
    last = np.zeros((256, 256), np.uint8)
    last[-32:, -32:] = 255  # the last cell: the LSB
    assert hexof(hash_features(last, 8, variants=False)["ahash"][0]) == "0000000000000001"


def test_dhash_bit_order_follows_horizontal_gradient() -> None:
    ramp = np.tile(np.arange(256, dtype=np.uint8), (256, 1))  # brighter to the right
    assert hexof(hash_features(ramp, 8, variants=False)["dhash"][0]) == "f" * 16
    assert hexof(hash_features(ramp[:, ::-1].copy(), 8, variants=False)["dhash"][0]) == "0" * 16


def test_variant_zero_is_the_image_and_variants_are_the_transformed_images() -> None:
    """Variant k of an image equals the plain hash of that image transformed by dihedral k."""
    gray = to_gray(make_photo(5, 320, 320))
    all_variants = hash_features(gray, 8)
    for k, turned in enumerate(dihedral(gray)):
        plain = hash_features(np.ascontiguousarray(turned), 8, variants=False)
        for m in ("ahash", "phash", "dhash"):
            assert np.array_equal(all_variants[m][k], plain[m][0]), (m, k)


def test_pack_bits_known_values() -> None:
    bits = np.zeros(64, bool)
    bits[0] = True
    assert hexof(pack_bits(bits)) == "8000000000000000"
    bits = np.zeros(100, bool)
    bits[99] = True  # bit 99 is word 1, position 35 from the top
    words = pack_bits(bits)
    assert words.shape == (2,)
    assert hexof(words) == hex_from_bitstring("0" * 99 + "1")
    assert int(words[1]) & ((1 << 28) - 1) == 0  # unused low bits stay zero


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(
        bool,
        st.tuples(st.integers(0, 3), st.integers(1, 200)),
        elements=st.booleans(),
    )
)
def test_pack_unpack_round_trip(bits: np.ndarray) -> None:
    words = pack_bits(bits)
    nbits = bits.shape[-1]
    assert words.shape == (*bits.shape[:-1], (nbits + 63) // 64)
    assert words.dtype == np.uint64
    assert np.array_equal(unpack_bits(words, nbits), bits)
    for row, packed in zip(
        bits.reshape(-1, nbits), words.reshape(-1, words.shape[-1]), strict=True
    ):
        assert hexof(packed) == hex_from_bitstring("".join("1" if b else "0" for b in row))
