"""A verified copy to another filesystem that keeps the file's owner, mode, times and xattrs.

Why a module of its own: a copy is the one operation where a file exists twice and either copy
may be incomplete, so its order is the safety argument: the temporary name is journaled by the
caller *before* it is created (a killed run's leftover is found and removed by the next run),
the bytes are fsynced and read back against the digest, the metadata is put back, and only
then does the copy take its final name, with a no-clobber link. The source is never touched
here; callers remove it only after this returned.

Metadata: mode, atime/mtime and extended attributes are always copied; owner and group are
copied when we may (root, or our own file): otherwise a note says so, so a photo restored by
root never silently becomes root's.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from dataclasses import dataclass, field

from . import safefs

CHUNK = 1 << 20


@dataclass(slots=True)
class Copied:
    digest: str
    notes: list[str] = field(default_factory=list)


def temp_name(dst: str) -> str:
    """A fresh hidden name beside ``dst`` for a copy in progress (random: never reused)."""
    d, name = os.path.split(dst)
    return os.path.join(d, f".{name}.{secrets.token_hex(4)}.dedup-tui-partial")


def _copy_xattrs(sfd: int, dfd: int) -> list[str]:
    try:
        names = os.listxattr(sfd)
    except OSError as e:
        return [] if e.errno in (errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS) else [str(e)]
    problems = []
    for n in names:
        try:
            os.setxattr(dfd, n, os.getxattr(sfd, n))
        except OSError as e:
            problems.append(f"{n}: {e.strerror}")
    return problems


def copy_verified(src: str, dst: str, tmp: str, expected_digest: str | None = None) -> Copied:
    """Copy ``src`` to the new name ``dst`` through the temporary ``tmp`` (same folder as dst).

    Raises OSError (ENOSPC, EACCES, EEXIST...) with ``tmp`` removed, or ValueError when the
    bytes differ from ``expected_digest`` or do not read back the same.
    """
    sfd = safefs.open_file(src)
    try:
        st = os.fstat(sfd)
        with safefs.parent(tmp, create=True) as (dirfd, tname):
            out = os.open(
                tname, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=dirfd
            )
            try:
                notes = _fill(sfd, out, st, expected_digest, src)
                digest = notes.pop(0)
            except BaseException:
                os.close(out)
                with contextlib.suppress(OSError):
                    os.unlink(tname, dir_fd=dirfd)
                raise
            os.close(out)
            try:
                safefs.publish(tmp, dst)
            finally:
                with contextlib.suppress(OSError):
                    os.unlink(tname, dir_fd=dirfd)  # only if publishing failed
                safefs.fsync_fd(dirfd)
    finally:
        os.close(sfd)
    return Copied(digest, notes)


def _fill(sfd: int, out: int, st: os.stat_result, expected: str | None, src: str) -> list[str]:
    """Write, fsync, verify and set metadata; returns [digest, *notes]."""
    import hashlib

    h = hashlib.blake2b(digest_size=16)
    os.lseek(sfd, 0, os.SEEK_SET)
    while chunk := os.read(sfd, CHUNK):
        h.update(chunk)
        view = memoryview(chunk)
        while view:
            view = view[os.write(out, view) :]
    os.fsync(out)
    digest = h.hexdigest()
    if expected is not None and digest != expected:
        raise ValueError(f"{src!r} is not the file that was recorded (its content differs)")
    if os.fstat(out).st_size != st.st_size or safefs.digest_fd(out) != digest:
        raise ValueError(f"the copy of {src!r} does not read back the same")
    notes = [digest]
    try:
        os.fchown(out, st.st_uid, st.st_gid)
    except OSError:
        if (os.fstat(out).st_uid, os.fstat(out).st_gid) != (st.st_uid, st.st_gid):
            notes.append(
                f"could not give the copy of {src!r} its owner {st.st_uid}:{st.st_gid} "
                "(not allowed here); it belongs to you now"
            )
    os.fchmod(out, stat.S_IMODE(st.st_mode))
    notes += [f"extended attribute {p}" for p in _copy_xattrs(sfd, out)]
    os.utime(out, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.fsync(out)
    return notes
