"""The command line: argument parsing, printing and exit codes (all terminal output of the
headless commands lives in this package).

``dedup-tui PATH...`` opens the app; ``dedup-tui scan|plan|apply|undo|history|eval`` run
headless. See :mod:`.main`.
"""

from tui_dedup.cli.entry import main

__all__ = ["main"]
