"""Headless action subcommands: plan, apply, undo, history, eval (never imports Textual).

``plan`` scans, auto-selects and writes the same plan the TUI would show in its confirm dialog;
``apply`` carries a plan out (journaled, undoable); ``scan --auto-select RULE --move-to DIR``
is the one-shot form for cron jobs, built from the same pieces.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tui_dedup.cli.exits import EXIT_FAIL, EXIT_OK, EXIT_USAGE
from tui_dedup.cli.options import UsageError, _Parser, add_scan_options

if TYPE_CHECKING:
    from tui_dedup.review.result import Result


def _rules(text: str) -> tuple[str, ...]:
    from tui_dedup.review.culling import BEST_OF_BURST
    from tui_dedup.review.keepers import RULES

    names = tuple(r.strip() for r in text.split(",") if r.strip())
    if BEST_OF_BURST in names:
        if names != (BEST_OF_BURST,):
            raise argparse.ArgumentTypeError(
                f"{BEST_OF_BURST} culls bursts and goes alone, not with keeper rules"
            )
        return names
    bad = [r for r in names if r not in RULES]
    if bad or not names:
        raise argparse.ArgumentTypeError(
            f"unknown rule {', '.join(bad) or text!r}; choose from {', '.join(RULES)}, "
            f"or {BEST_OF_BURST}"
        )
    return names


class _KeeperHelpFormatter(argparse.HelpFormatter):
    """argparse's layout, except that the epilog keeps its lines (the keeper rules, one per
    line) and no rule name is split at its hyphen when a help text wraps."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:  # laid out by hand
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)


def _rules_epilog() -> str:
    """The keeper rules, the default chain first and in its order (from the one registry)."""
    from tui_dedup.review.keepers import DEFAULT_RULES, RULES

    wrap = textwrap.TextWrapper(
        width=96,
        initial_indent="  ",
        subsequent_indent=" " * 6,
        break_on_hyphens=False,
        break_long_words=False,
    )
    lines = ["keeper rules: the default chain, tried in this order (a tie goes on to the next):"]
    for name in DEFAULT_RULES:
        lines += wrap.wrap(f"{name}: {RULES[name].description}")
    lines.append("other rules (--auto-select RULE,RULE... tries the rules given, in that order):")
    for name, r in RULES.items():
        if name not in DEFAULT_RULES:
            lines += wrap.wrap(f"{name}: {r.description}")
    lines.append(
        "  after the last rule, the path decides: the same files always give the same keeper"
    )
    lines.append("bursts (frames of one scene, not copies; see `dedup-tui bursts`):")
    lines += wrap.wrap(
        "best-of-burst: keep each burst's best frame (sharpest, then best exposed) and move or "
        "trash the other frames, which have no copy; never mixed with the rules above, nothing "
        "else is marked; apply checks each frame is still in its burst"
    )
    return "\n".join(lines) + "\n"


def add_action_options(p: argparse.ArgumentParser) -> None:
    from tui_dedup.actions.kinds import ACTIONS
    from tui_dedup.cli.folder_options import add_folder_options
    from tui_dedup.review.keepers import DEFAULT_RULES

    p.formatter_class = _KeeperHelpFormatter
    p.epilog = (p.epilog + "\n" if p.epilog else "") + _rules_epilog()
    g = p.add_argument_group("actions")
    g.add_argument(
        "--auto-select",
        type=_rules,
        nargs="?",
        const=DEFAULT_RULES,
        default=None,
        metavar="RULE[,RULE...]",
        help="mark all but one keeper per group, by the keeper rules listed below, first to "
        "last (given alone: the default chain)",
    )
    g.add_argument(
        "--action",
        choices=list(ACTIONS),
        default="move",
        help="what to do with marked files (default: move to the quarantine "
        "folder .dedup-tui/duplicates/ in each root)",
    )
    add_folder_options(g)
    g.add_argument(
        "--allow-delete",
        action="store_true",
        help="allow --action delete (permanent; asks you to type DELETE)",
    )
    g.add_argument(
        "--keep-empty-folders",
        action="store_true",
        help="leave in place the folders a batch empties (default: a folder whose last file "
        "the batch takes away is removed, and a parent that this leaves empty; never one "
        "holding anything else, hidden files included, nor a scanned folder; undo recreates "
        "them)",
    )
    g.add_argument("--dry-run", action="store_true", help="check and print, change nothing")


def _shown_path(path: str) -> str:
    """A path as a line may hold it: as is when printable, else quoted with escapes."""
    return path if path.isprintable() else repr(path)


def keeper_lines(
    result: Result, marked: set[int], rules: Sequence[str], keep_in: Sequence[str]
) -> list[str]:
    """``keep  2021/2021-09 Zoo/IMG_1203.jpg  (keep: library folder, original name)``: one line
    per group the plan takes copies from, the copy that stays and the rules that chose it."""
    from tui_dedup.review.decisions import keeper_reasons
    from tui_dedup.review.session import display_paths

    reasons = keeper_reasons(result.store, result.groups, rules, keep_in)
    shown = display_paths(result.store.entries, list(result.roots))
    lines = []
    for g in result.groups:
        if not marked.intersection(g.members):
            continue
        keeper = next(int(m) for m in g.members if int(m) in reasons)
        lines.append(f"  keep  {_shown_path(shown[keeper])}  ({reasons[keeper]})")
    if lines:
        lines.insert(0, f"Keepers: {len(lines)} group(s), the copy each keeps and why:")
    return lines


