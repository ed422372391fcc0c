"""Where the journal, skips and saved review state live, and how they are written.

They are the user's decisions and the record of what happened to their files, so they go in the
*state* dir (kept), not the cache dir (which may be wiped). ``DEDUP_TUI_STATE_DIR`` overrides it
so tests and portable installs can point it elsewhere.
"""

from __future__ import annotations

import contextlib
import os
import tempfile

import platformdirs

from .fsops import fsync_dir


def state_dir() -> str:
    """The state folder, created on first use; read from the environment on every call."""
    path = os.environ.get("DEDUP_TUI_STATE_DIR") or platformdirs.user_state_dir("dedup-tui")
    os.makedirs(path, exist_ok=True)
    return path


def atomic_write(path: str, data: str) -> None:
    """Write the whole file or nothing: temp file in the same folder, fsync, os.replace."""
    d = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=d)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(d)
