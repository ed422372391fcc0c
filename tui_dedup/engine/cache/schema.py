"""The feature cache's tables: their layout and its version, moving an older layout forward, and
the settings key that keeps rows of other feature settings apart.

A layout from an earlier version is rebuilt empty (:func:`check_schema` says so, and the
database warns once); one from a later version is left alone; anything else that is not our
layout is damage (:class:`CorruptCache`), which the database sets aside
(:mod:`tui_dedup.engine.cache.db`). The binary layout of a row's ``data`` blob is in
:mod:`tui_dedup.engine.cache.layout`.
"""

from __future__ import annotations

import contextlib
import sqlite3

from tui_dedup.engine.features import columns as _columns
from tui_dedup.engine.features import hashes as _features
from tui_dedup.engine.files import decode as _decode

#: Version of the table layout (not of the features: that is in the settings key). 2: ctime_ns
#: and the edge digest per row, identity index without dev. 3: the row blob carries the capture
#: evidence (engine/cache/layout.py), which rows of layout 2 lack. An older layout is rebuilt
#: empty (its rows cannot be trusted without a ctime, nor used without the new fields), with
#: one warning.
SCHEMA_VERSION = 3

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
    ctime_ns INTEGER NOT NULL,
    dev INTEGER NOT NULL,
    ino INTEGER NOT NULL,
    format TEXT NOT NULL,
    camera TEXT,
    digest BLOB,
    edge BLOB,
    data BLOB NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS features_path ON features (sid, path);
CREATE INDEX IF NOT EXISTS features_identity ON features (sid, ino);
CREATE TABLE IF NOT EXISTS snapshots (name TEXT PRIMARY KEY, token TEXT NOT NULL);
"""


def settings_key(hash_size: int) -> str:
    """Everything that changes stored features; rows of another key are never reused.

    The feature version, the hash and decode sizes, then each feature column's parameters as
    the column declaration states them (engine/features/columns.py), e.g.
    ``v3;hash=8;decode=64;variants=8;methods=phash,dhash,ahash;hist=32x3,64``.
    """
    return (
        f"v{_features.FEATURE_VERSION};hash={hash_size};decode={_decode.MIN_DECODE_SIDE};"
        f"{_columns.settings_part()}"
    )


class CorruptCache(Exception):
    """A file that is a database, but not one this version wrote."""


class NewerCache(Exception):
    """A cache in a layout from a later version: not ours to read, nor to set aside."""


class OlderCache(Exception):
    """A cache in a layout from an earlier version, opened where it cannot be rebuilt."""


def check_schema(conn: sqlite3.Connection, *, create: bool) -> int | None:
    """Check the layout of the database behind ``conn``, creating it in an empty file when
    ``create``. Returns the older layout's version when it was rebuilt empty (the caller
    warns), else None; raises :class:`NewerCache`, :class:`OlderCache` (an older layout where
    ``create`` is False) or :class:`CorruptCache`."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if version == 0 and not tables and create:
        # One transaction, so a second instance starting now sees all of it or nothing.
        conn.executescript(
            f"BEGIN IMMEDIATE; {_SCHEMA} PRAGMA user_version={SCHEMA_VERSION}; COMMIT;"
        )
        return None
    if version > SCHEMA_VERSION:
        # A newer dedup-tui owns this file: leave it alone rather than fight over it.
        raise NewerCache(f"written by a newer dedup-tui (layout {version})")
    if 0 < version < SCHEMA_VERSION and {"settings", "features"} <= tables:
        if not create:
            raise OlderCache(f"written by an older dedup-tui (layout {version})")
        _rebuild(conn)
        return int(version)
    if version != SCHEMA_VERSION or not {"settings", "features"} <= tables:
        raise CorruptCache(f"not a dedup-tui cache (layout {version})")
    return None


def _rebuild(conn: sqlite3.Connection) -> None:
    """Replace an older layout's tables with empty current ones, in one transaction (a second
    instance doing the same meanwhile finds the new layout and leaves it)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        if conn.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
            for table in ("features", "settings", "snapshots"):
                conn.execute(f"DROP TABLE IF EXISTS {table}")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise
