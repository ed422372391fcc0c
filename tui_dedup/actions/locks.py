"""One tree, one writer: a lock on each root (and the destination) for a whole apply or undo.

Why: the journal's lock covers one state dir, so two runs with different state dirs (two users,
sudo and the user, cron and the app) could act on one tree at once with opposite keepers and
lose every copy of a picture. The lock therefore lives on the tree itself.

How, and why so:

- ``flock()`` on a descriptor of the folder: ``LOCK_EX`` on each root and on the destination,
  ``LOCK_SH`` on every folder above them, up to ``/``. So nested or overlapping roots exclude
  each other (a parent's ``LOCK_EX`` meets the child run's ``LOCK_SH``, and the other way round)
  while siblings share their common parents. We go past the mount point on purpose: discovery
  crosses mount points, so a run on ``/mnt`` overlaps a run on ``/mnt/usb/photos``.
- flock locks belong to the open file description, so one call opens each folder once (folders
  compared by (st_dev, st_ino) of their real paths): a root that is the parent of another root in
  the same call is locked once, exclusively, and never conflicts with itself. For the same reason
  a second ``tree_lock`` in the same process on an overlapping tree is refused like any other.
- A lock FILE, ``<root>/.dedup-tui/lock``, flock'ed ``LOCK_EX`` too: flock on a folder is not
  supported on many network and FUSE mounts (ENOLCK, EOPNOTSUPP, EINVAL; EBADF on NFS, which
  emulates flock with byte-range locks that need a descriptor open for writing), and a regular
  file opened read-write is what locks there. The holder writes one JSON line into it (pid,
  user, host, command, since): that is how a refused run names the other one. On a network mount
  the lock is only as good as the mount's locking, and nesting is not detected there.
- Nothing waits: every lock is ``LOCK_NB``; a held lock raises ``TreeBusy`` at once.
- A process that dies loses its locks (the kernel drops flock locks with the last descriptor), so
  a lock file left with a dead process's JSON never blocks anyone: only a held flock does, and a
  holder's JSON is believed only while its flock is held. The file is never deleted (deleting
  races with a process that has just opened it); it is emptied on release.

Headless: stdlib only.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import pwd
import shlex
import socket
import stat
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

LOCK_DIR = ".dedup-tui"
LOCK_FILE = "lock"

# flock() errors that mean "this file system cannot lock this", not "someone holds it".
_UNSUPPORTED = frozenset(
    {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EINVAL, errno.EBADF, errno.ENOSYS}
)
_MAX_INFO = 4096  # bytes of a lock file we read; a holder's line is far shorter


class TreeBusy(RuntimeError):
    """Another dedup-tui process holds a lock on one of the trees; str() is a one-line message
    naming the other process: pid, user, host, command, since when, and the folder."""

    def __init__(self, message: str, folder: str, holder: dict | None = None) -> None:
        super().__init__(message)
        self.folder = folder
        self.holder = holder


@dataclass(slots=True)
class TreeLock:
    """What ``tree_lock`` holds: folders locked exclusively (real paths), the ones above them
    locked shared, and notes on what could not be locked the usual way (for the report)."""

    paths: list[str] = field(default_factory=list)
    shared: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    info: dict = field(default_factory=dict)
    _fds: list[int] = field(default_factory=list)
    _info_fds: list[int] = field(default_factory=list)

    def release(self) -> None:
        """Empty our lock files and close every descriptor (which drops every lock)."""
        for fd in self._info_fds:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
        for fd in reversed(self._fds):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fds.clear()
        self._info_fds.clear()


@contextlib.contextmanager
def tree_lock(
    roots: Sequence[str], dest: str | None = None, *, command: str = ""
) -> Iterator[TreeLock]:
    """Hold an exclusive lock on every root (and on dest, if given) and shared locks on their
    ancestors up to the mount point, for the whole apply or undo. Refuses at once (TreeBusy),
    never waits.

    (The ancestors go on up to ``/``, past the mount point: see the module docstring.) A folder
    that does not exist yet (a ``--move-to`` not created) is stood for by its nearest existing
    parent, locked exclusively, without a lock file.
    """
    lock = TreeLock(info=_holder_info(command))
    try:
        _acquire(lock, [*roots, *([dest] if dest is not None else [])])
        yield lock
    finally:
        lock.release()


# -- acquiring -------------------------------------------------------------------------------
def _acquire(lock: TreeLock, targets: list[str]) -> None:
    exclusive: dict[tuple[int, int], tuple[str, int, bool]] = {}  # key → path, fd, exists
    for target in targets:
        path, exists = _existing(target)
        opened = _open_dir(path)
        if opened is None:
            lock.notes.append(f"cannot open {path!r} to lock it: it is not locked")
            continue
        fd, key = opened
        if key in exclusive:
            os.close(fd)
            if exists and not exclusive[key][2]:  # the folder itself beats a stand-in parent
                exclusive[key] = (exclusive[key][0], exclusive[key][1], True)
            continue
        lock._fds.append(fd)
        exclusive[key] = (path, fd, exists)

    shared: dict[tuple[int, int], tuple[str, int]] = {}
    for path, _fd, _exists in list(exclusive.values()):
        parent = path
        while parent != os.path.dirname(parent):
            parent = os.path.dirname(parent)
            opened = _open_dir(parent)
            if opened is None:
                continue  # a parent we may not read: skipped, as the design says
            fd, key = opened
            if key in exclusive or key in shared:
                os.close(fd)
                continue
            lock._fds.append(fd)
            shared[key] = (parent, fd)

    # Top-down in one global order, so two runs racing for overlapping trees refuse each other
    # the same way every time instead of both half-succeeding.
    steps = [(p, fd, True, ex) for p, fd, ex in exclusive.values()]
    steps += [(p, fd, False, True) for p, fd in shared.values()]
    steps.sort(key=lambda s: s[0].split(os.sep))
    no_folder_locks: set[int] = set()  # st_dev of file systems that said "cannot"
    for path, fd, is_exclusive, exists in steps:
        if is_exclusive:
            _lock_root(lock, path, fd, with_file=exists)
            lock.paths.append(path)
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _busy(path, fd, inside=False) from None
        except OSError as e:
            dev = os.fstat(fd).st_dev
            if e.errno in _UNSUPPORTED and dev not in no_folder_locks:
                no_folder_locks.add(dev)
                lock.notes.append(
                    f"the file system of {path!r} cannot lock folders ({e.strerror}): "
                    "a run on a folder above or inside ours is not detected there"
                )
            continue
        lock.shared.append(path)


def _lock_root(lock: TreeLock, path: str, fd: int, with_file: bool) -> None:
    """The lock file first (so a rival on the same root is named), then the folder itself."""
    lock_file = os.path.join(path, LOCK_DIR, LOCK_FILE)
    opened, why_no_file = _open_lock_file(fd) if with_file else (None, "")
    writable, file_fd = opened if opened is not None else (False, None)
    held_file = False
    if file_fd is not None and writable:
        lock._fds.append(file_fd)
        held_file = _flock_file(path, file_fd)
        if held_file:
            _write_info(file_fd, lock.info)
            lock._info_fds.append(file_fd)
        else:
            why_no_file = f"{lock_file!r} cannot be locked here"

    folder_why = ""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        if file_fd is not None and not writable:
            os.close(file_fd)
        if held_file:  # the rival does not hold our lock file: it works inside, or cannot write it
            raise TreeBusy(*_message(path, None, inside=True)) from None
        raise _busy(path, fd) from None
    except OSError as e:
        folder_why = e.strerror or str(e)

    if file_fd is not None and not writable:
        if not folder_why:
            # We cannot write our info into it, so someone's old line would be read as ours:
            # the folder lock is enough here.
            os.close(file_fd)
        else:
            lock._fds.append(file_fd)
            held_file = _flock_file(path, file_fd)
            why_no_file = "" if held_file else f"{lock_file!r} cannot be locked here"

    if folder_why and not held_file:
        lock.notes.append(
            f"{path!r} could not be locked ({folder_why}; {why_no_file or 'no lock file'}): "
            "another dedup-tui working on it at the same time would not be stopped"
        )
    elif folder_why:
        lock.notes.append(
            f"the file system of {path!r} cannot lock folders ({folder_why}): locked through "
            f"{lock_file!r} only, which is only as good as the mount's locking, and a run on a "
            "folder above or inside it is not detected"
        )
    elif with_file and why_no_file:
        lock.notes.append(
            f"no lock file in {path!r} ({why_no_file}): locked through the folder only, which "
            "may not hold on a network mount"
        )


def _flock_file(path: str, fd: int) -> bool:
    """Lock the lock file; TreeBusy naming its holder if held, False if it cannot lock here."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise TreeBusy(*_message(path, _read_info(fd), inside=False)) from None
    except OSError:
        return False
    return True


