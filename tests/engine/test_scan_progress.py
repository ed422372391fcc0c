"""scan(): staged progress a display can trust, and a cancel that keeps what finished."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

import tui_dedup.engine.scan as scan_module
from tui_dedup.engine import scan_progress
from tui_dedup.engine.scan import ScanConfig, scan
from tui_dedup.engine.scan_progress import STAGES, ScanProgress

N_GOOD = 8


@pytest.fixture
def lib(images):
    for k in range(N_GOOD):
        images.jpeg(f"photo{k:02d}.jpg", images.photo(k, 200, 150))
    images.raw("broken.jpg", b"\xff\xd8\xff\xe0 not really")
    # skipped by discovery, not part of the totals (RAW files are scanned since issue #17)
    os.symlink(images.root / "photo00.jpg", images.root / "link.jpg")
    return images


def test_progress_stages_and_counts(lib) -> None:
    events: list[ScanProgress] = []
    result = scan([str(lib.root)], ScanConfig(workers=2), on_progress=events.append)
    total = N_GOOD + 1
    assert len(result.store) == N_GOOD and len(result.errors) == 1
    stages = [e.stage for e in events]
    assert stages[0] == "discovering"
    assert "hashing" in stages
    assert stages[-1] == "done" and stages.count("done") == 1
    numbers = [e.stage_number for e in events]
    assert numbers == sorted(numbers)
    assert [STAGES[n - 1] for n in numbers] == stages

    hashing = [e for e in events if e.stage == "hashing"]
    assert all(e.total == total for e in hashing)
    dones = [e.done for e in hashing] + [events[-1].done]
    assert dones == sorted(dones), "progress went backwards"
    assert hashing[-1].done == total
    assert hashing[-1].errors == 1
    assert hashing[-1].fraction == 1.0

    final = events[-1]
    assert final.total == total
    assert final.done == total  # a finished bar stays full, errors included
    assert final.errors == 1
    assert final.eta is None
    discovering = [e.done for e in events if e.stage == "discovering"]
    assert discovering == sorted(discovering) and discovering[-1] <= total
    assert all(e.elapsed >= 0 and e.rate >= 0 for e in events)
    assert not result.cancelled
    assert result.decoded == N_GOOD and result.from_cache == 0


def test_no_callback_no_problem(lib) -> None:
    result = scan([str(lib.root)], ScanConfig(workers=2))
    assert len(result.store) == N_GOOD
    assert [os.path.basename(s.path) for s in result.skipped] == ["link.jpg"]


def _count_decodes(monkeypatch, stop_after: int, flag: threading.Event) -> list[str]:
    started: list[str] = []
    lock = threading.Lock()
    real = scan_module.compute_row

    def counting(entry, config, want_digest):
        with lock:
            started.append(os.path.basename(entry.path))
            if len(started) >= stop_after:
                flag.set()  # the user presses cancel while this file is being hashed
        return real(entry, config, want_digest)

    monkeypatch.setattr(scan_module, "compute_row", counting)
    return started


def test_cancel_single_worker_starts_no_new_file(lib, monkeypatch) -> None:
    flag = threading.Event()
    started = _count_decodes(monkeypatch, 3, flag)
    events: list[ScanProgress] = []
    result = scan(
        [str(lib.root)],
        ScanConfig(workers=1),
        should_stop=flag.is_set,
        on_progress=events.append,
    )
    assert len(started) == 3
    assert result.cancelled
    finished = {os.path.basename(e.path) for e in result.store.entries} | {
        os.path.basename(e.path) for e in result.errors
    }
    assert finished == set(started)  # the file in hand when cancel came is kept too
    assert events[-1].stage == "done" and events[-1].done == 3
    assert events[-1].total == N_GOOD + 1


def test_cancel_with_a_pool(lib, monkeypatch) -> None:
    flag = threading.Event()
    workers = 3
    started = _count_decodes(monkeypatch, 2, flag)
    result = scan([str(lib.root)], ScanConfig(workers=workers), should_stop=flag.is_set)
    # at most the files other workers had already begun when cancel came
    assert 2 <= len(started) <= 2 + workers - 1
    assert result.cancelled
    kept = {os.path.basename(e.path) for e in result.store.entries}
    errs = {os.path.basename(e.path) for e in result.errors}
    assert kept | errs == set(started)
    assert len(result.store) + len(result.errors) == len(started)


def test_cancel_before_start_scans_nothing(lib, monkeypatch) -> None:
    started = _count_decodes(monkeypatch, 10**9, threading.Event())
    result = scan([str(lib.root)], ScanConfig(workers=2), should_stop=lambda: True)
    assert started == []
    assert result.cancelled
    assert len(result.store) == 0


def test_engine_is_headless() -> None:
    """The engine must run where Textual is absent or broken (CLI, servers, tests)."""
    code = (
        "import importlib, importlib.util, sys\n"
        "import tui_dedup.engine.scan, tui_dedup.engine.matching.match\n"
        "import tui_dedup.engine.matching.group\n"
        "for name in ('cache', 'evaluate', 'compare', 'thumbs'):\n"
        "    if importlib.util.find_spec('tui_dedup.engine.' + name):\n"
        "        importlib.import_module('tui_dedup.engine.' + name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "assert not bad, bad\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_tiny_files_are_decoded_one_at_a_time_and_larger_ones_in_parallel(
    tmp_path, monkeypatch
) -> None:
    """Tiny images are GIL-bound Python work: threads would only slow them down. Larger ones
    still share the cores."""
    import time

    import cv2
    import numpy as np

    rng = np.random.default_rng(7)
    for k in range(12):
        tiny = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
        cv2.imwrite(str(tmp_path / f"tiny_{k}.png"), tiny)
        big = rng.integers(0, 256, (160, 200, 3), dtype=np.uint8)
        cv2.imwrite(str(tmp_path / f"big_{k}.png"), big)
    assert all(
        (os.path.getsize(p) < scan_module.SERIAL_BELOW_BYTES) == p.name.startswith("tiny")
        for p in tmp_path.iterdir()
    )
    active: dict[str, int] = {"tiny": 0, "big": 0}
    most: dict[str, int] = {"tiny": 0, "big": 0}
    lock = threading.Lock()
    real = scan_module.decode_data

    def watched(path, *args, **kwargs):
        kind = "tiny" if os.path.basename(path).startswith("tiny") else "big"
        with lock:
            active[kind] += 1
            most[kind] = max(most[kind], active[kind])
        time.sleep(0.02)  # long enough for any other thread to get here too
        try:
            return real(path, *args, **kwargs)
        finally:
            with lock:
                active[kind] -= 1

    monkeypatch.setattr(scan_module, "decode_data", watched)
    monkeypatch.setattr(scan_module, "CPU_SLOTS", threading.BoundedSemaphore(2))
    result = scan([str(tmp_path)], ScanConfig(workers=4))
    assert len(result.store) == 24 and not result.errors
    assert most["tiny"] == 1
    assert most["big"] == 2


def test_progress_catches_up_when_files_stop_finishing(lib, monkeypatch) -> None:
    """Files that finish within one throttle interval, then a file that hangs (a NAS): the
    display must show every finished file within a moment, not the count of the last
    callback the throttle let through."""
    import time

    gate = threading.Event()
    real = scan_module.compute_row
    started = [0]
    lock = threading.Lock()

    def hang_after_four(entry, config, want_digest):
        with lock:
            started[0] += 1
            n = started[0]
        if n > 4:
            gate.wait(timeout=10)
        return real(entry, config, want_digest)

    events: list[ScanProgress] = []
    monkeypatch.setattr(scan_module, "compute_row", hang_after_four)
    monkeypatch.setattr(scan_progress, "PROGRESS_INTERVAL", 1.0)  # holds the four back
    thread = threading.Thread(
        target=scan,
        args=([str(lib.root)], ScanConfig(workers=1)),
        kwargs={"on_progress": events.append},
    )
    thread.start()
    deadline = time.monotonic() + 8
    try:
        while time.monotonic() < deadline and not (events and events[-1].done == 4):
            time.sleep(0.05)
        assert events[-1].stage == "hashing" and events[-1].done == 4
    finally:
        gate.set()
        thread.join()
