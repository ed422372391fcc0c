"""The fixed binary layout of one feature-cache row: :class:`FeatureRow` ↔ ``data`` blob.

Layout, per row: numeric meta, then every declared feature column
(:data:`tui_dedup.engine.features.columns.PARTS`: detail, the hashes of each method in registry
order as (VARIANTS, words) uint64, the histograms as float32 — so a warm scan reproduces a cold
one bit for bit — and the tile signature), all little-endian. Format, camera and digest are SQL
columns of their own (see :mod:`tui_dedup.engine.cache.db`), as are ctime_ns and the edge
digest, which only the identity rules read (:mod:`tui_dedup.engine.cache.identity`). Paths are
stored as the bytes of ``os.fsencode`` (:data:`FS_ENCODING`, ``surrogateescape``) so every POSIX
file name round-trips.

Writing packs rows one by one (:func:`pack_records`); reading never does:
:class:`RecordColumns` parses a chunk of hit blobs with numpy straight into preallocated
columns and hands them over as one :class:`FeatureBlock`.
"""

from __future__ import annotations

import sys

import numpy as np

from tui_dedup.engine.features import columns as _columns
from tui_dedup.engine.features.meta_columns import MetaColumns
from tui_dedup.engine.features.store import FeatureBlock, FeatureRow
from tui_dedup.engine.files.digest import DIGEST_SIZE
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
]


def record_dtype(hash_size: int) -> np.dtype:
    """The fixed-width ``data`` blob of one row: numeric meta, then every feature column.

    Packed, little-endian: size and mtime_ns (again, so a hit is checked in numpy), width,
    height, has_gps, taken, sharpness, then each part of the column declaration in its order
    and stored dtype (detail float64, ``hashes/<method>`` uint64 (VARIANTS, words) per hash
    method, hist3 and hist1 float32, the tile signature uint8).
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
        )
        hashes, features = _columns.split({name: a[:c] for name, a in self.parts.items()})
        block = FeatureBlock(metas, hashes, features, self.digests[:c], self.has_digest[:c])
        return self.index[:c], block
