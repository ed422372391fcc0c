"""What a file's header says about where it came from: EXIF fields, JPEG quality, capture match.

Why a module of its own: the decoder reads these in the same header pass as the size (Pillow's
``Image.open`` parses the header, ``getexif()`` the EXIF block; no pixel is decoded for them),
but *what they mean* is a separate question that the keeper rules (review/keepers.py) and the
verdicts ask: which of two copies was derived from the other, and are two near-identical
pictures one shot or two. The functions here are pure (bytes and strings in, values out) so each
normalisation can be tested on its own, and the decoder only calls :func:`read_exif` and
:func:`estimate_jpeg_quality`.

Normalised forms (what :class:`~tui_dedup.engine.model.ImageMeta` holds, and the cache stores):

- ``subsec_ms``: SubSecTimeOriginal as milliseconds 0–999 (``"5"`` → 500, ``"05"`` → 50,
  ``"123456"`` → 123); None when absent or not digits.
- ``offset_min``: OffsetTimeOriginal (``"+02:00"``) as minutes east of UTC; None when absent.
- ``unique_id``: 32 lowercase hex digits (128 bits), from EXIF ImageUniqueID (0xA420) when it is
  what the standard says it is (128 bits as hex), else from Apple's maker-note content
  identifier (a UUID). Anything else is ignored: some phones write a firmware string there that
  is the same on every picture they take, which would make every two of them "the same shot".
- ``burst_id`` (:class:`ExifFields` only, read by engine/bursts): Apple's BurstUUID, maker-note
  tag 0x000b, the same on every frame of one burst, as 32 hex digits like ``unique_id``.
- ``software``: the Software tag (0x0131), stripped, at most :data:`SOFTWARE_MAX_BYTES` bytes of
  UTF-8 (so the fixed-width cache row round-trips it exactly).
- ``jpeg_quality``: the IJG quality (1–100) whose scaled standard tables best fit the file's
  quantisation tables; None for other formats.
"""

from __future__ import annotations

import hashlib
import math
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from PIL import Image

    from tui_dedup.engine.model import ImageMeta

#: Longest Software value kept, in UTF-8 bytes (a fixed-width field of the cache row).
SOFTWARE_MAX_BYTES = 48

# EXIF tags (TIFF/EXIF 2.32 numbering).
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_MAKE, _MODEL, _SOFTWARE, _DATETIME = 0x010F, 0x0110, 0x0131, 0x0132
_DATETIME_ORIGINAL, _SUBSEC, _SUBSEC_ORIGINAL = 0x9003, 0x9290, 0x9291
_OFFSET, _OFFSET_ORIGINAL = 0x9010, 0x9011
_MAKER_NOTE, _IMAGE_UNIQUE_ID = 0x927C, 0xA420
#: Apple maker note: "Apple iOS\0", version (2 bytes), "MM", then an IFD whose offsets count
#: from the start of the note. Tag 0x0011 is the content identifier (ExifTool's
#: MediaGroupUUID/ContentIdentifier): one per capture, kept by every copy of the file.
_APPLE_MAGIC = b"Apple iOS\x00"
_APPLE_CONTENT_ID = 0x0011
#: Tag 0x000b is the BurstUUID: one per burst, the same on every frame of it (engine/bursts).
_APPLE_BURST_UUID = 0x000B


@dataclass(frozen=True, slots=True)
class ExifFields:
    """Everything :func:`read_exif` takes from one EXIF block (see the module docstring)."""

    taken: float | None = None
    camera: str | None = None
    has_gps: bool = False
    subsec_ms: int | None = None
    offset_min: int | None = None
    unique_id: str | None = None
    software: str | None = None
    burst_id: str | None = None  # Apple's BurstUUID (32 hex digits); not kept in ImageMeta


def _text(raw: object) -> str:
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    return str(raw).strip("\x00 \t\r\n") if raw is not None else ""


def parse_datetime(raw: object) -> float | None:
    """``"YYYY:MM:DD HH:MM:SS"`` as POSIX seconds in local time, like ImageMeta.taken."""
    text = _text(raw)
    if not text:
        return None
    try:
        return datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S").timestamp()
    except (ValueError, OverflowError, OSError):
        return None


def parse_subsec(raw: object) -> int | None:
    """SubSecTime* (the digits after the decimal point of the second) as milliseconds.

    The tag holds a fraction's digits, not a count: ``"5"`` is 0.5 s, ``"05"`` 0.05 s; digits
    beyond the millisecond are dropped.
    """
    text = _text(raw)
    if not text or not text.isascii() or not text.isdigit():
        return None
    return int((text + "000")[:3])


_OFFSET_RX = re.compile(r"^([+-])(\d{2}):(\d{2})$")


