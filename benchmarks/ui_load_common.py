"""What the parts of bench_ui_load.py share: the key cycle, the timed app, and key presses.

The scan-screen part (bench_ui_load.py), the review-screen part (ui_load_review.py) and the
tmux part (ui_load_tmux.py) press the same keys at the same pace and time them the same way;
see bench_ui_load.py's docstring for what is measured.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from textual import events

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import tui_dedup.tui.app as app_module  # noqa: E402
from tui_dedup.review.settings import RunSettings  # noqa: E402
from tui_dedup.tui.app import DedupApp  # noqa: E402

SIZE = (120, 36)
KEY_TIMEOUT = 10.0  # seconds for one key's visible result before it counts as lost
PACE = 0.05  # seconds between a key's visible result and the next key
ERRORS_QUERY = "Err"  # typed into the palette; its top hit is the "Errors" command
OTHER_QUERY = "xyz"  # typed on the cycles that close the palette with escape
KINDS = (
    "open palette (ctrl+p)",
    "type in palette (letter echoed)",
    "run Errors (enter): errors screen opens",
    "close errors screen (escape)",
    "close palette (escape)",
)
CHARS = {"ctrl+p": "\x10", "escape": "\x1b", "enter": "\r", "space": " ", "question_mark": "?"}
CHARS |= {k: None for k in ("down", "pagedown", "home")}  # keys without a character


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def cycle_keys(n: int) -> list[tuple[str, str]]:
    """(kind, key) in the order of cycle ``n``: even cycles open the errors screen."""
    errors = n % 2 == 0
    text = ERRORS_QUERY if errors else OTHER_QUERY
    keys = [(KINDS[0], "ctrl+p")] + [(KINDS[1], c) for c in text]
    if errors:
        keys += [(KINDS[2], "enter"), (KINDS[3], "escape")]
    else:
        keys += [(KINDS[4], "escape")]
    return keys


# -- headless: Pilot --------------------------------------------------------------------------


@dataclass
class Waiter:
    """Waits for the first frame after a key, and the first one whose screen passes ``pred``."""

    pred: Callable[[object], bool]
    t_any: float | None = None
    t_visible: float | None = None
    event: asyncio.Event = field(default_factory=asyncio.Event)


class TimedDedupApp(DedupApp):
    """The real app; every composed screen update is checked against the current waiter."""

    # a relative CSS_PATH resolves against the subclass's module: point at the app's own file
    CSS_PATH = str(Path(app_module.__file__).with_name(DedupApp.CSS_PATH))

    def __init__(self, settings: RunSettings) -> None:
        super().__init__(settings)
        self.waiter: Waiter | None = None
        self.frames = 0

    def _display(self, screen, renderable) -> None:
        if renderable is not None and not self._batch_count:
            now = time.perf_counter()
            self.frames += 1
            w = self.waiter
            if w is not None:
                if w.t_any is None:
                    w.t_any = now
                if w.t_visible is None and w.pred(screen):
                    w.t_visible = now
                    w.event.set()
        super()._display(screen, renderable)


async def press(app: TimedDedupApp, key: str, pred: Callable[[object], bool]) -> Waiter:
    waiter = Waiter(pred)
    app.waiter = waiter
    t0 = time.perf_counter()
    app._driver.send_message(events.Key(key, CHARS.get(key, key)))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(waiter.event.wait(), KEY_TIMEOUT)
    app.waiter = None
    waiter.t_any = None if waiter.t_any is None else waiter.t_any - t0
    waiter.t_visible = None if waiter.t_visible is None else waiter.t_visible - t0
    return waiter


async def wait_for(probe: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.perf_counter() + timeout
    while not probe():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.01)
