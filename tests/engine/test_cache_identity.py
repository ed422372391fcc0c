"""The feature cache cannot be fooled by ``touch``, and a rename or ``chmod -R`` costs a re-check,
never a decode; the destination marker keeps ``--move-to`` folders out of every scan.

Decodes are counted by wrapping ``scan.compute_row`` and re-checks by the cache's
``rechecked`` counter; every picture is generated in tmp_path.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import shutil
import sqlite3
from pathlib import Path

import cv2
import numpy as np
import pytest

from tui_dedup.demo import make_photo, write_jpeg
from tui_dedup.engine import scan as scan_mod
from tui_dedup.engine.cache import db as cache_db
from tui_dedup.engine.cache import schema as cache_schema
from tui_dedup.engine.cache import snapshot as cache_snapshot
from tui_dedup.engine.cache.features import FeatureCache
from tui_dedup.engine.files.discover import DEST_MARKER, DiscoverOptions, discover
from tui_dedup.engine.matching.match import match
from tui_dedup.engine.registry import resolve_threshold
from tui_dedup.engine.scan import ScanConfig, ScanResult, scan


@pytest.fixture
def cache_path(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "features.sqlite"


def _scan(root: Path, cache_path: Path | None) -> tuple[ScanResult, tuple[int, int]]:
    """A scan with the cache at ``cache_path`` (None: ``--no-cache``); (result, re-checks)."""
    if cache_path is None:
        return scan([root]), (0, 0)
    with FeatureCache.open(cache_path) as cache:
        res = scan([root], cache=cache)
        assert cache.warnings == []
        return res, cache.rechecked


def _pairs(res: ScanResult) -> set[tuple[str, str, float]]:
    """Pairs as (name, name, similarity rounded): what a user sees in the list."""
    p = match(res.store, "phash", resolve_threshold("phash"))
    names = [os.path.basename(e.path) for e in res.store.entries]
    return {
        (names[i], names[j], round(float(s), 4))
        for i, j, s in zip(p.i.tolist(), p.j.tolist(), p.similarity.tolist(), strict=True)
    }


def _write_same_size(path: Path, img: np.ndarray, size: int) -> None:
    """Write ``img`` as exactly ``size`` bytes: BMP is sized by its pixels; a JPEG is encoded
    below ``size`` and padded after its end marker (as phones append trailers)."""
    if path.suffix == ".bmp":
        ok, buf = cv2.imencode(".bmp", img)
        data = buf.tobytes()
    else:
        for quality in range(90, 5, -5):
            ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
            data = buf.tobytes()
            if len(data) <= size:
                break
        data += b"\0" * (size - len(data))
    assert ok and len(data) == size
    path.write_bytes(data)


def _touch_r_rewrite(path: Path, img: np.ndarray) -> None:
    """The attack: another picture at the same path, same size, the old mtime put back."""
    st = path.stat()
    _write_same_size(path, img, st.st_size)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    assert after.st_ctime_ns != st.st_ctime_ns


def _library(root: Path, ext: str, side: int) -> Path:
    """Five unrelated pictures plus ``copy`` = an exact copy of ``orig``."""
    root.mkdir(parents=True)
    for k in range(5):
        img = make_photo(100 + k, side, side * 3 // 4)
        if ext == ".bmp":
            cv2.imwrite(str(root / f"other{k}.bmp"), img)
        else:
            write_jpeg(root / f"other{k}.jpg", img, 92)
    orig = make_photo(1, side, side * 3 // 4)
    if ext == ".bmp":
        cv2.imwrite(str(root / "orig.bmp"), orig)
    else:
        write_jpeg(root / "orig.jpg", orig, 92)
    shutil.copy2(root / f"orig{ext}", root / f"copy{ext}")
    return root


# ----------------------------------------------------------------------------- touch -r


@pytest.mark.parametrize(
    ("ext", "side"),
    [(".bmp", 64), (".bmp", 640), (".jpg", 320)],
    ids=["small-bmp", "bmp-over-128KiB", "padded-jpeg"],
)
def test_a_same_size_rewrite_with_the_old_mtime_is_decoded_again(
    tmp_path, cache_path, decodes, ext, side
):
    root = _library(tmp_path / "lib", ext, side)
    first, _ = _scan(root, cache_path)
    assert (f"copy{ext}", f"orig{ext}", 1.0) in _pairs(first)

    copy = root / f"copy{ext}"
    _touch_r_rewrite(copy, make_photo(2, side, side * 3 // 4))
    decodes.clear()
    cached, (checked, passed) = _scan(root, cache_path)
    assert decodes == [str(copy)]  # the rewritten file, and only it
    assert (checked, passed) == (1, 0)  # its size and mtime matched: re-checked, and refused
    fresh, _ = _scan(root, None)
    assert _pairs(cached) == _pairs(fresh)
    assert not any({a, b} == {f"copy{ext}", f"orig{ext}"} for a, b, _ in _pairs(cached))

    decodes.clear()
    again, rechecked = _scan(root, cache_path)  # the new row is a plain hit from now on
    assert decodes == [] and rechecked == (0, 0)
    assert _pairs(again) == _pairs(fresh)


def test_a_rename_with_another_picture_swapped_in_is_decoded_again(tmp_path, cache_path, decodes):
    """A file moved to a new name and rewritten there (same size, old mtime) is found by
    (ino, size, mtime) at its old path, but its edges differ: decoded, not taken."""
    root = _library(tmp_path / "lib", ".bmp", 64)
    _scan(root, cache_path)
    moved = root / "moved.bmp"
    (root / "copy.bmp").rename(moved)
    _touch_r_rewrite(moved, make_photo(3, 64, 48))
    decodes.clear()
    res, (checked, passed) = _scan(root, cache_path)
    assert decodes == [str(moved)] and (checked, passed) == (1, 0)
    assert _pairs(res) == _pairs(_scan(root, None)[0])


# ----------------------------------------------------------------------------- renames, chmod


def test_renamed_files_and_folders_are_served_from_the_cache(tmp_path, cache_path, decodes):
    root = tmp_path / "lib"
    for k in range(12):
        sub = root / f"album{k // 4}"
        sub.mkdir(parents=True, exist_ok=True)
        write_jpeg(sub / f"IMG_{k:03d}.jpg", make_photo(k, 160, 120), 90)
    first, _ = _scan(root, cache_path)
    (root / "album0/IMG_000.jpg").rename(root / "album0/renamed.jpg")  # ctime moves
    (root / "album1").rename(root / "album one")  # its files' ctimes do not
    (root / "album2/IMG_008.jpg").rename(root / "album one/IMG_008.jpg")

    decodes.clear()
    res, (checked, passed) = _scan(root, cache_path)
    assert decodes == []
    assert res.decoded == 0 and res.from_cache == 12
    assert checked == passed == 2  # the two renamed files; the folder's files needed nothing
    renamed = [e.path for e in res.store.entries].index(str(root / "album0/renamed.jpg"))
    before = [e.path for e in first.store.entries].index(str(root / "album0/IMG_000.jpg"))
    np.testing.assert_array_equal(
        res.store.hashes["phash"][renamed], first.store.hashes["phash"][before]
    )
    decodes.clear()
    _, rechecked = _scan(root, cache_path)  # re-stamped: plain hits now
    assert decodes == [] and rechecked == (0, 0)


def test_chmod_of_every_file_re_checks_but_never_decodes(tmp_path, cache_path, decodes):
    root = _library(tmp_path / "lib", ".jpg", 320)
    first, _ = _scan(root, cache_path)
    n = len(first.store)
    for p in root.iterdir():
        p.chmod(0o600)  # every ctime moves; the snapshot must not serve these rows
    decodes.clear()
    res, (checked, passed) = _scan(root, cache_path)
    assert decodes == [] and res.from_cache == n
    assert checked == passed == n
    assert _pairs(res) == _pairs(first)
    decodes.clear()
    _, rechecked = _scan(root, cache_path)
    assert decodes == [] and rechecked == (0, 0)


def test_a_digest_added_later_keeps_the_row_re_checkable(tmp_path, cache_path, decodes):
    """A cached file that newly needs its content digest is read whole, not decoded; its
    row keeps an edge digest, so a later chmod is still a re-check."""
    root = tmp_path / "lib"
    root.mkdir()
    write_jpeg(root / "a.jpg", make_photo(1, 160, 120), 90)
    _scan(root, cache_path)
    shutil.copy2(root / "a.jpg", root / "b.jpg")  # a.jpg's size is now shared
    _scan(root, cache_path)
    (root / "a.jpg").chmod(0o600)
    decodes.clear()
    res, (checked, passed) = _scan(root, cache_path)
    assert decodes == [] and checked == passed == 1 and res.store.has_digest.all()


@pytest.mark.parametrize("where", ["snapshot", "sqlite"])
def test_a_changed_device_number_alone_does_not_invalidate(
    tmp_path, cache_path, decodes, monkeypatch, where
):
    """A remounted NFS share or USB disk gets another st_dev; paths, sizes and times are the
    same, and so are the features."""
    root = _library(tmp_path / "lib", ".jpg", 160)
    first, _ = _scan(root, cache_path)
    if where == "sqlite":  # no snapshot: the rows come from SQLite
        for snap in Path(cache_snapshot.snapshot_dir(str(cache_path))).glob("*.snap"):
            snap.unlink()
    real = scan_mod.discover

    def remounted(*args, **kwargs):
        report = real(*args, **kwargs)
        report.files[:] = [dataclasses.replace(e, dev=e.dev + 7) for e in report.files]
        return report

    monkeypatch.setattr(scan_mod, "discover", remounted)
    decodes.clear()
    res, rechecked = _scan(root, cache_path)
    assert decodes == [] and res.from_cache == len(first.store) and rechecked == (0, 0)
    # on the remounted disk a renamed file is not "the same inode": it is re-checked
    (root / "copy.jpg").rename(root / "copy renamed.jpg")
    decodes.clear()
    res, (checked, passed) = _scan(root, cache_path)
    assert decodes == [] and checked == passed == 1


def test_a_row_without_an_edge_digest_is_never_re_checked(tmp_path, cache_path, decodes):
    root = _library(tmp_path / "lib", ".jpg", 160)
    _scan(root, cache_path)
    conn = sqlite3.connect(cache_path)
    with conn:
        conn.execute("UPDATE features SET edge=NULL")
    conn.close()
    (root / "orig.jpg").chmod(0o600)
    decodes.clear()
    _, rechecked = _scan(root, cache_path)
    assert decodes == [str(root / "orig.jpg")] and rechecked == (0, 0)


# ----------------------------------------------------------------------------- old caches


_V1_SCHEMA = """
CREATE TABLE settings (sid INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE,
    feature_version INTEGER NOT NULL, hash_size INTEGER NOT NULL);
