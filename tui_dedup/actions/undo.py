"""Undo: put files back where the journal says they were, never over anything new.

Why undo looks at the disk and not only at the journal: after a crash the journal may say
"intent" for an operation that did or did not happen. Each operation leaves the file at its
source, at its destination, or (mid link-then-unlink / mid copy) at both, so looking at both
places decides what to do, and running undo twice is harmless. Whatever appeared at an
original path since is left alone and reported.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from . import trash
from .fsops import (
    CrossDevice,
    copy_verified,
    file_digest,
    fsync_dir,
    makedirs,
    move_noreplace,
    partial_name,
    same_file,
)
from .journal import BatchInfo, Journal
from .paths import QUARANTINE


@dataclass(slots=True)
class UndoReport:
    """Per run: which batches, what came back, and what could not (in plain words)."""

    batches: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        verb = "would restore" if self.dry_run else "restored"
        head = f"{verb} {len(self.restored)} file(s) from batch(es) {', '.join(self.batches)}"
        return [head if self.batches else "nothing to undo", *self.problems, *self.notes]


def _ops(records: list[dict]) -> list[dict]:
    """Operation states by op number: the intent plus flags for what followed it."""
    ops: dict[int, dict] = {}
    for r in records:
        k = r.get("op")
        if k is None:
            continue
        if r["rec"] == "intent":
            ops[k] = dict(r)
        elif k in ops:
            ops[k][r["rec"]] = r
    return [ops[k] for k in sorted(ops, reverse=True)]


def _restore_file(src_now: str, orig: str) -> None:
    makedirs(os.path.dirname(orig))
    try:
        move_noreplace(src_now, orig)
    except CrossDevice:
        copy_verified(src_now, orig)
        os.unlink(src_now)
        fsync_dir(os.path.dirname(src_now))
    _prune(os.path.dirname(src_now))


def _prune(folder: str) -> None:
    """Remove folders emptied by undo, but only inside a ``.dedup-tui`` quarantine."""
    marker = os.sep + QUARANTINE + os.sep
    while marker in folder + os.sep and not folder.endswith(os.sep + QUARANTINE):
        try:
            os.rmdir(folder)
        except OSError:
            return
        folder = os.path.dirname(folder)


def _undo_move(op: dict, dry: bool) -> str | None:
    """Returns None when the file is (now) at its original place, else the problem."""
    src, dst = op["src"], op["dst"]
    at_src, at_dst = os.path.lexists(src), os.path.lexists(dst)
    if not dry and os.path.lexists(partial_name(dst)):
        os.unlink(partial_name(dst))  # an interrupted copy; the source is intact
    if at_src and at_dst:
        if _same_inode(src, dst):
            if not dry:
                os.unlink(dst)  # crash between link and unlink: same file under both names
                fsync_dir(os.path.dirname(dst))
            return None
        if "copying" in op and _is_copy(op, src, dst):
            if not dry:
                os.unlink(dst)  # our verified copy; the source never left
                fsync_dir(os.path.dirname(dst))
            return None
        return f"{src!r} exists again (something new is there); your file stays at {dst!r}"
    if at_dst:
        if not dry:
            _restore_file(dst, src)
        return None
    if at_src:
        return None
    return f"{src!r} is neither at its place nor at {dst!r} (was the quarantine emptied?)"


def _drop_leftover_link(op: dict) -> None:
    """A failed move whose rollback also failed leaves our second name at dst: remove it."""
    src, dst = op["src"], op["dst"]
    if os.path.lexists(src) and os.path.lexists(dst) and _same_inode(src, dst):
        os.unlink(dst)
        fsync_dir(os.path.dirname(dst))


def _same_inode(a: str, b: str) -> bool:
    sa, sb = os.lstat(a), os.lstat(b)
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def _is_copy(op: dict, src: str, dst: str) -> bool:
    st = os.lstat(src)
    if (st.st_dev, st.st_ino) != (op.get("dev"), op.get("ino")):
        return False
    return file_digest(dst) == op["copying"]["digest"]


def _undo_trash(op: dict, dry: bool) -> str | None:
    src = op["src"]
    done = op.get("done", {})
    found = None
    if done.get("trash_file") and os.path.lexists(done["trash_file"]):
        found = trash.Trashed(done["trash_file"], done["trash_info"])
    elif os.path.lexists(src):
        return None  # never left (or already restored)
    elif trash.FREEDESKTOP:
        found = trash.find(src, op["time"] - 2, op["time"] + 24 * 3600, op.get("size"))
    if found is None:
        if not trash.FREEDESKTOP:
            return f"cannot restore {src!r} automatically here: restore it from the system Trash"
        return f"cannot restore {src!r}: it is not in the trash any more (emptied?)"
    if os.path.lexists(src):
        return f"{src!r} exists again (something new is there); it stays in the trash"
    if not dry:
        trash.restore(found, src)
    return None


def _undo_link(op: dict, dry: bool) -> str | None:
    path = op["src"]
    if not os.path.lexists(path):
        return None
    if op["kind"] == "symlink":
        ours = os.path.islink(path) and os.readlink(path) == op["target"]
    else:
        ours = not os.path.islink(path) and same_file(path, op["dev"], op["ino"])
    if not ours:
        return f"{path!r} was changed after it became a {op['kind']}; leaving it alone"
    if not dry:
        os.unlink(path)
        fsync_dir(os.path.dirname(path))
    return None


def _undo_op(op: dict, dry: bool) -> str | None:
    kind = op["kind"]
    if kind == "move":
        return _undo_move(op, dry)
    if kind == "trash":
        return _undo_trash(op, dry)
    if kind in ("hardlink", "symlink"):
        return _undo_link(op, dry)
    if kind == "delete":
        if os.path.lexists(op["src"]):
            return None
        return f"{op['src']!r} was permanently deleted; it cannot be restored"
    return f"unknown operation {kind!r} in the journal"


def undo_batch(journal: Journal, batch: str, report: UndoReport) -> None:
    """Reverse one batch, newest operation first; records each reversal in the journal."""
    report.batches.append(batch)
    problems: list[str] = []
    dry = report.dry_run
    for op in _ops(journal.batch_records(batch)):
        if "undone" in op:
            continue
        if "failed" in op:
            if not dry and op["kind"] == "move":
                _drop_leftover_link(op)
            continue
        if not dry:
            journal.append({"rec": "undo-intent", "batch": batch, "op": op["op"]})
        try:
            problem = _undo_op(op, dry)
        except (OSError, ValueError) as e:
            problem = f"could not restore {op['src']!r}: {getattr(e, 'strerror', None) or e}"
        if problem:
            problems.append(problem)
            continue
        if not dry:
            journal.append({"rec": "undone", "batch": batch, "op": op["op"]})
        if op["kind"] != "delete" and (op["kind"] not in ("hardlink", "symlink")):
            report.restored.append(op["src"])
    if not dry:
        journal.append(
            {"rec": "undo", "batch": batch, "complete": not problems, "problems": problems}
        )
    report.problems += problems


def _pending(journal: Journal) -> list[BatchInfo]:
    """Batches undo can still act on: not undone, not a permanent delete."""
    return [b for b in journal.batches() if b.state != "undone" and not b.irreversible]


def _irreversible_note(b: BatchInfo) -> str:
    return f"batch {b.id} deleted files permanently; it cannot be undone"


def undo(
    batch_id: str | None = None, *, journal: Journal | None = None, dry_run: bool = False
) -> UndoReport:
    """Reverse ``batch_id``, or the newest batch not yet undone."""
    journal = journal or Journal()
    report = UndoReport(dry_run=dry_run)
    pending = _pending(journal)
    if batch_id is None:
        if not pending:
            return report
        target = pending[-1]
        every = journal.batches()
        newer = every[[b.id for b in every].index(target.id) + 1 :]
        report.notes += [_irreversible_note(b) for b in newer if b.irreversible]
    else:
        target = next((b for b in journal.batches() if b.id == batch_id), None)
        if target is None:
            report.problems.append(f"no batch {batch_id!r} in the journal")
            return report
        if target.state == "undone":
            report.problems.append(f"batch {batch_id} was already undone")
            return report
        if target.irreversible:
            report.problems.append(_irreversible_note(target))
            return report
    with journal.locked():
        undo_batch(journal, target.id, report)
    return report


def undo_all(*, journal: Journal | None = None, dry_run: bool = False) -> UndoReport:
    """Reverse every batch still reversible, newest first."""
    journal = journal or Journal()
    report = UndoReport(dry_run=dry_run)
    with journal.locked():
        for b in reversed(_pending(journal)):
            undo_batch(journal, b.id, report)
    report.notes += [_irreversible_note(b) for b in journal.batches() if b.irreversible]
    return report
