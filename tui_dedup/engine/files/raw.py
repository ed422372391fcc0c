"""RAW camera files: the camera's own embedded preview, upright, without a demosaic.

Why the preview: a RAW holds the sensor data and, beside it, the JPEG the camera rendered from
it (full size on most bodies since about 2010; CR2, NEF, ARW, DNG, RAF, ORF, RW2, PEF...). That
JPEG is what the photographer saw, what an export looks like, and it decodes at 1/8 scale in
libjpeg's DCT stage, while rendering the sensor data costs a demosaic. Only the headers and the
preview are read: LibRaw's ``open_file`` reads the headers (tens of KB: sizes, orientation);
the preview is read where the file's own directories put it (TIFF-based RAWs, RAF: one
``pread``), or else from LibRaw's ``extract_thumb`` (CR3, maker-note previews, bitmaps). A 24 MP
RAW costs its preview's size in reads, not the file's (benchmarks/bench_raw.py measures it).

The rules, in order:

- the container is named by its magic bytes (:func:`raw_meta.container`) before LibRaw sees
  the file; anything else under a RAW name is an error record (a JPEG misnamed ``.NEF`` is
  decoded by its content, like every misnamed file);
- a file shorter than its headers say (:func:`raw_meta.data_end`: a copy cut off half-way) is
  an error record, even though its preview near the start would still decode: the keeper
  rules prefer a RAW, and must never keep a damaged one over its intact JPEG;
- the sensor size LibRaw reports is checked against ``--max-pixels`` before any pixel is read,
  and the preview's own size too (its header) before it is decoded;
- the preview is used when its short side is at least :data:`MIN_PREVIEW_SHORT` (the verdicts'
  working size) and its aspect ratio is within :data:`PREVIEW_ASPECT_TOLERANCE` of the sensor's
  (a 4:3 preview of a 3:2 sensor is letterboxed or cropped: not the picture); otherwise the
  sensor data is rendered at half size (LibRaw's ``half_size``: one pixel per 2×2 Bayer cell,
  no interpolation), so the pixel check still compares the whole picture;
- the preview JPEG is decoded ignoring its own EXIF orientation (``IMREAD_IGNORE_ORIENTATION``),
  and the RAW's orientation (``sizes.flip``) is applied once, to whichever image was used: a
  camera writes its previews unrotated, like its sensor data, and some write an Orientation
  tag into the preview too, which would turn the picture twice.

One function, :func:`decode_raw`, serves the scan, the pixel check, the preview pane and the
details compare (all through :func:`tui_dedup.engine.files.decode.decode_input`).

LibRaw runs in this process. 50,000 truncated, bit-flipped and byte-inserted DNGs, DNGs dressed
as other makes (their Make, no DNGVersion, so LibRaw takes that maker's parser) and RAW magic
numbers followed by junk, each opened, its preview extracted and its sensor data rendered in a
child process, never crashed it (LibRaw 0.22.2, rawpy 0.28; tests/engine/test_raw_fuzz.py keeps
a sample of them in the test suite). So a spawned worker, whose start-up and copying every RAW
would pay, is not used.
"""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from tui_dedup.engine.files import raw_meta
from tui_dedup.engine.files.discover import RAW_FORMATS
from tui_dedup.engine.files.exif_evidence import ExifFields, read_exif
from tui_dedup.engine.files.source import (
    _REDUCED,
    DecodeLimits,
    Reduction,
    _os_reason,
    _read_all,
    _shrink,
    _to_bgr8,
    checked_stat,
    jpeg_truncated,
    sniff,
)
from tui_dedup.engine.model import FileEntry, ImageMeta, ScanError

#: A preview is used only with at least this short side (the verdicts' working size,
#: engine/verdicts/pixels.py WORK_MIN_SHORT) ...
MIN_PREVIEW_SHORT = 256
#: ... and an aspect ratio within this of the sensor's (|log ratio|: 1 %).
PREVIEW_ASPECT_TOLERANCE = 0.01
#: Bytes read from the end of a RAW for its edge digest (engine/files/digest.py EDGE_BYTES).
TAIL_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class RawInput:
    """A RAW file as the scan holds it before the decode: its identity, first and last bytes,
    never the whole file (LibRaw reads what it needs itself)."""

    path: str
    size: int
    head: bytes  # the first raw_meta.HEAD_BYTES (the whole file when smaller)
    tail: bytes  # the last TAIL_BYTES (the whole file when smaller)
    dev: int
    ino: int
    mtime_ns: int

    def __len__(self) -> int:
        return self.size


