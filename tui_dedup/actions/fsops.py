"""The few primitive file operations every action is built from, each safe on its own.

Why a module of its own: the promise "never overwrite, never lose a file" is kept here, in one
place, so plan/apply/undo only combine operations that already keep it.

- :func:`move_noreplace` moves a file on one filesystem without ever replacing what is at the
  destination: ``os.link`` + ``os.unlink`` first (the link fails with EEXIST if the name is taken,
  atomically), ``renameat2(RENAME_NOREPLACE)`` where the filesystem has no hard links. A crash
  between link and unlink leaves the same inode under both names, which undo recognises.
- :func:`copy_verified` is the cross-filesystem path: copy to a hidden temporary name created
  with O_EXCL, fsync, re-read and compare size + BLAKE2b digest, then publish under the final
  name with a no-clobber link. The source is never touched here; the caller removes it only
  after the journal says the copy is good.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import os
import shutil
import stat
from collections.abc import Callable

CHUNK = 1 << 20
_AT_FDCWD = -100
_RENAME_NOREPLACE = 1
# link() failures that mean "this filesystem cannot hard-link", not "you may not".
_NO_LINK_SUPPORT = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.ENOSYS}


class CrossDevice(OSError):
    """The destination is on another filesystem: a rename is impossible, only a copy works."""


def file_digest(path: str) -> str:
    """BLAKE2b-128 hex of the file's bytes: the identity used for skips and for verification.

    128 bits is ample against accidental collisions and keeps keys short in the state files.
    """
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def fsync_dir(path: str) -> None:
    """Make a rename/link/unlink in ``path`` durable; ignored where directories cannot be opened."""
    try:
        fd = os.open(path or ".", os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def makedirs(path: str) -> None:
    """Create the destination folder (and parents) and make each new entry durable."""
    missing = []
    p = path
    while p and not os.path.isdir(p):
        missing.append(p)
        parent = os.path.dirname(p)
        if parent == p:
            break
        p = parent
    for d in reversed(missing):
        try:
            os.mkdir(d, 0o755)
        except FileExistsError:
            if not os.path.isdir(d):
                raise
        fsync_dir(os.path.dirname(d))


def _renameat2_noreplace(src: str, dst: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    fn = getattr(libc, "renameat2", None)
    if fn is None:
        raise OSError(errno.ENOSYS, "renameat2 not available")
    rc = fn(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), _RENAME_NOREPLACE)
    if rc != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e), dst)


def _claim_then_rename(src: str, dst: str) -> None:
    """Last resort on filesystems with neither hard links nor RENAME_NOREPLACE (e.g. some FUSE).

    The name is claimed with O_EXCL first, so the rename only ever replaces our own empty
    placeholder; it fails cleanly if the name is taken.
    """
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    try:
        os.rename(src, dst)
    except OSError:
        os.unlink(dst)
        raise


def move_noreplace(src: str, dst: str, checkpoint: Callable | None = None) -> None:
    """Move ``src`` to ``dst`` on one filesystem; FileExistsError if ``dst`` exists.

    Raises :class:`CrossDevice` on EXDEV so the caller can decide whether a copy is allowed.
    ``checkpoint("linked")`` runs while both names exist (crash tests).
    """
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError as e:
        if e.errno == errno.EXDEV:
            raise CrossDevice(errno.EXDEV, "destination is on another filesystem", dst) from e
        if e.errno not in _NO_LINK_SUPPORT:
            raise
        try:
            _renameat2_noreplace(src, dst)
        except OSError as e2:
            if e2.errno == errno.EXDEV:
                raise CrossDevice(errno.EXDEV, "destination is on another filesystem", dst) from e2
            if e2.errno not in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
                raise
            _claim_then_rename(src, dst)
    else:
        if checkpoint:
            checkpoint("linked")
        try:
            os.unlink(src)
        except OSError:
            # Could not remove the source (read-only dir, EROFS...): take the new name back so
            # the file is exactly where it was, then report the original error.
            os.unlink(dst)
            raise
    fsync_dir(os.path.dirname(dst))
    fsync_dir(os.path.dirname(src))


def partial_name(dst: str) -> str:
    """Hidden temporary name next to ``dst`` used while a copy is incomplete."""
    d, name = os.path.split(dst)
    return os.path.join(d, f".{name}.dedup-tui-partial")


def copy_verified(
    src: str, dst: str, expected_digest: str | None = None, checkpoint: Callable | None = None
) -> str:
    """Copy ``src`` to a new file ``dst`` (never replacing one), durably, and verify it.

    Returns the digest. Raises OSError (ENOSPC, EACCES, ...) with the partial file removed, or
    ValueError when the bytes read back differ from the source.
    """
    tmp = partial_name(dst)
    st = os.stat(src)
    h = hashlib.blake2b(digest_size=16)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            with open(src, "rb") as fin:
                while chunk := fin.read(CHUNK):
                    h.update(chunk)
                    view = memoryview(chunk)
                    while view:
                        n = os.write(fd, view)
                        view = view[n:]
            os.fsync(fd)
        finally:
            os.close(fd)
        digest = h.hexdigest()
        if expected_digest is not None and digest != expected_digest:
            raise ValueError(f"{src!r} changed while it was being copied")
        if os.path.getsize(tmp) != st.st_size or file_digest(tmp) != digest:
            raise ValueError(f"copy of {src!r} does not match the original")
        shutil.copystat(src, tmp, follow_symlinks=False)
        os.chmod(tmp, stat.S_IMODE(st.st_mode))
        if checkpoint:
            checkpoint("copy-written")
        os.link(tmp, dst)  # no-clobber publish: EEXIST if the name was taken meanwhile
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    os.unlink(tmp)
    fsync_dir(os.path.dirname(dst))
    return digest


def unique_name(path: str, n: int) -> str:
    """``photo.jpg`` → ``photo (n).jpg``; n == 0 returns the path unchanged."""
    if n == 0:
        return path
    d, name = os.path.split(path)
    stem, ext = os.path.splitext(name)
    return os.path.join(d, f"{stem} ({n}){ext}")


def lexists(path: str) -> bool:
    """True for anything at ``path``, including a dangling symlink."""
    return os.path.lexists(path)


def same_file(path: str, dev: int, ino: int) -> bool:
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return (st.st_dev, st.st_ino) == (dev, ino)


def device_of(path: str) -> int | None:
    """st_dev of ``path`` or of its nearest existing ancestor (where a new folder would go)."""
    p = os.path.abspath(path)
    while True:
        try:
            return os.stat(p).st_dev
        except FileNotFoundError:
            parent = os.path.dirname(p)
            if parent == p:
                return None
            p = parent
        except OSError:
            return None
