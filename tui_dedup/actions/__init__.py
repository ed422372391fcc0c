"""Everything that changes a user's files: plan → confirm → apply → journal → undo.

This package is the only code in dedup-tui allowed to rename, move, link or delete a user's
file. It is headless: it never imports textual or rich (a test checks this), so the CLI, the
TUI and scripts share one implementation.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

# Names load on first use (PEP 562): a scan or `--help` needs this package's option lists
# only, and importing every module here (journal, trash, apply...) was a measurable part of
# every process start (benchmarks/RESULTS.md, "Why the code is as it is").
_HOME = {
    "ApplyReport": "apply",
    "apply_plan": "apply",
    "file_digest": "fsops",
    "BatchInfo": "journal",
    "Journal": "journal",
    "history": "journal",
    "interrupted_batches": "journal",
    "ACTIONS": "kinds",
    "Plan": "plan",
    "PlanError": "plan",
    "Step": "plan",
    "TreeBusy": "locks",
    "build_plan": "plan",
    "ReviewState": "skips",
    "SkipStore": "skips",
    "UndoReport": "undo",
    "undo": "undo",
    "undo_all": "undo",
}

if TYPE_CHECKING:
    from .apply import ApplyReport, apply_plan
    from .fsops import file_digest
    from .journal import BatchInfo, Journal, history, interrupted_batches
    from .kinds import ACTIONS
    from .locks import TreeBusy
    from .plan import Plan, PlanError, Step, build_plan
    from .skips import ReviewState, SkipStore
    from .undo import UndoReport, undo, undo_all


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


# Spelled out (not sorted(_HOME)): linters and type checkers read a literal __all__ as the
# re-exports of the TYPE_CHECKING imports above.
__all__ = [
    "ACTIONS",
    "ApplyReport",
    "BatchInfo",
    "Journal",
    "Plan",
    "PlanError",
    "ReviewState",
    "SkipStore",
    "Step",
    "TreeBusy",
    "UndoReport",
    "apply_plan",
    "build_plan",
    "file_digest",
    "history",
    "interrupted_batches",
    "undo",
    "undo_all",
]
