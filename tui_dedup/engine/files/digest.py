"""Content digests: of whole files for exact duplicates, and of their edges for the cache.

BLAKE2b-128 throughout: fast, and plenty against collisions.

The *edge digest* is the feature cache's cheap proof that a file it saw before still holds the
same bytes when the file's ctime says something happened to it (a rename, a ``chmod -R``, a
new hard link — or a rewrite whose mtime was put back). It covers the size and the first and
last :data:`EDGE_BYTES` of the file (the whole file when it is at most twice that), so checking
a file reads at most 128 KiB whatever its size. A rewrite with another picture changes the
image data that ends a file, and usually the headers that start it; what it cannot see is a
same-size change confined to the middle of a file over 128 KiB (an uncompressed TIFF or BMP
edited in place), which is why it is asked only when ctime moved, never instead of ctime.
"""

from __future__ import annotations

import hashlib
import os
import stat

DIGEST_SIZE = 16
#: Bytes read from each end of a file for its edge digest.
EDGE_BYTES = 64 * 1024
_EDGE_PERSON = b"dedup-tui-edge"


def digest_bytes(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=DIGEST_SIZE).digest()


def digest_path(path: str, chunk: int = 1 << 20) -> bytes:
    """Stream a file; used when a cached file newly needs a digest (no decode needed)."""
    return digest_and_edge_path(path, chunk)[0]


def digest_and_edge_path(path: str, chunk: int = 1 << 20) -> tuple[bytes, bytes]:
    """(whole-file digest, edge digest) in one streaming read."""
    h = hashlib.blake2b(digest_size=DIGEST_SIZE)
    head = b""
    tail = b""
    total = 0
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
            total += len(block)
            if len(head) < EDGE_BYTES:
                head += block[: EDGE_BYTES - len(head)]
            tail = (tail + block)[-2 * EDGE_BYTES :]
    return h.digest(), _edge(total, head, tail)


def _edge(size: int, head: bytes | memoryview, tail: bytes | memoryview) -> bytes:
    """The edge digest of a file of ``size`` bytes from its first bytes and its last bytes
    (each at least EDGE_BYTES long, or the whole file)."""
    h = hashlib.blake2b(digest_size=DIGEST_SIZE, person=_EDGE_PERSON)
    h.update(size.to_bytes(8, "little"))
    if size <= 2 * EDGE_BYTES:
        h.update(head[:size] if len(head) >= size else tail[-size:])
    else:
        h.update(head[:EDGE_BYTES])
        h.update(tail[-EDGE_BYTES:])
    return h.digest()


def edge_of(size: int, head: bytes, tail: bytes) -> bytes:
    """The edge digest of a file of ``size`` bytes from its first and last EDGE_BYTES (or the
    whole file, when it is at most twice that, as ``head``): a RAW's, read without its body."""
    return _edge(size, head, tail)


def edge_digest_bytes(data: bytes) -> bytes:
    """The edge digest of a file whose whole content is ``data`` (the scan has it in hand)."""
    view = memoryview(data)
    return _edge(len(data), view, view)


def edge_digest_file(path: str) -> tuple[int, bytes]:
    """(size, edge digest) of the regular file at ``path``, reading at most 2 × EDGE_BYTES.

    Raises OSError when it cannot be read or is no longer a regular file.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(f"{path!r} is not a regular file")
        size = st.st_size
        if size <= 2 * EDGE_BYTES:
            data = _pread_all(fd, size, 0)
            if len(data) != size:  # shrank while we read
                return -1, b""
            return size, _edge(size, data, data)
        head = _pread_all(fd, EDGE_BYTES, 0)
        tail = _pread_all(fd, EDGE_BYTES, size - EDGE_BYTES)
        if len(head) < EDGE_BYTES or len(tail) < EDGE_BYTES:  # shrank while we read
            return -1, b""
        return size, _edge(size, head, tail)
    finally:
        os.close(fd)


def _pread_all(fd: int, n: int, offset: int) -> bytes:
    parts = []
    while n > 0:
        part = os.pread(fd, n, offset)
        if not part:
            break
        parts.append(part)
        n -= len(part)
        offset += len(part)
    return b"".join(parts)
