"""Small helpers the actions share that are not about one operation's safety.

The operations themselves — moves that never clobber, links, unlinks that re-check the inode,
verified copies — live in :mod:`~tui_dedup.actions.safefs` and
:mod:`~tui_dedup.actions.copying`, where every path is reached without following symlinks.
"""

from __future__ import annotations

import os

from ..engine.files.digest import digest_path


class CrossDevice(OSError):
    """The destination is on another filesystem: a rename is impossible, only a copy works."""


def file_digest(path: str) -> str:
    """BLAKE2b-128 hex of the file's bytes: the identity used for skips and for verification.

    The engine's digest (:func:`tui_dedup.engine.files.digest.digest_path`) in hex: skip keys
    depend on the scan's digests and these being one and the same."""
    return digest_path(path).hex()


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


def unique_name(path: str, n: int) -> str:
    """``photo.jpg`` → ``photo (n).jpg``; n == 0 returns the path unchanged."""
    if n == 0:
        return path
    d, name = os.path.split(path)
    stem, ext = os.path.splitext(name)
    return os.path.join(d, f"{stem} ({n}){ext}")


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
