"""Keep CPython's full garbage collections off the key path, where each one stalls the keys.

A full (generation 2) collection walks every container object alive while holding the GIL, so
with a result of 10^5 files in memory it stops the UI thread for a time a user notices
(benchmarks/RESULTS.md, "Why the code is as it is").
Two screens hold a big heap for a long time, and each gets its own policy:

- the scan screen (:class:`FullCollectionsPaused`): the heap grows all the time, so automatic
  full collections wait until the scan has ended; then one collection catches up, in the scan's
  worker, before the result is handed to the UI;
- the review screen (:class:`HeapFrozen`): the heap holds still, so what is alive when the
  screen comes up is moved out of the collector's sight (``gc.freeze``) until the screen goes
  (rescan, quit); then it is handed back (``gc.unfreeze``) and collected once
  (:func:`collect_soon`), so an old result never stays in memory -- provided nothing
  else still refers to it, which Textual's thread workers did (:func:`use_fresh_context_executor`).

The scan screen: during a scan the heap holds ~10^5 long-lived objects (the discovered files,
the rows hashed so far, everything Textual and the libraries import), and a full collection on
the UI thread every few seconds of a 100,000-file scan was the tail of every key's latency
(benchmarks/RESULTS.md, "Why the code is as it is"). The young generations stay on (they are
small and catch the short-lived cycles the UI makes). Reference counting frees acyclic garbage
as always, so memory grows only by cyclic garbage that reached the old generation during the
scan, and the catch-up collection frees that before the review screen freezes the heap.

The review screen (benchmarks/bench_review_gc.py, 100,000 files and pairs): unfrozen, a full
collection walks the whole result and makes the slowest key; frozen, it walks only what was
made since, and no key waits for it noticeably (benchmarks/RESULTS.md, "review gc" and "Why
the code is as it is").
"""

from __future__ import annotations

import gc
import threading
import time
import weakref
from collections.abc import Callable
from typing import Protocol

from tui_dedup.tui.textual_patches import enabled
from tui_dedup.tui.textual_patches.executor import PATCH as EXECUTOR
from tui_dedup.tui.textual_patches.executor import install_fresh_context_executor

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

    def resume(self, *, collect: bool = False) -> None:
        """Let go; the last holder restores the thresholds and, with ``collect``, collects once.

        The catch-up collection frees the cyclic garbage the pause kept back, at a moment
        chosen here (the end of a scan, in its worker) rather than at the first key press
        after the thresholds are back: with the pause over, the collector's own rule would
        start a full collection almost at once.
        """
        cls = FullCollectionsPaused
        with cls._lock:
            if not self._held:
                return
            self._held = False
            cls._holders -= 1
            last = cls._holders == 0
            if last:
                gc.set_threshold(*cls._saved)
        if last and collect:
            gc.collect()


class HeapFrozen:
    """While held, the objects alive at :meth:`hold` are out of every collection (``gc.freeze``).

    The review screen holds it from mount to unmount: its result (a ``FileEntry`` per file,
    the groups, the screen's widgets, and Textual itself) lives as long as the screen, so
    walking it on every full collection only costs time (benchmarks/RESULTS.md, "Why the code
    is as it is"), on whichever key press the collection happens to land on. Frozen objects
    are still freed by reference
    counting; only cyclic garbage among them (a screen and its widgets, once removed) waits
    for :meth:`release`, which hands everything back to the oldest generation (``gc.unfreeze``,
    constant time) so that the next full collection can free an old result. Both calls are
    O(1): they splice the collector's lists, they do not walk them.

    Holders are counted, process-wide like the collector: a new review screen can mount
    before the old one is gone (a re-match shown while a dialog is open). Each ``hold``
    freezes what is alive then, and only the last ``release`` unfreezes.
    """

    _lock = threading.Lock()
    _holders = 0

    def __init__(self) -> None:
        self._held = False

    def hold(self) -> None:
        cls = HeapFrozen
        with cls._lock:
            if self._held:
                return
            self._held = True
            cls._holders += 1
            gc.freeze()

    def release(self) -> None:
        cls = HeapFrozen
        with cls._lock:
            if not self._held:
                return
            self._held = False
            cls._holders -= 1
            if cls._holders == 0:
                gc.unfreeze()


#: A pause in the input this long (seconds) lets a due full collection run.
IDLE_BEFORE_COLLECT = 0.5
#: How often (seconds) :class:`CollectWhenIdle` looks whether a collection is due.
IDLE_CHECK = 0.25
#: Young-generation collections after which a full one is due: the collector's own default.
FULL_DUE = 10
#: ... and after which it runs even while keys keep coming (memory before latency): ~170,000
#: garbage objects at most, at the rate measured with a key every 50–300 ms in the compare.
FULL_FORCED = 20 * FULL_DUE
#: An overdue collection still waits this long after the last key (seconds): the key's frame
#: is out, and the next key, usually further off, is less likely to wait behind it.
AFTER_KEY = 0.05


