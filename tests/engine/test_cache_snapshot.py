"""The whole-store snapshot beside the feature cache: used when it is whole and current,
ignored (never trusted, never fatal) when it is damaged, stale or disowned by its database."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from tui_dedup.engine.cache import snapshot as cache_snapshot
from tui_dedup.engine.cache.features import FeatureCache
from tui_dedup.engine.features import hashes as features
from tui_dedup.engine.features.store import FeatureStore
from tui_dedup.engine.scan import ScanConfig, scan


@pytest.fixture
def lib(tmp_path: Path, demo_library) -> Path:
    return demo_library(tmp_path / "lib", 3)


@pytest.fixture
def cache_path(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "features.sqlite"


@pytest.fixture
def sqlite_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many files each scan asked SQLite for (the snapshot's misses)."""
    calls: list[int] = []
    real = FeatureCache._get_rows

    def counting(self, sid, entries, hash_size):
        calls.append(len(entries))
        return real(self, sid, entries, hash_size)

    monkeypatch.setattr(FeatureCache, "_get_rows", counting)
    return calls


def _scan(root: Path, cache_path: Path, config: ScanConfig | None = None):
    with FeatureCache.open(cache_path) as cache:
        res = scan([root], config, cache=cache)
        assert cache.warnings == []
        return res


def _snaps(cache_path: Path) -> list[Path]:
    return sorted(Path(cache_snapshot.snapshot_dir(str(cache_path))).glob("*.snap"))


