"""The feature cache: decoded features in SQLite, so a rescan decodes only what changed.

Why SQLite: one file, safe against a killed process (WAL), readable while another instance
writes, and in the standard library. The cache holds nothing the user decided (skips, marks and
the journal live in the state dir): deleting it loses only time, so every problem with it — a
corrupt file, a lock held by another instance, a read-only disk — becomes a one-line warning in
:attr:`FeatureCache.warnings` and the scan goes on (rebuilding, read-only, or without a cache),
never a crash.

Keys. A row is valid for a file when (path, size, mtime_ns) match; a file that was renamed or
moved keeps (dev, ino, size, mtime_ns), so it is found by that too and re-keyed to its new path.
Everything that changes the stored features is part of a *settings key* (feature version, hash
size, decode size, variants, method list, histogram bins): rows of another key are never mixed
in. Method and threshold are not part of it, so changing them never re-decodes.

Layout, per row: the hashes of all methods in :data:`HASH_METHODS` order as one little-endian
uint64 blob of shape (methods, VARIANTS, words); histograms as little-endian float32 blobs (so a
warm scan reproduces a cold one bit for bit); meta columns; detail; digest (nullable). Paths are
stored as the bytes of ``os.fsencode`` so every POSIX file name round-trips.

Speed: :meth:`get_block` (and :meth:`get_many`, built on it) runs one range query per scanned
root (the primary key is (settings, path)), matches rows to files by dict lookup as the cursor
yields them, and parses each chunk of hit blobs with numpy straight into preallocated columns —
a warm rescan of 100k files makes no object per file. Only the misses go to a temp-table join on
(dev, ino). :meth:`put_many` is one ``executemany`` in one transaction.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from tui_dedup.engine import decode as _decode
from tui_dedup.engine import features as _features
from tui_dedup.engine.digest import DIGEST_SIZE
from tui_dedup.engine.model import FileEntry
from tui_dedup.engine.registry import DEFAULT_HASH_SIZE, HASH_METHODS
from tui_dedup.engine.store import FeatureBlock, FeatureRow, MetaColumns

APP_NAME = "dedup-tui"
ENV_CACHE_DIR = "DEDUP_TUI_CACHE_DIR"
CACHE_FILENAME = "features.sqlite"
#: Version of the table layout (not of the features: that is in the settings key).
SCHEMA_VERSION = 1
#: How long to wait for another instance's write before going read-only.
BUSY_TIMEOUT_S = 0.5

_SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (
    sid INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    feature_version INTEGER NOT NULL,
    hash_size INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS features (
    id INTEGER PRIMARY KEY,
    sid INTEGER NOT NULL,
    path BLOB NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    dev INTEGER NOT NULL,
    ino INTEGER NOT NULL,
    format TEXT NOT NULL,
    camera TEXT,
    digest BLOB,
    data BLOB NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS features_path ON features (sid, path);
CREATE INDEX IF NOT EXISTS features_identity ON features (sid, dev, ino);
"""

#: Selected for a hit, in this order.
_COLUMNS = "path, data, format, camera, digest"
_INSERT = (
    "INSERT OR REPLACE INTO features "
    "(sid, path, size, mtime_ns, dev, ino, format, camera, digest, data) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_U64 = np.dtype("<u8")
_F32 = np.dtype("<f4")
_FS_ENCODING = sys.getfilesystemencoding()
_CHUNK = 2048  # rows parsed at once (vs 16384: ~35 MB less peak RSS, and faster at 100k)


def record_dtype(hash_size: int) -> np.dtype:
    """The fixed-width ``data`` blob of one row: numeric meta, then all features.

    Packed, little-endian: size and mtime_ns (again, so a hit is checked in numpy), width,
    height, has_gps, taken (NaN = unknown), sharpness, detail, the hashes of
    :data:`HASH_METHODS` as (methods, VARIANTS, words) uint64, hist3 and hist1 as float32.
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
        ]
    )


def default_cache_path() -> str:
    """``$DEDUP_TUI_CACHE_DIR/features.sqlite``, else the platform's user cache dir."""
    env = os.environ.get(ENV_CACHE_DIR, "").strip()
    if env:
        base = os.path.expanduser(env)
    else:
        import platformdirs

        base = platformdirs.user_cache_dir(APP_NAME)
    return os.path.join(base, CACHE_FILENAME)


def resolve_cache_path(path: str | os.PathLike[str] | None) -> str:
    """An explicit path wins (a folder means ``folder/features.sqlite``), then env, then default."""
    if path is None:
        return default_cache_path()
    p = os.path.abspath(os.path.expanduser(os.fspath(path)))
    return os.path.join(p, CACHE_FILENAME) if os.path.isdir(p) else p


def settings_key(hash_size: int) -> str:
    """Everything that changes stored features; rows of another key are never reused."""
    return (
        f"v{_features.FEATURE_VERSION};hash={hash_size};decode={_decode.MIN_DECODE_SIDE};"
        f"variants={_features.VARIANTS};methods={','.join(HASH_METHODS)};"
        f"hist={_features.HIST3_BINS}x3,{_features.HIST1_BINS}"
    )


def _i64(x: int) -> int:
    """SQLite integers are signed 64-bit; st_ino/st_dev may use the top bit."""
    return x - (1 << 64) if x >= (1 << 63) else x


def _is_locked(exc: BaseException) -> bool:
    msg = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in msg or "busy" in msg)