def _open(path: str) -> int:
    return os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))


def read_raw(entry: FileEntry, limits: DecodeLimits) -> RawInput | bytes | ScanError:
    """The checks :func:`source.read_file` makes (regular file, not empty, not above the size
    limit), then the head and tail only. A file whose content is another image format (a JPEG
    named ``.NEF``) is read whole and returned as bytes, to be decoded by its content."""
    try:
        fd = _open(entry.path)
    except OSError as exc:
        return ScanError(entry.path, _os_reason(exc))
    try:
        st = checked_stat(entry.path, fd, limits)
        if isinstance(st, ScanError):
            return st
        whole = st.st_size <= 2 * TAIL_BYTES  # the edge digest covers such a file whole
        head = _read_all(fd, st.st_size) if whole else os.pread(fd, raw_meta.HEAD_BYTES, 0)
        if raw_meta.container(head) is None and sniff(head[:32]) not in (None, "TIFF"):
            return head if whole else _read_all(fd, st.st_size)  # offset still 0: pread
        tail = head if whole else os.pread(fd, TAIL_BYTES, st.st_size - TAIL_BYTES)
        return RawInput(entry.path, st.st_size, head, tail, st.st_dev, st.st_ino, st.st_mtime_ns)
    except OSError as exc:
        return ScanError(entry.path, _os_reason(exc))
    finally:
        os.close(fd)


_RAWPY: Any = None


def _rawpy() -> Any:
    """rawpy, imported on first use (LibRaw is a few MB to load; a library without RAWs never
    pays it); None when it cannot be imported."""
    global _RAWPY
    if _RAWPY is None:
        try:
            import rawpy

            _RAWPY = rawpy
        except Exception:
            _RAWPY = False
    return _RAWPY or None


def _fd_path(fd: int, path: str) -> str:
    """A name LibRaw can open that is the file we opened and checked (not whatever the path
    names by now): the descriptor's /proc or /dev/fd entry where the system has one."""
    for folder in ("/proc/self/fd", "/dev/fd"):
        if os.path.isdir(folder):
            return f"{folder}/{fd}"
    return path


#: LibRaw's ``sizes.flip`` → the EXIF orientation that means the same turn (dcraw maps EXIF
#: orientation o to flip "50132467"[o & 7]).
FLIP_TO_ORIENTATION = {0: 1, 1: 2, 3: 3, 2: 4, 4: 5, 6: 6, 7: 7, 5: 8}


def orient(img: np.ndarray, orientation: int) -> np.ndarray:
    """The pixels a viewer shows for ``img`` stored with EXIF ``orientation`` (1-8)."""
    if orientation == 2:
        return cv2.flip(img, 1)
    if orientation == 3:
        return cv2.rotate(img, cv2.ROTATE_180)
    if orientation == 4:
        return cv2.flip(img, 0)
    if orientation == 5:
        return cv2.transpose(img)
    if orientation == 6:
        return cv2.rotate(img, cv2.ROTATE_90_CLOCKWISE)
    if orientation == 7:
        return cv2.rotate(cv2.transpose(img), cv2.ROTATE_180)
    if orientation == 8:
        return cv2.rotate(img, cv2.ROTATE_90_COUNTERCLOCKWISE)
    return img


def usable_preview(pw: int, ph: int, sw: int, sh: int) -> bool:
    """Is a ``pw``×``ph`` preview the picture of a ``sw``×``sh`` sensor, large enough?"""
    if min(pw, ph) < MIN_PREVIEW_SHORT or min(sw, sh) <= 0:
        return False
    return abs(np.log((pw / ph) / (sw / sh))) <= PREVIEW_ASPECT_TOLERANCE


@dataclass(slots=True)
class _Preview:
    image: np.ndarray | None  # BGR, unrotated; None: not usable
    exif: ExifFields
    why: str = ""


