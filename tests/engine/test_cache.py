"""The feature cache: what it reuses, what it invalidates, and that no bad cache stops a scan.

Decodes are counted by wrapping ``scan.compute_row``; every image is generated in tmp_path.
Failure modes are real where the machine allows it (a second SQLite connection holding a lock,
garbage bytes, an unprivileged subprocess facing a root-owned cache, ``kill -9`` mid-scan) and
injected where it does not (EROFS).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from tui_dedup.demo import make_photo, write_jpeg
from tui_dedup.engine.cache import features as cache_mod
from tui_dedup.engine.cache.features import FeatureCache
from tui_dedup.engine.cache.location import resolve_cache_path
from tui_dedup.engine.cache.schema import settings_key
from tui_dedup.engine.features import hashes as features
from tui_dedup.engine.features.store import FeatureStore, StoreBuilder
from tui_dedup.engine.model import FileEntry
from tui_dedup.engine.scan import ScanConfig, scan

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def lib(tmp_path: Path, demo_library) -> Path:
    return demo_library(tmp_path / "lib", 4)


@pytest.fixture
def cache_path(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "features.sqlite"


def _scan(root: Path, cache_path: Path, config: ScanConfig | None = None):
    with FeatureCache.open(cache_path) as cache:
        res = scan([root], config, cache=cache)
        return res, list(cache.warnings)


def _assert_same_store(a: FeatureStore, b: FeatureStore) -> None:
    assert [e.path for e in a.entries] == [e.path for e in b.entries]
    assert a.metas == b.metas
    for m in a.hashes:
        np.testing.assert_array_equal(a.hashes[m], b.hashes[m])
    np.testing.assert_array_equal(a.hist3, b.hist3)
    np.testing.assert_array_equal(a.hist1, b.hist1)
    np.testing.assert_array_equal(a.detail, b.detail)
    np.testing.assert_array_equal(a.digests, b.digests)
    np.testing.assert_array_equal(a.has_digest, b.has_digest)


def _rows(path: Path) -> int:
    conn = sqlite3.connect(path, timeout=5)
    try:
        return conn.execute("SELECT COUNT(*) FROM features").fetchone()[0]
    finally:
        conn.close()


# ----------------------------------------------------------------------------- hits and misses


def test_second_scan_decodes_nothing_and_gives_the_same_store(lib, cache_path, decodes):
    first, warnings = _scan(lib, cache_path)
    assert warnings == []
    assert first.decoded == len(first.store) > 10
    n_calls = len(decodes)
    assert n_calls == len(first.store) + len(first.errors)  # broken.jpg is decoded, not cached

    decodes.clear()
    second, warnings = _scan(lib, cache_path)
    assert warnings == []
    assert decodes == [str(lib / "2024/family/broken.jpg")]  # errors are not cached
    assert second.decoded == 0
    assert second.from_cache == len(first.store)
    _assert_same_store(first.store, second.store)


def test_block_read_matches_row_read_and_a_mixed_store(lib, cache_path, decodes):
    """get_block (columns, the warm-scan path) and get_many (one row per file) agree, and a
    store built from a block plus single rows equals one built from rows alone."""
    first, _ = _scan(lib, cache_path)
    entries = first.store.entries
    with FeatureCache.open(cache_path) as cache:
        index, block = cache.get_block(entries)
        rows = cache.get_many(entries)
    assert sorted(index.tolist()) == sorted(rows) == list(range(len(entries)))
    for i, k in enumerate(index.tolist()):
        got, want = block.row(i), rows[k]
        assert got.meta == want.meta and got.digest == want.digest and got.detail == want.detail
        for m in want.hashes:
            np.testing.assert_array_equal(got.hashes[m], want.hashes[m])
        np.testing.assert_array_equal(got.hist3, want.hist3)

    half = len(index) // 2
    mixed = StoreBuilder(first.store.hash_size)
    for i in reversed(range(half)):  # single rows first, in another order
        mixed.add(entries[int(index[i])], block.row(i))
    rest = np.arange(half, len(index))
    mixed.add_block([entries[k] for k in index[rest].tolist()], block.take(rest))
    _assert_same_store(first.store, mixed.build())
    assert first.store.metas[0] == first.store.metas[:1][0] and len(first.store.metas) == len(
        entries
    )


def test_size_or_mtime_change_decodes_that_file_only(lib, cache_path, decodes):
    _scan(lib, cache_path)
    target = lib / "2023/holiday/IMG_2040.jpg"
    other = lib / "2023/holiday/IMG_2041.jpg"
    st = target.stat()
    # Same bytes, new mtime.
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    # New bytes of another size, old mtime kept (what a careless copy tool does).
    ost = other.stat()
    write_jpeg(other, make_photo(99, 200, 150), 80)
    os.utime(other, ns=(ost.st_atime_ns, ost.st_mtime_ns))
    assert other.stat().st_size != ost.st_size

    decodes.clear()
    res, _ = _scan(lib, cache_path)
    assert sorted(p for p in decodes if not p.endswith("broken.jpg")) == sorted(
        [str(target), str(other)]
    )
    assert res.decoded == 2
    decodes.clear()
    res, _ = _scan(lib, cache_path)
    assert res.decoded == 0  # the new rows replaced the old ones


def test_renamed_and_moved_files_are_not_decoded_again(lib, cache_path, decodes):
    first, _ = _scan(lib, cache_path)
    src = lib / "2023/holiday/IMG_2040.jpg"
    renamed = lib / "2023/holiday/renamed.jpg"
    moved_src = lib / "2024/family/DSC00000.jpg"
    moved = lib / "new folder/DSC00000.jpg"
    src.rename(renamed)
    moved.parent.mkdir()
    moved_src.rename(moved)

    decodes.clear()
    res, warnings = _scan(lib, cache_path)
    assert warnings == []
    assert [p for p in decodes if not p.endswith("broken.jpg")] == []
    assert res.decoded == 0
    a = first.store.entries.index(next(e for e in first.store.entries if e.path == str(src)))
    b = next(k for k, e in enumerate(res.store.entries) if e.path == str(renamed))
    np.testing.assert_array_equal(first.store.hashes["phash"][a], res.store.hashes["phash"][b])

    # The rows were re-keyed to the new paths: the old paths are gone from the cache.
    conn = sqlite3.connect(cache_path)
    paths = {bytes(r[0]) for r in conn.execute("SELECT path FROM features")}
    conn.close()
    assert os.fsencode(str(renamed)) in paths and os.fsencode(str(src)) not in paths
    assert os.fsencode(str(moved)) in paths and os.fsencode(str(moved_src)) not in paths


def test_a_file_moved_in_from_outside_the_roots_is_found_by_identity(tmp_path, decodes):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    for k in range(3):
        write_jpeg(a / f"{k}.jpg", make_photo(k, 120, 90))
    cp = tmp_path / "c.sqlite"
    _scan(a, cp)
    (a / "1.jpg").rename(b / "one.jpg")
    decodes.clear()
    res, _ = _scan(b, cp)
    assert decodes == [] and res.from_cache == 1


def test_hash_size_is_part_of_the_key_and_both_sizes_are_kept(lib, cache_path, decodes):
    first, _ = _scan(lib, cache_path)
    n = len(decodes)
    decodes.clear()
    big, _ = _scan(lib, cache_path, ScanConfig(hash_size=16))
    assert len(decodes) == n  # everything decoded again
    assert big.store.hashes["phash"].shape[1:] == (features.VARIANTS, 4)
    decodes.clear()
    again, _ = _scan(lib, cache_path, ScanConfig(hash_size=16))
    assert again.decoded == 0
    back, _ = _scan(lib, cache_path)
    assert back.decoded == 0
    _assert_same_store(first.store, back.store)


def test_feature_version_bump_invalidates(lib, cache_path, decodes, monkeypatch):
    first, _ = _scan(lib, cache_path)
    n = len(decodes)
    monkeypatch.setattr(features, "FEATURE_VERSION", features.FEATURE_VERSION + 1)
    decodes.clear()
    res, _ = _scan(lib, cache_path)
    assert len(decodes) == n and res.from_cache == 0
    with FeatureCache.open(cache_path) as cache:
        assert cache.prune() == len(first.store)  # the old version's rows are dead weight
        assert cache.stats().rows == len(first.store)


def test_settings_key_names_what_changes_features():
    key = settings_key(8)
    assert f"v{features.FEATURE_VERSION}" in key and "hash=8" in key and "decode=" in key
    assert settings_key(16) != key


def test_digest_needed_later_is_added_without_a_decode(tmp_path, decodes):
    root = tmp_path / "lib"
    root.mkdir()
    write_jpeg(root / "a.jpg", make_photo(1, 160, 120), 90)
    cp = tmp_path / "c.sqlite"
    first, _ = _scan(root, cp)
    assert not first.store.has_digest.any()  # a unique size needs no digest
    shutil.copy2(root / "a.jpg", root / "b.jpg")  # now the size is shared
    decodes.clear()
    second, _ = _scan(root, cp)
    assert decodes == [str(root / "b.jpg")]  # a.jpg only needed its digest
    assert second.store.has_digest.all()
    decodes.clear()
    third, _ = _scan(root, cp)
    assert decodes == [] and third.store.has_digest.all()


def test_cache_used_from_another_thread(lib, cache_path, decodes):
    _scan(lib, cache_path)
    decodes.clear()
    out = {}
    with FeatureCache.open(cache_path) as cache:  # opened here, used by a worker thread
        t = threading.Thread(target=lambda: out.setdefault("r", scan([lib], cache=cache)))
        t.start()
        t.join()
        assert cache.warnings == []
    assert out["r"].decoded == 0


def test_odd_paths_and_huge_inode_numbers_round_trip(tmp_path):
    root = tmp_path / "lib"
    root.mkdir()
    name = os.fsdecode(b"caf\xe9 \xff.jpg")  # not UTF-8: surrogate-escaped str
    write_jpeg(os.path.join(root, name), make_photo(3, 96, 72))
    cp = tmp_path / "c.sqlite"
    first, warnings = _scan(root, cp)
    assert warnings == [] and first.decoded == 1
    second, _ = _scan(root, cp)
    assert second.decoded == 0

    row = next(iter(FeatureCache.open(cp).get_many(first.store.entries).values()))
    big = FileEntry(str(root / "x.jpg"), str(root), 10, 20, 2**64 - 1, 2**64 - 2)
    with FeatureCache.open(cp) as cache:
        cache.put_many([(big, row)])
        moved = FileEntry(str(root / "y.jpg"), str(root), 10, 20, 2**64 - 1, 2**64 - 2)
        got = cache.get_many([moved])
        assert list(got) == [0] and cache.warnings == []


def test_stats_and_clear(lib, cache_path, decodes):
    first, _ = _scan(lib, cache_path)
    with FeatureCache.open(cache_path) as cache:
        st = cache.stats()
        assert st.rows == st.rows_current == len(first.store)
        assert st.bytes_on_disk > 0 and st.mode == "read-write"
        cache.clear()
        assert cache.stats().rows == 0
    decodes.clear()
    res, _ = _scan(lib, cache_path)
    assert res.from_cache == 0


def test_cache_location(tmp_path, monkeypatch):
    monkeypatch.setenv("DEDUP_TUI_CACHE_DIR", str(tmp_path / "envdir"))
    assert resolve_cache_path(None) == str(tmp_path / "envdir" / "features.sqlite")
    assert resolve_cache_path(tmp_path) == str(tmp_path / "features.sqlite")  # a folder
    assert resolve_cache_path(tmp_path / "x.db") == str(tmp_path / "x.db")
    monkeypatch.delenv("DEDUP_TUI_CACHE_DIR")
    assert "dedup-tui" in resolve_cache_path(None)
    with FeatureCache.open(None) as c:  # env wins over the user cache dir
        pass
    monkeypatch.setenv("DEDUP_TUI_CACHE_DIR", str(tmp_path / "envdir"))
    with FeatureCache.open(None) as c:
        assert c.path == str(tmp_path / "envdir" / "features.sqlite") and c.enabled


# ----------------------------------------------------------------------------- damaged caches


def test_garbage_cache_file_is_set_aside_and_rebuilt(lib, cache_path, decodes):
    cache_path.parent.mkdir(parents=True)
    cache_path.write_bytes(b"this is not a database " * 500)
    res, warnings = _scan(lib, cache_path)
    assert len(warnings) == 1 and "damaged" in warnings[0]
    assert res.decoded == len(res.store)
    aside = list(cache_path.parent.glob("features.sqlite.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b"this is not")
    decodes.clear()
    res, warnings = _scan(lib, cache_path)
    assert warnings == [] and res.decoded == 0


def test_damaged_pages_found_mid_read_are_rebuilt(lib, cache_path, decodes):
    _scan(lib, cache_path)
    data = bytearray(cache_path.read_bytes())
    assert len(data) > 3 * 4096
    data[4096:] = b"\xa5" * (len(data) - 4096)  # header intact, every table page garbage
    cache_path.write_bytes(bytes(data))
    decodes.clear()
    res, warnings = _scan(lib, cache_path)
    assert any("damaged" in w for w in warnings)
    assert res.decoded == len(res.store) > 0
    decodes.clear()
    res, _ = _scan(lib, cache_path)
    assert res.decoded == 0


def test_foreign_sqlite_file_is_set_aside(lib, cache_path):
    cache_path.parent.mkdir(parents=True)
    conn = sqlite3.connect(cache_path)
    conn.execute("CREATE TABLE something_else (x)")
    conn.commit()
    conn.close()
    res, warnings = _scan(lib, cache_path)
    assert any("damaged" in w for w in warnings) and len(res.store) > 0


def test_cache_of_a_newer_version_is_left_alone(lib, cache_path):
    _scan(lib, cache_path)
    conn = sqlite3.connect(cache_path)
    conn.execute("PRAGMA user_version=99")
    conn.commit()
    conn.close()
    res, warnings = _scan(lib, cache_path)
    assert len(res.store) > 0 and res.decoded == len(res.store)
    assert len(warnings) == 1 and "newer" in warnings[0]
    assert not list(cache_path.parent.glob("*.corrupt-*"))  # not ours to move
    assert _rows(cache_path) == len(res.store)


def test_write_locked_cache_is_used_read_only(lib, cache_path, decodes):
    first, _ = _scan(lib, cache_path)
    write_jpeg(lib / "new.jpg", make_photo(123, 200, 150))
    other = sqlite3.connect(cache_path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another instance in the middle of a write
    try:
        decodes.clear()
        res, warnings = _scan(lib, cache_path)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert [p for p in decodes if not p.endswith("broken.jpg")] == [str(lib / "new.jpg")]
    assert res.from_cache == len(first.store)
    assert len(warnings) == 1 and "another dedup-tui is writing" in warnings[0]
    assert _rows(cache_path) == len(first.store)  # nothing written, nothing broken


def test_fully_locked_cache_is_bypassed(lib, cache_path, decodes):
    cache_path.parent.mkdir(parents=True)
    other = sqlite3.connect(cache_path, isolation_level=None)
    other.execute("PRAGMA journal_mode=DELETE")
    other.execute("CREATE TABLE t (x)")
    other.execute("BEGIN EXCLUSIVE")  # rollback-journal mode: blocks readers too
    try:
        res, warnings = _scan(lib, cache_path)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert len(res.store) > 0 and res.decoded == len(res.store)
    assert len(warnings) == 1 and "not used" in warnings[0]


def test_readonly_error_on_write_is_a_warning(lib, cache_path, decodes, monkeypatch):
    first, _ = _scan(lib, cache_path)
    write_jpeg(lib / "new.jpg", make_photo(321, 200, 150))

    def readonly(self, items, hash_size):
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(FeatureCache, "_put_many", readonly)
    res, warnings = _scan(lib, cache_path)
    assert res.from_cache == len(first.store) and res.decoded == 1
    assert len(warnings) == 1 and "read-only" in warnings[0]


def test_read_only_disk_disables_the_cache(lib, tmp_path, decodes, monkeypatch):
    def erofs(*a, **k):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(cache_mod.os, "makedirs", erofs)
    cache = FeatureCache.open(tmp_path / "ro" / "features.sqlite")
    assert not cache.enabled
    assert len(cache.warnings) == 1 and "Read-only file system" in cache.warnings[0]
    res = scan([lib], cache=cache)
    assert len(res.store) > 0 and res.decoded == len(res.store)
    cache.put_many([])  # harmless
    assert cache.stats().rows == 0


_AS_NOBODY = """
import json, sys
from tui_dedup.engine import scan as scan_mod
from tui_dedup.engine.cache.features import FeatureCache
calls = []
real = scan_mod.compute_row
scan_mod.compute_row = lambda e, c, w: (calls.append(e.path), real(e, c, w))[1]
with FeatureCache.open(sys.argv[2]) as cache:
    res = scan_mod.scan([sys.argv[1]], cache=cache)
    print(json.dumps({"decoded": len(calls), "files": len(res.store),
                      "from_cache": res.from_cache, "mode": cache.mode,
                      "warnings": cache.warnings}))