def _plan_from_args(args, settings):
    """Scan, auto-select, plan: (scan result, plan, the keeper lines shown before the plan)."""
    from tui_dedup.cli.scanning import run_scan
    from tui_dedup.engine.matching.spec import MatchSpec
    from tui_dedup.review.culling import BEST_OF_BURST
    from tui_dedup.review.decisions import auto_mark, plan_marked
    from tui_dedup.review.keepers import DEFAULT_RULES

    if args.action == "delete" and not args.allow_delete:  # say so before a long scan
        raise UsageError("--action delete deletes files permanently; add --allow-delete")
    if args.auto_select == (BEST_OF_BURST,):
        return _cull_from_args(args, settings)
    result = run_scan(settings, show_progress=not getattr(args, "quiet", False))
    rules = args.auto_select or DEFAULT_RULES
    marked = auto_mark(result.store, result.pairs, result.groups, rules, settings.keep_in)
    plan = plan_marked(
        result.store,
        result.pairs,
        marked,
        args.action,
        spec=MatchSpec.from_settings(settings).to_dict(),
        move_to=settings.move_to,  # checked once, by settings_from_args
        keep_in=settings.keep_in,
        allow_delete=args.allow_delete,
        remove_emptied_folders=not getattr(args, "keep_empty_folders", False),
    )
    return result, plan, keeper_lines(result, marked, rules, settings.keep_in)


def _cull_from_args(args, settings):
    """``--auto-select best-of-burst``: find and rank the bursts, plan to move (or trash)
    every frame but each burst's best (review/culling.py)."""
    from tui_dedup.cli.bursts import bursts_with_progress
    from tui_dedup.engine.matching.spec import MatchSpec
    from tui_dedup.review.culling import CULL_ACTIONS, cull_plan, keeper_lines

    if args.action not in CULL_ACTIONS:  # say so before a long scan
        raise UsageError(
            f"best-of-burst removes frames that have no copy: use --action move or trash "
            f"(both undoable), not {args.action}"
        )
    bursts = bursts_with_progress(settings, quiet=getattr(args, "quiet", False))
    plan = cull_plan(
        bursts,
        args.action,
        move_to=settings.move_to,
        keep_in=settings.keep_in,
        spec=MatchSpec.from_settings(settings).to_dict(),
        remove_emptied_folders=not getattr(args, "keep_empty_folders", False),
    )
    return bursts, plan, keeper_lines(bursts, plan)


def cmd_plan(argv: Sequence[str]) -> int:
    from tui_dedup.cli.options import settings_from_args

    p = _Parser(
        prog="dedup-tui plan",
        description="Scan, auto-select keepers and write an action plan (JSON) to review "
        "and run later with `dedup-tui apply PLAN`.",
    )
    add_scan_options(p)
    add_action_options(p)
    p.add_argument("-o", "--output", default="-", metavar="FILE", help="plan file (default stdout)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar on stderr")
    args = p.parse_args(argv)
    settings = settings_from_args(args)
    _, plan, keepers = _plan_from_args(args, settings)
    from tui_dedup.review.export_file import open_output

    with open_output(args.output) as out:  # a plan file appears whole or not at all
        out.write((plan.to_json() + "\n").encode("ascii"))
    for line in (*keepers, *plan.describe()):
        print(line, file=sys.stderr)
    return EXIT_OK


def one_shot(args, settings) -> int:
    """`scan --auto-select RULE [--move-to DIR]`: plan, print it, apply it, print a summary."""
    from tui_dedup.actions import Journal, apply_plan

    _, plan, keepers = _plan_from_args(args, settings)
    for line in (*keepers, *plan.describe()):
        print(line)
    if not plan.steps:
        return EXIT_OK
    confirm = None
    if plan.confirm_word:
        if not sys.stdin.isatty():
            raise UsageError("permanent delete needs a terminal to type the confirmation word")
        confirm = input(f"Type {plan.confirm_word} to delete {len(plan.steps)} file(s) for good: ")
    report = apply_plan(plan, journal=Journal.open(), dry_run=args.dry_run, confirm=confirm)
    for line in report.lines():
        print(line)
    return EXIT_OK if report.ok else EXIT_FAIL


def cmd_apply(argv: Sequence[str]) -> int:
    from tui_dedup.cli import commands

    p = _Parser(prog="dedup-tui apply", description="Carry out a plan written by `dedup-tui plan`.")
    p.add_argument("plan", metavar="PLAN.json")
    p.add_argument("--dry-run", action="store_true", help="check everything, change nothing")
    p.add_argument(
        "--confirm",
        default=None,
        metavar="WORD",
        help="the confirmation word a permanent-delete plan asks for",
    )
    args = p.parse_args(argv)
    return commands.cmd_apply(args.plan, args.dry_run, args.confirm)


