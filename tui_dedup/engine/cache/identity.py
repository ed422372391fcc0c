"""When a cached row still describes a file: the feature cache's identity rules, in one place.

A row is used as it is when the file has the row's path, size, mtime_ns and ctime_ns. Not
st_dev: it changes when an NFS share or a USB disk is mounted again, and the path already says
where the file is. ctime is the guard against ``touch``: mtime can be put back by anyone
(``touch -r``, ``cp -p``, rsync), but every write moves ctime and an unprivileged user cannot
set it back, so a file rewritten with another picture of the same size is a miss.

ctime also moves for harmless reasons: a rename, a ``chmod -R``, a new hard link. So a row
whose ctime differs — at the file's own path with the same size and mtime, or found at another
path by (ino, size, mtime_ns), a rename — is *re-checked*, not thrown away: it is used when the
file's size and edge digest (its first and last 64 KiB, :mod:`tui_dedup.engine.files.digest`) equal
the ones stored with the row. That reads at most 128 KiB a file and decodes nothing, so a
``chmod -R`` of a whole library costs a read of each file's ends, once; a row that passes is
re-stamped with the file's new ctime (and path, for a rename), so the next scan is a plain hit.
A rename hit needs no re-check only when everything is unchanged but the path (same dev, ino
and ctime: a second name of the same untouched file — files in a renamed folder keep their
ctime). A row without an edge digest (written by code that had none) is never re-checked: a
changed ctime makes it a miss.

Measured on the 100k benchmark tree (benchmarks/RESULTS.md): a re-check costs ~8 µs a file on
a local disk, the re-stamp ~6 µs. What this cannot see: a filesystem whose ctime is not a real
change time (vfat and exFAT emulate it, as do some FUSE and SMB mounts). There the cache can
be no better than that emulation; the actions re-check content digests before they delete or
link anything, whatever the cache said.
"""

from __future__ import annotations

import os
import struct
from concurrent.futures import ThreadPoolExecutor
from operator import itemgetter

import numpy as np

from tui_dedup.engine.files import digest as _digest
from tui_dedup.engine.model import FileEntry

#: Position of each column in a row as :class:`tui_dedup.engine.cache.features.FeatureCache` selects
#: it (the first five are what :class:`tui_dedup.engine.cache.layout.RecordColumns` reads).
COLUMNS = "path, data, format, camera, digest, ctime_ns, dev, ino, edge, id"
PATH, DATA, CTIME, DEV, INO, EDGE, ROWID = 0, 1, 5, 6, 7, 8, 9
#: Size and mtime_ns begin every data blob (see cache_layout.record_dtype).
_HEAD = struct.Struct("<qq")
#: Fewer re-checks than this run in the calling thread; more use a pool, in batches (reads may
#: wait on a NAS; on a local disk the pool only breaks even: 0.77 s vs 0.79 s for 100k files).
_POOL_FROM = 64
_POOL_THREADS = max(4, 2 * (os.cpu_count() or 2))

_CTIME_OF = itemgetter(CTIME)


def i64(x: int) -> int:
    """SQLite integers are signed 64-bit; st_ino/st_dev may use the top bit."""
    return x - (1 << 64) if x >= (1 << 63) else x


def edge_matches(entry: FileEntry, stored: bytes) -> bool:
    """Does the file still have the size discovery saw and the stored edge digest?"""
    try:
        size, edge = _digest.edge_digest_file(entry.path)
    except OSError:
        return False
    return size == entry.size and edge == stored


