"""Remembered verdicts, one per pair: a pixel check is paid once, not once per scan.

Why per pair: the pixel check decodes both files (engine/verdicts/pixels.py). The remembered
match results (engine/cache/matches.py) are keyed by the whole library, so one new photo would
otherwise re-decode every file with an uncertain pair. Here each verdict is keyed by what each
file *is*: its size and every feature column the scan stored for it (the feature cache's rows
are only ever reused for unchanged content, engine/cache/identity.py), the transform the pair
was matched under and the digest of the deciding code (engine/cache/engine_digest.py). A
rewritten file or a new build is a miss; a rename, a ``chmod -R`` or a new hard link (which
move ctime) are not: they must not re-run every pixel check. Only verdicts that needed the
pixel check are kept (the rest cost microseconds).

An SQLite file beside the feature cache (``verdicts.sqlite``); like every cache here it holds
nothing a user decided, so any problem with it only costs time: it is then not used.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import time

import numpy as np

from tui_dedup.engine.cache.engine_digest import engine_digest
from tui_dedup.engine.features.store import FeatureStore
from tui_dedup.engine.index.hamming import DIHEDRAL_INVERSE
from tui_dedup.engine.model import Pairs
from tui_dedup.engine.verdicts.evidence import EVIDENCE

FILENAME = "verdicts.sqlite"
KEEP_DAYS = 90  # verdicts not used for this long are dropped
_CHUNK = 500  # keys per SELECT (below SQLite's variable limit)


def _contents(store: FeatureStore) -> list[np.ndarray]:
    """Every per-file column of the store, as rows of bytes: what a file's content gave."""
    cols = [store.hashes[m] for m in sorted(store.hashes)]
    cols += [store.features[name] for name in sorted(store.features)]
    return [np.ascontiguousarray(c).reshape(len(store), -1).view(np.uint8) for c in cols]


class VerdictCache:
    """Remembered verdicts of pixel-checked pairs (see the module docstring)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.db: sqlite3.Connection | None = None
        with contextlib.suppress(sqlite3.Error, OSError):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            db = sqlite3.connect(path, timeout=0.5, check_same_thread=False)
            db.execute(
                "CREATE TABLE IF NOT EXISTS verdicts "
                "(key BLOB PRIMARY KEY, kind INTEGER, evidence BLOB, used INTEGER)"
            )
            db.commit()
            self.db = db

    def keys(self, store: FeatureStore, pairs: Pairs, rows: np.ndarray) -> list[bytes]:
        code = engine_digest().encode()
        ents = store.entries
        cols = _contents(store)

        def ident(r: int) -> bytes:
            return b"".join([ents[r].size.to_bytes(8, "little"), *(c[r].tobytes() for c in cols)])

        out = []
        for k in rows.tolist():
            a, b = ident(int(pairs.i[k])), ident(int(pairs.j[k]))
            t = int(pairs.transform[k])
            if a > b:  # rows come in another order when the store is loaded from the cache:
                a, b, t = b, a, int(DIHEDRAL_INVERSE[t])  # the same two files, the same key
            h = hashlib.blake2b(code, digest_size=16)
            h.update(a)
            h.update(b"\1")
            h.update(b)
            h.update(bytes([t & 0xFF]))
            out.append(h.digest())
        return out

    def recall(self, keys: list[bytes]) -> dict[bytes, tuple[int, np.ndarray]]:
        """Known verdicts among ``keys``: key → (kind, evidence row)."""
        found: dict[bytes, tuple[int, np.ndarray]] = {}
        if self.db is None or not keys:
            return found
        try:
            for s in range(0, len(keys), _CHUNK):
                part = keys[s : s + _CHUNK]
                q = ",".join("?" * len(part))
                for key, kind, blob in self.db.execute(
                    f"SELECT key, kind, evidence FROM verdicts WHERE key IN ({q})", part
                ):
                    if len(blob) == EVIDENCE.itemsize:
                        found[bytes(key)] = (int(kind), np.frombuffer(blob, EVIDENCE)[0])
            if found:
                now = int(time.time())
                self.db.executemany(
                    "UPDATE verdicts SET used = ? WHERE key = ?", [(now, k) for k in found]
                )
                self.db.commit()
        except sqlite3.Error:
            self.close()
        return found

    def keep(self, items: list[tuple[bytes, int, np.ndarray]]) -> None:
        if self.db is None or not items:
            return
        now = int(time.time())
        try:
            self.db.executemany(
                "INSERT OR REPLACE INTO verdicts VALUES (?, ?, ?, ?)",
                [(k, kind, np.asarray(ev, EVIDENCE).tobytes(), now) for k, kind, ev in items],
            )
            self.db.execute("DELETE FROM verdicts WHERE used < ?", (now - KEEP_DAYS * 86400,))
            self.db.commit()
        except sqlite3.Error:
            self.close()

    def close(self) -> None:
        if self.db is not None:
            with contextlib.suppress(sqlite3.Error):
                self.db.close()
            self.db = None
