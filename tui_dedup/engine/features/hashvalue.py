"""A small value type for one hash, for people using the engine from Python.

The store and the matcher never use it (they work on whole numpy columns); it exists so a
script can print, store and compare single hashes the way imagehash users expect:
``str(h)`` is fixed-width hex that :meth:`HashValue.from_hex` reads back, ``a - b`` is the
Hamming distance, and equality and hashing use every bit. Bit order is the features module's:
row-major, most significant bit first, so the hex reads left to right like the bit matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tui_dedup.engine.features.hashes import unpack_bits


@dataclass(frozen=True, slots=True)
class HashValue:
    """``bits`` bits held as an int (bit ``bits-1`` is the first bit of the matrix)."""

    value: int
    bits: int

    @classmethod
    def from_words(cls, words: np.ndarray, bits: int) -> HashValue:
        """From the store's (words,) uint64 layout (unused low bits of the last word are 0)."""
        flat = unpack_bits(np.asarray(words, np.uint64).reshape(1, -1), bits)[0]
        return cls(int("".join("1" if b else "0" for b in flat) or "0", 2), bits)

    @classmethod
    def from_hex(cls, text: str, bits: int | None = None) -> HashValue:
        """Inverse of ``str()``; ``bits`` defaults to four per hex digit."""
        text = text.strip().lower()
        n = bits if bits is not None else 4 * len(text)
        value = int(text, 16)
        if value >> n:
            raise ValueError(f"{text!r} does not fit in {n} bits")
        return cls(value, n)

    def __str__(self) -> str:
        return format(self.value, f"0{(self.bits + 3) // 4}x")

    def __sub__(self, other: HashValue) -> int:
        if self.bits != other.bits:
            raise ValueError(f"cannot compare a {self.bits}-bit and a {other.bits}-bit hash")
        return (self.value ^ other.value).bit_count()

    def similarity(self, other: HashValue) -> float:
        """Fraction of equal bits, the meaning of every threshold in dedup-tui."""
        return 1.0 - (self - other) / self.bits