class IdentityCheck:
    """Sorts the rows found for one read's files into usable and not, re-checking where the
    rules above say so, and collects the re-stamps to write back.

    ``paths[k]`` is ``entries[k].path`` as stored (bytes). :attr:`restamp` holds one
    ``(ctime_ns, dev, ino, row id)`` per row re-checked at its own path, :attr:`rekey` one
    ``(path, ctime_ns, dev, ino, row id)`` per row found at another path; :attr:`checked`
    and :attr:`passed` count the edge re-checks.
    """

    def __init__(self, entries: list[FileEntry], paths: list[bytes]) -> None:
        self.entries = entries
        self.paths = paths
        self.ctimes = np.fromiter((e.ctime_ns for e in entries), np.int64, len(entries))
        self.restamp: list[tuple[int, int, int, int]] = []
        self.rekey: list[tuple[bytes, int, int, int, int]] = []
        self.checked = 0
        self.passed = 0
        self._pool: ThreadPoolExecutor | None = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def __enter__(self) -> IdentityCheck:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ the two kinds of hit

    def same_path(self, ks: list[int], rows: list[tuple]) -> tuple[list[int], list[tuple]]:
        """Rows found at the files' own paths → the usable ones. Rows whose size or mtime
        differ are passed on as they are (the blob check drops them)."""
        if not rows:
            return ks, rows
        ct = np.fromiter(map(_CTIME_OF, rows), np.int64, len(rows))
        same = ct == self.ctimes[ks]
        if same.all():  # the common case: nothing touched since the row was written
            return ks, rows
        keep_k = [k for k, s in zip(ks, same.tolist(), strict=True) if s]
        keep_r = [r for r, s in zip(rows, same.tolist(), strict=True) if s]
        moved = [(k, r) for k, r, s in zip(ks, rows, same.tolist(), strict=True) if not s]
        for k, r in self._recheck(moved):
            keep_k.append(k)
            keep_r.append(r)
        return keep_k, keep_r

    def moved(self, found: list[tuple[int, tuple]]) -> tuple[list[int], list[tuple]]:
        """Rows found by (ino, size, mtime_ns) at another path, grouped by file (several rows
        may share an inode number: hard links, or files on two disks) → one usable row per
        file, to be re-keyed to the file's path (:attr:`rekey`)."""
        by_k: dict[int, list[tuple]] = {}
        for k, r in found:
            by_k.setdefault(k, []).append(r)
        out_k: list[int] = []
        out_r: list[tuple] = []
        check: list[tuple[int, tuple]] = []
        for k, rows in by_k.items():
            e = self.entries[k]
            dev, ctime = i64(e.dev), e.ctime_ns
            direct = next((r for r in rows if r[CTIME] == ctime and r[DEV] == dev), None)
            if direct is not None:
                out_k.append(k)
                out_r.append(direct)
                self._stamp(k, direct)
            else:
                check += [(k, r) for r in rows]
        seen: set[int] = set()
        for k, r in self._recheck(check):
            if k not in seen:  # the first row that passes will do
                seen.add(k)
                out_k.append(k)
                out_r.append(r)
        return out_k, out_r

    # ------------------------------------------------------------------ the re-check

    def _recheck(self, items: list[tuple[int, tuple]]) -> list[tuple[int, tuple]]:
        """The items whose file passes the edge check (each re-stamped)."""
        todo: list[tuple[int, tuple]] = []
        for k, r in items:
            e, blob, edge = self.entries[k], r[DATA], r[EDGE]
            if edge is None or len(edge) != _digest.DIGEST_SIZE or len(blob) < _HEAD.size:
                continue  # nothing to check against, or a malformed row: a miss
            if _HEAD.unpack_from(blob) != (e.size, e.mtime_ns):
                continue  # changed size or mtime: a miss without reading anything
            todo.append((k, r))
        if not todo:
            return []
        self.checked += len(todo)
        if len(todo) < _POOL_FROM:
            ok = self._check_batch(todo)
        else:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(_POOL_THREADS, thread_name_prefix="dedup-recheck")
            # one task per batch: a future per file would cost more than the check itself
            step = max(_POOL_FROM // 4, -(-len(todo) // (4 * _POOL_THREADS)))
            batches = [todo[i : i + step] for i in range(0, len(todo), step)]
            ok = [good for part in self._pool.map(self._check_batch, batches) for good in part]
        passed = [item for item, good in zip(todo, ok, strict=True) if good]
        self.passed += len(passed)
        for k, r in passed:
            self._stamp(k, r)
        return passed

    def _check_batch(self, items: list[tuple[int, tuple]]) -> list[bool]:
        entries = self.entries
        return [edge_matches(entries[k], bytes(r[EDGE])) for k, r in items]

    def _stamp(self, k: int, r: tuple) -> None:
        e, path = self.entries[k], self.paths[k]
        if bytes(r[PATH]) == path:
            self.restamp.append((e.ctime_ns, i64(e.dev), i64(e.ino), r[ROWID]))
        else:
            self.rekey.append((path, e.ctime_ns, i64(e.dev), i64(e.ino), r[ROWID]))
