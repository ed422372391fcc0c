"""Where an exported result goes: stdout, or a file that is replaced whole once it is written.

Why: results are written in chunks as they are made (output.chunks), so a failure half-way (a
full disk, Ctrl-C, a bug) would leave a truncated document where a script expects JSON, after
already destroying the previous run's file. A regular file is therefore written beside its
target under a hidden temporary name and renamed over it at the end: readers see the old file
or the new one, never half of one. Devices and pipes (``/dev/null``, a FIFO) are written in
place: renaming over them would replace the device node with a plain file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from typing import BinaryIO


@contextlib.contextmanager
def open_output(path: str) -> Iterator[BinaryIO]:
    """A binary stream for ``path`` (``-`` is stdout); the file appears only on success."""
    if path == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    target = os.path.realpath(path)  # through a symlink: the link keeps pointing at the result
    try:
        old = os.stat(target)
    except FileNotFoundError:
        old = None
    if old is not None and not stat.S_ISREG(old.st_mode):
        with open(path, "wb") as f:
            yield f
        return
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=f".{os.path.basename(target)}.", suffix=".part", dir=os.path.dirname(target)
        )
    except OSError as exc:
        if old is not None and exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            # A writable file in a folder we may not create files in: write it in place, as
            # before (the folder's owner chose that; a failure then truncates it).
            with open(path, "wb") as f:
                yield f
            return
        raise OSError(exc.errno, exc.strerror, path) from None  # the name the user gave
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
        os.chmod(tmp, stat.S_IMODE(old.st_mode) if old is not None else 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    """The process umask without changing it (os.umask can only read it by setting it, which
    would race with other threads creating files)."""
    with contextlib.suppress(OSError, ValueError, StopIteration), open("/proc/self/status") as f:
        return int(next(line for line in f if line.startswith("Umask:")).split()[1], 8)
    return 0o022