def _open_lock_file(dir_fd: int) -> tuple[tuple[bool, int] | None, str]:
    """``((writable, fd), "")`` for ``.dedup-tui/lock`` under the folder, or ``(None, why)``.

    Opened relative to the folder's descriptor, never following a symlink, and only if it is a
    regular file: a planted link or FIFO must not make us write (or hang) elsewhere.
    """
    try:
        os.mkdir(LOCK_DIR, 0o755, dir_fd=dir_fd)
    except FileExistsError:
        pass
    except OSError as e:
        return None, f"cannot create {LOCK_DIR}: {e.strerror}"
    try:
        sub = os.open(LOCK_DIR, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dir_fd)
    except OSError as e:
        return None, f"{LOCK_DIR} is not a plain folder: {e.strerror}"
    try:
        flags = os.O_NOFOLLOW | os.O_NONBLOCK
        writable = True
        try:
            fd = os.open(LOCK_FILE, os.O_RDWR | os.O_CREAT | flags, 0o644, dir_fd=sub)
        except OSError as e:
            if e.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
                return None, f"cannot open {LOCK_DIR}/{LOCK_FILE}: {e.strerror}"
            writable = False
            try:
                fd = os.open(LOCK_FILE, os.O_RDONLY | flags, dir_fd=sub)
            except OSError as e2:
                return None, f"cannot open {LOCK_DIR}/{LOCK_FILE}: {e2.strerror}"
    finally:
        os.close(sub)
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        return None, f"{LOCK_DIR}/{LOCK_FILE} is not a regular file"
    if writable and st.st_uid == os.geteuid() and stat.S_IMODE(st.st_mode) != 0o644:
        with contextlib.suppress(OSError):
            os.fchmod(fd, 0o644)  # readable by another user's run, so it can name us
    return (writable, fd), ""