class _Intervals(Protocol):
    def set_interval(
        self, interval: float, callback: Callable[[], object], *, name: str
    ) -> _Stoppable: ...


class _Stoppable(Protocol):
    def stop(self) -> object: ...


class CollectWhenIdle:
    """While held, full collections wait for a pause in the input.

    The review's own heap is frozen (:class:`HeapFrozen`), but everything made since is not:
    pictures above all, a ``Segment``, a ``Style`` and two colours per cell (~7,000 cells a
    picture at 160×50) with the strips Textual caches for them, ~170,000 objects alive in the
    compare view. The collector's rule started a full collection every few pictures, 40–100
    ms walking them, on whatever ran at that moment: the next key waited for it (issue #16:
    p95 over 100 ms through tmux at 160×50). Held, the automatic full collections are off
    (:class:`FullCollectionsPaused`), and a timer runs the one that is due once the input has
    paused for :data:`IDLE_BEFORE_COLLECT` seconds; after :data:`FULL_FORCED` young
    collections it runs anyway (between two keys), so a key held down for minutes cannot grow
    the heap without bound. Reference counting frees everything that is not in a cycle
    meanwhile, as always (tui/widgets/halfblock.py keeps a picture's strips out of cycles).

    Nothing is frozen here: an object frozen while alive that later became garbage in a cycle
    would stay until the review ends.
    """

    def __init__(self, node: _Intervals, last_input: Callable[[], float]) -> None:
        self._node = node
        self._last_input = last_input
        self._paused = FullCollectionsPaused()
        self._timer: _Stoppable | None = None
        #: Review screens holding it: a new one can mount before the old one has gone.
        self._holds = 0

    def hold(self) -> None:
        self._holds += 1
        self._paused.start()
        if self._timer is None:
            self._timer = self._node.set_interval(
                IDLE_CHECK, self.collect_if_due, name="full collection when idle"
            )

    def release(self) -> None:
        """The last holder's release turns the collector's own rule back on."""
        self._holds = max(0, self._holds - 1)
        if self._holds:
            return
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._paused.resume()

    def collect_if_due(self) -> bool:
        """One full collection if one is due and the input has paused (or it is overdue)."""
        due = gc.get_count()[2]
        quiet = time.monotonic() - self._last_input()
        if (due >= FULL_DUE and quiet >= IDLE_BEFORE_COLLECT) or (
            due >= FULL_FORCED and quiet >= AFTER_KEY
        ):
            gc.collect()
            return True
        return False


#: Seconds between dropping a result and collecting it: what the old screen left scheduled must
#: have run out by then (Textual's after-refresh callbacks hold it for a turn; a cancelled timer's
#: handle keeps its context, and so the screen, until it is due: the review's 0.5 s save timer).
COLLECT_DELAY = 1.0


class _Timers(Protocol):
    def set_timer(self, delay: float, callback: Callable[[], object], *, name: str) -> object: ...


#: Collections :func:`collect_soon` makes at most while what it waits for is still alive.
COLLECT_TRIES = 5


def collect_soon(
    node: _Timers, gone: weakref.ref[object] | None = None, tries: int = COLLECT_TRIES
) -> None:
    """One full collection on ``node``'s loop in :data:`COLLECT_DELAY` seconds; more, one per
    delay (up to :data:`COLLECT_TRIES` in all), while ``gone`` still refers to something.

    For a result just dropped (a rescan replaced its review screen): its objects are cyclic
    garbage (the screen and its widgets refer to each other) that only a full collection
    frees, and the new scan screen pauses the automatic ones; without this the old result
    would sit in memory beside the new one until the scan ends. It costs one stall of a full
    collection while the scan screen shows its progress, where no key is waiting. Textual can
    still hold a removed screen a moment later (its update timer, a queued refresh callback:
    seen in ~1 run in 12), so one collection is not always enough; ``gone`` says when it was.
    """

    def collect() -> None:
        gc.collect()
        if gone is not None and gone() is not None and tries > 1:
            collect_soon(node, gone, tries - 1)

    node.set_timer(COLLECT_DELAY, collect, name="collect the dropped result")


def use_fresh_context_executor() -> None:
    """Thread workers run in a fresh context each, so a finished one keeps nothing alive.

    Call it before the first thread worker starts (the app does, on mount). Textual's thread
    workers leave their Worker (and its arguments and result) referenced from the pool thread;
    the executor that avoids that is in :mod:`tui_dedup.tui.textual_patches.executor` (switch:
    ``DEDUP_TUI_NO_PATCH=executor``; off, an old result may stay in memory after a rescan).
    """
    if enabled(EXECUTOR):
        install_fresh_context_executor()
