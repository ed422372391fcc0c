"""What discovery walks into, what it passes over, and why (names and stat only)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from tui_dedup.engine.files.decode import decode_file
from tui_dedup.engine.files.discover import (
    IMAGE_EXTENSIONS,
    ON_FILE_EVERY,
    DiscoverOptions,
    discover,
)
from tui_dedup.engine.model import FileEntry, ScanError

JPEG = b"\xff\xd8\xff\xe0 not decoded by discovery"


def touch(root: Path, rel: str, data: bytes = JPEG) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p


def found(root: Path, **opts) -> set[str]:
    report = discover([str(root)], DiscoverOptions(**opts))
    return {os.path.relpath(f.path, root) for f in report.files}


JUNK_DIRS = [
    "@eaDir",
    "#recycle",
    ".@__thumb",
    "$RECYCLE.BIN",
    ".Trash-1000",
    "System Volume Information",
    "lost+found",
]


@pytest.mark.parametrize("junk", JUNK_DIRS)
def test_default_excludes(tmp_path: Path, junk: str) -> None:
    touch(tmp_path, "keep/a.jpg")
    touch(tmp_path, f"keep/{junk}/a.jpg")
    touch(tmp_path, f"{junk}/deeper/b.jpg")
    assert found(tmp_path) == {"keep/a.jpg"}
    # hidden=True must not let hidden junk folders back in
    assert found(tmp_path, hidden=True) == {"keep/a.jpg"}
    everything = found(tmp_path, hidden=True, default_excludes=False)
    assert everything == {"keep/a.jpg", f"keep/{junk}/a.jpg", f"{junk}/deeper/b.jpg"}


def test_own_quarantine_folder_is_never_scanned(tmp_path: Path) -> None:
    touch(tmp_path, "a.jpg")
    touch(tmp_path, ".dedup-tui/quarantine/a.jpg")
    touch(tmp_path, "sub/.dedup-tui/b.jpg")
    assert found(tmp_path) == {"a.jpg"}
    assert found(tmp_path, hidden=True) == {"a.jpg"}
    # even without the NAS junk list: moving a file to quarantine must not make a duplicate
    assert found(tmp_path, hidden=True, default_excludes=False) == {"a.jpg"}


def test_exclude_globs_basename_and_path(tmp_path: Path) -> None:
    for rel in [
        "2023/holiday/a.jpg",
        "2023/thumbs/a.jpg",
        "2024/thumbs/b.jpg",
        "backup/2023/holiday/c.jpg",
        "edits/a_small.jpg",
        "edits/a.jpg",
    ]:
        touch(tmp_path, rel)
    # a pattern without "/" matches any file or folder name at any depth
    assert found(tmp_path, excludes=("thumbs",)) == {
        "2023/holiday/a.jpg",
        "backup/2023/holiday/c.jpg",
        "edits/a_small.jpg",
        "edits/a.jpg",
    }
    assert "edits/a_small.jpg" not in found(tmp_path, excludes=("*_small.jpg",))
    # a pattern with "/" matches the path relative to the root, so only the top-level one goes
    assert found(tmp_path, excludes=("2023/holiday",)) == {
        "2023/thumbs/a.jpg",
        "2024/thumbs/b.jpg",
        "backup/2023/holiday/c.jpg",
        "edits/a_small.jpg",
        "edits/a.jpg",
    }
    assert found(tmp_path, excludes=("*/thumbs",)) == {
        "2023/holiday/a.jpg",
        "backup/2023/holiday/c.jpg",
        "edits/a_small.jpg",
        "edits/a.jpg",
    }


def test_hidden_files_and_folders(tmp_path: Path) -> None:
    touch(tmp_path, "a.jpg")
    touch(tmp_path, ".hidden/b.jpg")
    touch(tmp_path, "sub/.c.jpg")
    assert found(tmp_path) == {"a.jpg"}
    assert found(tmp_path, hidden=True) == {"a.jpg", ".hidden/b.jpg", "sub/.c.jpg"}


def test_hidden_root_is_scanned(tmp_path: Path) -> None:
    """Hidden means hidden inside the tree; a root the user names is always walked."""
    touch(tmp_path, ".photos/a.jpg")
    report = discover([str(tmp_path / ".photos")])
    assert [os.path.basename(f.path) for f in report.files] == ["a.jpg"]


def test_extensions_case_insensitive_and_others_ignored(tmp_path: Path) -> None:
    for name in ["a.JPG", "b.Jpeg", "c.PnG", "d.webp", "e.HEIC", "f.tiff", "g.gif", "h.bmp"]:
        touch(tmp_path, name)
    touch(tmp_path, "notes.txt", b"hello")
    touch(tmp_path, "movie.mp4", b"\0" * 10)
    touch(tmp_path, "noext", JPEG)
    report = discover([str(tmp_path)])
    names = {os.path.basename(f.path) for f in report.files}
    assert names == {"a.JPG", "b.Jpeg", "c.PnG", "d.webp", "e.HEIC", "f.tiff", "g.gif", "h.bmp"}
    assert report.skipped == [] and report.errors == []


def test_raw_files_are_scanned_and_listed_as_skipped_only_when_left_out(tmp_path: Path) -> None:
    touch(tmp_path, "a.jpg")
    touch(tmp_path, "IMG_0001.CR2")
    touch(tmp_path, "DSC_0001.nef")
    touch(tmp_path, "x.dng")
    report = discover([str(tmp_path)])
    assert sorted(os.path.basename(f.path) for f in report.files) == [
        "DSC_0001.nef",
        "IMG_0001.CR2",
        "a.jpg",
        "x.dng",
    ]
    assert report.skipped == []
    report = discover([str(tmp_path)], DiscoverOptions(extensions=IMAGE_EXTENSIONS))
    assert [os.path.basename(f.path) for f in report.files] == ["a.jpg"]
    assert {os.path.basename(s.path) for s in report.skipped} == {
        "IMG_0001.CR2",
        "DSC_0001.nef",
        "x.dng",
    }
    assert all("RAW" in s.reason for s in report.skipped)
    assert report.errors == []


def test_min_size(tmp_path: Path) -> None:
    touch(tmp_path, "small.jpg", JPEG)
    touch(tmp_path, "big.jpg", JPEG * 100)
    assert found(tmp_path) == {"small.jpg", "big.jpg"}
    assert found(tmp_path, min_size=1000) == {"big.jpg"}


def test_zero_byte_file_is_one_error(tmp_path: Path) -> None:
    touch(tmp_path, "empty.jpg", b"")
    touch(tmp_path, "a.jpg")
    report = discover([str(tmp_path)])
    assert [os.path.basename(f.path) for f in report.files] == ["a.jpg"]
    assert len(report.errors) == 1
    assert "empty" in report.errors[0].reason and "0 bytes" in report.errors[0].reason


def test_symlinks_not_followed_by_default(tmp_path: Path) -> None:
    lib, outside = tmp_path / "lib", tmp_path / "outside"
    touch(outside, "o.jpg")
    touch(outside, "dir/p.jpg")
    touch(lib, "a.jpg")
    (lib / "link.jpg").symlink_to(outside / "o.jpg")
    (lib / "linkdir").symlink_to(outside / "dir")
    report = discover([str(lib)])
    assert [os.path.basename(f.path) for f in report.files] == ["a.jpg"]
    assert len(report.skipped) == 1
    assert report.skipped[0].path.endswith("link.jpg")
    assert "symbolic link" in report.skipped[0].reason
    assert "--follow-symlinks" in report.skipped[0].reason


def test_symlinks_followed_and_loop_safe(tmp_path: Path) -> None:
    lib, outside = tmp_path / "lib", tmp_path / "outside"
    touch(outside, "o.jpg")
    touch(outside, "dir/p.jpg")
    touch(lib, "a.jpg")
    touch(lib, "sub/b.jpg")
    (lib / "link.jpg").symlink_to(outside / "o.jpg")
    (lib / "linkdir").symlink_to(outside / "dir")
    (lib / "sub" / "up").symlink_to(lib)  # a loop back to the root
    (lib / "sub" / "self").symlink_to(lib / "sub")  # a loop to its own folder
    (lib / "again.jpg").symlink_to(lib / "a.jpg")  # a second name for a.jpg
    (lib / "self.jpg").symlink_to(lib / "self.jpg")  # ELOOP
    (lib / "dangling.jpg").symlink_to(lib / "gone.jpg")

    done: list = []
    t = threading.Thread(
        target=lambda: done.append(discover([str(lib)], DiscoverOptions(follow_symlinks=True))),
        daemon=True,
    )
    t.start()
    t.join(60)  # a hang guard, not a timing assertion
    assert done, "discovery did not terminate on a symlink loop"
    report = done[0]
    identities = [f.identity for f in report.files]
    assert len(identities) == len(set(identities))
    names = sorted(os.path.relpath(f.path, lib) for f in report.files)
    assert len(names) == 4  # a.jpg (or again.jpg), sub/b.jpg, link.jpg, linkdir/p.jpg
    assert {"sub/b.jpg", "link.jpg", "linkdir/p.jpg"} <= set(names)
    reasons = {os.path.basename(s.path): s.reason for s in report.skipped + report.errors}
    assert "loop" in reasons["self.jpg"]
    assert "broken" in reasons["dangling.jpg"]
    assert "already scanned" in reasons["up"] and "already scanned" in reasons["self"]
    assert any("same file" in r for r in reasons.values())


def test_hard_links_and_overlapping_roots_give_one_entry(tmp_path: Path) -> None:
    a = touch(tmp_path, "a.jpg")
    os.link(a, tmp_path / "b.jpg")
    touch(tmp_path, "sub/c.jpg")
    report = discover([str(tmp_path), str(tmp_path / "sub"), str(tmp_path)])
    assert len(report.files) == 2
    assert len({f.identity for f in report.files}) == 2
    assert sorted(os.path.basename(f.path) for f in report.files)[1] == "c.jpg"
    assert all("same file" in s.reason for s in report.skipped)
    assert len(report.skipped) == 2  # b.jpg as a hard link, sub/c.jpg again from the 2nd root


def test_fifo_named_photo_is_skipped_without_blocking(tmp_path: Path) -> None:
    touch(tmp_path, "a.jpg")
    fifo = tmp_path / "photo.jpg"
    os.mkfifo(fifo)
    done: list = []
    t = threading.Thread(target=lambda: done.append(discover([str(tmp_path)])), daemon=True)
    t.start()
    t.join(60)
    assert done, "discovery blocked on a FIFO"
    report = done[0]
    assert [os.path.basename(f.path) for f in report.files] == ["a.jpg"]
    assert len(report.skipped) == 1 and "not a regular file" in report.skipped[0].reason

    # the same FIFO swapped in after discovery: reading it must not block either
    st = os.stat(tmp_path / "a.jpg")
    entry = FileEntry(str(fifo), str(tmp_path), st.st_size, st.st_mtime_ns, st.st_dev, st.st_ino)
    got: list = []
    t = threading.Thread(target=lambda: got.append(decode_file(entry)), daemon=True)
    t.start()
    t.join(60)
    assert got, "decode blocked on a FIFO"
    assert isinstance(got[0], ScanError) and "not a regular file" in got[0].reason


def test_missing_root_and_file_root(tmp_path: Path) -> None:
    f = touch(tmp_path, "a.jpg")
    report = discover([str(tmp_path / "nope"), str(f)])
    assert report.files == []
    reasons = sorted(e.reason for e in report.errors)
    assert len(reasons) == 2
    assert any("cannot open folder" in r for r in reasons)
    assert any("not a folder" in r for r in reasons)


def test_unreadable_folder_is_one_error_and_the_walk_goes_on(tmp_path, monkeypatch) -> None:
    touch(tmp_path, "a.jpg")
    touch(tmp_path, "locked/b.jpg")
    locked = str(tmp_path / "locked")
    real = os.scandir

    def scandir(path="."):
        if os.fspath(path) == locked:
            raise PermissionError(13, "Permission denied", path)
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    report = discover([str(tmp_path)])
    assert [os.path.basename(f.path) for f in report.files] == ["a.jpg"]
    assert len(report.errors) == 1
    assert report.errors[0].path == locked
    assert "Permission denied" in report.errors[0].reason


def test_order_is_deterministic(tmp_path: Path) -> None:
    for rel in ["b/2.jpg", "a/1.jpg", "c.jpg", "a/0.jpg"]:
        touch(tmp_path, rel)
    first = [f.path for f in discover([str(tmp_path)]).files]
    assert first == [f.path for f in discover([str(tmp_path)]).files]
    assert sorted(first) == sorted(
        str(tmp_path / r) for r in ["b/2.jpg", "a/1.jpg", "c.jpg", "a/0.jpg"]
    )


def test_entries_carry_root_size_and_identity(tmp_path: Path) -> None:
    p = touch(tmp_path, "sub/a.jpg", JPEG * 3)
    (f,) = discover([str(tmp_path)]).files
    st = os.stat(p)
    assert f.path == str(p)
    assert f.root == str(tmp_path)
    assert f.relpath == "sub/a.jpg"
    assert (f.size, f.mtime_ns, f.identity) == (st.st_size, st.st_mtime_ns, (st.st_dev, st.st_ino))
    assert f.ctime_ns == st.st_ctime_ns > 0


def test_progress_is_throttled_and_ends_on_the_total(tmp_path: Path) -> None:
    for k in range(ON_FILE_EVERY + 3):
        touch(tmp_path, f"d/{k:04d}.jpg")
    seen: list[int] = []
    report = discover([str(tmp_path)], on_file=seen.append)
    assert seen == [ON_FILE_EVERY, ON_FILE_EVERY + 3] == [ON_FILE_EVERY, len(report.files)]


def test_path_excludes_below_the_filesystem_root_slice_correctly(tmp_path: Path) -> None:
    """Relative paths for "/"-patterns are cut from the root's own string, nested roots too."""
    touch(tmp_path, "a/skip/x.jpg")
    touch(tmp_path, "a/keep/y.jpg")
    assert found(tmp_path / "a", excludes=("skip/*",)) == {"keep/y.jpg"}
    assert found(tmp_path, excludes=("a/skip",)) == {"a/keep/y.jpg"}


