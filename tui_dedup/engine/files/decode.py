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
import io
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError

from tui_dedup.engine.files.discover import is_raw_path
from tui_dedup.engine.files.exif_evidence import ExifFields, read_exif
from tui_dedup.engine.files.jpeg_quality import estimate_jpeg_quality
from tui_dedup.engine.files.raw import RawInput, decode_raw, read_raw
from tui_dedup.engine.files.source import (
    _REDUCED,
    MIN_DECODE_SIDE,
    DecodeLimits,
    Reduction,
    _os_reason,
    _reduction,
    _shrink,
    _to_bgr8,
    jpeg_truncated,
    read_file,
)
from tui_dedup.engine.files.source import sniff as _sniff
from tui_dedup.engine.model import FileEntry, ImageMeta, ScanError

__all__ = [
    "MIN_DECODE_SIDE",
    "DecodeLimits",
    "Decoded",
    "Input",
    "RawInput",
    "Reduction",
    "decode_bytes",
    "decode_data",
    "decode_entry",
    "decode_file",
    "decode_input",
    "input_edge",
    "jpeg_truncated",
    "pillow_pixel_limit",
    "read_file",
    "read_input",
]

# OpenCV's own "[ERROR:0@…] imdecode_" lines: we report failures as ScanErrors instead.
with contextlib.suppress(AttributeError):
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
ImageFile.LOAD_TRUNCATED_IMAGES = False

_HEIF_READY: bool | None = None

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


_decode_bytes = decode_bytes

#: What a file is before its decode: its bytes, or for a RAW its header (raw.RawInput).
Input = bytes | RawInput


def read_input(entry: FileEntry, limits: DecodeLimits) -> Input | ScanError:
    """Read a file for :func:`decode_input`: whole, or for a RAW name only its head and tail
    (LibRaw reads the preview itself; see engine/files/raw.py)."""
    if is_raw_path(entry.path):
        return read_raw(entry, limits)
    return read_file(entry, limits)


def decode_input(
    path: str,
    data: Input,
    limits: DecodeLimits,
    *,
    reduction: Reduction = _reduction,
    shrink: bool = True,
) -> tuple[np.ndarray, ImageMeta] | ScanError:
    """:func:`decode_bytes` for bytes, :func:`raw.decode_raw` for a RAW: the one way every
    caller (scan, pixel check, preview, details) turns a file into pixels."""
    if isinstance(data, RawInput):
        return decode_raw(data, limits, reduction=reduction, shrink=shrink)
    if reduction is _reduction and shrink:
        return decode_bytes(path, data, limits)  # the scan's decode: tests count these calls
    # the pixel check's and the preview's own decodes, which the tests that count the scan's
    # decodes (by patching decode_bytes) do not count, as before RAW support
    return _decode_bytes(path, data, limits, reduction=reduction, shrink=shrink)


def decode_entry(
    entry: FileEntry,
    limits: DecodeLimits | None = None,
    *,
    reduction: Reduction = _reduction,
    shrink: bool = True,
) -> tuple[np.ndarray, ImageMeta] | ScanError:
    """:func:`read_input` then :func:`decode_input`: what the pixel check and the preview's
    thumbnails call, with their own reduction."""
    limits = limits or DecodeLimits()
    data = read_input(entry, limits)
    if isinstance(data, ScanError):
        return data
    return decode_input(entry.path, data, limits, reduction=reduction, shrink=shrink)


def input_edge(data: Input) -> bytes:
    """The edge digest (engine/files/digest.py) of the file ``data`` was read from."""
    from tui_dedup.engine.files import digest

    if isinstance(data, RawInput):
        return digest.edge_of(data.size, data.head, data.tail)
    return digest.edge_digest_bytes(data)


def decode_file(
    entry: FileEntry, limits: DecodeLimits | None = None, *, want_digest: bool = False
) -> Decoded | ScanError:
    """Read once, decode once; the digest (for exact duplicates) comes from the same bytes.

    The scan calls :func:`read_input` and :func:`decode_data` itself, so that only the CPU part
    holds one of its CPU slots (engine.scan.compute_row).
    """
    limits = limits or DecodeLimits()
    data = read_input(entry, limits)
    if isinstance(data, ScanError):
        return data
    return decode_data(entry.path, data, limits, want_digest=want_digest)


def decode_data(
    path: str, data: Input, limits: DecodeLimits, *, want_digest: bool = False
) -> Decoded | ScanError:
    """:func:`decode_input` plus the content digest: the CPU part of :func:`decode_file`.

    A RAW's digest streams the file (only files whose size and edges another file shares are
    asked for one: engine/scan.py); a file that changed meanwhile is an error record."""
    from tui_dedup.engine.files.digest import digest_bytes, digest_path

    result = decode_input(path, data, limits)
    if isinstance(result, ScanError):
        return result
    image, meta = result
    digest = None
    if want_digest and isinstance(data, RawInput):
        try:
            digest = digest_path(path)
        except OSError as exc:
            return ScanError(path, _os_reason(exc))
    elif want_digest and isinstance(data, bytes):
        digest = digest_bytes(data)
    return Decoded(image, meta, digest)