def parse_offset(raw: object) -> int | None:
    """OffsetTime* (``"+02:00"``, ``"-05:30"``) as minutes east of UTC; None when malformed."""
    m = _OFFSET_RX.match(_text(raw))
    if not m:
        return None
    minutes = int(m[2]) * 60 + int(m[3])
    if minutes > 14 * 60 or int(m[3]) >= 60:
        return None
    return -minutes if m[1] == "-" else minutes


_HEX32 = re.compile(r"^[0-9a-f]{32}$")


def normalise_unique_id(raw: object) -> str | None:
    """A 128-bit id as 32 lowercase hex digits (dashes of a UUID dropped), else None.

    An id of all zeros or one repeated digit is no id (a placeholder some firmwares write).
    """
    text = _text(raw).replace("-", "").lower()
    if not _HEX32.match(text) or len(set(text)) == 1:
        return None
    return text


def apple_content_id(note: bytes) -> str | None:
    """The content identifier in an Apple maker note, normalised; None if absent or malformed.

    Cheap: the note is a few hundred bytes already in memory; one IFD is walked, no more.
    """
    return _apple_id(note, _APPLE_CONTENT_ID)


def apple_burst_id(note: bytes) -> str | None:
    """The BurstUUID in an Apple maker note (the same on every frame of one burst), normalised;
    None if absent or malformed."""
    return _apple_id(note, _APPLE_BURST_UUID)


def _apple_id(note: bytes, wanted: int) -> str | None:
    if not note.startswith(_APPLE_MAGIC) or note[12:14] != b"MM":
        return None
    try:
        (count,) = struct.unpack_from(">H", note, 14)
        for k in range(min(count, 256)):
            tag, typ, n, value = struct.unpack_from(">HHII", note, 16 + 12 * k)
            if tag != wanted:
                continue
            if typ != 2 or n > 256:  # ASCII
                return None
            raw = struct.pack(">I", value)[:n] if n <= 4 else note[value : value + n]
            return normalise_unique_id(raw)
    except struct.error:
        return None
    return None


def normalise_software(raw: object) -> str | None:
    """The Software tag, stripped, cut to :data:`SOFTWARE_MAX_BYTES` bytes of UTF-8."""
    text = _text(raw)
    if not text:
        return None
    cut = text.encode("utf-8", "replace")[:SOFTWARE_MAX_BYTES].decode("utf-8", "ignore")
    return cut.rstrip() or None


def read_exif(exif: Image.Exif | None) -> ExifFields:
    """The fields the rules and verdicts use, from a header-only EXIF block; never raises.

    The capture time is DateTimeOriginal with its SubSecTimeOriginal and OffsetTimeOriginal;
    a file without DateTimeOriginal falls back to DateTime (0x0132) with SubSecTime and
    OffsetTime, so the three parts always describe the same clock reading.
    """
    if not exif:
        return ExifFields()
    try:
        sub = exif.get_ifd(_EXIF_IFD)
    except Exception:
        sub = {}
    try:
        has_gps = bool(exif.get_ifd(_GPS_IFD))
    except Exception:
        has_gps = False
    return exif_fields(exif, sub, has_gps)


def exif_fields(ifd0: Mapping[int, object], sub: Mapping[int, object], has_gps: bool) -> ExifFields:
    """:func:`read_exif` from IFD0 and the EXIF IFD as two mappings (tag → value): where they
    are not one block (a CR3 keeps them in two boxes); never raises."""
    try:
        return _fields(ifd0, sub, has_gps)
    except Exception:
        return ExifFields()


def _fields(ifd0: Mapping[int, object], sub: Mapping[int, object], has_gps: bool) -> ExifFields:
    taken = parse_datetime(sub.get(_DATETIME_ORIGINAL))
    if taken is not None:
        subsec = parse_subsec(sub.get(_SUBSEC_ORIGINAL))
        offset = parse_offset(sub.get(_OFFSET_ORIGINAL))
    else:
        taken = parse_datetime(ifd0.get(_DATETIME))
        subsec = parse_subsec(sub.get(_SUBSEC)) if taken is not None else None
        offset = parse_offset(sub.get(_OFFSET)) if taken is not None else None
    make, model = _text(ifd0.get(_MAKE)), _text(ifd0.get(_MODEL))
    camera = (model if model.startswith(make) else f"{make} {model}").strip() or None
    unique_id = normalise_unique_id(sub.get(_IMAGE_UNIQUE_ID))
    note = sub.get(_MAKER_NOTE) if make.lower().startswith("apple") else None
    if unique_id is None and isinstance(note, bytes):
        unique_id = apple_content_id(note)
    return ExifFields(
        taken=taken,
        camera=camera,
        has_gps=has_gps,
        subsec_ms=subsec,
        offset_min=offset,
        unique_id=unique_id,
        software=normalise_software(ifd0.get(_SOFTWARE)),
        burst_id=apple_burst_id(note) if isinstance(note, bytes) else None,
    )


# ----------------------------------------------------------------------------- capture evidence

Evidence = Literal["same-shot", "different-shots", "none"]

#: Two capture instants less than this apart (and not the same) are two shots.
SHOT_WINDOW_S = 300.0


def _instant_ms(m: ImageMeta, both_offsets: bool) -> int | None:
    if m.taken is None:
        return None
    t = m.taken
    if both_offsets and m.offset_min is not None:
        t -= m.offset_min * 60  # the same moment recorded in two time zones compares equal
    return round(t * 1000)


def capture_evidence(a: ImageMeta, b: ImageMeta) -> Evidence:
    """What two files' capture metadata says: one shot (copies), two shots, or nothing.

    - ``"same-shot"``: the same unique id (EXIF ImageUniqueID or Apple's content identifier),
      or the same capture instant to the sub-second (DateTimeOriginal + SubSecTimeOriginal,
      both known). Strong evidence that one file is a copy of the other.
    - ``"different-shots"``: both instants known, less than :data:`SHOT_WINDOW_S` apart and
      not a whole number of hours apart (a time-zone shift a copy tool made), and either in
      different seconds or in the same second with different sub-seconds: a burst, or a
      second take of the same scene.
    - ``"none"``: anything else. Equal to the second without sub-seconds is no evidence (burst
      frames share the second); nor are two different unique ids (editors write new ones).

    Sub-second 0 counts as unknown: some cameras write ``"00"`` on every frame. When both
    files record their UTC offset, instants are compared in UTC.
    """
    if a.unique_id is not None and a.unique_id == b.unique_id:
        return "same-shot"
    both_offsets = a.offset_min is not None and b.offset_min is not None
    ta, tb = _instant_ms(a, both_offsets), _instant_ms(b, both_offsets)
    if ta is None or tb is None:
        return "none"
    sa = a.subsec_ms or None  # 0: unknown (see above)
    sb = b.subsec_ms or None
    seconds = abs(ta - tb) / 1000
    if seconds == 0:
        if sa is None or sb is None:
            return "none"
        return "same-shot" if sa == sb else "different-shots"
    if sa is not None and sb is not None:
        seconds = abs((ta + sa) - (tb + sb)) / 1000
    whole_hours = math.isclose(seconds % 3600, 0, abs_tol=1e-3) or math.isclose(
        seconds % 3600, 3600, abs_tol=1e-3
    )
    if seconds < SHOT_WINDOW_S and not whole_hours:
        return "different-shots"
    return "none"


# ----------------------------------------------------------------------------- Software tag

#: Software values written by editors, converters and messengers (a word anywhere in the tag,
#: case-insensitive). A camera's firmware ("Ver.1.10"), a phone's OS version ("17.1") or
#: camera pipeline ("HDR+ 1.0") matches none of them.
EDITOR_WORDS = (
    "adobe",
    "photoshop",
    "lightroom",
    "gimp",
    "snapseed",
    "picasa",
    "paint.net",
    "affinity",
    "pixelmator",
    "capture one",
    "darktable",
    "rawtherapee",
    "luminar",
    "acdsee",
    "digikam",
    "shotwell",
    "windows photo",
    "photoscape",
    "fotor",
    "canva",
    "vsco",
    "facetune",
    "picsart",
    "polarr",
    "imagemagick",
    "graphicsmagick",
    "xnview",
    "irfanview",
    "photo editor",
)
MESSENGER_WORDS = (
    "whatsapp",
    "telegram",
    "signal",
    "facebook",
    "instagram",
    "messenger",
    "viber",
    "wechat",
    "snapchat",
)
_EDITOR_RX = re.compile(r"\b(" + "|".join(re.escape(w) for w in EDITOR_WORDS) + r")\b", re.I)
_MESSENGER_RX = re.compile(r"\b(" + "|".join(re.escape(w) for w in MESSENGER_WORDS) + r")\b", re.I)


def software_kind(software: str | None) -> Literal["editor", "messenger"] | None:
    """Whether a Software tag names an editor/converter or a messenger (None: neither, which
    includes camera firmware and phone OS versions)."""
    if not software:
        return None
    if _MESSENGER_RX.search(software):
        return "messenger"
    if _EDITOR_RX.search(software):
        return "editor"
    return None


def unique_id_key(unique_id: str | None) -> bytes:
    """16 bytes for the cache row: the id's own bits, all zeros for None. An id made by hand
    that is not 32 hex digits (tests, old callers) is hashed to 16 bytes, which keeps
    equality, the only thing an id is used for."""
    if unique_id is None:
        return bytes(16)
    if _HEX32.match(unique_id):
        return bytes.fromhex(unique_id)
    return hashlib.blake2b(unique_id.encode("utf-8", "surrogateescape"), digest_size=16).digest()
