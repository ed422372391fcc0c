"""The scan's ETA follows the speed files finish at now, so it does not run short near the end
when files get slower (issue #16, item 10)."""

from __future__ import annotations

import pytest

from tui_dedup.engine import scan_progress as progress_mod


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(progress_mod.time, "monotonic", c)
    return c


def run(clock: Clock, total: int, cached: int, phases: list[tuple[float, float]]):
    """Emit progress as the scan does: cache hits at once, then files at each phase's rate
    (files/s) for its seconds; returns every snapshot."""
    seen: list[progress_mod.ScanProgress] = []
    prog = progress_mod.Progress(seen.append)
    done = cached
    prog.emit("hashing", done, total, cached, 0, 0, force=True)
    for rate, seconds in phases:
        for _ in range(int(seconds * 10)):
            clock.now += 0.1
            done += rate * 0.1
            prog.emit("hashing", int(done), total, cached, 0, 0)
    return seen


def test_eta_follows_files_that_got_slower(clock) -> None:
    # 500 small files at 10/s, then large ones at 2/s: 60 left when looked at
    seen = run(clock, 600, 0, [(10, 50), (2, 20)])
    last = seen[-1]
    left = last.total - last.done
    assert left == 60
    truth = left / 2
    assert last.eta is not None
    assert 0.8 * truth <= last.eta <= 1.25 * truth, (last.eta, truth)


def test_cache_hits_do_not_make_the_eta_short(clock) -> None:
    seen = run(clock, 1000, 900, [(5, 4)])
    last = seen[-1]
    assert last.eta is not None
    truth = (last.total - last.done) / 5
    assert 0.8 * truth <= last.eta <= 1.25 * truth, (last.eta, truth)
    assert 4 <= last.rate <= 6
