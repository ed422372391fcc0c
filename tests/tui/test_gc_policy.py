"""The review screen keeps its result out of full collections, and lets it go when it goes.

The scan screen's side of the policy (no automatic full collection during a scan) is tested in
test_reused_screens.py; the thread pool that keeps a finished worker from holding a result (the
``executor`` Textual patch) in test_textual_patches.py.
"""

from __future__ import annotations

import gc
import threading
import weakref

from conftest import wait_for_review
from test_app_commands import command

import tui_dedup.review.pipeline as scan_screen  # where the scan runs
from tui_dedup.tui.app import create_app
from tui_dedup.tui.gc_policy import HeapFrozen


def test_heap_frozen_while_held_and_released_by_the_last_holder():
    assert gc.get_freeze_count() == 0
    a, b = HeapFrozen(), HeapFrozen()
    try:
        a.hold()
        assert gc.get_freeze_count() > 0
        b.hold()
        a.release()  # not in reverse order: still frozen for b
        assert gc.get_freeze_count() > 0
        a.release()  # a second release is a no-op
        b.release()
        assert gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()


async def test_review_freezes_the_heap_and_a_rescan_lets_the_old_result_go(settings, monkeypatch):
    real_scan = scan_screen.scan
    gate = threading.Event()
    gate.set()

    def gated_scan(*args, **kwargs):
        gate.wait(30)
        return real_scan(*args, **kwargs)

    monkeypatch.setattr(scan_screen, "scan", gated_scan)
    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        assert gc.get_freeze_count() > 0
        old_session, old_screen = weakref.ref(app.session), weakref.ref(app.screen)
        gate.clear()  # the rescan's scan waits: its end cannot be what frees the old result
        command(app, "Rescan")()
        try:
            # no gc.collect() here (frozen objects would survive one anyway): the app's own
            # collection after the switch must free the old result, mid-rescan
            for _ in range(100):
                if old_session() is None and old_screen() is None:
                    break
                await pilot.pause(0.05)
            assert old_session() is None
            assert old_screen() is None
        finally:
            gate.set()
        await wait_for_review(app, pilot)
        assert gc.get_freeze_count() > 0  # the new review screen froze its own
    assert gc.get_freeze_count() == 0  # quitting the app unfroze everything


async def test_quitting_from_the_review_unfreezes(settings):
    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        assert gc.get_freeze_count() > 0
        await pilot.press("q")
        await pilot.pause()
    assert gc.get_freeze_count() == 0


def test_collect_soon_collects_again_while_the_dropped_result_is_still_referenced():
    """Textual may hold a removed screen a moment past the first collection (its update timer,
    a queued refresh): the collection is repeated until it is gone, a bounded number of times."""
    from tui_dedup.tui.gc_policy import COLLECT_TRIES, collect_soon

    class Node:
        def __init__(self):
            self.timers = []

        def set_timer(self, delay, callback, *, name):
            self.timers.append(callback)

    class Result:
        pass

    node, kept = Node(), Result()
    collect_soon(node, weakref.ref(kept))
    fired = 0
    while node.timers:
        node.timers.pop(0)()  # the timer fires
        fired += 1
    node, dropped = Node(), Result()
    ref = weakref.ref(dropped)
    collect_soon(node, ref)
    del dropped
    runs = 0
    while node.timers:
        node.timers.pop(0)()
        runs += 1
    assert runs == 1 and ref() is None
    assert fired == COLLECT_TRIES and kept is not None


class _Node:
    """Stands in for the app: the interval is never run by itself here."""

    def set_interval(self, interval, callback, *, name):
        class _Timer:
            def stop(self) -> None:
                pass

        return _Timer()


def test_a_due_full_collection_waits_for_a_pause_in_the_keys():
    import time

    from tui_dedup.tui.gc_policy import (
        FULL_DUE,
        FULL_FORCED,
        IDLE_BEFORE_COLLECT,
        CollectWhenIdle,
    )

    before = gc.get_threshold()
    last_key = [time.monotonic()]
    collector = CollectWhenIdle(_Node(), lambda: last_key[0])
    collector.hold()
    try:
        assert gc.get_threshold()[2] > 10**6  # no automatic full collection while held
        gc.collect()
        for _ in range(FULL_DUE):
            gc.collect(1)  # each young collection brings the next full one closer
        last_key[0] = time.monotonic()  # (a full collection of a big test process is slow)
        assert not collector.collect_if_due()  # due, but a key was just pressed
        last_key[0] = time.monotonic() - IDLE_BEFORE_COLLECT
        assert collector.collect_if_due()  # the keys paused: now
        assert gc.get_count()[2] == 0
        last_key[0] = time.monotonic()
        for _ in range(FULL_FORCED):
            gc.collect(1)
        last_key[0] = time.monotonic() - 0.1
        assert collector.collect_if_due()  # overdue: between two keys, not after a pause
    finally:
        collector.release()
    assert gc.get_threshold() == before


def test_idle_collection_stays_on_until_the_last_review_lets_go():
    """A re-match can show a new review screen before the old one has gone."""
    from tui_dedup.tui.gc_policy import CollectWhenIdle

    before = gc.get_threshold()
    collector = CollectWhenIdle(_Node(), lambda: 0.0)
    collector.hold()  # the old review
    collector.hold()  # the new one, mounted first
    collector.release()  # the old one goes
    assert gc.get_threshold()[2] > 10**6
    collector.release()
    assert gc.get_threshold() == before
