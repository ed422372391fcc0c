"""Part 3 of bench_ui_load.py: the same key cycles through a real terminal (tmux).

Apart from the headless parts because it drives another process: ``dedup-tui`` runs in tmux
on a private socket, keys go in with ``tmux send-keys`` and the screen is polled with
``tmux capture-pane``, so it needs no Textual internals, only what a user would see. See
bench_ui_load.py's docstring for what the figures include.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ui_load_common import KEY_TIMEOUT, KINDS, PACE, SIZE, cycle_keys  # noqa: E402

from tests.tui.ssh_harness import Tmux  # noqa: E402

POLL = 0.005  # seconds between two tmux captures

SEARCH_ICON = "🔎"
SCAN_HINT = "escape: stop and review"


def tmux_palette_text(screen: str) -> str | None:
    for line in screen.splitlines():
        if SEARCH_ICON in line:
            text = line.split(SEARCH_ICON, 1)[1].strip()
            return "" if text.startswith("Search for commands") else text
    return None


def tmux_visible(kind: str, typed: str) -> Callable[[str], bool]:
    if kind == KINDS[0]:
        return lambda s: tmux_palette_text(s) == ""
    if kind == KINDS[1]:
        return lambda s: tmux_palette_text(s) == typed
    if kind == KINDS[2]:
        return lambda s: "could not be read" in s
    return lambda s: (
        tmux_palette_text(s) is None and "could not be read" not in s and SCAN_HINT in s
    )


TMUX_KEYS = {"ctrl+p": "C-p", "escape": "Escape", "enter": "Enter"}


class Poller:
    def __init__(self, tmux: Tmux) -> None:
        self.tmux = tmux
        self.capture_times: list[float] = []
        self.last = ""

    def until(self, cond: Callable[[str], bool], timeout: float) -> float | None:
        """perf_counter() when a capture that satisfies ``cond`` returned, or None."""
        deadline = time.perf_counter() + timeout
        while True:
            t = time.perf_counter()
            self.last = self.tmux.screen()
            now = time.perf_counter()
            self.capture_times.append(now - t)
            if cond(self.last):
                return now
            if now > deadline:
                return None
            time.sleep(POLL)


def bench_tmux(tree: str, cycles: int, budget: float, min_hashed: int, workers: int) -> dict:
    tmux_bin = shutil.which("tmux")
    if tmux_bin is None:
        return {"skipped": "tmux not found"}
    exe = Path(sys.executable).with_name("dedup-tui")
    argv = [str(exe)] if exe.exists() else [sys.executable, "-m", "tui_dedup"]
    argv += ["--no-cache", "--preview", "none", tree]
    if workers:
        argv[-1:-1] = ["--workers", str(workers)]
    home = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-ui-load-{os.getpid()}"
    tmux = Tmux(tmux_bin, home)
    poll = Poller(tmux)
    out: dict = {"keys": {k: [] for k in KINDS}, "argv": argv}
    hashed = re.compile(r"stage 2/3: hashing.*?hashed: ([\d,]+)", re.S)
    try:
        tmux.start(argv, *SIZE)

        def ready(s: str) -> bool:
            m = hashed.search(s)
            return m is not None and int(m.group(1).replace(",", "")) >= min_hashed

        if poll.until(ready, 120) is None:
            raise RuntimeError(f"tmux: hashing never started\n{tmux.framed()}")
        poll.capture_times.clear()
        t_start = time.perf_counter()
        done_cycles = 0
        for n in range(cycles):
            typed = ""
            for kind, key in cycle_keys(n):
                if kind == KINDS[1]:
                    typed += key
                if kind == KINDS[2]:
                    ok = poll.until(lambda s: "files the scan could not read" in s, 30)
                    if ok is None:
                        raise RuntimeError(f"tmux: no Errors hit\n{tmux.framed()}")
                t0 = time.perf_counter()
                tmux.send(TMUX_KEYS.get(key, key))
                t1 = poll.until(tmux_visible(kind, typed), KEY_TIMEOUT)
                if t1 is None:
                    tmux.check_alive(f"{key} ({kind})")
                    raise RuntimeError(f"tmux: no visible result for {key}\n{tmux.framed()}")
                out["keys"][kind].append(t1 - t0)
                time.sleep(PACE)
            done_cycles += 1
            if time.perf_counter() - t_start > budget:
                break
        out["cycles"] = done_cycles
        out["capture_ms"] = statistics.median(poll.capture_times) * 1000
        m = hashed.search(poll.last)
        out["still_hashing"] = m is not None
        # stop the scan the way a user would; the first "stopping" frame is the answer
        t0 = time.perf_counter()
        tmux.send("Escape")
        t1 = poll.until(lambda s: "stopping" in s, KEY_TIMEOUT)
        out["cancel"] = None if t1 is None else t1 - t0
        tmux.send("C-q")
        try:
            out["exit"] = tmux.wait_exit(timeout=30)
        except AssertionError:
            out["exit"] = "did not exit within 30 s"
    finally:
        tmux.close()
        shutil.rmtree(home, ignore_errors=True)
    return out
