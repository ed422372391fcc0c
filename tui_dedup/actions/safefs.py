"""File operations that never follow a symlink the user did not give us, each acting at a name
inside a folder that was reached one component at a time.

Why: a plan names paths, and between planning and acting a folder on such a path can be
replaced by a symlink to somewhere else (by a sync tool, another user, a script). Following it
would move, link or delete a file outside the folders the user asked about. Python 3.11 has no
``openat2(RESOLVE_NO_SYMLINKS)`` and ``O_NOFOLLOW`` guards only the last component, so
:func:`open_dir` walks every component with ``O_DIRECTORY | O_NOFOLLOW`` relative to its
parent's descriptor, and every operation here then uses ``dir_fd`` on the folder it reached.
Paths given to these functions must be absolute and already resolved (roots are
``os.path.realpath``'d when a plan is made): below that, any symlink is refused.

After a rename or link the moved entry's inode is compared with the one checked just before
(both names exist at that moment, so the comparison proves identity) and the operation is put
back if it is not the same file.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass

CHUNK = 1 << 20
_NOFOLLOW_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_RENAME_NOREPLACE = 1


class PathRefused(OSError):
    """A path we may not act on: a symlink or a non-folder where a folder should be."""


@dataclass(frozen=True, slots=True)
class Ident:
    """What identifies a file at one moment: the ``(dev, ino)`` pair is only compared between two
    names that exist at the same time; size, mtime and ctime tell whether it changed."""

    dev: int
    ino: int
    size: int
    mtime_ns: int
    ctime_ns: int
    mode: int = 0

    @classmethod
    def of(cls, st: os.stat_result) -> Ident:
        return cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_mode)

    def same_inode(self, other: Ident | os.stat_result) -> bool:
        if isinstance(other, os.stat_result):
            return (self.dev, self.ino) == (other.st_dev, other.st_ino)
        return (self.dev, self.ino) == (other.dev, other.ino)


def _split(path: str) -> list[str]:
    if not os.path.isabs(path):
        raise PathRefused(errno.EINVAL, "not an absolute path", path)
    norm = os.path.normpath(path)
    parts = [p for p in norm.split(os.sep) if p]
    if any(p == os.pardir for p in parts):
        raise PathRefused(errno.EINVAL, "'..' in a path", path)
    return parts


def open_dir(path: str, *, create: bool = False, mode: int = 0o755) -> int:
    """A descriptor of folder ``path``, reached without following any symlink; caller closes.

    With ``create``, missing folders are made (each made durable in its parent). A symlink or
    a file on the way raises :class:`PathRefused`; a missing folder FileNotFoundError.
    """
    parts = _split(path)
    fd = os.open(os.sep, _NOFOLLOW_DIR)
    try:
        walked = os.sep
        for part in parts:
            walked = os.path.join(walked, part)
            try:
                nfd = os.open(part, _NOFOLLOW_DIR, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                try:
                    os.mkdir(part, mode, dir_fd=fd)
                    with contextlib.suppress(OSError):
                        os.fsync(fd)
                except FileExistsError:
                    pass
                nfd = os.open(part, _NOFOLLOW_DIR, dir_fd=fd)
            except OSError as e:
                if e.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise PathRefused(
                        e.errno, "a symlink or a file stands where a folder should be", walked
                    ) from None
                raise
            os.close(fd)
            fd = nfd
    except BaseException:
        os.close(fd)
        raise
    return fd


@contextlib.contextmanager
def parent(path: str, *, create: bool = False) -> Iterator[tuple[int, str]]:
    """``(descriptor of the folder holding path, last component)``, closed on exit."""
    d, name = os.path.split(os.path.normpath(path))
    if not name:
        raise PathRefused(errno.EINVAL, "no file name", path)
    fd = open_dir(d, create=create)
    try:
        yield fd, name
    finally:
        os.close(fd)


def lstat(path: str) -> os.stat_result:
    """``lstat`` of ``path`` reached without following symlinks on the way."""
    with parent(path) as (fd, name):
        return os.stat(name, dir_fd=fd, follow_symlinks=False)


def exists(path: str) -> bool:
    """Anything at ``path`` (a dangling link counts); False if the way there is refused."""
    try:
        lstat(path)
    except (FileNotFoundError, PathRefused, NotADirectoryError):
        return False
    return True


def is_dir(path: str) -> bool:
    try:
        fd = open_dir(path)
    except OSError:
        return False
    os.close(fd)
    return True


def open_file(path: str) -> int:
    """A read-only descriptor of the regular file at ``path`` (no symlink anywhere)."""
    with parent(path) as (fd, name):
        try:
            f = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), dir_fd=fd)
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise PathRefused(e.errno, "is a symlink", path) from None
            raise
    if not stat.S_ISREG(os.fstat(f).st_mode):
        os.close(f)
        raise PathRefused(errno.EINVAL, "not a regular file", path)
    return f


def digest_fd(fd: int) -> str:
    """BLAKE2b-128 hex of the file behind ``fd`` from its start (same as fsops.file_digest)."""
    h = hashlib.blake2b(digest_size=16)
    os.lseek(fd, 0, os.SEEK_SET)
    while chunk := os.read(fd, CHUNK):
        h.update(chunk)
    return h.hexdigest()


def digest(path: str) -> str:
    fd = open_file(path)
    try:
        return digest_fd(fd)
    finally:
        os.close(fd)


def fsync_fd(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.fsync(fd)


def _renameat2(sfd: int, sname: str, dfd: int, dname: str, flags: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    fn = getattr(libc, "renameat2", None)
    if fn is None:
        raise OSError(errno.ENOSYS, "renameat2 not available")
    rc = fn(sfd, os.fsencode(sname), dfd, os.fsencode(dname), flags)
    if rc != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e), dname)


_NO_LINK_SUPPORT = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.ENOSYS}


def add_name(src: str, dst: str) -> None:
    """A second name ``dst`` for the file at ``src`` (hard link; EEXIST if ``dst`` is taken).

    Raises EXDEV across filesystems; callers fall back to a verified copy.
    """
    with parent(src) as (sfd, sname), parent(dst) as (dfd, dname):
        os.link(sname, dname, src_dir_fd=sfd, dst_dir_fd=dfd, follow_symlinks=False)
        fsync_fd(dfd)


def publish(tmp: str, dst: str) -> None:
    """Give our finished temporary file ``tmp`` its final name ``dst`` (same folder), never
    replacing anything there: a hard link, or where the filesystem has none (vFAT, exFAT, many
    USB disks) a no-replace rename. Either way ``tmp`` is gone afterwards."""
    with parent(tmp) as (fd, tname), parent(dst) as (dfd, dname):
        try:
            os.link(tname, dname, src_dir_fd=fd, dst_dir_fd=dfd, follow_symlinks=False)
        except OSError as e:
            if e.errno not in _NO_LINK_SUPPORT:
                raise
            _rename_noreplace(fd, tname, dfd, dname, dst)
        else:
            os.unlink(tname, dir_fd=fd)
        fsync_fd(dfd)


def remove_name(path: str, expect: Ident | None = None) -> None:
    """Unlink ``path``; with ``expect``, only if it is still that inode (checked just before)."""
    with parent(path) as (fd, name):
        if expect is not None:
            st = os.stat(name, dir_fd=fd, follow_symlinks=False)
            if not expect.same_inode(st):
                raise PathRefused(errno.ESTALE, "another file is at this name now", path)
        os.unlink(name, dir_fd=fd)
        fsync_fd(fd)


def move(src: str, dst: str, expect: Ident) -> None:
    """Move ``src`` to ``dst`` on one filesystem, never replacing anything at ``dst``.

    ``expect`` is the file we checked: the move happens only if ``src`` still is that inode,
    and if another file took ``src``'s name in between, the new name is taken back and the move
    refused. EXDEV becomes :class:`CrossDevice` (from fsops) for the caller's copy path.
    """
    from .fsops import CrossDevice

    with parent(src) as (sfd, sname), parent(dst, create=True) as (dfd, dname):
        st = os.stat(sname, dir_fd=sfd, follow_symlinks=False)
        if not expect.same_inode(st):
            raise PathRefused(errno.ESTALE, "another file is at this name now", src)
        try:
            os.link(sname, dname, src_dir_fd=sfd, dst_dir_fd=dfd, follow_symlinks=False)
        except OSError as e:
            if e.errno == errno.EXDEV:
                raise CrossDevice(errno.EXDEV, "destination is on another filesystem", dst) from e
            if e.errno not in _NO_LINK_SUPPORT:
                raise
            _rename_noreplace(sfd, sname, dfd, dname, dst)
        else:
            moved = os.stat(dname, dir_fd=dfd, follow_symlinks=False)
            now = os.stat(sname, dir_fd=sfd, follow_symlinks=False)
            if not (expect.same_inode(moved) and expect.same_inode(now)):
                os.unlink(dname, dir_fd=dfd)  # our new name of someone else's file: take it back
                raise PathRefused(errno.ESTALE, "the file changed while it was being moved", src)
            try:
                os.unlink(sname, dir_fd=sfd)
            except OSError:
                # Could not remove the source (read-only folder, EROFS...): take the new name
                # back so the file is exactly where it was, then report the original error.
                os.unlink(dname, dir_fd=dfd)
                raise
        fsync_fd(dfd)
        fsync_fd(sfd)
        moved = os.stat(dname, dir_fd=dfd, follow_symlinks=False)
        if not expect.same_inode(moved):  # only reachable through the rename fallback
            _rename_noreplace(dfd, dname, sfd, sname, src)
            raise PathRefused(errno.ESTALE, "the file changed while it was being moved", src)


def _rename_noreplace(sfd: int, sname: str, dfd: int, dname: str, shown: str) -> None:
    """renameat2(RENAME_NOREPLACE); where the filesystem lacks it, claim the name with O_EXCL
    first so the rename can only replace our own empty placeholder."""
    from .fsops import CrossDevice

    try:
        _renameat2(sfd, sname, dfd, dname, _RENAME_NOREPLACE)
        return
    except OSError as e:
        if e.errno == errno.EXDEV:
            raise CrossDevice(errno.EXDEV, "destination is on another filesystem", shown) from e
        if e.errno not in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
            raise
    fd = os.open(dname, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=dfd)
    os.close(fd)
    try:
        os.rename(sname, dname, src_dir_fd=sfd, dst_dir_fd=dfd)
    except OSError:
        os.unlink(dname, dir_fd=dfd)
        raise


def replace_own(tmp: str, path: str, expect_at_path: Ident | None) -> None:
    """Rename our temporary file ``tmp`` over ``path`` (same folder), which must still hold
    ``expect_at_path`` (a link we made) or nothing at all."""
    with parent(path) as (fd, name):
        tname = os.path.basename(tmp)
        if os.path.dirname(os.path.normpath(tmp)) != os.path.dirname(os.path.normpath(path)):
            raise PathRefused(errno.EINVAL, "temporary file in another folder", tmp)
        try:
            st = os.stat(name, dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            st = None
        if st is not None and (expect_at_path is None or not expect_at_path.same_inode(st)):
            raise PathRefused(errno.EEXIST, "something new is at this name", path)
        if st is None:
            os.link(tname, name, src_dir_fd=fd, dst_dir_fd=fd, follow_symlinks=False)
            os.unlink(tname, dir_fd=fd)
        else:
            os.rename(tname, name, src_dir_fd=fd, dst_dir_fd=fd)
        fsync_fd(fd)


def make_hardlink(target: str, path: str) -> None:
    """A hard link at ``path`` (which must be free) to the file at ``target``."""
    add_name(target, path)


def make_symlink(text: str, path: str) -> None:
    """A symlink at ``path`` (which must be free) whose content is ``text``."""
    with parent(path) as (fd, name):
        os.symlink(text, name, dir_fd=fd)
        fsync_fd(fd)


def readlink(path: str) -> str:
    with parent(path) as (fd, name):
        return os.readlink(name, dir_fd=fd)


def rmdir_if_empty(path: str) -> bool:
    """Remove folder ``path`` if it is empty; True if it was removed."""
    try:
        with parent(path) as (fd, name):
            os.rmdir(name, dir_fd=fd)
            fsync_fd(fd)
    except OSError:
        return False
    return True


def inside(path: str, folder: str) -> bool:
    """Lexical containment of two normalised absolute paths (``path`` may equal ``folder``)."""
    p, f = os.path.normpath(path), os.path.normpath(folder)
    return p == f or p.startswith(f.rstrip(os.sep) + os.sep)


def regular_file(path: str) -> tuple[Ident | None, str | None]:
    """The regular file at ``path`` now (reached without symlinks), or why there is none."""
    try:
        st = lstat(path)
    except FileNotFoundError:
        return None, "vanished since the scan"
    except PathRefused:
        return None, "a folder on its way is now a symlink (or a file); not following it"
    except OSError as e:
        return None, f"cannot check it: {e.strerror}"
    if stat.S_ISLNK(st.st_mode):
        return None, "is now a symlink"
    if not stat.S_ISREG(st.st_mode):
        return None, "is no longer a regular file"
    return Ident.of(st), None
