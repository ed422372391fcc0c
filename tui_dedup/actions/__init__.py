"""Everything that changes a user's files: plan → confirm → apply → journal → undo.

This package is the only code in dedup-tui allowed to rename, move, link or delete a user's
file. It is headless: it never imports textual or rich (a test checks this), so the CLI, the
TUI and scripts share one implementation.
"""

from .apply import ApplyReport, apply_plan
from .fsops import file_digest
from .journal import BatchInfo, Journal, history, interrupted_batches
from .plan import ACTIONS, Plan, PlanError, Step, build_plan
from .select import DEFAULT_RULES, RULES, auto_select, choose_keeper
from .skips import ReviewState, SkipStore
from .undo import UndoReport, undo, undo_all

__all__ = [
    "ACTIONS",
    "DEFAULT_RULES",
    "RULES",
    "ApplyReport",
    "BatchInfo",
    "Journal",
    "Plan",
    "PlanError",
    "ReviewState",
    "SkipStore",
    "Step",
    "UndoReport",
    "apply_plan",
    "auto_select",
    "build_plan",
    "choose_keeper",
    "file_digest",
    "history",
    "interrupted_batches",
    "undo",
    "undo_all",
]