CREATE TABLE features (id INTEGER PRIMARY KEY, sid INTEGER NOT NULL, path BLOB NOT NULL,
    size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, dev INTEGER NOT NULL,
    ino INTEGER NOT NULL, format TEXT NOT NULL, camera TEXT, digest BLOB, data BLOB NOT NULL);
CREATE UNIQUE INDEX features_path ON features (sid, path);
CREATE TABLE snapshots (name TEXT PRIMARY KEY, token TEXT NOT NULL);
INSERT INTO settings VALUES (1, 'old key', 1, 8);
INSERT INTO features VALUES (1, 1, X'2F782E6A7067', 10, 20, 1, 2, 'JPEG', NULL, NULL, X'00');
PRAGMA user_version=1;
"""


def test_a_cache_of_the_previous_layout_is_rebuilt_with_one_warning(tmp_path, cache_path):
    root = _library(tmp_path / "lib", ".jpg", 160)
    cache_path.parent.mkdir(parents=True)
    conn = sqlite3.connect(cache_path)
    conn.executescript(_V1_SCHEMA)
    conn.close()
    with FeatureCache.open(cache_path) as cache:
        res = scan([root], cache=cache)
        assert len(cache.warnings) == 1 and "older dedup-tui (layout 1)" in cache.warnings[0]
    assert res.decoded == len(res.store) == 7
    assert not list(cache_path.parent.glob("*.corrupt-*"))  # rebuilt in place, not set aside
    again, _ = _scan(root, cache_path)  # no warning any more, everything cached
    assert again.decoded == 0
    conn = sqlite3.connect(cache_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == cache_schema.SCHEMA_VERSION
    conn.close()


def test_a_read_only_cache_of_the_previous_layout_is_bypassed(tmp_path, cache_path, monkeypatch):
    root = _library(tmp_path / "lib", ".jpg", 160)
    cache_path.parent.mkdir(parents=True)
    conn = sqlite3.connect(cache_path)
    conn.executescript(_V1_SCHEMA)
    conn.close()
    real = os.access
    monkeypatch.setattr(
        cache_db.os, "access", lambda p, m: False if str(p) == str(cache_path) else real(p, m)
    )
    with FeatureCache.open(cache_path) as cache:
        res = scan([root], cache=cache)
        assert len(cache.warnings) == 1 and "not used" in cache.warnings[0]
    assert res.decoded == len(res.store) == 7


# ----------------------------------------------------------------------------- the marker


def _marked_tree(tmp_path: Path) -> Path:
    """root/keep.jpg, root/dups (marked) with pictures in it and below it, hidden folders and
    a symbolic link to the marked folder."""
    root = tmp_path / "root"
    for rel in ("keep.jpg", "dups/a.jpg", "dups/sub/b.jpg", ".hidden/dups2/c.jpg"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        write_jpeg(root / rel, make_photo(len(rel), 64, 48))
    (root / "dups" / DEST_MARKER).write_text("dedup-tui --move-to destination\n")
    (root / ".hidden/dups2" / DEST_MARKER).write_text("")
    (root / "link to dups").symlink_to(root / "dups", target_is_directory=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    write_jpeg(outside / "d.jpg", make_photo(9, 64, 48))
    (outside / DEST_MARKER).write_text("")
    (root / "link to outside").symlink_to(outside, target_is_directory=True)
    return root


@pytest.mark.parametrize(
    ("hidden", "default_excludes", "follow"), list(itertools.product([False, True], repeat=3))
)
def test_a_destination_folder_is_never_scanned(tmp_path, hidden, default_excludes, follow):
    root = _marked_tree(tmp_path)
    opts = DiscoverOptions(hidden=hidden, default_excludes=default_excludes, follow_symlinks=follow)
    report = discover([str(root)], opts)
    assert [os.path.relpath(e.path, root) for e in report.files] == ["keep.jpg"]
    skipped = {os.path.relpath(s.path, root) for s in report.skipped if "destination" in s.reason}
    # the real folder, or the link to it when links are followed (whichever the walk met first)
    assert skipped & {"dups", "link to dups"}
    assert ("link to outside" in skipped) == follow
    assert (".hidden/dups2" in skipped) == hidden
    assert report.errors == []


@pytest.mark.parametrize("follow", [False, True])
def test_a_root_that_is_a_destination_yields_nothing(tmp_path, follow):
    root = _marked_tree(tmp_path)
    opts = DiscoverOptions(hidden=True, default_excludes=False, follow_symlinks=follow)
    for target in (root / "dups", root / "link to dups"):
        report = discover([str(target)], opts)
        assert report.files == [] and report.errors == []
        (note,) = report.skipped
        assert note.path == str(target)
        assert note.reason.startswith("skipped") and "dedup-tui destination folder" in note.reason
    res = scan([root / "dups"], ScanConfig(discover=opts))
    assert len(res.store) == 0 and res.errors == []