def test_fast_entries_equal_dataclass_entries(tmp_path: Path) -> None:
    """Discovery makes entries without the dataclass __init__ (speed): they must be the same
    objects in every respect a caller can see."""
    from tui_dedup.engine.files.discover import _entry_maker

    made = _entry_maker()("/r/a.jpg", "/r", 10, 20, 30, 40, 50)
    plain = FileEntry("/r/a.jpg", "/r", 10, 20, 30, 40, 50)
    assert type(made) is FileEntry and made == plain and hash(made) == hash(plain)
    assert repr(made) == repr(plain) and made.identity == (30, 40)
    with pytest.raises(AttributeError):
        made.size = 1  # type: ignore[misc]  # still frozen
    p = touch(tmp_path, "x.jpg")
    (f,) = discover([str(tmp_path)]).files
    st = os.stat(p)
    assert f == FileEntry(
        str(p), str(tmp_path), st.st_size, st.st_mtime_ns, st.st_dev, st.st_ino, st.st_ctime_ns
    )


def test_progress_counts_across_folders_as_if_file_by_file(tmp_path: Path) -> None:
    for k in range(2 * ON_FILE_EVERY + 5):
        touch(tmp_path, f"d{k % 3}/{k:04d}.jpg")
    seen: list[int] = []
    report = discover([str(tmp_path)], on_file=seen.append)
    n = len(report.files)
    assert seen == [ON_FILE_EVERY, 2 * ON_FILE_EVERY, n]
