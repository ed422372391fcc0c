"""The fixed binary layout of one feature-cache row: :class:`FeatureRow` ↔ ``data`` blob.

Layout, per row: numeric meta, then every declared feature column
(:data:`tui_dedup.engine.features.columns.PARTS`: detail, the hashes of each method in registry
order as (VARIANTS, words) uint64, the histograms as float32 — so a warm scan reproduces a cold
one bit for bit — and the tile signature), all little-endian. Format, camera and digest are SQL
columns of their own (see :mod:`tui_dedup.engine.cache.schema`), as are ctime_ns and the edge
digest, which only the identity rules read (:mod:`tui_dedup.engine.cache.identity`). Paths are
stored as the bytes of ``os.fsencode`` (:data:`FS_ENCODING`, ``surrogateescape``) so every POSIX
file name round-trips.

Writing packs rows one by one (:func:`pack_records`); reading never does:
:class:`RecordColumns` parses a chunk of hit blobs with numpy straight into preallocated
columns and hands them over as one :class:`FeatureBlock`.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from tui_dedup.engine.features import columns as _columns
from tui_dedup.engine.features.meta_columns import NO_OFFSET, NO_QUALITY, NO_SUBSEC, MetaColumns
from tui_dedup.engine.features.store import FeatureBlock, FeatureRow
from tui_dedup.engine.files.digest import DIGEST_SIZE
from tui_dedup.engine.files.exif_evidence import SOFTWARE_MAX_BYTES, unique_id_key
from tui_dedup.engine.model import FileEntry

#: Paths are stored as ``path.encode(FS_ENCODING, "surrogateescape")``.
FS_ENCODING = sys.getfilesystemencoding()


#: The numeric meta that begins every blob. Size and mtime_ns stay first: engine.cache.identity
#: reads them before a re-check.
_META = [
    ("size", "<i8"),
    ("mtime_ns", "<i8"),
    ("width", "<i4"),
    ("height", "<i4"),
    ("has_gps", "u1"),
    ("taken", "<f8"),  # NaN = unknown
    ("sharpness", "<f8"),
    # capture evidence (engine/files/exif_evidence.py); "unknown" as in MetaColumns
    ("subsec_ms", "<i2"),  # NO_SUBSEC = unknown
    ("offset_min", "<i2"),  # NO_OFFSET = unknown
    ("jpeg_quality", "u1"),  # NO_QUALITY = unknown
    ("unique_id", "u1", (16,)),  # zeros = unknown
    ("software", f"S{SOFTWARE_MAX_BYTES}"),  # UTF-8, NUL-padded; empty = none
]


def record_dtype(hash_size: int) -> np.dtype:
    """The fixed-width ``data`` blob of one row: numeric meta, then every feature column.

    Packed, little-endian: size and mtime_ns (again, so a hit is checked in numpy), width,
    height, has_gps, taken, sharpness, the capture evidence (subsec_ms, offset_min,
    jpeg_quality, unique_id as 16 bytes, software as NUL-padded UTF-8), then each part of the
    column declaration in its order and stored dtype (detail float64, ``hashes/<method>``
    uint64 (VARIANTS, words) per hash method, hist3 and hist1 float32, the tile signature
    uint8).
    """
    return np.dtype(
        _META + [(p.name, p.column.blob_dtype(), p.column.shape(hash_size)) for p in _columns.PARTS]
    )


def pack_records(items: list[tuple[FileEntry, FeatureRow]], hash_size: int) -> list[bytes]:
    """The ``data`` blob of each item (see :func:`record_dtype`); a column a row lacks (not
    computed) is zeros.

    Raises ValueError for a row whose hashes (or any column) do not fit ``hash_size``.
    """
    n = len(items)
    rec = np.zeros(n, record_dtype(hash_size))
    rec["size"] = np.fromiter((e.size for e, _ in items), np.int64, n)
    rec["mtime_ns"] = np.fromiter((e.mtime_ns for e, _ in items), np.int64, n)
    metas = [r.meta for _, r in items]
    rec["width"] = np.fromiter((m.width for m in metas), np.int64, n)
    rec["height"] = np.fromiter((m.height for m in metas), np.int64, n)
    rec["has_gps"] = np.fromiter((m.has_gps for m in metas), bool, n)
    rec["taken"] = np.fromiter((np.nan if m.taken is None else m.taken for m in metas), float, n)
    rec["sharpness"] = np.fromiter((m.sharpness for m in metas), float, n)
    rec["subsec_ms"] = [NO_SUBSEC if m.subsec_ms is None else m.subsec_ms for m in metas]
    rec["offset_min"] = [NO_OFFSET if m.offset_min is None else m.offset_min for m in metas]
    rec["jpeg_quality"] = [NO_QUALITY if m.jpeg_quality is None else m.jpeg_quality for m in metas]
    if n:
        ids = b"".join(unique_id_key(m.unique_id) for m in metas)
        rec["unique_id"] = np.frombuffer(ids, np.uint8).reshape(n, 16)
    # decode cuts Software to the field (exif_evidence.normalise_software); a longer value
    # made by hand is cut here, on a character boundary
    rec["software"] = [
        (m.software or "")
        .encode("utf-8", "replace")[:SOFTWARE_MAX_BYTES]
        .decode("utf-8", "ignore")
        .encode("utf-8")
        for m in metas
    ]
    for p in _columns.PARTS:
        col = rec[p.name]
        want = col.shape[1:]
        for k, (_, r) in enumerate(items):
            value = p.of(r)
            if value is None:
                continue
            value = np.asarray(value)
            if value.shape != want:
                raise ValueError(f"{p.name} shape {value.shape} does not fit hash size {hash_size}")
            col[k] = value
    return [rec[k].tobytes() for k in range(n)]


def _records(blobs: list[bytes], rec: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """Blobs → one structured array (read-only, no per-row parsing) and a mask of the blobs
    that had the right length (others are treated as misses)."""
    good = np.fromiter((len(b) == rec.itemsize for b in blobs), bool, len(blobs))
    joined = (
        b"".join(blobs)
        if good.all()
        else b"".join(b for b, g in zip(blobs, good.tolist(), strict=True) if g)
    )
    return np.frombuffer(joined, rec), good


def _software_codes(raw: np.ndarray) -> dict[str, Any]:
    """A column of NUL-padded UTF-8 Software values → codes into a table (-1: none)."""
    table, inverse = np.unique(raw, return_inverse=True)
    names = [bytes(b).decode("utf-8", "replace") for b in table.tolist()]
    codes = np.asarray(inverse, np.int32).reshape(-1)
    if names and names[0] == "":  # np.unique sorts: the empty value (none) comes first
        return {"software_code": codes - 1, "softwares": names[1:]}
    return {"software_code": codes, "softwares": names}


class RecordColumns:
    """Preallocated columns that cache rows are parsed into, chunk by chunk (see
    :meth:`tui_dedup.engine.cache.features.FeatureCache.get_block`)."""

    def __init__(self, n: int, hash_size: int) -> None:
        self.rec = record_dtype(hash_size)
        self.count = 0
        # np.empty: pages are touched only as rows arrive, so unused capacity costs no memory
        self.index = np.empty(n, np.int64)
        self.parts = {
            p.name: np.empty((n, *p.column.shape(hash_size)), p.column.dtype)
            for p in _columns.PARTS
        }
        self.num = np.empty(n, [f for f in _META if f[0] not in ("size", "mtime_ns")])
        self.digests = np.zeros((n, DIGEST_SIZE), np.uint8)
        self.has_digest = np.zeros(n, bool)
        self.formats: dict[str, int] = {}
        self.cameras: dict[str, int] = {}
        self.format_code = np.empty(n, np.int32)
        self.camera_code = np.empty(n, np.int32)

    def add(self, ks: list[int], rows: list[tuple], sizes: np.ndarray, mtimes: np.ndarray) -> None:
        """Rows (path, data, format, camera, digest) for entries ``ks``; rows whose blob is
        malformed or whose size/mtime no longer match the file are dropped (misses)."""
        if not rows:
            return
        data, good = _records([r[1] for r in rows], self.rec)
        at = np.flatnonzero(good)
        k_arr = np.asarray(ks, np.int64)[at]
        same = (data["size"] == sizes[k_arr]) & (data["mtime_ns"] == mtimes[k_arr])
        if not same.all():
            data, k_arr, at = data[same], k_arr[same], at[same]
        m = len(k_arr)
        lo, hi = self.count, self.count + m
        self.index[lo:hi] = k_arr
        for name, col in self.parts.items():
            col[lo:hi] = data[name]  # detail: float64 in the blob, float32 here
        for name in self.num.dtype.names or ():
            self.num[name][lo:hi] = data[name]
        del data
        kept = [rows[i] for i in at.tolist()]
        fmt, cam = self.formats, self.cameras
        self.format_code[lo:hi] = [fmt.setdefault(r[2], len(fmt)) for r in kept]
        self.camera_code[lo:hi] = [
            -1 if r[3] is None else cam.setdefault(r[3], len(cam)) for r in kept
        ]
        dig = [(lo + i, r[4]) for i, r in enumerate(kept) if r[4] is not None]
        dig = [(i, d) for i, d in dig if len(d) == DIGEST_SIZE]
        if dig:
            pos = np.fromiter((i for i, _ in dig), np.int64, len(dig))
            self.digests[pos] = np.frombuffer(b"".join(d for _, d in dig), np.uint8).reshape(
                -1, DIGEST_SIZE
            )
            self.has_digest[pos] = True
        self.count = hi

    def finish(self) -> tuple[np.ndarray, FeatureBlock]:
        c = self.count
        num = self.num[:c]
        metas = MetaColumns(
            num["width"].astype(np.int64),
            num["height"].astype(np.int64),
            self.format_code[:c].copy(),
            list(self.formats),
            num["taken"].copy(),
            self.camera_code[:c].copy(),
            list(self.cameras),
            num["has_gps"] == 1,
            num["sharpness"].copy(),
            subsec_ms=num["subsec_ms"].astype(np.int16),
            offset_min=num["offset_min"].astype(np.int16),
            unique_id=num["unique_id"].astype(np.uint8),
            jpeg_quality=num["jpeg_quality"].astype(np.uint8),
            **_software_codes(num["software"]),
        )
        hashes, features = _columns.split({name: a[:c] for name, a in self.parts.items()})
        block = FeatureBlock(metas, hashes, features, self.digests[:c], self.has_digest[:c])
        return self.index[:c], block