"""


@pytest.mark.parametrize("where", ["file", "folder"])
def test_cache_not_writable_by_the_user_is_read_only_or_bypassed(where):
    """A real permission problem: root writes the cache, an unprivileged user scans."""
    base = Path(tempfile.mkdtemp(prefix="dedup-ro-", dir="/tmp"))
    try:
        base.chmod(0o755)
        lib = base / "lib"
        lib.mkdir()
        for k in range(4):
            write_jpeg(lib / f"{k}.jpg", make_photo(k, 120, 90))
        cdir = base / "cache"
        cdir.mkdir()
        cp = cdir / "features.sqlite"
        with FeatureCache.open(cp) as cache:
            scan([lib], cache=cache)
        write_jpeg(lib / "new.jpg", make_photo(99, 120, 90))  # one change to write back
        for p in [base, lib, *lib.iterdir(), cdir, *cdir.iterdir()]:
            p.chmod(0o755 if p.is_dir() else 0o644)
        if where == "file":
            cdir.chmod(0o777)  # the folder is writable, the file is not
        from unprivileged import as_nobody

        with as_nobody(base) as (python, env):
            env["HOME"] = str(base)
            out = subprocess.run(
                [*python, "-c", _AS_NOBODY, str(lib), str(cp)],
                capture_output=True,
                text=True,
                cwd=base,
                env=env,
                timeout=120,
            )
        assert out.returncode == 0, out.stderr
        info = json.loads(out.stdout.strip().splitlines()[-1])
        assert info["files"] == 5
        assert len(info["warnings"]) == 1, info
        assert "read-only" in info["warnings"][0] or "not used" in info["warnings"][0]
        if info["mode"] == "read-only":
            assert info["from_cache"] == 4 and info["decoded"] == 1
        else:
            assert info["mode"] == "disabled" and info["decoded"] == 5
        assert _rows(cp) == 4  # untouched
    finally:
        shutil.rmtree(base, ignore_errors=True)


# ----------------------------------------------------------------------------- resume


_SLOW_SCAN = """
import sys, time
from tui_dedup.engine import scan as scan_mod
from tui_dedup.engine.cache.features import FeatureCache
real = scan_mod.compute_row
def slow(entry, config, want_digest):
    time.sleep(0.1)
    return real(entry, config, want_digest)
scan_mod.compute_row = slow
with FeatureCache.open(sys.argv[2]) as cache:
    scan_mod.scan([sys.argv[1]], scan_mod.ScanConfig(workers=4), cache=cache)
print("finished")
"""


@pytest.mark.slow
def test_killed_scan_resumes_from_the_last_flush(tmp_path, decodes):
    root = tmp_path / "lib"
    total = 300
    for k in range(total):
        sub = root / f"d{k // 100}"
        sub.mkdir(parents=True, exist_ok=True)
        write_jpeg(sub / f"{k:04d}.jpg", make_photo(k, 64, 48), 85)
    cp = tmp_path / "cache" / "features.sqlite"
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(_SLOW_SCAN), str(root), str(cp)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = 0
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if cp.exists():
                try:
                    seen = _rows(cp)
                except sqlite3.OperationalError:
                    seen = 0  # tables not created yet
                if seen:
                    break
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate()
    assert proc.returncode == -signal.SIGKILL, err  # killed, not finished
    assert 0 < seen < total

    res, warnings = _scan(root, cp)
    assert warnings == []
    assert len(res.store) == total
    assert 0 < len(decodes) <= total - seen  # only the rest is decoded
    assert res.from_cache >= seen