def _jpeg_preview(
    data: bytes, sw: int, sh: int, limits: DecodeLimits, reduction: Reduction
) -> _Preview:
    """The preview JPEG, decoded reduced and without its own orientation, with its EXIF."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as im:
                pw, ph = im.size
                exif = read_exif(im.getexif()) if im.format == "JPEG" else ExifFields()
                is_jpeg = im.format == "JPEG"
    except Exception:
        return _Preview(None, ExifFields(), "unreadable preview")
    if not is_jpeg or jpeg_truncated(data):
        return _Preview(None, exif, "damaged preview")
    if pw * ph > limits.max_pixels or not usable_preview(pw, ph, sw, sh):
        return _Preview(None, exif, "preview too small or of another shape")
    r = reduction(pw, ph)
    flag = (_REDUCED[r] if r > 1 else cv2.IMREAD_COLOR) | cv2.IMREAD_IGNORE_ORIENTATION
    img = cv2.imdecode(np.frombuffer(data, np.uint8), flag)
    if img is None or img.size == 0:
        return _Preview(None, exif, "unreadable preview")
    return _Preview(img, exif)


#: SOF markers of the JPEGs a preview is: baseline, extended and progressive (not the lossless
#: SOF3 that a CR2's or DNG's sensor data is stored in).
_PREVIEW_SOF = (0xC0, 0xC1, 0xC2)


def _own_preview(
    fd: int, src: RawInput, sw: int, sh: int, limits: DecodeLimits, red: Reduction
) -> _Preview | None:
    """The largest usable JPEG the RAW's own directories locate, read with ``pread``
    (one copy; LibRaw's ``extract_thumb`` copies a 24 MP preview three times, which cost 6 ms
    a file, measured); None when there is none, and LibRaw's choice is asked for."""
    for offset, length in raw_meta.embedded_jpegs(fd, src.size, src.head)[:6]:
        frame = raw_meta.jpeg_frame(os.pread(fd, min(length, 1 << 16), offset))
        if frame is None or frame[0] not in _PREVIEW_SOF:
            continue
        _, pw, ph = frame
        if pw * ph > limits.max_pixels or not usable_preview(pw, ph, sw, sh):
            continue
        got = _jpeg_preview(os.pread(fd, length, offset), sw, sh, limits, red)
        if got.image is not None:
            return got
    return None


def _preview(
    raw: Any,
    rawpy: Any,
    fd: int,
    src: RawInput,
    sw: int,
    sh: int,
    limits: DecodeLimits,
    red: Reduction,
) -> _Preview:
    own = _own_preview(fd, src, sw, sh, limits, red)
    if own is not None:
        return own
    try:
        thumb = raw.extract_thumb()
    except (rawpy.LibRawNoThumbnailError, rawpy.LibRawUnsupportedThumbnailError):
        return _Preview(None, ExifFields(), "no preview")
    except rawpy.LibRawError:
        return _Preview(None, ExifFields(), "unreadable preview")
    if thumb.format == rawpy.ThumbFormat.JPEG:
        return _jpeg_preview(bytes(thumb.data), sw, sh, limits, red)
    arr = np.asarray(thumb.data)
    if arr.ndim != 3 or arr.shape[2] != 3 or not usable_preview(arr.shape[1], arr.shape[0], sw, sh):
        return _Preview(None, ExifFields(), "preview too small or of another shape")
    return _Preview(np.ascontiguousarray(arr[:, :, ::-1]), ExifFields())


def _sensor(raw: Any) -> np.ndarray:
    """The sensor data rendered at half size (one pixel per 2×2 cell), unrotated, BGR."""
    rgb = raw.postprocess(half_size=True, user_flip=0, output_bps=8, use_camera_wb=True)
    return np.ascontiguousarray(np.asarray(rgb)[:, :, ::-1])


def _first_line(exc: BaseException) -> str:
    arg = exc.args[0] if len(exc.args) == 1 else None
    text = arg.decode("utf-8", "replace") if isinstance(arg, bytes) else str(exc)  # rawpy: bytes
    return (text.splitlines() or [type(exc).__name__])[0][:120]


def _reason(fmt: str, exc: BaseException) -> str:
    text = _first_line(exc)
    name = type(exc).__name__
    if "Unsupported" in name:
        return f"unsupported or corrupt {fmt} (LibRaw cannot read it: {text})"
    if "TooBig" in name or "Memory" in name or "MemPool" in name:
        return f"{fmt} too large for LibRaw ({text})"
    return f"corrupt or truncated {fmt}: {text}"


