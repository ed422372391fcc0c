"""Apple's content identifier, which ties a Live Photo's still to its movie whatever their names.

Why: the still and the movie of a Live Photo usually share a name (``IMG_0001.HEIC`` and
``IMG_0001.MOV``), and that is how they travel together (actions/paths.py). An export or a
copy that renamed one of them (``IMG_0001 (1).JPG`` beside ``IMG_0001.MOV``) leaves only the
identifier iOS writes into both: maker-note tag 0x0011 of the still (read into
``ImageMeta.unique_id`` by engine/files/exif_evidence.py) and the QuickTime metadata item
``com.apple.quicktime.content.identifier`` of the movie, read here.

The movie is never decoded: only its box headers are walked to the ``moov`` box, and only
that box (at most :data:`MAX_MOOV_BYTES`) is read.
"""

from __future__ import annotations

import os
import struct
import warnings

from PIL import Image

from tui_dedup.engine.files.exif_evidence import normalise_unique_id, read_exif

#: The key of the identifier in a movie's QuickTime metadata (``moov/meta/keys``).
CONTENT_ID_KEY = b"com.apple.quicktime.content.identifier"
#: A Live Photo's ``moov`` is a few kB; a long video's (its sample tables) runs to megabytes: not
#: read, so a folder of videos beside renamed stills costs a few header reads a movie.
MAX_MOOV_BYTES = 1 << 20


def _boxes(data: bytes, start: int = 0, end: int | None = None):
    """(type, payload start, payload end) of each box in ``data[start:end]``."""
    end = len(data) if end is None else end
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, at)
        head = 8
        if size == 1:
            if at + 16 > end:
                return
            (size,) = struct.unpack_from(">Q", data, at + 8)
            head = 16
        elif size == 0:
            size = end - at
        if size < head or at + size > end:
            return
        yield kind, at + head, at + size
        at += size


def _moov(f) -> bytes | None:
    """The ``moov`` box's payload, found by walking the top-level box headers."""
    f.seek(0, os.SEEK_END)
    total = f.tell()
    at = 0
    while at + 8 <= total:
        f.seek(at)
        head = f.read(16)
        if len(head) < 8:
            return None
        size, kind = struct.unpack_from(">I4s", head)
        skip = 8
        if size == 1:
            if len(head) < 16:
                return None
            (size,) = struct.unpack_from(">Q", head, 8)
            skip = 16
        elif size == 0:
            size = total - at
        if size < skip:
            return None
        if kind == b"moov":
            if size - skip > MAX_MOOV_BYTES:
                return None
            f.seek(at + skip)
            return f.read(size - skip)
        at += size
    return None


def _meta_items(data: bytes, start: int, end: int) -> dict[bytes, bytes]:
    """Key → raw value of a QuickTime ``meta`` box (``keys`` + ``ilst``)."""
    # a QuickTime meta box has no version/flags; an ISO one does: tell them by the first child
    if end - start >= 8 and data[start + 4 : start + 8] not in (b"hdlr", b"keys", b"ilst"):
        start += 4
    keys: list[bytes] = []
    items: dict[bytes, bytes] = {}
    for kind, s, e in _boxes(data, start, end):
        if kind == b"keys" and e - s >= 8:
            (count,) = struct.unpack_from(">I", data, s + 4)
            at = s + 8
            for _ in range(count):
                if at + 8 > e:
                    break
                (size,) = struct.unpack_from(">I", data, at)
                if size < 8 or at + size > e:
                    break
                keys.append(data[at + 8 : at + size])
                at += size
        elif kind == b"ilst":
            for index, s2, e2 in _boxes(data, s, e):
                (k,) = struct.unpack(">I", index)
                for kind3, s3, e3 in _boxes(data, s2, e2):
                    if kind3 == b"data" and e3 - s3 >= 8 and 1 <= k <= len(keys):
                        items[keys[k - 1]] = data[s3 + 8 : e3]
    return items


def movie_content_id(path: str) -> str | None:
    """A movie's Apple content identifier as 32 hex digits; None when it has none, is no
    QuickTime file, or cannot be read."""
    try:
        with open(path, "rb") as f:
            moov = _moov(f)
    except OSError:
        return None
    if moov is None:
        return None
    for kind, s, e in _boxes(moov):
        if kind == b"meta":
            value = _meta_items(moov, s, e).get(CONTENT_ID_KEY)
            if value is not None:
                return normalise_unique_id(value.decode("utf-8", "replace"))
    return None


def still_content_id(path: str) -> str | None:
    """A still's unique id from its EXIF header (an iPhone's content identifier, or EXIF
    ImageUniqueID), as 32 hex digits; None when it has none or cannot be read. Pillow reads
    the header only, not the pixels."""
    try:
        import pillow_heif

        pillow_heif.register_heif_opener()  # an iPhone's stills are HEIC; idempotent
    except Exception:
        pass
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as im:
                return read_exif(im.getexif()).unique_id
    except Exception:  # not an image, a damaged header: no identifier
        return None
