"""Apple's BurstUUID of a file, read from the EXIF maker note Pillow parses from the header.

Why apart from the scan: the scan's metadata (ImageMeta, the cache row) has no place for it and
only frames from an Apple camera that the verdicts call similar shots ever need it, a handful
of files in a library; for those the header is parsed once more here. The maker-note walk
itself is engine/files/exif_evidence.py's (tag 0x000b); no other maker's notes are read.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image

from tui_dedup.engine.files.decode import DecodeLimits, read_input
from tui_dedup.engine.files.exif_evidence import read_exif
from tui_dedup.engine.files.source import sniff
from tui_dedup.engine.model import FileEntry

#: Containers whose EXIF Pillow reads from the header (a PNG's may follow its pixels).
_WITH_HEADER_EXIF = ("JPEG", "HEIF", "TIFF", "WEBP")


def _heif_ready() -> bool:
    try:
        import pillow_heif

        pillow_heif.register_heif_opener()  # the decoder registers it too; idempotent
    except Exception:
        return False
    return True


def read_burst_id(entry: FileEntry, limits: DecodeLimits | None = None) -> str | None:
    """The file's BurstUUID as 32 hex digits; None when it has none or cannot be read (an
    unreadable frame is reported by the ranking, which reads it again)."""
    data = read_input(entry, limits or DecodeLimits())
    if not isinstance(data, bytes):
        return None  # an error, or a RAW (Apple's bursts are HEIC or JPEG)
    fmt = sniff(data[:32])
    if fmt not in _WITH_HEADER_EXIF or (fmt == "HEIF" and not _heif_ready()):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as im:
                return read_exif(im.getexif()).burst_id
    except Exception:  # a damaged header: no id, the ranking says why
        return None
