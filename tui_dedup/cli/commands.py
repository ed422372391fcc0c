"""CLI handlers for ``apply``, ``undo`` and ``history``; the lead wires them into argparse.

Plain ``print`` (no rich) so output stays greppable and the actions package stays headless.
Exit codes follow the design: 0 done, 1 runtime failure, 2 usage error.
"""

from __future__ import annotations

import sys

from ..actions.apply import apply_plan
from ..actions.journal import Journal, JournalBusy, JournalError, history, interrupted_batches
from ..actions.locks import TreeBusy
from ..actions.plan import PlanError
from ..actions.plan_file import read_plan
from ..actions.undo import undo, undo_all


def _err(msg: str) -> None:
    print(f"dedup-tui: {msg}", file=sys.stderr)


def _warn_interrupted(journal: Journal) -> None:
    for b in interrupted_batches(journal):
        _err(f"batch {b.id} ({b.action}) was interrupted; `dedup-tui undo {b.id}` reverses it")


def cmd_apply(plan_path: str, dry_run: bool = False, confirm_word: str | None = None) -> int:
    """Run a plan file written by ``dedup-tui plan -o``."""
    try:
        with open(plan_path, encoding="utf-8") as f:
            plan = read_plan(f.read())
    except FileNotFoundError:
        _err(f"{plan_path!r}: no such plan file")
        return 2
    except UnicodeDecodeError:
        _err(f"{plan_path!r}: not a readable plan (not UTF-8 text)")
        return 2
    except OSError as e:
        _err(f"{plan_path!r}: cannot read it ({e.strerror or e})")
        return 2
    except PlanError as e:
        _err(f"{plan_path!r}: not a usable plan: {e}")
        return 2
    journal = Journal()
    _warn_interrupted(journal)
    for line in plan.describe():
        print(line)
    if plan.irreversible and not dry_run and confirm_word != plan.confirm_word:
        _err(
            f"this plan deletes files permanently; confirm with --confirm {plan.confirm_word}"
            if confirm_word is None
            else f"confirmation word does not match (expected {plan.confirm_word})"
        )
        return 2
    try:
        report = apply_plan(plan, journal=journal, dry_run=dry_run, confirm=confirm_word)
    except (JournalBusy, TreeBusy, PlanError) as e:
        _err(str(e))
        return 1
    except JournalError as e:
        _err(f"{e}; stopped. Files already handled are recorded: `dedup-tui undo` reverses them")
        return 1
    for line in report.lines():
        print(line)
    return 0 if report.ok else 1


def cmd_undo(batch_id: str | None = None, all_: bool = False, dry_run: bool = False) -> int:
    """Undo the last batch, a given one, or (``all_``) everything still reversible."""
    if batch_id is not None and all_:
        _err("give a batch id or --all, not both")
        return 2
    try:
        report = undo_all(dry_run=dry_run) if all_ else undo(batch_id, dry_run=dry_run)
    except (JournalBusy, JournalError, TreeBusy) as e:
        _err(str(e))
        return 1
    lines = report.lines()
    print(lines[0])
    for line in report.problems:
        _err(line)
    for line in report.notes:
        print(line)
    return 0 if report.ok else 1


def cmd_history() -> int:
    """List batches, oldest first."""
    journal = Journal()
    batches = history(journal)
    for w in journal.warnings:
        _err(f"warning: {w}")
    if not batches:
        print("no actions recorded yet")
        return 0
    for b in batches:
        print(b.line())
        for p in b.undo_problems:
            print(f"    undo problem: {p}")
    return 0
