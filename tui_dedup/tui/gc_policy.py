"""No full garbage collections while a scan runs: they stalled key presses for 0.2–0.45 s.

During a scan the heap holds ~10^5 long-lived objects (the discovered files, the rows hashed so
far, everything Textual and the libraries import), and CPython's full (generation 2)
collection walks all of them while holding the GIL: measured at 200–440 ms on the UI thread,
every 2–3 s of a 100,000-file scan, which was the tail of every key's latency. The young
generations stay on (they are small and catch the short-lived cycles the UI makes); only the
automatic full collection waits until the scan screen is done, after which CPython's own
thresholds apply again. Reference counting frees acyclic garbage as always, so memory grows
only by cyclic garbage that reached the old generation during the scan.
"""

from __future__ import annotations

import gc
import threading

_NEVER = 1 << 30  # young collections between two full ones: a scan never gets there


class FullCollectionsPaused:
    """Raise the third GC threshold while any holder holds it; the last ``resume`` restores.

    Not a context manager: a scan screen holds it from mount until its scan has ended, across
    many event-loop turns, and a rescan's new screen may mount before the old one unmounts, so
    holders are counted (process-wide, like the collector itself). ``resume`` may be called
    from the scan's worker thread as well as from the UI thread.
    """

    _lock = threading.Lock()
    _holders = 0
    _saved: tuple[int, int, int] = (700, 10, 10)

    def __init__(self) -> None:
        self._held = False

    def start(self) -> None:
        cls = FullCollectionsPaused
        with cls._lock:
            if self._held:
                return
            self._held = True
            if cls._holders == 0:
                cls._saved = gc.get_threshold()
                gc.set_threshold(cls._saved[0], cls._saved[1], _NEVER)
            cls._holders += 1

    def resume(self) -> None:
        cls = FullCollectionsPaused
        with cls._lock:
            if not self._held:
                return
            self._held = False
            cls._holders -= 1
            if cls._holders == 0:
                gc.set_threshold(*cls._saved)
