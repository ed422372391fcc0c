"""The feature cache: decoded features in SQLite, so a rescan decodes only what changed.

Why SQLite: one file, safe against a killed process (WAL), readable while another instance
writes, and in the standard library. The cache holds nothing the user decided, so every problem
with it becomes a one-line warning in :attr:`FeatureCache.warnings` and the scan goes on
(rebuilding, read-only, or without a cache), never a crash.

Keys. A row is valid for a file when (path, size, mtime_ns, ctime_ns) match — ctime because
mtime can be put back with ``touch -r`` and ctime cannot; not st_dev, which a remount changes.
A file that was renamed or moved keeps (ino, size, mtime_ns), so it is found by that too and
re-keyed to its new path; a changed ctime (a rename, a ``chmod``) costs a cheap content
re-check, never a decode. The rules are in :mod:`tui_dedup.engine.cache.identity`.
Everything that changes the stored features is part of a *settings key* (feature version, hash
size, decode size, variants, method list, histogram bins): rows of another key are never mixed
in. Method and threshold are not part of it, so changing them never re-decodes.

Speed: :meth:`get_block` (and :meth:`get_many`, built on it) first takes every unchanged file
from the whole-store snapshot the last scan of these roots left beside the database (one mapped
file, see :mod:`tui_dedup.engine.cache.snapshot`). The rest it reads from SQLite: by path for a
few files, else one range query per scanned root (the primary key is (settings, path)),
matching rows to files by dict lookup as the cursor yields them and parsing each chunk of hit
blobs with numpy straight into preallocated columns — no object per file. Only the misses go to
a temp-table join on (ino, size, mtime_ns). :meth:`put_many` is one ``executemany`` in one
transaction.

Where the parts live: opening and recovery in :mod:`tui_dedup.engine.cache.db`
(:class:`CacheDatabase`, which :class:`FeatureCache` extends); the tables and the settings key in
:mod:`tui_dedup.engine.cache.schema`; the file's place in :mod:`tui_dedup.engine.cache.location`;
the binary row layout in :mod:`tui_dedup.engine.cache.layout`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from tui_dedup.engine.cache.db import CacheDatabase
from tui_dedup.engine.cache.identity import COLUMNS, IdentityCheck, i64
from tui_dedup.engine.cache.layout import FS_ENCODING, RecordColumns, pack_records
from tui_dedup.engine.cache.location import resolve_cache_path
from tui_dedup.engine.cache.snapshot import remove_snapshots
from tui_dedup.engine.features import hashes as _features
from tui_dedup.engine.features.store import FeatureBlock, FeatureRow
from tui_dedup.engine.model import FileEntry
from tui_dedup.engine.registry import DEFAULT_HASH_SIZE

__all__ = ["CacheStats", "FeatureCache"]

#: Selected for a hit, in this order (positions: engine.cache_identity).
_COLUMNS = COLUMNS
_INSERT = (
    "INSERT OR REPLACE INTO features "
    "(sid, path, size, mtime_ns, ctime_ns, dev, ino, format, camera, digest, edge, data) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_CHUNK = 2048  # rows parsed at once (vs 16384: ~35 MB less peak RSS, and faster at 100k)
#: Fewer misses than this (and than a tenth of the files) are looked up one path at a time;
#: more, and one range scan of the roots beats that many index probes.
_BY_PATH_MAX = 5000
_IN_BATCH = 500  # paths per "path IN (...)" query (SQLite allows 999 parameters at least)


@dataclass(frozen=True, slots=True)
class CacheStats:
    path: str
    rows: int  # all settings keys
    rows_current: int  # rows of the settings key in use
    bytes_on_disk: int  # database + WAL + shared memory files
    mode: str  # "read-write", "read-only" or "disabled"


class FeatureCache(CacheDatabase):
    """Features by file, in bulk. Thread-safe: the scan may call it from a worker thread.

    Open with :meth:`open`; it never raises for a bad cache file, it degrades and says so in
    :attr:`warnings`. ``hash_size`` is the default settings key; the scan passes its own to
    :meth:`get_many`/:meth:`put_many`, so one open cache serves any hash size.
    """

    # ----------------------------------------------------------------- opening and closing

    @classmethod
    def open(
        cls, path: str | os.PathLike[str] | None = None, *, hash_size: int = DEFAULT_HASH_SIZE
    ) -> FeatureCache:
        """Open (creating) the cache at ``path`` (None: env or platform default). Never raises
        for problems with the cache file itself; see :attr:`warnings` and :attr:`mode`."""
        cache = cls(resolve_cache_path(path), hash_size)
        with cache._lock:
            cache._open()
        return cache

    # ----------------------------------------------------------------- reading

    def get_many(
        self, entries: list[FileEntry], hash_size: int | None = None
    ) -> dict[int, FeatureRow]:
        """Cached rows for ``entries``, keyed by index in ``entries``; misses are absent."""
        hs = self.hash_size if hash_size is None else hash_size
        with self._lock:
            if self._conn is None or not entries:
                return {}
            out: dict[int, FeatureRow] = {}
            with self._guard("reading", write=False):
                out = self._get_many(entries, hs)
            return out

    def get_block(
        self, entries: list[FileEntry], hash_size: int | None = None
    ) -> tuple[np.ndarray, FeatureBlock] | None:
        """Cached features for ``entries`` as columns: (indices of the hits in ``entries``,
        their features, row k ↔ ``entries[indices[k]]``). None when the cache is unusable.

        The fast path of a warm rescan: no object per file. Rows are read in chunks straight
        into preallocated columns (pages of rows never filled are never touched), so the peak
        is the columns plus one chunk of blobs.
        """
        hs = self.hash_size if hash_size is None else hash_size
        with self._lock:
            if self._conn is None or not entries:
                return None
            out: tuple[np.ndarray, FeatureBlock] | None = None
            with self._guard("reading", write=False):
                out = self._get_block(entries, hs)
            return out

    def _get_block(
        self, entries: list[FileEntry], hash_size: int
    ) -> tuple[np.ndarray, FeatureBlock]:
        """The snapshot's unchanged rows first (one file read), then SQLite for the rest."""
        sid = self._sid(hash_size, create=False)
        if sid is None:
            return RecordColumns(len(entries), hash_size).finish()
        snap, name = self._load_snapshot(hash_size, entries)
        if snap is None:
            return self._get_rows(sid, entries, hash_size)
        index, rows = snap.match(entries)
        block = snap.take(rows)
        digests = int(np.count_nonzero(snap.block.has_digest))
        self._served = (name, len(snap), len(rows), digests)
        del snap
        if len(index) == len(entries):
            return index, block
        missing = np.ones(len(entries), bool)
        missing[index] = False
        rest = np.flatnonzero(missing)
        more, more_block = self._get_rows(sid, [entries[k] for k in rest.tolist()], hash_size)
        if not len(more):
            return index, block
        return (
            np.concatenate([index, rest[more]]),
            FeatureBlock.concat([block, more_block]),
        )

    def _get_rows(
        self, sid: int, entries: list[FileEntry], hash_size: int
    ) -> tuple[np.ndarray, FeatureBlock]:
        conn = self._conn
        assert conn is not None
        n = len(entries)
        cols = RecordColumns(n, hash_size)
        if not n:
            return cols.finish()
        paths = [e.path.encode(FS_ENCODING, "surrogateescape") for e in entries]
        where = dict(zip(paths, range(n), strict=True))
        sizes = np.fromiter((e.size for e in entries), np.int64, n)
        mtimes = np.fromiter((e.mtime_ns for e in entries), np.int64, n)
        if n <= _BY_PATH_MAX:  # a few changed or new files beside a snapshot: index probes
            queries = [
                (
                    f"SELECT {_COLUMNS} FROM features WHERE sid=? AND path IN "
                    f"({','.join('?' * len(part))})",
                    (sid, *part),
                )
                for part in (paths[k : k + _IN_BATCH] for k in range(0, n, _IN_BATCH))
            ]
        else:
            queries = [
                (
                    f"SELECT {_COLUMNS} FROM features WHERE sid=? AND path>=? AND path<?",
                    (sid, lo, hi),
                )
                for lo, hi in _prefix_ranges({e.root for e in entries})
            ]
        with IdentityCheck(entries, paths) as ident:
            for sql, params in queries:
                cur = conn.execute(sql, params)
                while chunk := cur.fetchmany(_CHUNK):
                    get = where.get
                    ks = [get(r[0], -1) for r in chunk]
                    rows = [r for r, k in zip(chunk, ks, strict=True) if k >= 0]
                    ks = [k for k in ks if k >= 0]
                    del chunk
                    ks, rows = ident.same_path(ks, rows)
                    cols.add(ks, rows, sizes, mtimes)
            del where
            missing = np.ones(n, bool)
            missing[cols.index[: cols.count]] = False
            misses = np.flatnonzero(missing).tolist()
            if misses:
                for found in self._by_identity(sid, [(k, entries[k]) for k in misses], paths):
                    ks, rows = ident.moved(found)
                    cols.add(ks, rows, sizes, mtimes)
            self.rechecked = (self.rechecked[0] + ident.checked, self.rechecked[1] + ident.passed)
            if (ident.restamp or ident.rekey) and self.mode == "read-write":
                self._restamp(ident.restamp, ident.rekey)
        return cols.finish()

    def _get_many(self, entries: list[FileEntry], hash_size: int) -> dict[int, FeatureRow]:
        index, block = self._get_block(entries, hash_size)
        return {k: block.row(i) for i, k in enumerate(index.tolist())}

    def _by_identity(
        self, sid: int, items: list[tuple[int, FileEntry]], paths: list[bytes]
    ) -> Iterator[list[tuple[int, tuple]]]:
        """Rows at another path with the same (ino, size, mtime_ns): files that were renamed
        or moved (or hard links). Yields (k, row) lists, all rows of one k in the same list;
        dev is not compared (it changes on a remount), the rules in engine.cache_identity
        decide what to do with a row."""
        conn = self._conn
        assert conn is not None
        if conn.execute("SELECT 1 FROM features WHERE sid=? LIMIT 1", (sid,)).fetchone() is None:
            return
        conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS wanted (k INTEGER PRIMARY KEY, ino INTEGER, "
            "size INTEGER, mtime_ns INTEGER, path BLOB)"
        )
        conn.execute("DELETE FROM temp.wanted")
        conn.executemany(
            "INSERT INTO temp.wanted VALUES (?, ?, ?, ?, ?)",
            [(k, i64(e.ino), e.size, e.mtime_ns, paths[k]) for k, e in items],
        )
        cols = ", ".join(f"f.{c.strip()}" for c in _COLUMNS.split(","))
        try:
            cur = conn.execute(
                f"SELECT w.k, {cols} FROM temp.wanted w JOIN features f "
                "ON f.sid=? AND f.ino=w.ino AND f.size=w.size AND f.mtime_ns=w.mtime_ns "
                "AND f.path<>w.path ORDER BY w.k",
                (sid,),
            )
            carry: list[tuple[int, tuple]] = []
            while chunk := cur.fetchmany(_CHUNK):
                found = carry + [(r[0], r[1:]) for r in chunk]
                last = found[-1][0]
                cut = len(found)
                while cut and found[cut - 1][0] == last:
                    cut -= 1
                carry = found[cut:]  # the last file's rows may go on in the next chunk
                if cut:
                    yield found[:cut]
            if carry:
                yield carry
        finally:
            conn.execute("DELETE FROM temp.wanted")
            conn.commit()

    def _restamp(
        self, stamps: list[tuple[int, int, int, int]], moved: list[tuple[bytes, int, int, int, int]]
    ) -> None:
        """Rows re-checked at their path get the file's current ctime/dev/ino, rows found at
        another path move to the file's path too (replacing a row there), so the next scan
        takes them as they are. By row id, in one transaction."""
        conn = self._conn
        assert conn is not None
        with self._guard("updating moved or re-checked files", write=True), conn:
            conn.executemany("UPDATE features SET ctime_ns=?, dev=?, ino=? WHERE id=?", stamps)
            conn.executemany(
                "UPDATE OR REPLACE features SET path=?, ctime_ns=?, dev=?, ino=? WHERE id=?", moved
            )

    # ----------------------------------------------------------------- writing

    def put_many(
        self, items: list[tuple[FileEntry, FeatureRow]], hash_size: int | None = None
    ) -> None:
        """Insert or replace rows, in one transaction. A failure is a warning, not an error."""
        hs = self.hash_size if hash_size is None else hash_size
        with self._lock:
            if self._conn is None or self.mode != "read-write" or not items:
                return
            with self._guard("writing", write=True):
                self._put_many(items, hs)
                return
            # A corrupt file was set aside and a fresh one opened: try once more.
            if self._conn is not None and self.mode == "read-write":
                with self._guard("writing", write=True):
                    self._put_many(items, hs)

    def _put_many(self, items: list[tuple[FileEntry, FeatureRow]], hash_size: int) -> None:
        conn = self._conn
        assert conn is not None
        blobs = pack_records(items, hash_size)  # raises before anything is written
        sid = self._sid(hash_size, create=True)
        params = [
            (
                sid,
                e.path.encode(FS_ENCODING, "surrogateescape"),
                e.size,
                e.mtime_ns,
                e.ctime_ns,
                i64(e.dev),
                i64(e.ino),
                r.meta.format,
                r.meta.camera,
                r.digest,
                r.edge,
                blobs[k],
            )
            for k, (e, r) in enumerate(items)
        ]
        with conn:
            conn.executemany(_INSERT, params)

    # ----------------------------------------------------------------- maintenance

    def clear(self) -> None:
        """Forget every cached feature (all settings) and give the space back."""
        with self._lock:
            if self._conn is None or self.mode != "read-write":
                self._warn(f"feature cache {self.path!r} not cleared: not writable")
                return
            with self._guard("clearing", write=True):
                with self._conn:
                    self._conn.execute("DELETE FROM features")
                    self._conn.execute("DELETE FROM settings")
                    self._conn.execute("DROP TABLE IF EXISTS snapshots")
                self._sids.clear()
                self._served = None
                remove_snapshots(self.path)
                self._conn.execute("VACUUM")
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def prune(self) -> int:
        """Drop rows of older feature versions and of files that no longer exist."""
        removed = 0
        with self._lock:
            if self._conn is None or self.mode != "read-write":
                return 0
            conn = self._conn
            with self._guard("pruning", write=True):
                old = [
                    r[0]
                    for r in conn.execute(
                        "SELECT sid FROM settings WHERE feature_version<>?",
                        (_features.FEATURE_VERSION,),
                    )
                ]
                gone = [
                    (sid, p)
                    for sid, p in conn.execute("SELECT sid, path FROM features")
                    if not os.path.lexists(p)
                ]
                with conn:
                    for sid in old:
                        removed += conn.execute("DELETE FROM features WHERE sid=?", (sid,)).rowcount
                        conn.execute("DELETE FROM settings WHERE sid=?", (sid,))
                    conn.executemany("DELETE FROM features WHERE sid=? AND path=?", gone)
                removed += len(gone)
                self._sids.clear()
        return removed

    def stats(self) -> CacheStats:
        with self._lock:
            rows = current = 0
            if self._conn is not None:
                with self._guard("counting", write=False):
                    rows = self._conn.execute("SELECT COUNT(*) FROM features").fetchone()[0]
                    sid = self._sid(self.hash_size, create=False)
                    if sid is not None:
                        current = self._conn.execute(
                            "SELECT COUNT(*) FROM features WHERE sid=?", (sid,)
                        ).fetchone()[0]
            size = 0
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(OSError):
                    size += os.path.getsize(self.path + suffix)
            return CacheStats(self.path, rows, current, size, self.mode)


def _prefix_ranges(roots: Iterable[str]) -> list[tuple[bytes, bytes]]:
    """Byte ranges [lo, hi) of the paths under each root; nested roots are merged."""
    prefixes = sorted(
        {
            (r if r.endswith(os.sep) else r + os.sep).encode("utf-8", "surrogateescape")
            for r in roots
        }
    )
    kept: list[bytes] = []
    for p in prefixes:
        if not kept or not p.startswith(kept[-1]):
            kept.append(p)
    return [(p, p[:-1] + bytes([p[-1] + 1])) for p in kept]