def decode_raw(
    src: RawInput, limits: DecodeLimits, *, reduction: Reduction, shrink: bool
) -> tuple[np.ndarray, ImageMeta] | ScanError:
    """The preview (or the half-size sensor data), upright, and what the headers say."""
    path = src.path
    fmt = RAW_FORMATS.get(os.path.splitext(path)[1].lower(), "RAW")
    if raw_meta.container(src.head) is None:
        return ScanError(
            path,
            f"not a RAW file LibRaw reads (content is not a TIFF/CR3/RAF/X3F/MRW/CRW RAW; "
            f"named .{fmt.lower()})",
        )
    rawpy = _rawpy()
    if rawpy is None:
        return ScanError(path, "RAW support is not installed (pip install rawpy)")
    try:
        fd = _open(path)
    except OSError as exc:
        return ScanError(path, _os_reason(exc))
    try:
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns) != (
            src.dev,
            src.ino,
            src.size,
            src.mtime_ns,
        ):
            return ScanError(path, "changed while it was being read")
        end = raw_meta.data_end(fd, src.size, src.head)
        if end > src.size:
            return ScanError(
                path,
                f"truncated {fmt} (the file ends at byte {src.size:,}; its headers place image "
                f"data up to byte {end:,})",
            )
        return _decode_open(fd, src, fmt, rawpy, limits, reduction, shrink)
    except OSError as exc:
        return ScanError(path, _os_reason(exc))
    finally:
        os.close(fd)


def _decode_open(
    fd: int,
    src: RawInput,
    fmt: str,
    rawpy: Any,
    limits: DecodeLimits,
    reduction: Reduction,
    shrink: bool,
) -> tuple[np.ndarray, ImageMeta] | ScanError:
    path = src.path
    try:
        with rawpy.RawPy() as raw:
            raw.open_file(_fd_path(fd, path))
            sizes = raw.sizes  # never raw.other here: rawpy 0.28 unpacks the sensor data for it
            sw, sh = int(sizes.width), int(sizes.height)
            if sw <= 0 or sh <= 0:
                return ScanError(path, f"invalid dimensions {sw}×{sh}")
            full = max(sw * sh, int(sizes.raw_width) * int(sizes.raw_height))
            if full > limits.max_pixels:
                return ScanError(
                    path,
                    f"image too large: {sw}×{sh} px exceeds the limit of "
                    f"{limits.max_pixels / 1e6:.0f} MP",
                )
            preview = _preview(raw, rawpy, fd, src, sw, sh, limits, reduction)
            flip = int(sizes.flip)
            timestamp = None
            img = preview.image
            if img is None:
                img = _sensor(raw)
                timestamp = raw.other.timestamp  # unpacked by now: free
    except rawpy.LibRawError as exc:
        return ScanError(path, _reason(fmt, exc))
    except Exception as exc:  # rawpy and OpenCV raise many types for broken data
        return ScanError(path, f"corrupt or truncated {fmt}: {_first_line(exc)}")
    if img is None or img.size == 0:
        return ScanError(path, f"corrupt {fmt}: no pixels")
    orientation = FLIP_TO_ORIENTATION.get(flip, 1)
    img = orient(_to_bgr8(img), orientation)
    if shrink:
        img = _shrink(img)
    fields = raw_meta.header_exif(fd, src.size, src.head)
    if fields == ExifFields():
        fields = preview.exif
    taken = fields.taken
    if taken is None and timestamp is not None:
        try:
            taken = float(timestamp.timestamp()) or None  # naive local time, as parse_datetime
        except (AttributeError, OverflowError, OSError, ValueError):
            taken = None
    width, height = (sh, sw) if orientation in (5, 6, 7, 8) else (sw, sh)
    meta = ImageMeta(
        width,
        height,
        fmt,
        taken,
        fields.camera,
        fields.has_gps,
        subsec_ms=fields.subsec_ms if fields.taken is not None else None,
        offset_min=fields.offset_min if fields.taken is not None else None,
        unique_id=fields.unique_id,
        software=fields.software,
    )
    return np.ascontiguousarray(img), meta