def _is_readonly(exc: BaseException) -> bool:
    msg = str(exc).lower()
    if isinstance(exc, OSError):
        return exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM)
    return "readonly" in msg or "read-only" in msg or "unable to open" in msg


def _is_corrupt(exc: BaseException) -> bool:
    """Damage in the file itself (not a lock, permission or I/O problem)."""
    if isinstance(exc, sqlite3.OperationalError):
        return False
    if isinstance(exc, sqlite3.DatabaseError):
        return True
    return isinstance(exc, _CorruptCache)


class _CorruptCache(Exception):
    """A file that is a database, but not one this version wrote."""


class _NewerCache(Exception):
    """A cache in a layout from a later version: not ours to read, nor to set aside."""


@dataclass(frozen=True, slots=True)
class CacheStats:
    path: str
    rows: int  # all settings keys
    rows_current: int  # rows of the settings key in use
    bytes_on_disk: int  # database + WAL + shared memory files
    mode: str  # "read-write", "read-only" or "disabled"


class FeatureCache:
    """Features by file, in bulk. Thread-safe: the scan may call it from a worker thread.

    Open with :meth:`open`; it never raises for a bad cache file, it degrades and says so in
    :attr:`warnings`. ``hash_size`` is the default settings key; the scan passes its own to
    :meth:`get_many`/:meth:`put_many`, so one open cache serves any hash size.
    """

    def __init__(self, path: str, hash_size: int = DEFAULT_HASH_SIZE) -> None:
        self.path = path
        self.hash_size = hash_size
        self.warnings: list[str] = []
        self.mode = "disabled"
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.RLock()
        self._sids: dict[str, int] = {}

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

    def _warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)

    def _open(self) -> None:
        folder = os.path.dirname(self.path) or "."
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as exc:
            self._warn(f"feature cache disabled: cannot create {folder!r}: {exc.strerror or exc}")
            return
        try:
            self._connect(readonly=False)
            return
        except Exception as exc:  # sorted below; none of them may stop a scan
            self._disconnect()
            first = exc
        if _is_corrupt(first):
            self._set_aside(first)
            try:
                self._connect(readonly=False)
                return
            except Exception as exc:
                self._disconnect()
                first = exc
        if isinstance(first, _NewerCache):
            self._warn(f"feature cache {self.path!r} not used: {first}")
            return
        if _is_locked(first):
            what = "another dedup-tui is writing to it"
        elif _is_readonly(first):
            what = "it is read-only"
        else:
            what = str(first)
        try:
            self._connect(readonly=True)
            self._warn(f"feature cache {self.path!r} opened read-only: {what}")
        except Exception:
            self._disconnect()
            self._warn(f"feature cache {self.path!r} not used: {what}")

    def _connect(self, *, readonly: bool) -> None:
        if readonly:
            if not os.path.exists(self.path):
                raise sqlite3.OperationalError("unable to open database file")
            uri = "file:" + _uri_quote(self.path) + "?mode=ro"
            conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, check_same_thread=False)
        else:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, check_same_thread=False)
        self._conn = conn
        conn.execute("PRAGMA temp_store=MEMORY")
        if readonly:
            self._check_schema(create=False)
            self.mode = "read-only"
            return
        if os.path.exists(self.path) and not os.access(self.path, os.W_OK):
            # SQLite would silently open it read-only and fail only at the first write.
            raise sqlite3.OperationalError("attempt to write a readonly database")
        conn.execute("PRAGMA synchronous=NORMAL")
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise sqlite3.OperationalError(f"database is locked (journal mode {mode})")
        self._check_schema(create=True)
        # Probe for the write lock now, so a held lock is one warning up front.
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        self.mode = "read-write"

    def _check_schema(self, *, create: bool) -> None:
        conn = self._conn
        assert conn is not None
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if version == 0 and not tables and create:
            # One transaction, so a second instance starting now sees all of it or nothing.
            conn.executescript(
                f"BEGIN IMMEDIATE; {_SCHEMA} PRAGMA user_version={SCHEMA_VERSION}; COMMIT;"
            )
            return
        if version > SCHEMA_VERSION:
            # A newer dedup-tui owns this file: leave it alone rather than fight over it.
            raise _NewerCache(f"written by a newer dedup-tui (layout {version})")
        if version != SCHEMA_VERSION or not {"settings", "features"} <= tables:
            raise _CorruptCache(f"not a dedup-tui cache (layout {version})")

    def _disconnect(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
        self._conn = None
        self._sids.clear()
        self.mode = "disabled"

    def _set_aside(self, exc: BaseException) -> None:
        """Rename a damaged cache to ``*.corrupt-<time>`` so a fresh one can start."""
        self._disconnect()
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = f"{self.path}.corrupt-{stamp}"
        try:
            os.replace(self.path, aside)
        except FileNotFoundError:
            pass
        except OSError as err:
            self._warn(
                f"feature cache {self.path!r} is damaged ({exc}) and cannot be moved aside: "
                f"{err.strerror or err}"
            )
            return
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(OSError):
                os.replace(self.path + suffix, aside + suffix)
        self._warn(f"feature cache was damaged ({exc}); moved to {aside!r}, starting afresh")

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self.mode == "read-write":
                with contextlib.suppress(Exception):
                    self._conn.execute("PRAGMA optimize")
            self._disconnect()

    def __enter__(self) -> FeatureCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def enabled(self) -> bool:
        return self._conn is not None

    # ----------------------------------------------------------------- error handling

    @contextlib.contextmanager
    def _guard(self, action: str, *, write: bool) -> Iterator[None]:
        """Turn any cache failure into a warning and a degraded mode, never an exception."""
        try:
            yield
        except Exception as exc:
            if _is_corrupt(exc):
                self._set_aside(exc)
                try:
                    self._connect(readonly=False)
                except Exception as again:
                    self._disconnect()
                    self._warn(f"feature cache not used: {again}")
            elif write and (_is_locked(exc) or _is_readonly(exc)):
                reason = (
                    "another dedup-tui is writing to it" if _is_locked(exc) else "it is read-only"
                )
                self._warn(
                    f"feature cache {self.path!r} not updated ({reason}); "
                    "this scan's new features will not be remembered"
                )
                self.mode = "read-only"
            else:
                self._warn(f"feature cache not used after an error while {action}: {exc}")
                self._disconnect()

    def _sid(self, hash_size: int, *, create: bool) -> int | None:
        key = settings_key(hash_size)
        sid = self._sids.get(key)
        if sid is not None:
            return sid
        conn = self._conn
        assert conn is not None
        row = conn.execute("SELECT sid FROM settings WHERE key=?", (key,)).fetchone()
        if row is None:
            if not create:
                return None
            with conn:
                cur = conn.execute(
                    "INSERT INTO settings (key, feature_version, hash_size) VALUES (?, ?, ?)",
                    (key, _features.FEATURE_VERSION, hash_size),
                )
            sid = int(cur.lastrowid or 0)
        else:
            sid = int(row[0])
        self._sids[key] = sid
        return sid

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
        conn = self._conn
        assert conn is not None
        sid = self._sid(hash_size, create=False)
        n = len(entries)
        cols = _Columns(n, hash_size)
        if sid is None:
            return cols.finish()
        paths = [e.path.encode(_FS_ENCODING, "surrogateescape") for e in entries]
        where = dict(zip(paths, range(n), strict=True))
        sizes = np.fromiter((e.size for e in entries), np.int64, n)
        mtimes = np.fromiter((e.mtime_ns for e in entries), np.int64, n)
        for lo, hi in _prefix_ranges({e.root for e in entries}):
            cur = conn.execute(
                f"SELECT {_COLUMNS} FROM features WHERE sid=? AND path>=? AND path<?",
                (sid, lo, hi),
            )
            while chunk := cur.fetchmany(_CHUNK):
                get = where.get
                ks = [get(r[0], -1) for r in chunk]
                rows = [r for r, k in zip(chunk, ks, strict=True) if k >= 0]
                ks = [k for k in ks if k >= 0]
                del chunk
                cols.add(ks, rows, sizes, mtimes)
        del where
        missing = np.ones(n, bool)
        missing[cols.index[: cols.count]] = False
        misses = np.flatnonzero(missing).tolist()
        if misses:
            ks, moved_rows = self._by_identity(sid, [(k, entries[k]) for k in misses])
            before = cols.count
            cols.add(ks, moved_rows, sizes, mtimes)
            moved = cols.index[before : cols.count].tolist()
            if moved and self.mode == "read-write":
                at = dict(zip(ks, moved_rows, strict=True))
                self._rekey(sid, [(paths[k], at[k][0]) for k in moved])
        return cols.finish()

    def _get_many(self, entries: list[FileEntry], hash_size: int) -> dict[int, FeatureRow]:
        index, block = self._get_block(entries, hash_size)
        return {k: block.row(i) for i, k in enumerate(index.tolist())}

    def _by_identity(
        self, sid: int, items: list[tuple[int, FileEntry]]
    ) -> tuple[list[int], list[tuple]]:
        """Rows for files seen before at another path: same (dev, ino, size, mtime_ns)."""
        conn = self._conn
        assert conn is not None
        if conn.execute("SELECT 1 FROM features WHERE sid=? LIMIT 1", (sid,)).fetchone() is None:
            return [], []
        conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS wanted "
            "(k INTEGER PRIMARY KEY, dev INTEGER, ino INTEGER, size INTEGER, mtime_ns INTEGER)"
        )
        conn.execute("DELETE FROM temp.wanted")
        conn.executemany(
            "INSERT INTO temp.wanted VALUES (?, ?, ?, ?, ?)",
            [(k, _i64(e.dev), _i64(e.ino), e.size, e.mtime_ns) for k, e in items],
        )
        cols = ", ".join(f"f.{c.strip()}" for c in _COLUMNS.split(","))
        found = conn.execute(
            f"SELECT w.k, {cols} FROM temp.wanted w JOIN features f "
            "ON f.sid=? AND f.dev=w.dev AND f.ino=w.ino AND f.size=w.size "
            "AND f.mtime_ns=w.mtime_ns",
            (sid,),
        ).fetchall()
        conn.execute("DELETE FROM temp.wanted")
        conn.commit()
        ks: list[int] = []
        rows: list[tuple] = []
        seen: set[int] = set()
        for r in found:
            if r[0] not in seen:  # hard links: any one row will do
                seen.add(r[0])
                ks.append(r[0])
                rows.append(r[1:])
        return ks, rows

    def _rekey(self, sid: int, moved: list[tuple[bytes, bytes]]) -> None:
        """Moved files: store their rows under the new path (one transaction)."""
        conn = self._conn
        assert conn is not None
        with self._guard("updating moved files", write=True), conn:
            conn.executemany(
                "UPDATE OR REPLACE features SET path=? WHERE sid=? AND path=?",
                [(new, sid, old) for new, old in moved],
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
            )
        sid = self._sid(hash_size, create=True)
        params = [
            (
                sid,
                e.path.encode(_FS_ENCODING, "surrogateescape"),
                e.size,
                e.mtime_ns,
                _i64(e.dev),
                _i64(e.ino),
                r.meta.format,
                r.meta.camera,
                r.digest,
                rec[k].tobytes(),
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
                self._sids.clear()
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


def _uri_quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")


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


class _Columns:
    """Preallocated columns that cache rows are parsed into, chunk by chunk (see get_block)."""

    def __init__(self, n: int, hash_size: int) -> None:
        self.rec = record_dtype(hash_size)
        shape = self.rec["hashes"].shape
        self.count = 0
        # np.empty: pages are touched only as rows arrive, so unused capacity costs no memory
        self.index = np.empty(n, np.int64)
        self.hashes = np.empty((n, *shape), np.uint64)
        self.hist3 = np.empty((n, *self.rec["hist3"].shape), np.float32)
        self.hist1 = np.empty((n, *self.rec["hist1"].shape), np.float32)
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
        )
        return self.index[:c], block
