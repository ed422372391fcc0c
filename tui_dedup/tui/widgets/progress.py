"""Live scan progress: stage, a bar, counters, rate, ETA and the file being read.

The widget is one reactive holding the newest :class:`ScanProgress`; the scan worker never
touches it, the screen assigns it on the event loop when a (replaceable) message arrives.
"""

from __future__ import annotations

import os

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tui_dedup.engine.scan_progress import STAGES, ScanProgress
from tui_dedup.tui.widgets.cells import cell_width, printable, shorten_middle
from tui_dedup.tui.widgets.status import ascii_only


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "--"
    if seconds < 10:
        return f"{seconds:.1f}s"
    s = int(seconds + 0.5)
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 60}:{s % 60:02d}"


def bar(fraction: float, width: int) -> str:
    fill, empty = ("#", "-") if ascii_only() else ("█", "░")
    n = max(0, min(width, round(fraction * width)))
    return fill * n + empty * (width - n)


class ScanProgressView(Widget):
    """What the scan is doing now; ``stopping`` shows at once when the user pressed escape."""

    progress: reactive[ScanProgress | None] = reactive(None, layout=False)

    def __init__(self, roots: list[str] | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.roots = [os.path.abspath(r) for r in roots or []]

    def display_path(self, path: str) -> str:
        """The current file relative to its root (the root is on the line above)."""
        for r in self.roots:
            if path.startswith(r.rstrip(os.sep) + os.sep):
                return os.path.relpath(path, r)
        return path

    stopping: reactive[bool] = reactive(False)
    matching: reactive[str] = reactive("")

    def render(self) -> Text:
        width = max(20, self.content_region.width or 60)
        p = self.progress
        out = Text()
        if self.matching:
            out.append(f"stage 3/{len(STAGES)}: matching ({self.matching})\n", style="bold")
            out.append(bar(1.0, width - 2) + "\n")
            if p is not None:
                out.append(f"{p.done:,} images ready, {p.errors:,} failed\n")
            return out
        if p is None:
            out.append(f"stage 1/{len(STAGES)}: discovering\n", style="bold")
            out.append(bar(0.0, width - 2) + "\n")
            return out
        stage = f"stage {p.stage_number}/{len(STAGES)}: {p.stage}"
        if self.stopping:
            stage += " - stopping: files in flight finish, nothing new starts"
        out.append(stage + "\n", style="bold")
        if p.stage == "discovering":
            out.append(bar(0.0, width - 2) + "\n")
            out.append(f"files found: {p.done:,}\n")
            return out
        pct = f" {p.fraction * 100:5.1f}%"
        out.append(bar(p.fraction, width - 2 - len(pct)) + pct + "\n")
        hashed = p.done - p.from_cache
        out.append(
            f"files found: {p.total:,}   hashed: {hashed:,}   from cache: {p.from_cache:,}"
            f"   failed: {p.errors:,}\n"
        )
        speed = f"{p.rate:,.0f} images/s" if p.rate > 0 else "measuring"
        out.append(
            f"speed: {speed}   elapsed: {format_duration(p.elapsed)}"
            f"   ETA: {format_duration(p.eta)}\n"
        )
        if p.current:
            label = "current: "
            room = max(8, width - cell_width(label) - 1)
            out.append(
                label
                + shorten_middle(printable(self.display_path(p.current)), room).rstrip()
                + "\n"
            )
        return out
