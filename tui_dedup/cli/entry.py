"""Command line: ``dedup-tui PATH...`` opens the TUI; subcommands run headless.

Arguments are parsed before anything heavy is imported: the headless subcommands never import
Textual (they must start fast on a server), and the TUI path imports textual-image before
``App.run()`` because it probes the terminal once, at import. Subcommand names win over folder
names: ``dedup-tui scan`` is the command, ``dedup-tui ./scan`` scans a folder called ``scan``.

Exit status: 0 done (per-file errors are reported in the output), 1 runtime failure, 2 usage
error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tui_dedup import __version__
from tui_dedup.cli.exits import EXIT_FAIL, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from tui_dedup.cli.folder_options import add_folder_options
from tui_dedup.cli.options import UsageError, _Parser, add_scan_options, settings_from_args

if TYPE_CHECKING:
    from tui_dedup.review.settings import RunSettings

# numpy's OpenBLAS starts a thread per core when numpy is imported, and each spins for a while
# waiting for work, taking CPU from our own threads on every run (measured on a 2-core machine:
# benchmarks/RESULTS.md, "Why the code is as it is"), though only histogram matching ever
# multiplies matrices. Idle BLAS threads now sleep at once; matrix products still run on every
# core, as fast (a user's own setting wins). Set here, before anything imports numpy.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

SUBCOMMANDS = ("scan", "plan", "apply", "undo", "history", "eval", "bursts")


# ---------------------------------------------------------------------------------------------
# TUI (default command)


def _tui_parser() -> argparse.ArgumentParser:
    from tui_dedup.review.settings import PREVIEW_MODES

    p = _Parser(
        prog="dedup-tui",
        description="Find duplicate and near-duplicate images and review them in the terminal.",
        epilog="headless subcommands (see `dedup-tui COMMAND --help`):\n"
        "  scan      scan folders and print pairs/groups as JSON, CSV or text\n"
        "  plan      scan, auto-select, and write an action plan (JSON)\n"
        "  apply     carry out a plan (journaled, undoable)\n"
        "  undo      reverse the last action batch, a given one, or all\n"
        "  history   list action batches\n"
        "  eval      score a scan against a ground-truth file\n"
        "  bursts    find bursts and rank their frames by sharpness and exposure\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"dedup-tui {__version__}")
    p.add_argument(
        "--demo",
        action="store_true",
        help="generate a small folder of duplicate photos in a temp dir and open it",
    )
    p.add_argument(
        "--preview",
        choices=PREVIEW_MODES,
        default=None,
        help="image preview protocol (default auto; env DEDUP_TUI_PREVIEW overrides auto)",
    )
    add_scan_options(p, paths_required=False)
    # The app plans with these as `plan`/`apply` do (m moves into --move-to; --keep-in files
    # are never marked): one definition, validated once into RunSettings.
    add_folder_options(p.add_argument_group("where files go"))
    return p


def run_tui(argv: Sequence[str]) -> int:
    args = _tui_parser().parse_args(argv)
    if not args.paths and not args.demo:
        raise UsageError(
            "give a folder to scan, e.g. `dedup-tui ~/Pictures`, or try `dedup-tui --demo`"
        )
    if not args.demo:
        settings = settings_from_args(args)  # bad arguments are said before anything else
        _need_terminal()
        return _run_app(args, settings)
    _need_terminal()
    from tui_dedup.demo import make_demo_folder, remove_demo_folder

    demo = make_demo_folder()
    args.paths = [str(demo)]
    try:
        return _run_app(args, settings_from_args(args))
    finally:  # generated for this run: nothing of the user's is in it
        remove_demo_folder(demo)


def _need_terminal() -> None:
    if not sys.stdout.isatty() or not sys.stdin.isatty():
        raise UsageError(
            "the review app needs a terminal; for scripts use `dedup-tui scan PATH --format json`"
        )


def _run_app(args: argparse.Namespace, settings: RunSettings) -> int:
    from tui_dedup.review.settings import preview_mode_from_env

    settings.preview = preview_mode_from_env(args.preview)
    # How long a lone ESC byte waits for the rest of an escape sequence (an arrow key is
    # ESC [ A) before it counts as the escape key; Textual reads ESCDELAY (ms) once, at import,
    # and waits 100 ms by default, a delay on every escape press. A terminal writes a key's
    # whole sequence at once and ssh/mosh carry it in one packet, so its bytes arrive together
    # however slow the link; a split costs more than 100 ms anyway (a lost segment waits for a
    # retransmit, 200 ms and up), so 100 ms buys little over 25 ms, the value commonly set for
    # ncurses programs (Neovim's ttimeoutlen is 50, tmux 3.5's escape-time 10). A user's own
    # ESCDELAY wins; tui/driver.py makes Textual's input thread honour it.
    os.environ.setdefault("ESCDELAY", "25")
    from tui_dedup.actions.state import state_dir
    from tui_dedup.stdio import native_stderr_to
    from tui_dedup.tui.app import run_app

    log = os.path.join(state_dir(), "native-stderr.log")
    try:
        os.makedirs(os.path.dirname(log), exist_ok=True)
    except OSError:
        log = os.devnull
    with native_stderr_to(log):
        return run_app(settings)


# ---------------------------------------------------------------------------------------------
# scan (headless)


def _scan_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="dedup-tui scan", description="Scan folders for duplicate images and print the result."
    )
    add_scan_options(p)
    p.add_argument(
        "--format",
        choices=("json", "csv", "text"),
        default="text",
        help="output format (default text: similarity, file A, file B per line)",
    )
    p.add_argument(
        "-o",
        "--output",
        default="-",
        metavar="FILE",
        help="write the result here instead of stdout",
    )
    p.add_argument(
        "--null",
        action="store_true",
        help="text format: end fields with NUL (for names with newlines)",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress or summary on stderr")
    from tui_dedup.cli.actions import add_action_options

    add_action_options(p)
    return p


def cmd_scan(argv: Sequence[str]) -> int:
    args = _scan_parser().parse_args(argv)
    settings = settings_from_args(args)
    if args.auto_select:
        from tui_dedup.cli.actions import one_shot

        return one_shot(args, settings)
    from tui_dedup.cli.scanning import run_scan

    result = run_scan(settings, show_progress=not args.quiet)
    from tui_dedup.review.export import write
    from tui_dedup.review.export_file import open_output

    with open_output(args.output) as out:
        write(result, args.format, out, args.null)
    if not args.quiet:
        from tui_dedup.review.result import summary_line

        for e in result.errors:
            print(f"dedup-tui: {e.path!r}: {e.reason}", file=sys.stderr)
        print(f"dedup-tui: {summary_line(result)}", file=sys.stderr)
    return EXIT_INTERRUPTED if result.cancelled else EXIT_OK


# ---------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        if argv and argv[0] in SUBCOMMANDS:
            cmd, rest = argv[0], argv[1:]
            if cmd == "scan":
                return cmd_scan(rest)
            if cmd == "bursts":
                from tui_dedup.cli.bursts import cmd_bursts

                return cmd_bursts(rest)
            from tui_dedup.cli import actions as cli_actions

            return cli_actions.dispatch(cmd, rest)
        return run_tui(argv)
    except UsageError as exc:
        print(f"dedup-tui: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("dedup-tui: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:
        if debug:
            raise
        print(
            f"dedup-tui: error: {type(exc).__name__}: {exc} (--debug shows the traceback)",
            file=sys.stderr,
        )
        return EXIT_FAIL


if __name__ == "__main__":
    raise SystemExit(main())
