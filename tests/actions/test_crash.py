"""Crash safety: a failure between every durable step, and a real kill -9, then undo."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import entry, exdev_for, files_under, snapshot, write

from tui_dedup.actions import Journal, apply_plan, build_plan, interrupted_batches, undo

MAX_POINTS = 40


class Crash(BaseException):
    """Not an Exception: nothing in apply may catch it, like a kill."""


def _scenario(tmp_path, kind):
    root = tmp_path / "photos"
    k = write(root / "k.jpg", b"K" * 300)
    if kind in ("hardlink", "symlink"):
        d1 = write(root / "a" / "d1.jpg", b"K" * 300)
        d2 = write(root / "b" / "d2.jpg", b"K" * 300)
    else:
        d1 = write(root / "a" / "d1.jpg", b"one" * 100)
        d2 = write(root / "b" / "d 2.jpg", b"two" * 100)
    write(root / "a" / "d1.xmp", "sidecar")
    group = [entry(p, root) for p in (k, d1, d2)]
    action = "move" if kind == "copy" else kind
    move_to = str(tmp_path / "usb") if kind == "copy" else None
    return root, build_plan([group], {d1, d2}, action, move_to=move_to)


def _fake_other_fs(monkeypatch, prefix):
    exdev_for(prefix, monkeypatch)


def _contents(top) -> set[bytes]:
    """Every file's bytes anywhere under ``top`` (hidden folders, trash and usb included)."""
    out = set()
    for d, _dirs, files in os.walk(top):
        for f in files:
            p = os.path.join(d, f)
            if not os.path.islink(p):
                with open(p, "rb") as fh:
                    out.add(fh.read())
    return out


def _count_points(tmp_path, kind, monkeypatch) -> int:
    _root, plan = _scenario(tmp_path / "count", kind)
    if kind == "copy":
        _fake_other_fs(monkeypatch, str(tmp_path / "count" / "usb"))
    calls = []
    apply_plan(plan, journal=Journal(str(tmp_path / "count.jsonl")), checkpoint=calls.append)
    return len(calls)


@pytest.mark.parametrize("kind", ["move", "copy", "trash", "hardlink", "symlink"])
def test_every_step_is_covered(tmp_path, kind, monkeypatch):
    assert 0 < _count_points(tmp_path, kind, monkeypatch) <= MAX_POINTS


@pytest.mark.parametrize("point", range(MAX_POINTS))
@pytest.mark.parametrize("kind", ["move", "copy", "trash", "hardlink", "symlink"])
def test_failure_between_any_two_steps_loses_nothing_and_undo_restores(
    tmp_path, kind, point, monkeypatch
):
    root, plan = _scenario(tmp_path, kind)
    if kind == "copy":
        _fake_other_fs(monkeypatch, str(tmp_path / "usb"))
    before = snapshot(root)
    had = _contents(root)
    seen = []

    def checkpoint(label):
        seen.append(label)
        if len(seen) - 1 == point:
            raise Crash(label)

    crashed = False
    try:
        apply_plan(plan, journal=Journal(), checkpoint=checkpoint)
    except Crash:
        crashed = True
    if not crashed:
        return  # fewer points than MAX_POINTS in this scenario (see test_every_step_is_covered)

    # Every file's content is at its source or at a destination (quarantine, other fs, trash).
    assert _contents(tmp_path) >= had, seen
    assert [b.state for b in interrupted_batches()] == ["interrupted"]

    report = undo()
    assert report.ok, report.problems
    assert snapshot(root) == before
    assert interrupted_batches() == []
    if kind == "copy":
        assert files_under(tmp_path / "usb") == []


CHILD = r"""
import json, os, sys, time
from tui_dedup.actions import Journal, apply_plan
from tui_dedup.actions.plan_file import read_plan
plan = read_plan(open(sys.argv[1]).read())
pause_at, marker = int(sys.argv[2]), sys.argv[3]
calls = []
def checkpoint(label):
    calls.append(label)
    if len(calls) - 1 == pause_at:
        open(marker, "w").write(label)
        time.sleep(120)
apply_plan(plan, journal=Journal(), checkpoint=checkpoint)
"""


@pytest.mark.parametrize("pause_at", [0, 1, 4, 8])
def test_kill_9_midway_then_undo(tmp_path, pause_at):
    root, plan = _scenario(tmp_path, "move")
    before = snapshot(root)
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(plan.to_json())
    marker = tmp_path / "paused"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(plan_file), str(pause_at), str(marker)]
    )
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert child.poll() is None, "child ended before reaching the pause point"
            assert time.monotonic() < deadline, "child never reached the pause point"
            time.sleep(0.02)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert len(interrupted_batches()) == 1
    assert undo().ok
    assert snapshot(root) == before


def test_torn_last_journal_line_is_tolerated(tmp_path):
    root, plan = _scenario(tmp_path, "move")
    before = snapshot(root)
    apply_plan(plan, journal=Journal())
    path = Journal().path
    with open(path, "ab") as f:
        f.write(b'{"rec":"intent","batch":"x","op":')  # killed mid-write
    assert undo().ok
    assert snapshot(root) == before
    from tui_dedup.actions.records import Skip

    Journal().append(Skip("b", "p", "r"))  # the next append is not glued to the torn line
    assert Journal().records()[-1] == Skip("b", "p", "r")
