"""The system trash: send with send2trash, find the trashed file again, put it back.

Why not just call ``send2trash.send2trash``: on Linux we must know *where* the file went to undo
it, and we must refuse places where "trash" would silently become a slow unverified copy to the
home trash (another filesystem) or does not exist at all (NFS/SMB mounts, servers). So on
freedesktop platforms we decide the trash folder first (the spec's rules, as send2trash's own
``plat_other`` applies them), call ``plat_other`` ourselves, and find the ``.trashinfo`` by the
original path and deletion date. Anything without a usable trash goes to the quarantine folder
instead, never to deletion.
"""

from __future__ import annotations

import os
import re
import stat
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote_to_bytes

NETWORK_FS = {
    "nfs",
    "nfs4",
    "cifs",
    "smb3",
    "smbfs",
    "fuse.sshfs",
    "sshfs",
    "9p",
    "afs",
    "ceph",
    "glusterfs",
    "fuse.glusterfs",
    "davfs",
    "fuse.rclone",
}
FREEDESKTOP = sys.platform not in ("darwin", "win32")


@dataclass(frozen=True, slots=True)
class Trashed:
    """Where a trashed file now is: the file inside ``files/`` and its ``.trashinfo``."""

    file: str
    info: str


def _data_home() -> str:
    return os.path.expanduser(os.environ.get("XDG_DATA_HOME") or "~/.local/share")


def home_trash() -> str:
    return os.path.join(_data_home(), "Trash")


def _mount_table() -> list[tuple[str, str]]:
    """(mount point, fs type) pairs from /proc/self/mountinfo; empty where it does not exist."""
    out = []
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as f:
            for line in f:
                left, _, right = line.partition(" - ")
                fields = left.split()
                if len(fields) < 5 or not right:
                    continue
                mnt = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4])
                out.append((mnt, right.split()[0]))
    except OSError:
        pass
    return out


def mount_point(path: str) -> str:
    p = os.path.realpath(path)
    while not os.path.ismount(p):
        p = os.path.dirname(p)
    return p


def fs_type(path: str) -> str | None:
    real = os.path.realpath(path)
    best, kind = "", None
    for mnt, fstype in _mount_table():
        if (real == mnt or real.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best):
            best, kind = mnt, fstype
    return kind


def _dev(path: str) -> int | None:
    p = os.path.abspath(path)
    while True:
        try:
            return os.stat(p).st_dev
        except OSError:
            parent = os.path.dirname(p)
            if parent == p:
                return None
            p = parent


def trash_dir_for(path: str) -> tuple[str, str] | None:
    """(trash dir, top dir) where ``path`` would be trashed by a rename, or None if nowhere.

    None means: a network filesystem, or no trash on the file's own filesystem (which would make
    send2trash fall back to copying across filesystems).
    """
    if not FREEDESKTOP:
        return None
    kind = fs_type(path)
    if kind is not None and kind in NETWORK_FS:
        return None
    try:
        dev = os.lstat(path).st_dev
    except OSError:
        return None
    if dev == _dev(os.path.realpath(os.path.expanduser("~"))):
        return (home_trash(), _data_home()) if _dev(_data_home()) == dev else None
    top = mount_point(path)
    uid = str(os.getuid())
    shared = os.path.join(top, ".Trash")
    try:
        st = os.lstat(shared)
        if stat.S_ISDIR(st.st_mode) and st.st_mode & stat.S_ISVTX:
            return os.path.join(shared, uid), top
    except OSError:
        pass
    own = os.path.join(top, f".Trash-{uid}")
    if (os.path.isdir(own) and os.access(own, os.W_OK)) or os.access(top, os.W_OK):
        return own, top
    return None


def _plat_other():
    """send2trash's freedesktop backend, told the *current* XDG_DATA_HOME.

    It reads the variable once at import; a long-running app (and the tests) may change it
    after that, and the trash we search on undo must be the one the file went to.
    """
    from send2trash import plat_other

    data_home = os.fsencode(_data_home())
    plat_other.XDG_DATA_HOME = data_home
    plat_other.HOMETRASH_B = os.path.join(data_home, b"Trash")
    plat_other.HOMETRASH = os.fsdecode(plat_other.HOMETRASH_B)
    return plat_other


def send(path: str) -> Trashed | None:
    """Trash one file. Returns where it went (None if the platform does not tell us).

    Raises whatever send2trash raises; the caller falls back to the quarantine.
    """
    if not FREEDESKTOP:
        from send2trash import send2trash

        send2trash(path)
        return None
    size = os.lstat(path).st_size
    t0 = time.time()
    _plat_other().send2trash(path)
    return find(path, t0 - 2, time.time() + 2, size)


def _candidates(orig: str) -> list[tuple[str, str]]:
    dirs = [(home_trash(), _data_home())]
    top = mount_point(os.path.dirname(orig) or ".")
    dirs.append((os.path.join(top, ".Trash", str(os.getuid())), top))
    dirs.append((os.path.join(top, f".Trash-{os.getuid()}"), top))
    return dirs


def _parse_info(info_path: str) -> tuple[bytes, float] | None:
    try:
        with open(info_path, "rb") as f:
            text = f.read().decode("utf-8", "surrogateescape")
    except OSError:
        return None
    raw, when = None, None
    for line in text.splitlines():
        if line.startswith("Path="):
            raw = unquote_to_bytes(line[5:])
        elif line.startswith("DeletionDate="):
            try:
                when = datetime.strptime(line[13:].strip(), "%Y-%m-%dT%H:%M:%S").timestamp()
            except ValueError:
                return None
    return (raw, when) if raw is not None and when is not None else None


def find(orig: str, t_from: float, t_to: float, size: int | None = None) -> Trashed | None:
    """The trashed copy of ``orig`` deleted between ``t_from`` and ``t_to`` (closest first)."""
    want = {os.path.abspath(orig)}
    want.add(
        os.path.join(
            os.path.realpath(os.path.dirname(os.path.abspath(orig))), os.path.basename(orig)
        )
    )
    best: tuple[float, Trashed] | None = None
    for trash, top in _candidates(orig):
        info_dir = os.path.join(trash, "info")
        try:
            names = os.listdir(info_dir)
        except OSError:
            continue
        for name in names:
            if not name.endswith(".trashinfo"):
                continue
            parsed = _parse_info(os.path.join(info_dir, name))
            if parsed is None:
                continue
            raw, when = parsed
            p = os.fsdecode(raw)
            if not os.path.isabs(p):
                p = os.path.join(top, p)
            if os.path.normpath(p) not in want or not (int(t_from) - 1 <= when <= t_to + 1):
                continue
            file = os.path.join(trash, "files", name[: -len(".trashinfo")])
            try:
                st = os.lstat(file)
            except OSError:
                continue
            if size is not None and stat.S_ISREG(st.st_mode) and st.st_size != size:
                continue
            score = abs(when - t_from)
            if best is None or score < best[0]:
                best = (score, Trashed(file, os.path.join(info_dir, name)))
    return best[1] if best else None