def _open_dir(path: str) -> tuple[int, tuple[int, int]] | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return None
    st = os.fstat(fd)
    return fd, (st.st_dev, st.st_ino)


def _existing(path: str) -> tuple[str, bool]:
    """The real path of ``path``, or of its nearest existing parent; and whether it exists."""
    real = os.path.realpath(os.fspath(path))
    exists = os.path.isdir(real)
    while not os.path.isdir(real) and real != os.path.dirname(real):
        real = os.path.dirname(real)
    return real, exists


# -- who holds it ----------------------------------------------------------------------------
def _holder_info(command: str) -> dict:
    try:
        user = pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        user = str(os.geteuid())
    if not command:
        argv = sys.argv or ["python"]
        command = shlex.join([os.path.basename(argv[0]) or "python", *argv[1:]])
    return {
        "pid": os.getpid(),
        "user": user,
        "host": socket.gethostname(),
        "command": command,
        "since": time.time(),
    }


def _write_info(fd: int, info: dict) -> None:
    line = (json.dumps(info, ensure_ascii=True) + "\n").encode("ascii")
    with contextlib.suppress(OSError):  # the info is a courtesy; the flock is the lock
        os.ftruncate(fd, 0)
        os.pwrite(fd, line, 0)


def _read_info(fd: int) -> dict | None:
    try:
        raw = os.pread(fd, _MAX_INFO, 0)
        info = json.loads(raw.decode("utf-8", "replace").splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None
    return info if isinstance(info, dict) else None


def _busy(path: str, dir_fd: int, inside: bool = True) -> TreeBusy:
    """The folder lock is held by someone: name them if their lock file is held too.

    If our exclusive lock on a root failed and that root's lock file is free, the rival holds a
    shared lock: its own root is a folder inside ours, which we cannot name.
    """
    info = None
    held = False
    opened = _open_lock_file_readonly(dir_fd)
    if opened is not None:
        try:
            fcntl.flock(opened, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            held = True
            info = _read_info(opened)
        except OSError:
            pass
        finally:
            os.close(opened)
    return TreeBusy(*_message(path, info, inside=inside and not held))


def _open_lock_file_readonly(dir_fd: int) -> int | None:
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
    try:
        sub = os.open(LOCK_DIR, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dir_fd)
    except OSError:
        return None
    try:
        fd = os.open(LOCK_FILE, flags, dir_fd=sub)
    except OSError:
        return None
    finally:
        os.close(sub)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return fd


def _message(folder: str, info: dict | None, inside: bool) -> tuple[str, str, dict | None]:
    who = "another dedup-tui"
    parts = []
    if info:
        pid, user, host = info.get("pid"), _clean(info.get("user")), _clean(info.get("host"))
        command, since = _clean(info.get("command"), 120), info.get("since")
        if isinstance(pid, int) and not isinstance(pid, bool):
            parts.append(f"pid {pid}")
        if user or host:
            parts.append("user " + "@".join(x for x in (user, host) if x))
        if command:
            parts.append(f"`{command}`")
        if isinstance(since, int | float) and not isinstance(since, bool):
            parts.append(f"since {_when(since)}")
    if parts:
        who += " (" + ", ".join(parts) + ")"
    where = f"in {folder!r} or a folder inside it" if inside else f"under {folder!r}"
    text = f"{who} is changing files {where}; try again when it has finished"
    return text, folder, info


def _clean(value: object, limit: int = 64) -> str:
    """A holder's string as one printable line: the lock file may have been written by anyone."""
    if not isinstance(value, str):
        return ""
    text = "".join(c if c.isprintable() else "?" for c in value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _when(since: float) -> str:
    try:
        then = time.localtime(since)
    except (OverflowError, OSError, ValueError):
        return "?"
    if time.strftime("%Y-%m-%d", then) == time.strftime("%Y-%m-%d"):
        return time.strftime("%H:%M:%S", then)
    return time.strftime("%Y-%m-%d %H:%M", then)
