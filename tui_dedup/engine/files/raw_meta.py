"""What a RAW file's header says: container kind, and the EXIF fields LibRaw does not give.

Why a module of its own: LibRaw (through rawpy) gives the orientation (``sizes.flip``), a
capture time in whole seconds without zone (``other.timestamp``) and ``shot_order``, but no
make, model, sub-seconds, zone or unique id, which the verdicts' capture rule and the keeper
rules read. And rawpy 0.28 unpacks the whole sensor data to answer ``other`` (24 MB read for a
12 MP DNG, measured), so the capture time comes from here too; ``other.timestamp`` is read only
when the sensor data was rendered anyway. The fields come from the file's own EXIF, read
through the open file descriptor with ``pread`` (a few KB; never the sensor data):

- TIFF-based RAWs (DNG, CR2, NEF, NRW, ARW, SR2, SRF, PEF, SRW, ORF, RW2, 3FR, ERF, IIQ, ...):
  IFD0 and its EXIF IFD, parsed by Pillow's TIFF directory reader (the same reader that gives
  JPEG and HEIC files their EXIF, so :func:`exif_evidence.exif_fields` reads them alike).
  ORF and RW2 have their own magic numbers in place of 42, but the same directories.
- CR3 (ISO base media): the CMT1 (IFD0) and CMT2 (EXIF IFD) boxes inside Canon's ``uuid`` box
  in ``moov``, each a little TIFF file of its own.
- RAF and others: nothing here; the caller falls back to the EXIF of the embedded preview
  JPEG (a RAF's preview carries the camera's full EXIF).
"""

from __future__ import annotations

import io
import os
import struct
import warnings
from typing import IO, cast

from tui_dedup.engine.files.exif_evidence import ExifFields, exif_fields

#: Bytes of a RAW read before anything else: the magic, and usually IFD0 with its EXIF IFD.
HEAD_BYTES = 64 * 1024
#: Most bytes the EXIF reader may read from one RAW (maker notes included): a corrupt count
#: must not make it read a whole file.
MAX_META_BYTES = 4 * 1024 * 1024

_CANON_UUID = bytes.fromhex("85c0b687820f11e08111f4ce462b6a48")


def container(head: bytes) -> str | None:
    """The RAW container named by its magic bytes: "TIFF" (with ORF's and RW2's variants),
    "CR3", "RAF", "X3F", "MRW", "CRW"; None for anything else."""
    if head[:4] in (b"II*\x00", b"MM\x00*", b"IIRO", b"IIRS", b"MMOR", b"IIU\x00"):
        return "TIFF"
    if head[4:12] == b"ftypcrx ":
        return "CR3"
    if head.startswith(b"FUJIFILMCCD-RAW"):
        return "RAF"
    if head.startswith(b"FOVb"):
        return "X3F"
    if head.startswith(b"\x00MRM"):
        return "MRW"
    if head[:2] == b"II" and head[6:14] == b"HEAPCCDR":
        return "CRW"
    return None


class _PReader(io.RawIOBase):
    """A read-only file over ``fd`` by ``pread`` (the descriptor's own offset is never moved),
    that reads at most :data:`MAX_META_BYTES` in all."""

    def __init__(self, fd: int, size: int) -> None:
        self.fd, self.size, self.pos, self.budget = fd, size, 0, MAX_META_BYTES

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self.pos, 2: self.size}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def tell(self) -> int:
        return self.pos

    def read(self, n: int | None = -1) -> bytes:
        if n is None or n < 0:
            n = self.size - self.pos
        n = max(0, min(n, self.size - self.pos, self.budget))
        data = os.pread(self.fd, n, self.pos) if n else b""
        self.pos += len(data)
        self.budget -= len(data)
        return data


def tiff_exif(fd: int, size: int, head: bytes) -> ExifFields:
    """IFD0 and its EXIF IFD of a TIFF-based RAW; empty fields when they cannot be read."""
    from PIL import Image

    order = "<" if head[:2] == b"II" else ">"
    if len(head) < 8:
        return ExifFields()
    (ifd0,) = struct.unpack_from(order + "I", head, 4)
    exif = Image.Exif()
    exif.endian = order
    exif.bigtiff = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exif.load_from_fp(cast(IO[bytes], _PReader(fd, size)), ifd0)
            try:
                sub = dict(exif.get_ifd(0x8769))
            except Exception:
                sub = {}
            try:
                gps = bool(exif.get_ifd(0x8825))
            except Exception:
                gps = False
            return exif_fields(dict(exif), sub, gps)
    except Exception:
        return ExifFields()


