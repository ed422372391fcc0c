"""Content digests for exact duplicates: BLAKE2b-128, fast and plenty against collisions."""

from __future__ import annotations

import hashlib

DIGEST_SIZE = 16


def digest_bytes(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=DIGEST_SIZE).digest()


def digest_path(path: str, chunk: int = 1 << 20) -> bytes:
    """Stream a file; used when a cached file newly needs a digest (no decode needed)."""
    h = hashlib.blake2b(digest_size=DIGEST_SIZE)
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.digest()
