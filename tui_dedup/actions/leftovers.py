"""What earlier batches left that the next run must know: temporary files of a killed copy,
and the symlinks we made (whose targets must not be moved away under them).

Why from the journal: a temporary file's name is journaled before the file is created, so a
run killed with ``kill -9`` leaves a record that names it; the next apply or undo removes it
(it only ever holds a copy whose source is still in place, or a second name of a file). Without
this, a hidden ``.NAME...dedup-tui-partial`` would stay in the user's folder for ever.
"""

from __future__ import annotations

import contextlib
import os
import stat

from . import records as R
from . import safefs
from .journal import Journal


def clear_leftovers(journal: Journal) -> list[str]:
    """Remove temporary files that journaled runs created and did not remove; notes for each."""
    notes = []
    for rec in journal.records():
        if not isinstance(rec, R.TempName):
            continue
        try:
            st = safefs.lstat(rec.tmp)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode) or not os.path.basename(rec.tmp).endswith(
            ".dedup-tui-partial"
        ):
            continue
        with contextlib.suppress(OSError):
            safefs.remove_name(rec.tmp, safefs.Ident.of(st))
            notes.append(f"removed an interrupted run's temporary file {rec.tmp!r}")
    return notes


def active_symlink_targets(journal: Journal) -> dict[str, str]:
    """Real path of each file a symlink we made points at → the batch that made the link,
    for links that are done and not undone."""
    made: dict[tuple[str, int], R.Intent] = {}
    done: set[tuple[str, int]] = set()
    gone: set[tuple[str, int]] = set()
    undone_batches: set[str] = set()
    for rec in journal.records():
        if isinstance(rec, R.Intent) and rec.kind == "symlink" and rec.keeper:
            made[(rec.batch, rec.op)] = rec
        elif isinstance(rec, R.Done):
            done.add((rec.batch, rec.op))
        elif isinstance(rec, R.Undone | R.Failed):
            gone.add((rec.batch, rec.op))
        elif isinstance(rec, R.UndoRun) and rec.complete:
            undone_batches.add(rec.batch)
    out = {}
    for key, rec in made.items():
        live = key in done and key not in gone and rec.batch not in undone_batches
        if live and rec.keeper and os.path.islink(rec.src):
            out[rec.keeper] = rec.batch
    return out
