"""What a screen may ask of the app it runs in: a narrow, typed interface.

Why not the app class itself: tui/app.py imports every screen, so a screen importing the app
would close an import circle (tests/test_architecture.py forbids them, type-only imports
included), and Textual types ``self.app`` as a bare ``App``. Screens ask :func:`host_of` instead,
and tui/app.py states that ``DedupApp`` is a :class:`DedupHost`, so mypy names any member that
drifts apart.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from textual.app import App
from textual.worker import Worker

from tui_dedup.actions.skips import SkipStore
from tui_dedup.engine.registry import Threshold
from tui_dedup.review.settings import RunSettings
from tui_dedup.tui.gc_policy import CollectWhenIdle


@runtime_checkable
class DedupHost(Protocol):
    """The app as the scan and review screens see it."""

    settings: RunSettings
    skips: SkipStore
    #: Full garbage collections wait for a pause in the keys while a review holds it.
    collector: CollectWhenIdle

    def roots_label(self) -> str: ...

    def report_worker_state(self, event: Worker.StateChanged) -> None:
        """The one place a failed worker becomes a visible error (StateChanged never bubbles)."""
        ...

    def start_match(self, method: str, threshold: Threshold, *, first: bool = False) -> None:
        """Re-match from the features in memory (a newer request cancels an older one)."""
        ...

    def action_show_errors(self) -> None: ...


def host_of(app: App[Any]) -> DedupHost:
    """``app`` as a :class:`DedupHost`; a TypeError names any other app a screen is run in."""
    if not isinstance(app, DedupHost):
        raise TypeError(f"{type(app).__name__} is not the dedup-tui app")
    return app
