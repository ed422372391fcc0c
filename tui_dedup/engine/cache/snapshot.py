"""A whole-store snapshot beside the feature cache: a warm rescan reads one file, not 10^5 rows.

Why: reading 100,000 rows back from SQLite and parsing them into columns costs about a second,
while the same columns saved as one flat file load in tens of milliseconds. After a scan the
store's columns and each row's identity (path, size, mtime_ns, ctime_ns) are written to one
file per settings key and set of roots; the next scan takes every file whose identity is
unchanged from it (compared in numpy) and asks SQLite only for the rest (where a file whose
ctime moved is re-checked, see :mod:`tui_dedup.engine.cache.identity`).

The snapshot is only an accelerator: everything in it is also in SQLite (or was decoded by the scan
that wrote it), and a row is used only when the file's identity matches exactly, which is what a
SQLite hit without a re-check requires too. It is valid only together with its database: each write
draws a random token that is stored in the database's ``snapshots`` table (see
:mod:`tui_dedup.engine.cache.db`) and in the file's header, so a cleared, rebuilt, deleted or
replaced database disowns every snapshot. The file carries a CRC-32 of everything after its fixed
prefix and a header that must describe exactly the arrays expected for its row count; anything else
— truncated, damaged, stale, foreign — is ignored (the rows come from SQLite and a fresh snapshot is
written after the scan). Writes go to a temporary file that is renamed into place, so a reader never
sees half a file.

Layout: ``MAGIC`` (8 bytes), header length and CRC-32 (two little-endian uint32), the header
(JSON: format, token, settings key, hash size, row count, format/camera/software tables, and for
each array its dtype, shape and offset), then the arrays, each 64-byte aligned: the identity and
meta columns, the digests, and one array per part of the feature-column declaration
(:data:`tui_dedup.engine.features.columns.PARTS`, named like the part: ``hist3``,
``hashes/phash``...), so a new column is saved and checked with no change here.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import mmap
import os
import secrets
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, fields
from itertools import repeat
from operator import attrgetter

import numpy as np

from tui_dedup.engine.cache.layout import FS_ENCODING
from tui_dedup.engine.features import columns as _columns
from tui_dedup.engine.features.meta_columns import MetaColumns
from tui_dedup.engine.features.store import FeatureBlock, FeatureStore
from tui_dedup.engine.files.digest import DIGEST_SIZE
from tui_dedup.engine.model import FileEntry

MAGIC = b"DDTSNAP1"
FORMAT = 3  # 2: ctime_ns is part of a row's identity, dev and ino are not. 3: capture evidence
KEEP = 3  # most recently written snapshots kept per cache (one per library scanned)
_PREFIX = struct.Struct("<8sII")  # magic, header length, CRC-32 of header + data
_ALIGN = 64


def snapshot_dir(cache_path: str) -> str:
    """Where a cache's snapshots live: a folder beside the database file."""
    return cache_path + ".stores"


