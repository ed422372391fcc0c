"""The fixed binary layout of one feature-cache row: :class:`FeatureRow` ↔ ``data`` blob.

Layout, per row: the hashes of all methods in :data:`HASH_METHODS` order as one little-endian uint64
blob of shape (methods, VARIANTS, words); histograms as little-endian float32 blobs (so a warm scan
reproduces a cold one bit for bit); numeric meta. Format, camera and digest are SQL columns of their
own (see :mod:`tui_dedup.engine.cache.db`), as are ctime_ns and the edge digest, which only the
identity rules read (:mod:`tui_dedup.engine.cache.identity`). Paths are stored as the bytes of
``os.fsencode`` (:data:`FS_ENCODING`, ``surrogateescape``) so every POSIX file name round-trips.

Writing packs rows one by one (:func:`pack_records`); reading never does:
:class:`RecordColumns` parses a chunk of hit blobs with numpy straight into preallocated
columns and hands them over as one :class:`FeatureBlock`.
"""

from __future__ import annotations

import sys

import numpy as np

from tui_dedup.engine.features import hashes as _features
from tui_dedup.engine.features.meta_columns import MetaColumns
from tui_dedup.engine.features.store import FeatureBlock, FeatureRow
from tui_dedup.engine.files.digest import DIGEST_SIZE
from tui_dedup.engine.model import FileEntry
from tui_dedup.engine.registry import HASH_METHODS

_U64 = np.dtype("<u8")
_F32 = np.dtype("<f4")
#: Paths are stored as ``path.encode(FS_ENCODING, "surrogateescape")``.
FS_ENCODING = sys.getfilesystemencoding()


def record_dtype(hash_size: int) -> np.dtype:
    """The fixed-width ``data`` blob of one row: numeric meta, then all features.

    Packed, little-endian: size and mtime_ns (again, so a hit is checked in numpy; they stay
    first, engine.cache_identity reads them before a re-check), width,
    height, has_gps, taken (NaN = unknown), sharpness, detail, the hashes of
    :data:`HASH_METHODS` as (methods, VARIANTS, words) uint64, hist3 and hist1 as float32,
    the tile signature as TILE_SIDE² uint8.
    """
    words = (hash_size * hash_size + 63) // 64
    return np.dtype(
        [
            ("size", "<i8"),
            ("mtime_ns", "<i8"),
            ("width", "<i4"),
            ("height", "<i4"),
            ("has_gps", "u1"),
            ("taken", "<f8"),
            ("sharpness", "<f8"),
            ("detail", "<f8"),
            ("hashes", _U64, (len(HASH_METHODS), _features.VARIANTS, words)),
            ("hist3", _F32, (3 * _features.HIST3_BINS,)),
            ("hist1", _F32, (_features.HIST1_BINS,)),
            ("tiles", "u1", (_features.TILE_SIDE * _features.TILE_SIDE,)),
        ]
    )


def pack_records(items: list[tuple[FileEntry, FeatureRow]], hash_size: int) -> list[bytes]:
    """The ``data`` blob of each item (see :func:`record_dtype`).

    Raises ValueError for a row whose hashes do not fit ``hash_size``.
    """
    rec = np.zeros(len(items), record_dtype(hash_size))
    want = rec.dtype["hashes"].shape[1:]
    for k, (e, r) in enumerate(items):
        hashes = [np.asarray(r.hashes[m]) for m in HASH_METHODS]
        if any(h.shape != want for h in hashes):
            raise ValueError(f"hash shape {hashes[0].shape} does not fit hash size {hash_size}")
        m = r.meta
        rec[k] = (
            e.size,
            e.mtime_ns,
            m.width,
            m.height,
            m.has_gps,
            np.nan if m.taken is None else m.taken,
            m.sharpness,
            r.detail,
            hashes,
            r.hist3,
            r.hist1,
            0 if r.tiles is None else r.tiles,
        )
    return [rec[k].tobytes() for k in range(len(items))]


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
        shape = self.rec["hashes"].shape
        self.count = 0
        # np.empty: pages are touched only as rows arrive, so unused capacity costs no memory
        self.index = np.empty(n, np.int64)
        self.hashes = np.empty((n, *shape), np.uint64)
        self.hist3 = np.empty((n, *self.rec["hist3"].shape), np.float32)
        self.hist1 = np.empty((n, *self.rec["hist1"].shape), np.float32)
        self.tiles = np.empty((n, *self.rec["tiles"].shape), np.uint8)
        self.num = np.empty(
            n,
            [
                ("width", "<i4"),
                ("height", "<i4"),
                ("has_gps", "u1"),
                ("taken", "<f8"),
                ("sharpness", "<f8"),
                ("detail", "<f8"),
            ],
        )
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
        self.hashes[lo:hi] = data["hashes"]
        self.hist3[lo:hi] = data["hist3"]
        self.hist1[lo:hi] = data["hist1"]
        self.tiles[lo:hi] = data["tiles"]
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
        hashes = self.hashes[:c]
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
        block = FeatureBlock(
            metas,
            {m: hashes[:, i] for i, m in enumerate(HASH_METHODS)},
            self.hist3[:c],
            self.hist1[:c],
            num["detail"].astype(np.float32),
            self.digests[:c],
            self.has_digest[:c],
            self.tiles[:c],
        )
        return self.index[:c], block