def cmd_undo(argv: Sequence[str]) -> int:
    from tui_dedup.cli import commands

    p = _Parser(
        prog="dedup-tui undo",
        description="Reverse the last action batch, a given batch, or all of them. "
        "Never overwrites a file that appeared at an original path since.",
    )
    p.add_argument("batch", nargs="?", default=None, metavar="BATCH_ID")
    p.add_argument("--all", action="store_true", help="undo every batch still reversible")
    p.add_argument("--dry-run", action="store_true", help="report what would be restored")
    args = p.parse_args(argv)
    if args.all and args.batch:
        raise UsageError("give a BATCH_ID or --all, not both")
    return commands.cmd_undo(args.batch, args.all, args.dry_run)


def cmd_history(argv: Sequence[str]) -> int:
    from tui_dedup.cli import commands

    _Parser(prog="dedup-tui history", description="List action batches, newest last.").parse_args(
        argv
    )
    return commands.cmd_history()


def cmd_eval(argv: Sequence[str]) -> int:
    import json
    import os

    from tui_dedup.cli.options import similarity
    from tui_dedup.engine import evaluate as ev

    p = _Parser(
        prog="dedup-tui eval",
        description="Score a scan (JSON from `dedup-tui scan --format json`) against a "
        "ground-truth file: precision, recall, F1, recall per transform, false positives by "
        "kind, and a threshold sweep. Scan at a loose threshold to see the whole sweep.",
    )
    p.add_argument("scan_json", metavar="SCAN.json")
    p.add_argument("truth", metavar="TRUTH.json")
    p.add_argument("--split", default=None, help="score only this split of the truth (tune/test)")
    p.add_argument(
        "--threshold",
        type=similarity,
        default=None,
        metavar="SIMILARITY",
        help="score pairs at or above this similarity (default: all pairs in the scan)",
    )
    args = p.parse_args(argv)

    # Both inputs are files a person hands us: any way they can be wrong (missing, not JSON,
    # JSON of another shape) is one line naming the file, exit 2, never a traceback.
    def read_json(path: str) -> object:
        try:
            with open(path, "rb") as f:
                return json.load(f)
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
            raise UsageError(f"{path}: not a JSON file ({exc})") from None

    def wrong_shape(path: str, what: str, exc: Exception) -> UsageError:
        why = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
        return UsageError(f"{path}: not {what} ({why})".replace("\n", " "))

    shape_errors = (KeyError, IndexError, TypeError, ValueError, AttributeError)
    scan_kind = "a result of `dedup-tui scan --format json`"
    scan = read_json(args.scan_json)
    if not isinstance(scan, dict):
        raise UsageError(f"{args.scan_json}: not {scan_kind} (a JSON object)")
    truth_file = args.truth
    if os.path.isdir(truth_file):  # the dataset folder holding truth.json
        truth_file = os.path.join(truth_file, "truth.json")
    data = read_json(truth_file)
    if not isinstance(data, dict):
        raise UsageError(f"{truth_file}: not a ground-truth file (a JSON object)")
    try:
        truth = ev.truth_from_dict(data, os.path.dirname(os.path.abspath(truth_file)))
    except shape_errors as exc:
        raise wrong_shape(truth_file, "a ground-truth file", exc) from None
    try:
        labelled = ev.label_pairs(truth, ev.scan_json_pairs(scan), split=args.split)
    except shape_errors as exc:
        raise wrong_shape(args.scan_json, scan_kind, exc) from None
    s = ev.score(labelled, args.threshold)
    print(
        f"pairs scored {s.predicted}: precision {s.precision:.4f}  recall {s.recall:.4f}  "
        f"F1 {s.f1:.4f}  (TP {s.tp}, FP {s.fp}, positives {s.positives})"
    )
    print("recall by transform:")
    for name, (found, total) in sorted(s.recall_by_transform.items()):
        print(f"  {name:<16} {found:>6}/{total:<6} {found / total if total else 0:.3f}")
    if s.fp_by_kind:
        print(
            "false positives by kind: "
            + ", ".join(f"{k} {v}" for k, v in sorted(s.fp_by_kind.items()))
        )
    print(f"variant pairs flagged {s.variant_pairs[0]}/{s.variant_pairs[1]} (scored apart)")
    points = ev.sweep(labelled)
    if points:
        print("threshold sweep (similarity >= t): t, precision, recall, F1")
        step = max(1, len(points) // 15)
        for pt in points[::step]:
            print(f"  {pt.threshold:.4f}  {pt.precision:.4f}  {pt.recall:.4f}  {pt.f1:.4f}")
        best = ev.best_threshold(points, min_precision=0.99)
        if best is not None:
            print(f"best F1 with precision >= 0.99: t = {best.threshold:.4f} (F1 {best.f1:.4f})")
    return EXIT_OK


def dispatch(cmd: str, argv: Sequence[str]) -> int:
    handlers = {
        "plan": cmd_plan,
        "apply": cmd_apply,
        "undo": cmd_undo,
        "history": cmd_history,
        "eval": cmd_eval,
    }
    handler = handlers.get(cmd)
    if handler is None:
        return EXIT_USAGE
    return handler(argv)
