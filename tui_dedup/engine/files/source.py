"""What every decoder shares: the limits, reading a file, normalising pixels.

Split out of :mod:`tui_dedup.engine.files.decode` so that the RAW decoder
(:mod:`tui_dedup.engine.files.raw`) applies the same limits and the same pixel handling without
an import circle (decode.py dispatches to raw.py). decode.py re-exports every name here, so its
callers did not change.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from tui_dedup.engine.model import FileEntry, ScanError

#: The short side we decode down to (never below); features need at most 64×64.
MIN_DECODE_SIDE = 64


@dataclass(frozen=True, slots=True)
class DecodeLimits:
    """Refuse files above these before reading pixels (configurable from the CLI)."""

    max_file_bytes: int = 1 << 30  # 1 GiB
    max_pixels: int = 250_000_000  # 250 MP: beyond any camera, below a decompression bomb


#: (width, height) -> JPEG DCT scale denominator (1, 2, 4 or 8).
Reduction = Callable[[int, int], int]


def _reduction(width: int, height: int) -> int:
    short = min(width, height)
    for r in (8, 4, 2):
        if short // r >= MIN_DECODE_SIDE:
            return r
    return 1


_REDUCED = {
    2: cv2.IMREAD_REDUCED_COLOR_2,
    4: cv2.IMREAD_REDUCED_COLOR_4,
    8: cv2.IMREAD_REDUCED_COLOR_8,
}


def _to_bgr8(arr: np.ndarray) -> np.ndarray:
    """Normalise depth, channels and alpha; alpha is composited on white (a fixed background)."""
    if arr.dtype == np.uint16:
        arr = (arr >> 8).astype(np.uint8)
    elif arr.dtype != np.uint8:
        arr = cv2.normalize(arr, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    if arr.ndim == 3 and arr.shape[2] == 1:  # one channel as a 3-D array (LibRaw's monochrome)
        arr = arr[:, :, 0]
    if arr.ndim == 2:
        return cv2.cvtColor(np.ascontiguousarray(arr), cv2.COLOR_GRAY2BGR)
    if arr.shape[2] == 4:
        alpha = arr[:, :, 3:4].astype(np.float32) / 255.0
        rgb = arr[:, :, :3].astype(np.float32)
        return (rgb * alpha + 255.0 * (1.0 - alpha) + 0.5).astype(np.uint8)
    if arr.shape[2] == 2:
        return _to_bgr8(cv2.cvtColor(arr[:, :, 0], cv2.COLOR_GRAY2BGRA))
    return arr


def _shrink(img: np.ndarray) -> np.ndarray:
    """INTER_AREA down to a short side of about 2×MIN_DECODE_SIDE; bounded work downstream."""
    h, w = img.shape[:2]
    short = min(h, w)
    target = 2 * MIN_DECODE_SIDE
    if short <= target:
        return img
    s = target / short
    return cv2.resize(
        img, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA
    )


def _read_all(fd: int, size: int) -> bytes:
    chunks = []
    remaining = size
    while remaining > 0:
        chunk = os.read(fd, min(remaining, 1 << 22))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ENOENT:
        return "vanished before it could be read"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return f"cannot read: {exc.strerror or exc}"


def checked_stat(path: str, fd: int, limits: DecodeLimits) -> os.stat_result | ScanError:
    """The open file's stat, if it is a regular, non-empty file within the size limit (every
    reader checks the same before it reads a byte)."""
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        return ScanError(path, "not a regular file")
    if st.st_size == 0:
        return ScanError(path, "empty file (0 bytes)")
    if st.st_size > limits.max_file_bytes:
        return ScanError(
            path,
            f"file too large ({st.st_size / 2**30:.1f} GiB > limit "
            f"{limits.max_file_bytes / 2**30:.1f} GiB)",
        )
    return st


def read_file(entry: FileEntry, limits: DecodeLimits) -> bytes | ScanError:
    """Read a regular file without blocking on FIFOs and without following a swapped-in link."""
    try:
        fd = os.open(entry.path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        return ScanError(entry.path, _os_reason(exc))
    try:
        st = checked_stat(entry.path, fd, limits)
        if isinstance(st, ScanError):
            return st
        return _read_all(fd, st.st_size)
    except OSError as exc:
        return ScanError(entry.path, _os_reason(exc))
    finally:
        os.close(fd)


def jpeg_truncated(data: bytes) -> bool:
    """True when a JPEG ends before its end-of-image marker.

    libjpeg fills a truncated photo with grey and reports success, so without this check a
    half-downloaded copy would be hashed as a (wrong) picture. We walk the marker segments by
    their lengths up to the first start-of-scan (skipping the EXIF thumbnail, which has its own
    EOI), then look for EOI (FF D9): inside entropy-coded data FF is always followed by 00 or a
    restart marker, so an FF D9 after the scan starts is the real end. Trailers that
    phones append after the EOI (motion-photo video, maker data) do not matter.
    """
    pos, n = 2, len(data)
    while pos + 4 <= n:
        if data[pos] != 0xFF:
            return False  # not a marker where one should be: leave it to the decoder
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:
            return False
        if marker in (0x01, *range(0xD0, 0xD8)):
            pos += 2
            continue
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if marker == 0xDA:
            # Any EOI after the scan start will do, so search from the end, where it is: a
            # forward find stumbles over every stuffed FF 00, a cost that grows with the file
            # (benchmarks/RESULTS.md, "Why the code is as it is").
            return data.rfind(b"\xff\xd9", pos + 2 + length) < 0
        pos += 2 + length
    return True


def sniff(head: bytes) -> str | None:
    """Name the container from its magic bytes, so a misnamed file is decoded by content."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:2] == b"BM":
        return "BMP"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"avif", b"avis"):
            return "AVIF"
        if brand in (b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1", b"heim", b"heis"):
            return "HEIF"
    return None
