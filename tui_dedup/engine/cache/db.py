"""The SQLite file behind the feature cache: opening it, and never failing.

The cache holds nothing the user decided (skips, marks and the journal live in the state dir):
deleting it loses only time, so every problem with it — a corrupt file (set aside as
``*.corrupt-<time>``), a lock held by another instance, a read-only disk, a layout from a newer
version — becomes a one-line warning in :attr:`CacheDatabase.warnings` and a degraded
:attr:`CacheDatabase.mode` ("read-write", "read-only" or "disabled"), never a crash.

Also here: the bookkeeping of store snapshots (the ``snapshots`` table of tokens that make a
snapshot file valid for this database only; the file format is in
:mod:`tui_dedup.engine.cache.snapshot`). Elsewhere: where the file lives
(:mod:`tui_dedup.engine.cache.location`); the table layout, its version and the *settings key*
(everything that changes the stored features) in :mod:`tui_dedup.engine.cache.schema`. The rows
themselves are read and written by :class:`tui_dedup.engine.cache.features.FeatureCache`, which
builds on :class:`CacheDatabase`; their binary layout is in :mod:`tui_dedup.engine.cache.layout`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Self

import numpy as np

from tui_dedup.engine.cache.schema import CorruptCache, NewerCache, check_schema, settings_key
from tui_dedup.engine.cache.snapshot import (
    Snapshot,
    new_token,
    prune,
    read_snapshot,
    remove_snapshots,
    snapshot_dir,
    snapshot_name,
    write_snapshot,
)
from tui_dedup.engine.features import hashes as _features
from tui_dedup.engine.registry import DEFAULT_HASH_SIZE

if TYPE_CHECKING:
    from tui_dedup.engine.features.store import FeatureStore
    from tui_dedup.engine.model import FileEntry

#: How long to wait for another instance's write before going read-only.
BUSY_TIMEOUT_S = 0.5


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
    return isinstance(exc, CorruptCache)


def _uri_quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")


class CacheDatabase:
    """The connection to the cache file, its mode and warnings; thread-safe through ``_lock``.

    Opens with :meth:`_open` (which never raises for a bad cache file: it degrades and says so
    in :attr:`warnings`); every later query runs inside :meth:`_guard`, which does the same for
    a failure mid-scan. :class:`tui_dedup.engine.cache.features.FeatureCache` adds the rows.
    """

    def __init__(self, path: str, hash_size: int = DEFAULT_HASH_SIZE) -> None:
        self.path = path
        self.hash_size = hash_size
        self.warnings: list[str] = []
        self.mode = "disabled"
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.RLock()
        self._sids: dict[str, int] = {}
        # (snapshot name, its rows, rows served from it, its digest count) of the last read
        # (see engine.cache_snapshot): a store equal to it needs no new snapshot
        self._served: tuple[str, int, int, int] | None = None
        # (snapshot name, the thread loading it, [its result]) from prefetch_snapshot
        self._prefetch: tuple[str, threading.Thread, list[Snapshot | None]] | None = None
        #: (files whose changed ctime was re-checked by edge digest, of which passed) since
        #: opening (see engine.cache_identity): a re-check reads 128 KiB, never decodes
        self.rechecked: tuple[int, int] = (0, 0)

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
        if isinstance(first, NewerCache):
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
        old = check_schema(conn, create=create)
        if old is None:
            return
        remove_snapshots(self.path)  # disowned with their table: give the space back
        self._warn(
            f"feature cache {self.path!r} was made by an older dedup-tui (layout {old}) and "
            "was emptied: this scan decodes every file once more"
        )

    def _disconnect(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
        self._conn = None
        self._sids.clear()
        self._served = None
        self._prefetch = None  # its token came from this connection's database
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
        remove_snapshots(self.path)  # disowned by the fresh database anyway: free the space
        self._warn(f"feature cache was damaged ({exc}); moved to {aside!r}, starting afresh")

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self.mode == "read-write":
                with contextlib.suppress(Exception):
                    self._conn.execute("PRAGMA optimize")
            self._disconnect()

    def __enter__(self) -> Self:
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

    # ----------------------------------------------------------------- the store snapshot

    def _snapshot_path(self, name: str) -> str:
        return os.path.join(snapshot_dir(self.path), name + ".snap")

    def _snapshot_token(self, name: str) -> str | None:
        """The token the database holds for snapshot ``name`` (None: none, or a database
        from before snapshots, which has no such table yet)."""
        conn = self._conn
        assert conn is not None
        try:
            row = conn.execute("SELECT token FROM snapshots WHERE name=?", (name,)).fetchone()
        except sqlite3.OperationalError:
            return None
        return None if row is None else str(row[0])

    def _load_snapshot(
        self, hash_size: int, entries: list[FileEntry]
    ) -> tuple[Snapshot | None, str]:
        key = settings_key(hash_size)
        name = snapshot_name(key, {e.root for e in entries})
        early, self._prefetch = self._prefetch, None
        if early is not None and early[0] == name:
            early[1].join()
            if early[2]:  # loaded (a Snapshot, or None: missing or damaged)
                return early[2][0], name
        token = self._snapshot_token(name)
        if token is None:
            return None, name
        return read_snapshot(self._snapshot_path(name), token, key, hash_size), name

    def prefetch_snapshot(self, roots: list[str], hash_size: int) -> None:
        """Start loading the snapshot of ``roots`` in a thread, so that mapping it and checking
        its CRC (which releases the GIL) overlap discovery instead of following it. Optional:
        :meth:`_load_snapshot` loads it itself when there was no prefetch or it was for other
        roots (say one root turned out empty)."""
        with self._lock:
            if self._conn is None:
                return
            key = settings_key(hash_size)
            name = snapshot_name(key, roots)
            token = None
            with self._guard("reading", write=False):
                token = self._snapshot_token(name)
            if token is None:
                return
            path = self._snapshot_path(name)
            out: list[Snapshot | None] = []

            def load() -> None:
                out.append(read_snapshot(path, token, key, hash_size))

            thread = threading.Thread(target=load, name="dedup-snapshot", daemon=True)
            self._prefetch = (name, thread, out)
            thread.start()

    def save_snapshot(self, store: FeatureStore) -> None:
        """Write ``store`` as the snapshot for its settings and roots (after a scan), unless
        it is exactly the snapshot it was read from. Failures only cost the next scan time."""
        with self._lock:
            if self._conn is None or self.mode != "read-write" or not len(store):
                return
            key = settings_key(store.hash_size)
            name = snapshot_name(key, {e.root for e in store.entries})
            path = self._snapshot_path(name)
            digests = int(np.count_nonzero(store.has_digest))
            if self._served == (name, len(store), len(store), digests):
                with contextlib.suppress(OSError):
                    os.utime(path)  # most recently used, for pruning
                return
            token = new_token()
            conn = self._conn
            with self._guard("saving the store snapshot", write=True):
                try:
                    with conn:
                        conn.execute(
                            "CREATE TABLE IF NOT EXISTS snapshots "
                            "(name TEXT PRIMARY KEY, token TEXT NOT NULL)"
                        )
                        conn.execute(
                            "INSERT OR REPLACE INTO snapshots (name, token) VALUES (?, ?)",
                            (name, token),
                        )
                except sqlite3.OperationalError:
                    return  # busy or read-only now: no snapshot this time
            if self._conn is None or self.mode != "read-write":
                return
            try:
                write_snapshot(path, token, key, store)
            except (OSError, ValueError):
                return
            self._served = (name, len(store), len(store), digests)
            prune(snapshot_dir(self.path))
