"""Bytes → one small colour image plus metadata, once per file.

Why this shape: JPEG decoding dominates a scan, and libjpeg can decode at 1/2, 1/4 or 1/8 scale
in its DCT stage for a fraction of the cost (and applies EXIF orientation while at it). Every
feature we compute needs at most a 64×64 grey image and a small colour image for histograms, so
we decode at the largest reduction that keeps the short side ≥ 64 px and never hold a full-size
photo. The header is parsed first (Pillow reads only the header on ``open``), so pixel bombs and
absurd files are refused before any pixel buffer is allocated; OpenCV's own pixel limit is
process-wide and read once, so it cannot be our only guard.

Errors are values: :func:`decode_file` returns a :class:`ScanError` with a one-line reason for
anything a user's disk can contain (corrupt, truncated, empty, misnamed, too large, vanished,
permission denied), never raises for them.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import stat
import threading
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError

from tui_dedup.engine.files.exif_evidence import ExifFields, estimate_jpeg_quality, read_exif
from tui_dedup.engine.model import FileEntry, ImageMeta, ScanError

# OpenCV's own "[ERROR:0@…] imdecode_" lines: we report failures as ScanErrors instead.
with contextlib.suppress(AttributeError):
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
ImageFile.LOAD_TRUNCATED_IMAGES = False

_HEIF_READY: bool | None = None

#: The short side we decode down to (never below); features need at most 64×64.
MIN_DECODE_SIDE = 64


@dataclass(frozen=True, slots=True)
class DecodeLimits:
    """Refuse files above these before reading pixels (configurable from the CLI)."""

    max_file_bytes: int = 1 << 30  # 1 GiB
    max_pixels: int = 250_000_000  # 250 MP: beyond any camera, below a decompression bomb


# Pillow's own decompression-bomb guard stays on, at our default limit (we check the header
# against the configured limit first, per call); a scan with --max-pixels sets it to that for
# its duration (pillow_pixel_limit). Pillow's default (89 MP) would refuse real panoramas.
Image.MAX_IMAGE_PIXELS = DecodeLimits().max_pixels


@contextlib.contextmanager
def pillow_pixel_limit(max_pixels: int) -> Iterator[None]:
    """Pillow's pixel guard (process-wide) at ``max_pixels`` while the block runs, then back."""
    before = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        yield
    finally:
        Image.MAX_IMAGE_PIXELS = before


_BOMB_LOCK = threading.Lock()


def _bomb_size(data: bytes) -> tuple[int, int]:
    """The size a header announces when it is far above Pillow's guard (which refuses to open
    it): read with the guard lifted for the header only, so the error can name the size. The
    pixels are never decoded: the caller refuses the file by its own limit."""
    with _BOMB_LOCK:
        before = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            with Image.open(io.BytesIO(data)) as im:
                return im.size
        except Exception:
            return (0, 0)
        finally:
            Image.MAX_IMAGE_PIXELS = before


@dataclass(frozen=True, slots=True)
class Decoded:
    """A small BGR uint8 image (short side ≥ 64 unless the original is smaller) and metadata."""

    image: np.ndarray
    meta: ImageMeta
    digest: bytes | None


def _sniff(head: bytes) -> str | None:
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


def _ensure_heif() -> bool:
    global _HEIF_READY
    if _HEIF_READY is None:
        try:
            import pillow_heif

            pillow_heif.register_heif_opener()
            _HEIF_READY = True
        except Exception:
            _HEIF_READY = False
    return _HEIF_READY


def _header_exif(im: Image.Image) -> Image.Exif | None:
    """EXIF from the header only, never from the pixels.

    Pillow's ``PngImageFile.getexif()`` decodes the whole image when no eXIf chunk precedes
    the pixel data (it looks for one after IDAT): that would decode every PNG twice and, worse,
    decode a decompression bomb before our pixel limit is checked.
    """
    if im.format == "PNG" and "exif" not in im.info:
        return None
    try:
        return im.getexif()
    except Exception:
        return None


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
    if arr.ndim == 2:
        return cv2.cvtColor(arr, cv2.COLOR_GRAY2BGR)
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


