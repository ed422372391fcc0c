"""Give memory the C allocator holds but no longer uses back to the system, during long scans.

Why: every decode makes and frees many small buffers inside libjpeg/libpng/OpenCV on the decode
threads, between the long-lived objects the scan keeps (file entries, feature blocks). glibc's
allocator keeps the freed pieces for reuse and returns the top of its heaps only, so a cold scan
of small images held memory it no longer used, growing with the file count; a periodic
``malloc_trim(0)``, cheap next to the scan, hands those pages back (benchmarks/RESULTS.md, "Why
the code is as it is"). Elsewhere (musl, macOS, Windows) this is a no-op: those allocators
return memory differently, and nothing depends on it.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

_trim: Callable[[int], int] | None = None
_looked = False


def release_free_memory() -> None:
    """``malloc_trim(0)`` where glibc provides it; never raises."""
    global _trim, _looked
    if not _looked:
        _looked = True
        if sys.platform.startswith("linux"):
            try:
                # ctypes loads on first use, and glibc by its soname: ctypes.util.find_library
                # slows every process start (it imports tempfile, random, ...;
                # benchmarks/RESULTS.md, "Why the code is as it is")
                import ctypes

                libc = ctypes.CDLL("libc.so.6")
                fn = libc.malloc_trim
                fn.argtypes = [ctypes.c_size_t]
                fn.restype = ctypes.c_int
                _trim = fn
            except (OSError, AttributeError):
                _trim = None
    if _trim is not None:
        with contextlib.suppress(OSError):
            _trim(0)


@contextlib.contextmanager
def opencv_threads(n: int) -> Iterator[None]:
    """OpenCV's thread count (process-wide) at ``n`` while the block runs, then as it was.

    Our decode pools give the parallelism; OpenCV's own threads on top would oversubscribe
    the cores. Restored afterwards so that code sharing the process keeps its setting."""
    import cv2

    before = cv2.getNumThreads()
    cv2.setNumThreads(n)
    try:
        yield
    finally:
        cv2.setNumThreads(before)
