"""Part 3 of bench_ui_load.py: the same key cycles through a real terminal (tmux).

Apart from the headless parts because it drives another process: ``dedup-tui`` runs in tmux
on a private socket and needs no Textual internals, only what a user would see. Keys and
screen reads go through one tmux control-mode client (``tmux -C``) that stays attached:
``send-keys`` and ``capture-pane -p`` are commands on its pipe (~0.5 ms each), and the pane
is read every 5 ms. Until 2026-11-28 each key and each read spawned a tmux client process
(5-10 ms apiece on a busy machine, so reads came every ~11 ms); that harness is kept as
``--tmux-clients`` for comparison. The control client asks for no ``%output`` copy of the
app's output: parsing it took CPU from the app on a 2-core machine. See bench_ui_load.py's
docstring for what the figures include.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import statistics
import subprocess
import sys
import threading
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


class ControlClient:
    """A tmux control-mode client: commands on its stdin, replies in ``%begin``/``%end``
    blocks (notifications between them are skipped)."""

    def __init__(self, tmux: Tmux) -> None:
        self.session = tmux.session
        argv = [tmux.tmux, "-u", "-L", tmux.socket, "-f", str(tmux.conf), "-C"]
        self.proc = subprocess.Popen(
            [*argv, "attach", "-t", tmux.session],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            encoding="utf-8",
            errors="replace",  # %output carries the app's raw bytes: never let them stop us
            bufsize=1,
            env=tmux.env,
        )
        self.replies: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.replies.get(timeout=10)  # the reply block of the attach itself
        # never resize the app's pane; no %output copy of everything the app writes (parsing it
        # here took CPU from the app on a 2-core machine): the screen is polled instead
        self.command("refresh-client -f ignore-size,no-output")

    def _read(self) -> None:
        block: list[str] | None = None
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.rstrip("\n")
            if block is not None:
                if line.startswith(("%end", "%error")):
                    self.replies.put("\n".join(block))
                    block = None
                else:
                    block.append(line)
            elif line.startswith("%begin"):
                block = []

    def command(self, line: str) -> str:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.replies.get(timeout=15)

    def send(self, key: str) -> None:
        self.command(f"send-keys -t {self.session} {key}")

    def screen(self) -> str:
        return self.command(f"capture-pane -p -t {self.session}")

    def close(self) -> None:
        """End of input detaches a control client; it is killed if it lingers."""
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(2)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(2)


class Poller:
    def __init__(self, tmux: Tmux, control: ControlClient | None = None) -> None:
        self.tmux = tmux
        self.control = control
        self.capture_times: list[float] = []
        self.last = ""

    def send(self, key: str) -> None:
        if self.control is not None:
            self.control.send(key)
        else:
            self.tmux.send(key)

    def until(self, cond: Callable[[str], bool], timeout: float) -> float | None:
        """perf_counter() when a capture that satisfies ``cond`` returned, or None."""
        deadline = time.perf_counter() + timeout
        while True:
            t = time.perf_counter()
            if self.control is not None:
                self.last = self.control.screen()
            else:
                self.last = self.tmux.screen()
            now = time.perf_counter()
            self.capture_times.append(now - t)
            if cond(self.last):
                return now
            if now > deadline:
                return None
            time.sleep(POLL)


def bench_tmux(
    tree: str, cycles: int, budget: float, min_hashed: int, workers: int, clients: bool = False
) -> dict:
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
    control: ControlClient | None = None
    out: dict = {"keys": {k: [] for k in KINDS}, "argv": argv, "clients": clients}
    hashed = re.compile(r"stage 2/3: hashing.*?hashed: ([\d,]+)", re.S)
    try:
        tmux.start(argv, *SIZE)
        control = None if clients else ControlClient(tmux)
        poll = Poller(tmux, control)

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
                poll.send(TMUX_KEYS.get(key, key))
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
        poll.send("Escape")
        t1 = poll.until(lambda s: "stopping" in s, KEY_TIMEOUT)
        out["cancel"] = None if t1 is None else t1 - t0
        tmux.send("C-q")
        try:
            out["exit"] = tmux.wait_exit(timeout=30)
        except AssertionError:
            out["exit"] = "did not exit within 30 s"
    finally:
        try:
            if control is not None:
                control.close()
        finally:
            tmux.close()  # whatever happened above: no scan left running in the background
        shutil.rmtree(home, ignore_errors=True)
    return out
