"""Real files in tmp_path; the journal, skips and the trash point into tmp_path too."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import pathlib
import subprocess
from collections.abc import Iterator

import pytest

from tui_dedup.engine.model import FileEntry


@pytest.fixture(autouse=True)
def _isolated_state(tmp_path, monkeypatch):
    monkeypatch.setenv("DEDUP_TUI_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))


def write(path, data: bytes | str = b"", mtime_ns: int | None = None) -> str:
    path = os.fspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    if mtime_ns is not None:
        os.utime(path, ns=(mtime_ns, mtime_ns))
    return path


def entry(path, root) -> FileEntry:
    """A FileEntry as discovery would have produced it right now."""
    path, root = os.fspath(path), os.fspath(root)
    st = os.lstat(path)
    return FileEntry(path, root, st.st_size, st.st_mtime_ns, st.st_dev, st.st_ino)


def snapshot(top) -> dict[str, tuple[str, str]]:
    """Every entry under ``top`` (quarantine excluded): relpath → (kind, digest or link target)."""
    out = {}
    top = os.fspath(top)
    for d, dirs, files in os.walk(top):
        dirs[:] = [x for x in dirs if x != ".dedup-tui"]
        for name in files:
            p = os.path.join(d, name)
            rel = os.path.relpath(p, top)
            if os.path.islink(p):
                out[rel] = ("link", os.readlink(p))
            else:
                with open(p, "rb") as f:
                    out[rel] = ("file", hashlib.blake2b(f.read(), digest_size=16).hexdigest())
    return out


#: Our own bookkeeping files: the tree lock and the destination marker.
OWN_FILES = {os.path.join(".dedup-tui", "lock"), ".dedup-tui-destination"}


def files_under(top) -> list[str]:
    """Regular files and links under ``top`` (including hidden folders), sorted relpaths;
    our lock file and destination markers are left out."""
    out = []
    for d, _dirs, files in os.walk(os.fspath(top)):
        for f in files:
            rel = os.path.relpath(os.path.join(d, f), top)
            if f == ".dedup-tui-destination" or (
                f == "lock" and os.path.basename(d) == ".dedup-tui"
            ):
                continue
            out.append(rel)
    return sorted(out)


def batch_dir(top):
    """The one batch folder inside a quarantine (``root/.dedup-tui/duplicates``) or a
    ``--move-to`` folder ``top``; fails when there is not exactly one."""
    top = os.fspath(top)
    if os.path.isdir(os.path.join(top, ".dedup-tui", "duplicates")):
        top = os.path.join(top, ".dedup-tui", "duplicates")
    found = [d for d in sorted(os.listdir(top)) if os.path.isdir(os.path.join(top, d))]
    assert len(found) == 1, found
    return pathlib.Path(top, found[0])


REAL_LINK = os.link


def exdev_for(prefix: str, monkeypatch):
    """Pretend ``prefix`` is another filesystem: links across its border fail with EXDEV.

    Links are made relative to folder descriptors (``dir_fd``): their folders are read back
    from /proc so the border is checked on full paths."""
    prefix = os.fspath(prefix)

    def full(name, dir_fd):
        name = os.fspath(name)
        if dir_fd is None or os.path.isabs(name):
            return os.path.abspath(name)
        return os.path.join(os.readlink(f"/proc/self/fd/{dir_fd}"), name)

    def link(src, dst, *a, src_dir_fd=None, dst_dir_fd=None, **kw):
        s, d = full(src, src_dir_fd), full(dst, dst_dir_fd)
        if s.startswith(prefix) != d.startswith(prefix):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return REAL_LINK(src, dst, *a, src_dir_fd=src_dir_fd, dst_dir_fd=dst_dir_fd, **kw)

    monkeypatch.setattr(os, "link", link)


@pytest.fixture
def photos(tmp_path):
    """One root with a keeper and two marked copies (unique bytes each), one with sidecars."""
    root = tmp_path / "photos"
    keeper = write(root / "2020" / "IMG_1.jpg", b"original" * 100)
    dup1 = write(root / "copies" / "IMG_1.jpg", b"copy-one" * 90)
    write(root / "copies" / "IMG_1.XMP", "xmp edits")
    write(root / "copies" / "IMG_1.jpg.aae", "aae")
    dup2 = write(root / "whatsapp" / "IMG-1 small.jpg", b"small" * 50)
    group = [entry(p, root) for p in (keeper, dup1, dup2)]
    return root, group


# -- a real second filesystem ---------------------------------------------------------------
# (Appended section: its imports sit here so the rest of the file stays untouched.)


@contextlib.contextmanager
def _tmpfs(folder: pathlib.Path, size: str) -> Iterator[pathlib.Path]:
    """A tmpfs of ``size`` mounted on ``folder`` for the duration; skip (or, under CI, fail)
    when this machine will not mount one.

    Why a real mount: cross-device moves, copies back, owners and ENOSPC are only proven on a
    real second filesystem; EXDEV injection tests our fallback, not the kernel's answers.
    Under ``CI=true`` the tmpfs variants must run, so a missing mount fails there."""
    why = None
    if os.geteuid() != 0:
        why = "mounting a tmpfs needs root"
    else:
        cmd = ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(folder)]
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, check=False)
        except OSError as e:
            why = f"cannot run mount: {e}"
        else:
            if r.returncode != 0:
                why = f"mount -t tmpfs failed: {r.stderr.strip() or r.returncode}"
            elif os.stat(folder).st_dev == os.stat(folder.parent).st_dev:
                subprocess.run(["umount", str(folder)], capture_output=True, check=False)
                why = "mount -t tmpfs did not give a second filesystem"
    if why:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{why} (under CI=true this test must run: a skip there fails the run)")
        pytest.skip(why)
    try:
        yield folder
    finally:
        r = subprocess.run(["umount", str(folder)], capture_output=True, check=False)
        if r.returncode != 0:  # still busy (an open descriptor): detach it now, freed later
            subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)


@pytest.fixture
def other_fs(tmp_path_factory):
    """A real second filesystem (a 16 MiB tmpfs), unmounted at teardown."""
    with _tmpfs(tmp_path_factory.mktemp("otherfs"), "16m") as mnt:
        yield mnt


@pytest.fixture
def tiny_fs(tmp_path_factory):
    """A 256 KiB tmpfs, for running out of space (ENOSPC) for real."""
    with _tmpfs(tmp_path_factory.mktemp("tinyfs"), "256k") as mnt:
        yield mnt