def _same(a: FeatureStore, b: FeatureStore) -> None:
    assert [e.path for e in a.entries] == [e.path for e in b.entries]
    assert [e.identity for e in a.entries] == [e.identity for e in b.entries]
    assert a.metas == b.metas
    for m in a.hashes:
        np.testing.assert_array_equal(a.hashes[m], b.hashes[m])
    for name in ("hist3", "hist1", "detail", "digests", "has_digest", "tiles"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def test_an_unchanged_tree_is_read_from_the_snapshot_alone(lib, cache_path, sqlite_reads):
    first = _scan(lib, cache_path)
    assert len(_snaps(cache_path)) == 1
    sqlite_reads.clear()
    second = _scan(lib, cache_path)
    assert sqlite_reads == [1]  # only broken.jpg, which no cache holds (errors are retried)
    assert second.decoded == 0 and second.from_cache == len(first.store)
    _same(first.store, second.store)
    second.store.ensure_digests(np.arange(len(second.store)))  # the columns are writable
    assert second.store.has_digest.all()


def test_changed_files_come_from_sqlite_or_a_decode_the_rest_from_the_snapshot(
    lib, cache_path, sqlite_reads, decodes
):
    _scan(lib, cache_path)
    target = lib / "2023/holiday/IMG_2040.jpg"
    st = target.stat()
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    renamed = lib / "2023/holiday/IMG_2041.jpg"
    renamed.rename(lib / "2023/holiday/renamed.jpg")
    sqlite_reads.clear()
    decodes.clear()
    res = _scan(lib, cache_path)
    assert sqlite_reads == [3]  # the touched file, the renamed one and broken.jpg
    assert [p for p in decodes if not p.endswith("broken.jpg")] == [str(target)]
    assert res.decoded == 1  # the renamed file was found by identity in SQLite
    fresh = scan([lib])
    _same(fresh.store, res.store)
    sqlite_reads.clear()
    _same(fresh.store, _scan(lib, cache_path).store)  # the new snapshot holds both
    assert sqlite_reads == [1]


@pytest.mark.parametrize("damage", ["flip", "truncate", "garbage", "empty", "header"])
def test_a_damaged_snapshot_is_ignored(lib, cache_path, sqlite_reads, decodes, damage):
    first = _scan(lib, cache_path)
    (snap,) = _snaps(cache_path)
    data = bytearray(snap.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0x10
    elif damage == "truncate":
        del data[len(data) // 2 :]
    elif damage == "garbage":
        data = bytearray(b"\x5a" * len(data))
    elif damage == "empty":
        data = bytearray()
    else:
        data[20:40] = b"x" * 20  # inside the JSON header
    snap.write_bytes(bytes(data))
    sqlite_reads.clear()
    decodes.clear()
    res = _scan(lib, cache_path)
    assert sqlite_reads == [len(first.store) + 1]  # everything from SQLite instead
    assert res.decoded == 0
    _same(first.store, res.store)
    sqlite_reads.clear()
    _scan(lib, cache_path)
    assert sqlite_reads == [1]  # and a good snapshot was written again


def test_a_snapshot_is_disowned_by_a_new_or_cleared_database(lib, cache_path, decodes):
    first = _scan(lib, cache_path)
    n = len(decodes)
    for suffix in ("", "-wal", "-shm"):  # the user deletes the cache database only
        Path(str(cache_path) + suffix).unlink(missing_ok=True)
    decodes.clear()
    res = _scan(lib, cache_path)
    assert len(decodes) == n and res.from_cache == 0  # deleting the cache loses only time
    _same(first.store, res.store)
    with FeatureCache.open(cache_path) as cache:
        cache.clear()
    assert _snaps(cache_path) == []
    decodes.clear()
    assert _scan(lib, cache_path).from_cache == 0


def test_another_settings_key_or_hash_size_never_uses_the_snapshot(
    lib, cache_path, decodes, monkeypatch
):
    first = _scan(lib, cache_path)
    n = len(decodes)
    decodes.clear()
    big = _scan(lib, cache_path, ScanConfig(hash_size=16))
    assert len(decodes) == n and big.store.hash_size == 16
    assert len(_snaps(cache_path)) == 2  # one per settings key, side by side
    decodes.clear()
    _same(first.store, _scan(lib, cache_path).store)
    assert [p for p in decodes if not p.endswith("broken.jpg")] == []
    monkeypatch.setattr(features, "FEATURE_VERSION", features.FEATURE_VERSION + 1)
    decodes.clear()
    assert _scan(lib, cache_path).from_cache == 0
    assert len(decodes) == n


def test_read_snapshot_checks_token_and_settings(lib, cache_path, tmp_path):
    res = _scan(lib, cache_path)
    path = str(tmp_path / "s.snap")
    cache_snapshot.write_snapshot(path, "tok", "key", res.store)
    read = cache_snapshot.read_snapshot
    hs = res.store.hash_size
    snap = read(path, "tok", "key", hs)
    assert snap is not None and len(snap) == len(res.store)
    assert snap.paths == [e.path for e in res.store.entries]
    assert read(path, "other", "key", hs) is None
    assert read(path, "tok", "other key", hs) is None
    assert read(path, "tok", "key", hs + 1) is None
    assert read(str(tmp_path / "missing.snap"), "tok", "key", hs) is None
    index, rows = snap.match(list(reversed(res.store.entries)))
    assert rows.tolist() == list(range(len(res.store)))  # ordered by snapshot row
    assert (index == len(res.store) - 1 - rows).all()


def test_a_read_only_cache_never_writes_a_snapshot(lib, cache_path, monkeypatch):
    _scan(lib, cache_path)
    for p in _snaps(cache_path):
        p.unlink()
    with FeatureCache.open(cache_path) as cache:
        cache.mode = "read-only"
        scan([lib], cache=cache)
    assert _snaps(cache_path) == []


def test_prefetch_for_other_roots_falls_back_to_a_normal_load(
    lib, cache_path, tmp_path, sqlite_reads, monkeypatch
):
    """scan() starts loading the snapshot before discovery; when the roots with files differ
    from the roots given (an empty one), the snapshot is still found and used."""
    empty = tmp_path / "empty"
    empty.mkdir()
    first = _scan(lib, cache_path)
    loads: list[str] = []
    real = cache_snapshot.read_snapshot
    monkeypatch.setattr(
        "tui_dedup.engine.cache.db.read_snapshot",
        lambda path, *a: loads.append(path) or real(path, *a),
    )
    sqlite_reads.clear()
    with FeatureCache.open(cache_path) as cache:
        res = scan([lib, empty], cache=cache)
    assert sqlite_reads == [1] and len(loads) == 1  # the prefetch found no snapshot for both
    _same(first.store, res.store)
    loads.clear()
    sqlite_reads.clear()
    assert _scan(lib, cache_path).from_cache == len(first.store)
    assert len(loads) == 1 and sqlite_reads == [1]  # prefetched, then used


def test_the_snapshot_format_knows_every_store_column() -> None:
    """A new FeatureStore/FeatureBlock column switches snapshots off (safe, but every warm
    rescan reads SQLite again): teach engine/cache/snapshot.py about it and bump FORMAT."""
    assert cache_snapshot.layout_known()