def _boxes(reader: _PReader, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of the ISO-BMFF boxes in [start, end)."""
    out: list[tuple[bytes, int, int]] = []
    pos = start
    while pos + 8 <= end and len(out) < 64:
        reader.seek(pos)
        hdr = reader.read(16)
        if len(hdr) < 8:
            break
        size, kind = struct.unpack(">I4s", hdr[:8])
        body = pos + 8
        if size == 1 and len(hdr) == 16:
            (size,) = struct.unpack(">Q", hdr[8:16])
            body = pos + 16
        elif size == 0:
            size = end - pos
        if size < body - pos or pos + size > end:
            break
        out.append((kind, body, pos + size))
        pos += size
    return out


def _tiff_ifd0(data: bytes) -> dict[int, object]:
    """IFD0 of a small TIFF held in memory (a CR3 CMT box), as a dict; {} when unreadable."""
    from PIL import Image

    exif = Image.Exif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exif.load(data)
        return dict(exif)
    except Exception:
        return {}


def cr3_exif(fd: int, size: int) -> ExifFields:
    """A CR3's CMT1 (IFD0) and CMT2 (EXIF IFD), from ``moov``/Canon ``uuid``; empty fields
    when they are not where Canon puts them."""
    reader = _PReader(fd, size)
    try:
        moov = next((b for b in _boxes(reader, 0, size) if b[0] == b"moov"), None)
        if moov is None:
            return ExifFields()
        for kind, body, end in _boxes(reader, moov[1], moov[2]):
            if kind != b"uuid":
                continue
            reader.seek(body)
            if reader.read(16) != _CANON_UUID:
                continue
            parts = {}
            for sub_kind, sub_body, sub_end in _boxes(reader, body + 16, end):
                if sub_kind in (b"CMT1", b"CMT2", b"CMT4") and sub_end - sub_body <= 1 << 20:
                    reader.seek(sub_body)
                    parts[sub_kind] = reader.read(sub_end - sub_body)
            return exif_fields(
                _tiff_ifd0(parts.get(b"CMT1", b"")),
                _tiff_ifd0(parts.get(b"CMT2", b"")),
                bool(_tiff_ifd0(parts.get(b"CMT4", b""))),
            )
    except (OSError, struct.error, ValueError):
        return ExifFields()
    return ExifFields()


def header_exif(fd: int, size: int, head: bytes) -> ExifFields:
    """The EXIF fields of a RAW from its own header (see the module docstring)."""
    kind = container(head)
    if kind == "TIFF":
        return tiff_exif(fd, size, head)
    if kind == "CR3":
        return cr3_exif(fd, size)
    return ExifFields()


# ----------------------------------------------------------------------------- truncation

#: Tags of a TIFF directory that locate image data: (offsets, byte counts).
_DATA_TAGS = ((273, 279), (324, 325), (513, 514))  # strips, tiles, JPEG interchange format
_SUB_IFDS = 330
_TYPE_SIZE = {3: 2, 4: 4, 13: 4, 16: 8}


def _tiff_walk(reader: _PReader, head: bytes) -> tuple[int, list[tuple[int, int]]]:
    """(the furthest byte any directory's strips, tiles or JPEG preview reach, the JPEG
    images stored whole: (offset, length)) over IFD0, the IFDs chained after it and their
    SubIFDs; at most 32 directories."""
    order = "<" if head[:2] == b"II" else ">"
    (first,) = struct.unpack_from(order + "I", head, 4)
    todo: list[int] = [first]
    seen: set[int] = set()
    end = 0
    jpegs: list[tuple[int, int]] = []
    while todo and len(seen) < 32:
        at = todo.pop()
        if at in seen or at <= 0 or at + 2 > reader.size:
            continue
        seen.add(at)
        reader.seek(at)
        raw_count = reader.read(2)
        if len(raw_count) < 2:
            break
        (count,) = struct.unpack(order + "H", raw_count)
        entries = reader.read(12 * min(count, 1024) + 4)
        values: dict[int, tuple[int, ...]] = {}
        for k in range(min(count, 1024, (len(entries) - 4) // 12)):
            tag, typ, n, _ = struct.unpack_from(order + "HHI4s", entries, 12 * k)
            size = _TYPE_SIZE.get(typ)
            if size is None or n == 0 or n > 1 << 16:
                continue
            if n * size <= 4:
                data = entries[12 * k + 8 : 12 * k + 8 + n * size]
            else:
                (offset,) = struct.unpack_from(order + "I", entries, 12 * k + 8)
                reader.seek(offset)
                data = reader.read(n * size)
                if len(data) < n * size:
                    continue
            fmt = {2: "H", 4: "I", 8: "Q"}[size]
            values[tag] = struct.unpack(order + fmt * n, data)
        for offsets, counts in _DATA_TAGS:
            if offsets in values and counts in values:
                for o, c in zip(values[offsets], values[counts], strict=False):
                    end = max(end, o + c)
        if values.get(513) and values.get(514):  # JPEGInterchangeFormat(Length)
            jpegs.append((values[513][0], values[514][0]))
        elif values.get(259, (0,))[0] in (6, 7) and len(values.get(273, ())) == 1:
            jpegs.append((values[273][0], values.get(279, (0,))[0]))  # one JPEG strip
        todo.extend(values.get(_SUB_IFDS, ()))
        if len(entries) == 12 * count + 4:
            (nxt,) = struct.unpack_from(order + "I", entries, 12 * count)
            todo.append(nxt)
    return end, jpegs


def embedded_jpegs(fd: int, size: int, head: bytes) -> list[tuple[int, int]]:
    """The whole JPEG images a RAW's own directories locate, largest first, as (offset,
    length) within the file: in a DNG, CR2, NEF or ARW the camera's preview is among them (so
    are thumbnails, and a CR2's or DNG's lossless-JPEG sensor data, which a baseline decoder
    refuses). A RAF's header locates its preview. [] for other containers."""
    kind = container(head)
    reader = _PReader(fd, size)
    reader.budget = 1 << 20
    found: list[tuple[int, int]] = []
    try:
        if kind == "TIFF":
            found = _tiff_walk(reader, head)[1]
        elif kind == "RAF" and len(head) >= 92:
            found = [struct.unpack_from(">2I", head, 84)]
    except (OSError, struct.error, ValueError, KeyError):
        return []
    return sorted(
        ((o, n) for o, n in found if o > 0 and n > 0 and o + n <= size), key=lambda j: -j[1]
    )


