"""``--move-to`` and ``--keep-in``: where removed files go, and what is never touched.

One definition for the app and the headless commands, so both read the same words and
validate the same way (``options.settings_from_args`` stores them in RunSettings).
"""

from __future__ import annotations

import argparse
import os

from tui_dedup.cli.exits import UsageError


def reference_folder(text: str) -> str:
    """--keep-in: an existing folder, as its real path.

    A folder that does not exist would protect nothing, silently; and the protection compares
    real paths, so ``~/Pictures/Originals`` through a symlinked ``~/Pictures`` still matches."""
    if not text.strip():
        raise argparse.ArgumentTypeError("needs a folder")
    p = os.path.realpath(text)
    if not os.path.exists(p):
        raise argparse.ArgumentTypeError(f"{text}: no such folder")
    if not os.path.isdir(p):
        raise argparse.ArgumentTypeError(f"{text}: not a folder")
    return p


def destination_folder(text: str) -> str:
    """--move-to: a folder (created if missing) whose nearest existing ancestor is a folder,
    as its real path. An empty value would otherwise fall back to the quarantine unnoticed."""
    if not text.strip():
        raise argparse.ArgumentTypeError("needs a folder, not an empty name")
    p = os.path.realpath(text)
    if os.path.exists(p):
        if not os.path.isdir(p):
            raise argparse.ArgumentTypeError(f"{text}: not a folder")
        return p
    ancestor = os.path.dirname(p)
    while not os.path.lexists(ancestor):
        ancestor = os.path.dirname(ancestor)
    if not os.path.isdir(ancestor):
        raise argparse.ArgumentTypeError(f"{text}: {ancestor} is not a folder")
    return p


def add_folder_options(g: argparse._ActionsContainer) -> None:
    """``--move-to`` and ``--keep-in``: where removed files go, and what is never touched.

    One definition for the app and the headless commands, so both read the same words and
    validate the same way (:func:`settings_from_args` stores them in RunSettings)."""
    g.add_argument(
        "--move-to",
        type=destination_folder,
        default=None,
        metavar="DIR",
        help="move removed files here instead of <root>/.dedup-tui/duplicates/ (they go to "
        "DIR/<date time action batch>/<root name>/<relative path>; another disk means copy + "
        "verify; a DIR holding a scanned folder is refused)",
    )
    g.add_argument(
        "--keep-in",
        type=reference_folder,
        action="append",
        default=[],
        metavar="DIR",
        help="reference folder: its files are preferred as keepers, never marked or touched "
        "(repeatable)",
    )


def check_move_to(move_to: str, roots: list[str]) -> None:
    """A ``--move-to`` folder holding a scanned folder is refused: the next scan would find
    the moved copies again, and undo could not tell them from the library."""
    for root in roots:
        real = os.path.realpath(root)
        if real == move_to or real.startswith(move_to.rstrip(os.sep) + os.sep):
            raise UsageError(f"--move-to {move_to} contains the scanned folder {root}")