def _decode_pillow(data: bytes) -> np.ndarray | None:
    """Formats OpenCV lacks (HEIC, AVIF, some GIFs): first frame, with EXIF orientation."""
    from PIL import ImageOps

    with Image.open(io.BytesIO(data)) as opened:
        opened.seek(0)
        opened.draft("RGB", (opened.width // 8 or 1, opened.height // 8 or 1))
        im = ImageOps.exif_transpose(opened)
        if im.mode not in ("RGB", "RGBA", "L", "LA"):
            im = im.convert("RGBA" if "A" in im.getbands() or "transparency" in im.info else "RGB")
        arr = np.asarray(im)
    if arr.ndim == 3 and arr.shape[2] == 3:
        arr = arr[:, :, ::-1]
    elif arr.ndim == 3 and arr.shape[2] == 4:
        arr = arr[:, :, [2, 1, 0, 3]]
    return np.ascontiguousarray(arr)


def _decode_pixels(
    data: bytes, fmt: str, width: int, height: int, has_alpha: bool, reduction: Reduction
) -> np.ndarray:
    buf = np.frombuffer(data, np.uint8)
    arr: np.ndarray | None = None
    if fmt == "JPEG":
        r = reduction(width, height)
        arr = cv2.imdecode(buf, _REDUCED[r] if r > 1 else cv2.IMREAD_COLOR)
    elif fmt in ("PNG", "WEBP", "TIFF", "BMP"):
        flag = cv2.IMREAD_UNCHANGED if has_alpha or fmt in ("PNG", "TIFF") else cv2.IMREAD_COLOR
        arr = cv2.imdecode(buf, flag)
        if arr is not None and arr.ndim == 3 and arr.shape[2] == 4 and not has_alpha:
            arr = arr[:, :, :3]
    if arr is None:
        arr = _decode_pillow(data)
    if arr is None or arr.size == 0:
        raise ValueError("decoder returned no pixels")
    return _to_bgr8(arr)


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


def read_file(entry: FileEntry, limits: DecodeLimits) -> bytes | ScanError:
    """Read a regular file without blocking on FIFOs and without following a swapped-in link."""
    try:
        fd = os.open(entry.path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        return ScanError(entry.path, _os_reason(exc))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return ScanError(entry.path, "not a regular file")
        if st.st_size == 0:
            return ScanError(entry.path, "empty file (0 bytes)")
        if st.st_size > limits.max_file_bytes:
            return ScanError(
                entry.path,
                f"file too large ({st.st_size / 2**30:.1f} GiB > limit "
                f"{limits.max_file_bytes / 2**30:.1f} GiB)",
            )
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


def decode_bytes(
    path: str,
    data: bytes,
    limits: DecodeLimits,
    *,
    reduction: Reduction = _reduction,
    shrink: bool = True,
) -> tuple[np.ndarray, ImageMeta] | ScanError:
    """Header check, then a reduced decode; all failures become one-line reasons.

    The scan uses the defaults (short side >= 64, then shrunk for the features); the preview's
    thumbnails pass their own ``reduction`` and keep the decoded size.
    """
    fmt = _sniff(data[:32])
    if fmt is None:
        return ScanError(path, "not an image (content is not JPEG/PNG/GIF/WebP/BMP/TIFF/HEIC/AVIF)")
    if fmt == "HEIF" and not _ensure_heif():
        return ScanError(path, "HEIC/HEIF support is not installed (pip install pillow-heif)")
    if fmt == "AVIF":
        _ensure_heif()
    # a header too large for Pillow's guard leaves these at "unknown" (see _bomb_size)
    fields, orientation, has_alpha = ExifFields(), 1, False
    quality: int | None = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as im:
                width, height = im.size
                has_alpha = im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info
                exif = _header_exif(im)
                fields = read_exif(exif)
                orientation = exif.get(0x0112, 1) if fmt == "JPEG" and exif else 1
                # the DQT segments are part of the header Pillow has parsed already
                quality = (
                    estimate_jpeg_quality(getattr(im, "quantization", None))
                    if fmt == "JPEG"
                    else None
                )
    except UnidentifiedImageError:
        return ScanError(path, f"corrupt or unsupported {fmt} header")
    except Image.DecompressionBombError:
        width, height = _bomb_size(data)
    except Exception as exc:
        return ScanError(path, f"corrupt {fmt} header: {exc}")
    if width <= 0 or height <= 0:
        return ScanError(path, f"invalid dimensions {width}×{height}")
    if fmt == "JPEG" and jpeg_truncated(data):
        return ScanError(path, "truncated JPEG (the file ends before the end of the image)")
    if width * height > limits.max_pixels:
        return ScanError(
            path,
            f"image too large: {width}×{height} px exceeds the limit of "
            f"{limits.max_pixels / 1e6:.0f} MP (possible decompression bomb)",
        )
    try:
        image = _decode_pixels(data, fmt, width, height, has_alpha, reduction)
        if shrink:
            image = _shrink(image)
    except Exception as exc:  # OpenCV/Pillow raise many types for broken data
        return ScanError(path, f"corrupt or truncated {fmt}: {str(exc).splitlines()[0][:120]}")
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    meta = ImageMeta(
        width,
        height,
        fmt,
        fields.taken,
        fields.camera,
        fields.has_gps,
        subsec_ms=fields.subsec_ms,
        offset_min=fields.offset_min,
        unique_id=fields.unique_id,
        software=fields.software,
        jpeg_quality=quality,
    )
    return image, meta


def decode_file(
    entry: FileEntry, limits: DecodeLimits | None = None, *, want_digest: bool = False
) -> Decoded | ScanError:
    """Read once, decode once; the digest (for exact duplicates) comes from the same bytes.

    The scan calls :func:`read_file` and :func:`decode_data` itself, so that only the CPU part
    holds one of its CPU slots (engine.scan.compute_row).
    """
    limits = limits or DecodeLimits()
    data = read_file(entry, limits)
    if isinstance(data, ScanError):
        return data
    return decode_data(entry.path, data, limits, want_digest=want_digest)


def decode_data(
    path: str, data: bytes, limits: DecodeLimits, *, want_digest: bool = False
) -> Decoded | ScanError:
    """:func:`decode_bytes` plus the content digest: the CPU part of :func:`decode_file`."""
    from tui_dedup.engine.files.digest import digest_bytes

    result = decode_bytes(path, data, limits)
    if isinstance(result, ScanError):
        return result
    image, meta = result
    return Decoded(image, meta, digest_bytes(data) if want_digest else None)