def data_end(fd: int, size: int, head: bytes) -> int:
    """How far into the file its headers say image data reaches (0: unknown): a file shorter
    than that was cut off (a copy that stopped half-way), even when its preview, near the
    start, still decodes. TIFF-based RAWs: every directory's strips and tiles; CR3: its
    top-level boxes; RAF: the preview and sensor data its header locates."""
    kind = container(head)
    reader = _PReader(fd, size)
    reader.budget = 1 << 20
    try:
        if kind == "TIFF":
            return _tiff_walk(reader, head)[0]
        if kind == "CR3":
            boxes = _boxes_declared(reader, size)
            return boxes
        if kind == "RAF" and len(head) >= 108:
            jo, jl, _, _, co, cl = struct.unpack_from(">6I", head, 84)
            return max(jo + jl, co + cl)
    except (OSError, struct.error, ValueError, KeyError):
        return 0
    return 0


def _boxes_declared(reader: _PReader, size: int) -> int:
    """Where the top-level boxes of an ISO-BMFF file say it ends."""
    pos = 0
    while pos + 8 <= size:
        reader.seek(pos)
        hdr = reader.read(16)
        if len(hdr) < 8:
            break
        (box,) = struct.unpack(">I", hdr[:4])
        if box == 1 and len(hdr) == 16:
            (box,) = struct.unpack(">Q", hdr[8:16])
        if box == 0:
            return size
        if box < 8:
            return 0
        pos += box
    return pos


def jpeg_frame(head: bytes) -> tuple[int, int, int] | None:
    """(SOF marker, width, height) of the JPEG starting ``head`` (its first bytes suffice),
    walking the marker segments to the first start-of-frame; None when there is none."""
    if not head.startswith(b"\xff\xd8"):
        return None
    pos, n = 2, len(head)
    while pos + 4 <= n:
        if head[pos] != 0xFF:
            return None
        marker = head[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        length = int.from_bytes(head[pos + 2 : pos + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if pos + 9 > n:
                return None
            h = int.from_bytes(head[pos + 5 : pos + 7], "big")
            w = int.from_bytes(head[pos + 7 : pos + 9], "big")
            return marker, w, h
        if marker in (0xD9, 0xDA) or length < 2:
            return None
        pos += 2 + length
    return None
