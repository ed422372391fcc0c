"""Small decodes for looking at a picture: the preview pane and the pixel comparison.

Why a second decoder entry point: the scan decodes every file once to a ~128 px image for
features and keeps nothing. A person reviewing pairs needs a picture about the size of the
terminal pane, for two files at a time, again and again as they move back and forth. So:

* the file is read and decoded by the scan's own code (:func:`engine.decode.decode_entry`: no
  FIFOs, size limits; a RAW's embedded preview, upright, as the scan hashed it) and its header
  checked against the same pixel limit before any pixel is decoded;
* JPEGs are decoded in libjpeg's DCT stage at the largest reduction (1/2, 1/4, 1/8) that keeps
  the long side ≥ ``max_side``, never the full photo; OpenCV applies the EXIF orientation while
  at it, exactly as the scan's decode does, so a transform code found by matching refers to the
  same orientation the thumbnail has;
* the result is shrunk with INTER_AREA to a long side of ``max_side`` (never enlarged);
* a small thread-safe LRU keyed by (path, size, mtime_ns, ctime_ns, max_side) makes moving back
  to a pair instant; a changed file has a new key (ctime too: a rewrite whose mtime was put
  back with ``touch -r`` still moves it), so a stale thumbnail is never shown.

Errors are values, as everywhere in the engine: a :class:`ScanError` with a one-line reason.
Thumbnails are BGR uint8 and read-only (they are shared through the cache).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass

import cv2
import numpy as np

from tui_dedup.engine.files import decode
from tui_dedup.engine.model import FileEntry, ScanError

#: Thumbnails kept in memory, by total bytes (a 512 px thumbnail is ~0.6 MB).
CACHE_BYTES = 48 * 1024 * 1024
MIN_SIDE = 8
MAX_SIDE = 4096


@dataclass(frozen=True, slots=True)
class Thumbnail:
    """A downscaled BGR image and what the header said about the original."""

    image: np.ndarray  # (h, w, 3) uint8, read-only; long side ≤ max_side
    width: int  # original pixels, EXIF orientation applied (as ImageMeta)
    height: int
    format: str


class _LRU:
    """A byte-bounded LRU; one lock, held only for dictionary operations."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple, Thumbnail] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Thumbnail | None:
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def put(self, key: tuple, item: Thumbnail) -> None:
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old.image.nbytes
            self._items[key] = item
            self._bytes += item.image.nbytes
            while self._bytes > self.max_bytes and len(self._items) > 1:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= dropped.image.nbytes

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


_CACHE = _LRU(CACHE_BYTES)


def clear_cache() -> None:
    """Forget every cached thumbnail (tests; after files were changed in place)."""
    _CACHE.clear()


def cache_size() -> int:
    return len(_CACHE)


def reduction_for(width: int, height: int, max_side: int) -> int:
    """The largest JPEG DCT reduction (8, 4, 2, else 1) keeping the long side ≥ ``max_side``."""
    long_side = max(width, height)
    for r in (8, 4, 2):
        if long_side // r >= max_side:
            return r
    return 1


def fit_long_side(img: np.ndarray, max_side: int) -> np.ndarray:
    """INTER_AREA down to a long side of ``max_side``; smaller images are returned as they are."""
    h, w = img.shape[:2]
    long_side = max(h, w)
    if long_side <= max_side:
        return img
    s = max_side / long_side
    size = (max(1, round(w * s)), max(1, round(h * s)))
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA)


def _entry_for(path: str, st: os.stat_result) -> FileEntry:
    return FileEntry(
        path,
        os.path.dirname(path),
        st.st_size,
        st.st_mtime_ns,
        st.st_dev,
        st.st_ino,
        st.st_ctime_ns,
    )


def _load(path: str, max_side: int, st: os.stat_result) -> Thumbnail | ScanError:
    """The scan's reader and decoder (same header checks, limits and orientation), at a
    reduction chosen for the pane instead of for the hashes."""
    result = decode.decode_entry(
        _entry_for(path, st),
        decode.DecodeLimits(),
        reduction=lambda w, h: reduction_for(w, h, max_side),
        shrink=False,
    )
    if isinstance(result, ScanError):
        return result
    img, meta = result
    thumb = np.ascontiguousarray(fit_long_side(img, max_side))
    thumb.setflags(write=False)
    return Thumbnail(thumb, meta.width, meta.height, meta.format)


def read_thumbnail(path: str, max_side: int) -> Thumbnail | ScanError:
    """A thumbnail with the original's size and format; cached by path, size, times, side."""
    max_side = int(min(max(max_side, MIN_SIDE), MAX_SIDE))
    try:
        st = os.stat(path)
    except OSError as exc:
        return ScanError(path, decode._os_reason(exc))
    key = (path, st.st_size, st.st_mtime_ns, st.st_ctime_ns, max_side)
    hit = _CACHE.get(key)
    if hit is not None:
        return hit
    result = _load(path, max_side, st)
    if isinstance(result, Thumbnail):
        _CACHE.put(key, result)
    return result


def load_thumbnail(path: str, max_side: int) -> np.ndarray | ScanError:
    """A read-only BGR uint8 image whose long side is at most ``max_side`` (never enlarged)."""
    result = read_thumbnail(path, max_side)
    return result if isinstance(result, ScanError) else result.image
