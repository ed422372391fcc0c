"""What a scan says while it runs: a snapshot for displays, and the throttle that sends them.

Apart from the scan because it is about people watching, not about files: how often to
speak, and how fast files finish *now* (the images/s and the ETA), which is easy to get wrong
in ways no test of the scan's result would notice.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

STAGES = ("discovering", "hashing", "done")
PROGRESS_INTERVAL = 0.1  # seconds between progress callbacks (the last one always comes)
RATE_WINDOW = 10.0  # seconds of recent progress the images/s and the ETA are measured over


@dataclass(frozen=True, slots=True)
class ScanProgress:
    """A snapshot for progress displays; plain data, safe to hand across threads."""

    stage: str
    done: int
    total: int
    from_cache: int
    errors: int
    bytes_read: int
    elapsed: float
    rate: float  # files per second in the hashing stage
    current: str | None = None

    @property
    def stage_number(self) -> int:
        return STAGES.index(self.stage) + 1

    @property
    def eta(self) -> float | None:
        if self.stage != "hashing" or self.rate <= 0 or self.total == 0:
            return None
        return (self.total - self.done) / self.rate

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


class Progress:
    """Throttles callbacks; the engine, not the UI, decides how often to speak.

    A state held back by the throttle is not lost: :meth:`flush` sends it once the interval
    has passed, so a display never stays behind when files stop finishing (the rest of the
    folder waits on a slow NAS, or the last files all finished within one interval).
    """

    def __init__(self, cb: Callable[[ScanProgress], None] | None) -> None:
        self.cb = cb
        self.t0 = time.monotonic()
        self.last = 0.0
        self.hash_t0: float | None = None
        self.hash_done0 = 0
        self.samples: deque[tuple[float, int]] = deque()  # (time, done) within RATE_WINDOW
        self.held: tuple | None = None  # emit() arguments the throttle kept back

    def flush(self) -> None:
        if self.held is not None and time.monotonic() - self.last >= PROGRESS_INTERVAL:
            self.emit(*self.held)

    def _rate(self, now: float, done: int) -> float:
        """Files per second over the last :data:`RATE_WINDOW` seconds (since the start of
        hashing until that much has passed; cache hits, counted before, are not in it).

        Why a window: the average since the start runs ahead of the truth when files get
        slower (large photos after small ones, a cold disk after a warm one), and the ETA then
        runs short just when a person starts to trust it, near the end."""
        assert self.hash_t0 is not None
        samples = self.samples
        samples.append((now, done))
        while len(samples) > 2 and now - samples[1][0] >= RATE_WINDOW:
            samples.popleft()
        t_then, done_then = samples[0]
        if now - t_then < RATE_WINDOW / 2:  # a short window: the average since the start
            t_then, done_then = self.hash_t0, self.hash_done0
        dt = now - t_then
        return (done - done_then) / dt if dt > 0.2 else 0.0

    def emit(
        self,
        stage: str,
        done: int,
        total: int,
        from_cache: int,
        errors: int,
        bytes_read: int,
        current: str | None = None,
        *,
        force: bool = False,
    ) -> None:
        if self.cb is None:
            return
        now = time.monotonic()
        if not force and now - self.last < PROGRESS_INTERVAL:
            self.held = (stage, done, total, from_cache, errors, bytes_read, current)
            return
        self.last, self.held = now, None
        rate = 0.0
        if stage == "hashing":
            if self.hash_t0 is None:
                self.hash_t0, self.hash_done0 = now, done
            rate = self._rate(now, done)
        self.cb(
            ScanProgress(
                stage, done, total, from_cache, errors, bytes_read, now - self.t0, rate, current
            )
        )
