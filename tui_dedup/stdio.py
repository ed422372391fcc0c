"""Keep C libraries' messages off the user's screen.

libjpeg ("Corrupt JPEG data: …"), libpng and OpenCV write warnings straight to file descriptor
2, bypassing Python. In the TUI they would scribble over the screen; in a headless scan they
interleave with the progress bar. We point fd 2 elsewhere (a log file or /dev/null) and give
Python a stream on the real stderr, so our own messages still reach the user. The reasons that
matter reach the user anyway, as one-line ScanErrors.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import TextIO


@contextlib.contextmanager
def native_stderr_to(path: str = os.devnull) -> Iterator[TextIO]:
    """Redirect fd 2 to ``path`` (appended); ``sys.stderr`` and ``sys.__stderr__`` keep
    writing to the terminal."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no usable fd 2 (daemonised, closed): nothing to protect
        yield sys.stderr
        return
    try:
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    except OSError:
        os.close(saved)
        yield sys.stderr
        return
    os.dup2(target, 2)
    os.close(target)
    real = os.fdopen(
        os.dup(saved),
        "w",
        buffering=1,
        encoding=sys.stderr.encoding or "utf-8",
        errors="backslashreplace",
    )
    # Textual draws on sys.__stderr__, so the "original" stream must be the terminal too.
    previous, previous_dunder = sys.stderr, sys.__stderr__
    sys.stderr = real
    # typeshed marks __stderr__ Final, but swapping it is the point: Textual writes to it.
    sys.__stderr__ = real  # type: ignore[misc]
    try:
        yield real
    finally:
        with contextlib.suppress(Exception):
            real.flush()
        sys.stderr = previous
        sys.__stderr__ = previous_dunder  # type: ignore[misc]  # Final in typeshed; see above
        os.dup2(saved, 2)
        os.close(saved)
        with contextlib.suppress(Exception):
            real.close()
