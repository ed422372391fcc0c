"""Sort keys for the pair table, and the fast stable sort it orders a million pairs with.

Apart from the model because it is pure numpy on one array of keys: every column's values are
first mapped to non-negative uint64 codes in the same order (:func:`float32_sort_code`,
:func:`offset_code`), which is what lets :func:`stable_order` sort packed integers instead of
calling a stable ``argsort``. A text value per pair (the method, say) is kept as
:class:`Labels`: a few names and one small code per pair, whose order is the names' order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Labels:
    """A text per pair as codes into sorted ``names``: 4 bytes a pair, sortable as integers."""

    names: tuple[str, ...]
    codes: np.ndarray  # int32, one per pair

    @classmethod
    def of(cls, value: str | Sequence[str] | np.ndarray | Labels, n: int, name: str) -> Labels:
        """One text for all ``n`` pairs, or one per pair (or codes already made, in the order
        of their names: the verdict kinds sort as their codes do, copies first)."""
        if isinstance(value, Labels):
            if value.codes.shape != (n,):
                raise ValueError(f"{name}: expected one code per pair ({n})")
            return value
        if isinstance(value, str):
            return cls((value,), np.zeros(n, dtype=np.int32))
        names, codes = np.unique(np.asarray(value, dtype=str), return_inverse=True)
        if codes.shape != (n,):
            raise ValueError(f"{name}: expected one text per pair ({n}), got {codes.shape}")
        return cls(tuple(str(x) for x in names), codes.astype(np.int32))

    def text(self, p: int) -> str:
        return self.names[int(self.codes[p])]


def float32_sort_code(x: np.ndarray) -> np.ndarray:
    """Map float32 values to uint64 codes in the same order (negatives and NaN included)."""
    bits = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
    neg = (bits & np.uint32(0x80000000)) != 0
    return np.where(neg, ~bits, bits | np.uint32(0x80000000)).astype(np.uint64)


def offset_code(x: np.ndarray) -> np.ndarray:
    """Integers shifted to start at 0, as uint64 (same order)."""
    if x.size == 0:
        return x.astype(np.uint64)
    return (x.astype(np.int64) - np.int64(x.min())).astype(np.uint64)


def stable_order(key: np.ndarray, reverse: bool) -> np.ndarray:
    """Indices of ``key`` (uint64) in sort order; ties keep their index order both ways.

    Same result as ``np.argsort(key, kind="stable")`` (or of ``-key`` when reversed) but
    about 8x faster at a million pairs: the index is packed into the low bits of a uint64
    below the key, making every value unique, and ``np.sort`` on plain uint64 is
    SIMD-accelerated (21 ms against 160 ms for a stable argsort of 1M float32, measured with
    numpy 2.4). Keys too wide to share 64 bits with the index fall back to argsort.
    """
    n = key.shape[0]
    top = int(key.max()) if n else 0
    idx_bits = max(1, (n - 1).bit_length())
    index_dtype = np.int32 if n < 2**31 else np.int64
    if top == 0:  # one value (e.g. a single method): the given order
        order = np.arange(n, dtype=index_dtype)
    elif top.bit_length() + idx_bits <= 64:
        if reverse:
            key = np.uint64(top) - key
        packed = (key << np.uint64(idx_bits)) | np.arange(n, dtype=np.uint64)
        packed.sort()
        order = (packed & np.uint64((1 << idx_bits) - 1)).astype(index_dtype)
    else:  # pragma: no cover - needs > 2**32 pairs or absurd sizes
        order = np.argsort(-key.astype(np.float64) if reverse else key, kind="stable")
    return order
