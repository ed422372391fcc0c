"""Typed messages from worker threads to the UI.

Workers never touch widgets; they post one of these and the screen updates itself on the event
loop. Progress messages replace queued older ones (``can_replace``), so a slow terminal or a
busy loop never builds a backlog: only the newest snapshot is drawn.
"""

from __future__ import annotations

from textual.message import Message

from tui_dedup.actions.plan import Plan
from tui_dedup.engine.scan import ScanResult
from tui_dedup.engine.scan_progress import ScanProgress
from tui_dedup.review.thresholds import MatchOutcome


class ScanProgressed(Message):
    """A progress snapshot from the scan worker (thread-safe plain data)."""

    def __init__(self, progress: ScanProgress) -> None:
        super().__init__()
        self.progress = progress

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ScanProgressed)


class ScanFinished(Message):
    """The scan ended (completed or cancelled); ``result.cancelled`` tells which.
    ``cache_warnings``: what the feature cache had to say (corrupt, read-only, disabled)."""

    def __init__(self, result: ScanResult, cache_warnings: list[str] | None = None) -> None:
        super().__init__()
        self.result = result
        self.cache_warnings = cache_warnings or []


class MatchFinished(Message):
    """A matching run finished; ``first`` after a scan, False after a re-match."""

    def __init__(self, outcome: MatchOutcome, first: bool) -> None:
        super().__init__()
        self.outcome = outcome
        self.first = first


class PlanReady(Message):
    """The plan for the marked files is built; the screen shows it before anything moves."""

    def __init__(self, plan: Plan) -> None:
        super().__init__()
        self.plan = plan


class ApplyProgressed(Message):
    """How far applying a plan (or an undo) has come."""

    def __init__(self, done: int, total: int, path: str) -> None:
        super().__init__()
        self.done = done
        self.total = total
        self.path = path

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ApplyProgressed)


class FilesChanged(Message):
    """A batch moved files away (``removed``, ``batch`` its name), an undo of ``undone`` brought
    them back (``restored``), or either was refused (nothing changed); ``lines`` say which."""

    def __init__(
        self,
        removed: list[str],
        restored: list[str],
        lines: list[str],
        batch: str | None = None,
        undone: str | None = None,
    ) -> None:
        super().__init__()
        self.removed = removed
        self.restored = restored
        self.lines = lines
        self.batch = batch
        self.undone = undone


class SkipRemembered(Message):
    """A "not a duplicate" pair is in the skips file, by content digest."""

    def __init__(self, a_digest: str, b_digest: str) -> None:
        super().__init__()
        self.a_digest = a_digest
        self.b_digest = b_digest