def snapshot_name(settings_key: str, roots: Iterable[str]) -> str:
    """One snapshot per settings key and set of roots, so scanning two libraries in turn (or
    two hash sizes) does not make each scan overwrite the other's snapshot."""
    h = hashlib.blake2b(digest_size=10)
    h.update(settings_key.encode())
    for r in sorted(set(roots)):
        h.update(b"\0" + r.encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def new_token() -> str:
    return secrets.token_hex(16)


def _expected(n: int, hash_size: int, path_bytes: int) -> dict[str, tuple[np.dtype, tuple]]:
    """Every array a snapshot of ``n`` rows holds, with its exact dtype and shape: a header
    that says anything else is rejected, so a damaged header cannot make odd arrays."""
    i8, i4, i2, f8 = np.dtype("<i8"), np.dtype("<i4"), np.dtype("<i2"), np.dtype("<f8")
    b1, u1 = np.dtype("?"), np.dtype("u1")
    out: dict[str, tuple[np.dtype, tuple]] = {
        "paths": (u1, (path_bytes,)),
        "size": (i8, (n,)),
        "mtime_ns": (i8, (n,)),
        "ctime_ns": (i8, (n,)),
        "width": (i8, (n,)),
        "height": (i8, (n,)),
        "format_code": (i4, (n,)),
        "camera_code": (i4, (n,)),
        "taken": (f8, (n,)),
        "has_gps": (b1, (n,)),
        "sharpness": (f8, (n,)),
        "subsec_ms": (i2, (n,)),
        "offset_min": (i2, (n,)),
        "jpeg_quality": (u1, (n,)),
        "unique_id": (u1, (n, 16)),
        "software_code": (i4, (n,)),
        "digests": (u1, (n, DIGEST_SIZE)),
        "has_digest": (b1, (n,)),
    }
    for p in _columns.PARTS:
        out[p.name] = (p.column.dtype.newbyteorder("<"), (n, *p.column.shape(hash_size)))
    return out


#: The fields this format saves and restores; the feature columns are all in ``features`` and
#: ``hashes`` (see engine/features/columns.py). A store or block that grows another field must
#: teach this module about it: until then no snapshot is written or read (never a store that
#: silently lacks the new field).
_STORE_FIELDS = frozenset(
    {"hash_size", "entries", "metas", "hashes", "features", "digests", "has_digest"}
)
#: Made on demand (engine.verify, sorting), never cached: a store may have them or not.
_TRANSIENT = frozenset({"local", "crop_thumbs", "_cols"})
_BLOCK_FIELDS = ("metas", "hashes", "features", "digests", "has_digest")


def layout_known() -> bool:
    store = {f.name for f in fields(FeatureStore)} - _TRANSIENT
    block = tuple(f.name for f in fields(FeatureBlock))
    return store == _STORE_FIELDS and block == _BLOCK_FIELDS


def _columns_of(
    store: FeatureStore,
) -> tuple[dict[str, np.ndarray], list[str], list[str], list[str]]:
    if not layout_known():
        raise ValueError("the store has columns this snapshot format does not know")
    entries = store.entries
    n = len(entries)
    metas = store.metas
    if not isinstance(metas, MetaColumns):
        metas = MetaColumns.from_metas(metas)
    paths = "\0".join(e.path for e in entries).encode(FS_ENCODING, "surrogateescape")
    cols: dict[str, np.ndarray] = {
        "paths": np.frombuffer(paths, np.uint8),
        "size": np.fromiter((e.size for e in entries), np.int64, n),
        "mtime_ns": np.fromiter((e.mtime_ns for e in entries), np.int64, n),
        "ctime_ns": np.fromiter((e.ctime_ns for e in entries), np.int64, n),
        "width": metas.width,
        "height": metas.height,
        "format_code": metas.format_code,
        "camera_code": metas.camera_code,
        "taken": metas.taken,
        "has_gps": metas.has_gps,
        "sharpness": metas.sharpness,
        "subsec_ms": metas.subsec_ms,
        "offset_min": metas.offset_min,
        "jpeg_quality": metas.jpeg_quality,
        "unique_id": metas.unique_id,
        "software_code": metas.software_code,
        "digests": store.digests,
        "has_digest": store.has_digest,
    }
    for p in _columns.PARTS:
        a = p.of(store)
        # a store made without a column (tile signatures, say) has none: zeros mean the same
        cols[p.name] = a if a is not None and len(a) == n else p.column.zeros(n, store.hash_size)
    return cols, list(metas.formats), list(metas.cameras), list(metas.softwares)


def write_snapshot(path: str, token: str, settings_key: str, store: FeatureStore) -> None:
    """Write ``store`` to ``path`` atomically (temp file + rename). Raises OSError/ValueError;
    the caller turns that into "no snapshot" (it loses only time)."""
    n = len(store)
    cols, formats, cameras, softwares = _columns_of(store)
    want = _expected(n, store.hash_size, len(cols["paths"]))
    arrays: dict[str, list] = {}
    parts: list[np.ndarray] = []
    offset = 0
    for name, (dtype, shape) in want.items():
        a = np.ascontiguousarray(cols[name], dtype=dtype)
        if a.shape != shape:
            raise ValueError(f"snapshot column {name}: shape {a.shape}, expected {shape}")
        arrays[name] = [dtype.str, list(shape), offset]
        parts.append(a)
        offset += -(-a.nbytes // _ALIGN) * _ALIGN
    header = {
        "format": FORMAT,
        "token": token,
        "settings": settings_key,
        "hash_size": store.hash_size,
        "n": n,
        "data": offset,
        "formats": formats,
        "cameras": cameras,
        "softwares": softwares,
        "arrays": arrays,
    }
    head = json.dumps(header, ensure_ascii=False).encode("utf-8", "surrogateescape")
    head += b" " * (-(len(head) + _PREFIX.size) % _ALIGN)
    crc = zlib.crc32(head)
    tmp = f"{path}.{os.getpid()}.tmp"
    os.makedirs(os.path.dirname(path), exist_ok=True)
    try:
        with open(tmp, "wb") as f:
            f.write(_PREFIX.pack(MAGIC, len(head), 0))
            f.write(head)
            for a in parts:
                raw = a.data.cast("B") if a.nbytes else b""  # .data is memoryview(a)
                crc = zlib.crc32(raw, crc)
                f.write(raw)
                pad = -a.nbytes % _ALIGN
                if pad:
                    crc = zlib.crc32(b"\0" * pad, crc)
                    f.write(b"\0" * pad)
            f.seek(0)
            f.write(_PREFIX.pack(MAGIC, len(head), crc))
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


_PATH, _SIZE, _MTIME = attrgetter("path"), attrgetter("size"), attrgetter("mtime_ns")
_CTIME = attrgetter("ctime_ns")


@dataclass(slots=True)
class Snapshot:
    """A loaded snapshot: identity columns and features, row k ↔ ``paths[k]`` (path order)."""

    paths: list[str]
    size: np.ndarray
    mtime_ns: np.ndarray
    ctime_ns: np.ndarray
    block: FeatureBlock

    def __len__(self) -> int:
        return len(self.paths)

    def match(self, entries: list[FileEntry]) -> tuple[np.ndarray, np.ndarray]:
        """(indices of ``entries`` found unchanged, their snapshot rows), ordered by snapshot
        row — so when the whole snapshot is used the rows are 0..n-1 and the block is taken
        as it is, with no copy."""
        where = dict(zip(self.paths, range(len(self.paths)), strict=True))
        n = len(entries)
        # map + attrgetter: no Python frame per file (half the time of a generator)
        rows = np.fromiter(map(where.get, map(_PATH, entries), repeat(-1)), np.int64, n)
        del where
        known = np.flatnonzero(rows >= 0)
        r = rows[known]
        sub = entries if len(known) == n else [entries[k] for k in known.tolist()]
        m = len(sub)
        same = (
            (np.fromiter(map(_SIZE, sub), np.int64, m) == self.size[r])
            & (np.fromiter(map(_MTIME, sub), np.int64, m) == self.mtime_ns[r])
            & (np.fromiter(map(_CTIME, sub), np.int64, m) == self.ctime_ns[r])
        )
        if not same.all():
            known, r = known[same], r[same]
        order = np.argsort(r, kind="stable")
        return known[order], r[order]

    def take(self, rows: np.ndarray) -> FeatureBlock:
        if len(rows) == len(self) and (
            len(rows) == 0 or bool((rows == np.arange(len(rows))).all())
        ):
            return self.block
        return self.block.take(rows)


def read_snapshot(path: str, token: str, settings_key: str, hash_size: int) -> Snapshot | None:
    """The snapshot at ``path`` if it is whole and belongs to this database (``token``) and
    settings; None otherwise (missing, damaged, stale or foreign: never an exception)."""
    if not layout_known():
        return None
    try:
        with open(path, "rb") as f:
            if os.fstat(f.fileno()).st_size < _PREFIX.size:
                return None
            # Mapped, not read: no copy of ~1 KB per file, and pages come straight from the
            # page cache. Private (copy-on-write), so the store's columns stay writable and
            # the file is never changed; writers replace the file by rename, never in place,
            # so the mapping cannot shrink under us.
            mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
    except (OSError, ValueError):
        return None
    buf = np.frombuffer(mm, np.uint8)
    try:
        return _parse(buf, token, settings_key, hash_size)
    except (ValueError, KeyError, TypeError, IndexError, UnicodeDecodeError, struct.error):
        return None


def _parse(buf: np.ndarray, token: str, settings_key: str, hash_size: int) -> Snapshot | None:
    magic, head_len, crc = _PREFIX.unpack(buf[: _PREFIX.size].tobytes())
    start = _PREFIX.size + head_len
    if magic != MAGIC or start > len(buf):
        return None
    head = buf[_PREFIX.size : start].tobytes()
    h = json.loads(head.decode("utf-8", "surrogateescape"))
    if (
        h["format"] != FORMAT
        or h["token"] != token
        or h["settings"] != settings_key
        or h["hash_size"] != hash_size
        or start + h["data"] != len(buf)
    ):
        return None
    if zlib.crc32(buf.data[_PREFIX.size :]) != crc:
        return None
    n, arrays = int(h["n"]), h["arrays"]
    path_bytes = int(arrays["paths"][1][0])
    want = _expected(n, hash_size, path_bytes)
    if set(arrays) != set(want):
        return None
    data = buf[start:]
    cols: dict[str, np.ndarray] = {}
    for name, (dtype, shape) in want.items():
        dstr, dshape, off = arrays[name]
        if np.dtype(dstr) != dtype or tuple(dshape) != shape or off % _ALIGN:
            return None
        nbytes = dtype.itemsize * int(np.prod(shape, dtype=np.int64))
        if not 0 <= off <= off + nbytes <= len(data):
            return None
        cols[name] = data[off : off + nbytes].view(dtype).reshape(shape)
    text = cols["paths"].tobytes().decode(FS_ENCODING, "surrogateescape")
    paths = text.split("\0") if n else []
    formats, cameras, softwares = list(h["formats"]), list(h["cameras"]), list(h["softwares"])
    if len(paths) != n or not all(isinstance(x, str) for x in formats + cameras + softwares):
        return None
    fc, cc, sc = cols["format_code"], cols["camera_code"], cols["software_code"]
    if n and (
        fc.min() < 0
        or fc.max() >= len(formats)
        or cc.min() < -1
        or cc.max() >= len(cameras)
        or sc.min() < -1
        or sc.max() >= len(softwares)
    ):
        return None
    metas = MetaColumns(
        cols["width"],
        cols["height"],
        fc,
        formats,
        cols["taken"],
        cc,
        cameras,
        cols["has_gps"],
        cols["sharpness"],
        subsec_ms=cols["subsec_ms"],
        offset_min=cols["offset_min"],
        unique_id=cols["unique_id"],
        jpeg_quality=cols["jpeg_quality"],
        software_code=sc,
        softwares=softwares,
    )
    hashes, features = _columns.split(cols)
    block = FeatureBlock(metas, hashes, features, cols["digests"], cols["has_digest"])
    return Snapshot(paths, cols["size"], cols["mtime_ns"], cols["ctime_ns"], block)


def prune(folder: str, keep: int = KEEP) -> None:
    """Keep the ``keep`` most recently used snapshots (each is about 450 bytes per file)."""
    with contextlib.suppress(OSError):
        found = [e for e in os.scandir(folder) if e.name.endswith(".snap")]
        found.sort(key=lambda e: e.stat().st_mtime, reverse=True)
        for e in found[keep:]:
            with contextlib.suppress(OSError):
                os.unlink(e.path)


def remove_snapshots(cache_path: str) -> None:
    """Delete a cache's snapshots (its database was cleared or set aside): not needed for
    correctness (their tokens are gone), only to give the space back."""
    folder = snapshot_dir(cache_path)
    with contextlib.suppress(OSError):
        for e in os.scandir(folder):
            if e.name.endswith(".snap"):
                with contextlib.suppress(OSError):
                    os.unlink(e.path)
