"""Undo: put files back where the journal says they were — restore first, remove second, and
never over anything new.

Why undo looks at the disk and not only at the journal: after a crash the journal may say
"intent" for an operation that did or did not happen. Each operation leaves the file at its
source, at its destination, or (mid link-then-unlink / mid copy) at both, so looking at both
places decides what to do, and running undo twice is harmless.

The rules that keep it from ever destroying anything:
- Nothing is removed from one place before the other place is proven to hold the bytes: a
  second name of the same inode (both names seen at the same moment), or the digest the
  journal recorded. An inode number recorded earlier is never taken as proof: a new file can
  get a freed inode number.
- A link we made is replaced by the original only once the original is back: it is linked (or
  copied, verified) to a temporary name beside the link and renamed over it. If the original
  is gone from the quarantine, the link stays — the picture is still reachable through it.
- Every path is reached without following symlinks (:mod:`~tui_dedup.actions.safefs`), so a
  folder swapped for a symlink since is refused, never restored into.
- A copy back across filesystems journals its temporary name first; a killed undo's temporary
  file is removed by the next run. Owner, mode, times and xattrs travel with the copy.
- Folders the batch removed because it had emptied them come back first, parents before
  children, with their journaled mode and owner (:mod:`~tui_dedup.actions.empty_folders`);
  then the files; then the folders get their times back. The batch's own quarantine folders
  go once they are empty.
"""

from __future__ import annotations

import contextlib
import os
import stat
from dataclasses import dataclass, field

from . import records as R
from . import safefs
from .copying import copy_verified, temp_name
from .empty_folders import listed, prune_batch_folders, recreate, restore_times
from .fsops import CrossDevice
from .journal import BatchInfo, Journal
from .kinds import for_operation
from .kinds.base import Op
from .leftovers import clear_leftovers
from .locks import tree_lock
from .paths import QUARANTINE


@dataclass(slots=True)
class UndoReport:
    """Per run: which batches, what came back, and what could not (in plain words)."""

    batches: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    folders: list[str] = field(default_factory=list)  # recreated: the batch had removed them
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        verb = "would restore" if self.dry_run else "restored"
        head = f"{verb} {len(self.restored)} file(s)"
        if self.folders:
            head += f" and {'would recreate' if self.dry_run else 'recreated'}"
            head += f" {len(self.folders)} folder(s)"
        head += f" from batch(es) {', '.join(self.batches)}"
        return [head if self.batches else "nothing to undo", *self.problems, *self.notes]


def _ops(records: list[R.Record]) -> dict[int, Op]:
    ops: dict[int, Op] = {}
    for r in records:
        if isinstance(r, R.Intent):
            ops[r.op] = Op(r)
            continue
        k = getattr(r, "op", None)
        op = ops.get(k) if isinstance(k, int) else None
        if op is None:
            continue
        if isinstance(r, R.Copying):
            op.copying = r
        elif isinstance(r, R.Done):
            op.done = r
        elif isinstance(r, R.Failed):
            op.failed = True
        elif isinstance(r, R.Undone):
            op.undone = True
        elif isinstance(r, R.TempName) and r.undo:
            op.undo_copy = True
    return ops


class _Undo:
    """Undoes one batch; the primitives here are what the action kinds undo through
    (:class:`tui_dedup.actions.kinds.base.Undoer`)."""

    def __init__(self, journal: Journal, batch: str, dry: bool, report: UndoReport) -> None:
        self.journal, self.batch, self.dry, self.report = journal, batch, dry, report
        self.handled: set[int] = set()  # operations undone together with another one
        self.notes = report.notes

    def log(self, rec: R.Record) -> None:
        if not self.dry:
            self.journal.append(rec)

    # -- the two places ------------------------------------------------------------------
    @staticmethod
    def at(path: str) -> tuple[os.stat_result | None, str | None]:
        """What is at ``path`` now (reached without symlinks), or why it cannot be reached."""
        try:
            return safefs.lstat(path), None
        except FileNotFoundError:
            return None, None
        except safefs.PathRefused:
            return None, f"a folder on the way to {path!r} is now a symlink (or a file)"
        except OSError as e:
            return None, f"cannot reach {path!r}: {e.strerror}"

    def put_back_from(self, op: Op, real: str, src: str) -> None:
        """The file at ``real`` goes back to ``src`` (free): a rename, or a verified copy whose
        source is removed only after the copy is in place (its temporary name journaled)."""
        expect = safefs.Ident.of(safefs.lstat(real))
        try:
            safefs.move(real, src, expect)
        except CrossDevice:
            tmp = temp_name(src)
            self.log(R.TempName(self.batch, op.intent.op, tmp, undo=True))
            want = op.intent.digest or (op.copying.digest if op.copying else None)
            copied = copy_verified(real, src, tmp, expected_digest=want)
            self.report.notes += copied.notes
            safefs.remove_name(real, expect)

    def _put_back(self, op: Op, src: str, dst: str, d_now: os.stat_result) -> None:
        self.put_back_from(op, dst, src)
        _prune(os.path.dirname(dst))

    @staticmethod
    def prune(folder: str) -> None:
        _prune(folder)

    def undo_move(self, op: Op) -> str | None:
        """None when the file is (now) at its original place, else the problem."""
        src, dst = op.intent.src, op.dst or ""
        s_now, why = self.at(src)
        if why:
            return f"not restoring {src!r}: {why}"
        d_now, why = self.at(dst)
        if why:
            return f"cannot restore {src!r}: {why}"
        if s_now is not None and d_now is not None:
            if (s_now.st_dev, s_now.st_ino) == (d_now.st_dev, d_now.st_ino):
                if not self.dry:  # killed between link and unlink: one file, two names
                    safefs.remove_name(dst, safefs.Ident.of(d_now))
                return None
            copy_pending = op.copying is not None and op.done is None
            # Killed after the copy, before the source was removed: the source is ours only
            # if it still holds the bytes that were copied.
            if (
                copy_pending
                and stat.S_ISREG(s_now.st_mode)
                and safefs.digest(src) == op.copying.digest  # type: ignore[union-attr]
            ):
                if not self.dry:
                    safefs.remove_name(dst, safefs.Ident.of(d_now))
                return None
            # An undo killed after its copy back took the original name, before it removed
            # the copy at dst: the name holds our copy if both places hold the bytes the
            # journal recorded (a digest, never an inode number). Without this every later
            # undo would call our own restored file "something new" and never finish.
            if op.undo_copy and self._both_hold(op, src, dst, s_now, d_now):
                if not self.dry:
                    safefs.remove_name(dst, safefs.Ident.of(d_now))
                    _prune(os.path.dirname(dst))
                return None
            return f"{src!r} exists again (something new is there); your file stays at {dst!r}"
        if d_now is not None:
            i = op.intent
            if (i.size is not None and d_now.st_size != i.size) or (
                i.mtime_ns is not None and d_now.st_mtime_ns != i.mtime_ns
            ):
                return (
                    f"{dst!r} is not the file that was moved there (size or time differ); "
                    f"{src!r} is not restored from it"
                )
            if not self.dry:
                self._put_back(op, src, dst, d_now)
            return None
        if s_now is not None:
            ours = op.done is not None and op.intent.digest and stat.S_ISREG(s_now.st_mode)
            if ours and safefs.digest(src) != op.intent.digest:
                return (
                    f"{dst!r} is gone (was the quarantine emptied?) and {src!r} holds "
                    "another file now"
                )
            return None
        return f"{src!r} is neither at its place nor at {dst!r} (was the quarantine emptied?)"

    @staticmethod
    def _both_hold(
        op: Op, src: str, dst: str, s_now: os.stat_result, d_now: os.stat_result
    ) -> bool:
        """Do the regular files at ``src`` and ``dst`` both hold the journaled bytes?"""
        want = op.intent.digest or (op.copying.digest if op.copying else None)
        if not want or not (stat.S_ISREG(s_now.st_mode) and stat.S_ISREG(d_now.st_mode)):
            return False
        if s_now.st_size != d_now.st_size:
            return False
        return safefs.digest(src) == want and safefs.digest(dst) == want

    # -- one batch -----------------------------------------------------------------------
    def run(self) -> None:
        records = self.journal.batch_records(self.batch)
        ops = _ops(records)
        problems: list[str] = []
        folders = recreate(self, records)  # before any file goes back into them
        paths = [f.path for f in folders]
        self.report.folders += paths
        verb = "would recreate" if self.dry else "recreated"
        self.notes += listed(f"{verb} a folder the batch had emptied and removed:", paths)
        for k in sorted(ops, reverse=True):
            op = ops[k]
            if k in self.handled or op.undone:
                continue
            if op.failed:
                if kind_is_move(op) and not self.dry:
                    self.drop_leftover_name(op)
                continue
            owner = for_operation(op.intent.kind)
            self.log(R.UndoIntent(self.batch, k))
            problem: str | None
            try:
                if owner is None:
                    problem = f"unknown operation {op.intent.kind!r} in the journal"
                else:
                    problem = owner.undo(self, op, ops)
            except (OSError, ValueError) as e:
                problem = (
                    f"could not restore {op.intent.src!r}: {getattr(e, 'strerror', None) or e}"
                )
            if problem:
                problems.append(problem)
                continue
            self.log(R.Undone(self.batch, k))
            if owner is not None and owner.restores():
                self.report.restored.append(op.intent.src)
        if not self.dry:
            restore_times(folders)
        self.log(R.UndoRun(self.batch, not problems, problems))
        self.report.problems += problems

    def drop_leftover_name(self, op: Op) -> None:
        """A failed move whose rollback also failed leaves our second name at dst: drop it
        (the same inode under both names, seen at the same moment)."""
        src, dst = op.intent.src, op.intent.dst or ""
        s_now, _ = self.at(src)
        d_now, _ = self.at(dst)
        both = s_now is not None and d_now is not None
        if both and (s_now.st_dev, s_now.st_ino) == (d_now.st_dev, d_now.st_ino):  # type: ignore[union-attr]
            with contextlib.suppress(OSError):
                safefs.remove_name(dst, safefs.Ident.of(d_now))  # type: ignore[arg-type]
                _prune(os.path.dirname(dst))


def kind_is_move(op: Op) -> bool:
    return op.intent.kind == "move"


def _prune(folder: str) -> None:
    """Remove folders emptied by undo inside a batch's quarantine folder, the batch folder
    included (and ``.dedup-tui/duplicates`` when it is left empty); never anything else."""
    marker = os.sep + QUARANTINE + os.sep
    while True:
        inside_q = marker in folder + os.sep
        if not inside_q or not safefs.rmdir_if_empty(folder):
            return
        if folder.endswith(os.sep + QUARANTINE):
            return
        folder = os.path.dirname(folder)


def undo_batch(journal: Journal, batch: str, report: UndoReport) -> None:
    """Reverse one batch, newest operation first; records each reversal in the journal."""
    report.batches.append(batch)
    u = _Undo(journal, batch, report.dry_run, report)
    u.run()
    if not report.dry_run:  # the batch's own folders (quarantine, --move-to) once empty
        prune_batch_folders(journal.batch_records(batch))


def _pending(journal: Journal) -> list[BatchInfo]:
    """Batches undo can still act on: not undone, not a permanent delete."""
    return [b for b in journal.batches() if b.state != "undone" and not b.irreversible]


def _irreversible_note(b: BatchInfo) -> str:
    return f"batch {b.id} deleted files permanently; it cannot be undone"


@contextlib.contextmanager
def _locked(journal: Journal, batches: list[str], report: UndoReport):
    """The journal lock plus the tree locks of every batch's roots and destination."""
    roots: set[str] = set()
    dests: set[str] = set()
    for r in journal.records():
        if isinstance(r, R.BatchStart) and r.batch in batches:
            roots.update(x for x in (r.roots or []) if _still_real(x))
            if r.move_to and _still_real(r.move_to):
                dests.add(r.move_to)
    with contextlib.ExitStack() as stack:
        if roots or dests:
            dest = sorted(dests)[0] if len(dests) == 1 else None
            extra = sorted(dests) if len(dests) > 1 else []
            lock = stack.enter_context(
                tree_lock(sorted(roots) + extra, dest, command="dedup-tui undo")
            )
            report.notes += lock.notes
        stack.enter_context(journal.locked())
        if not report.dry_run:
            report.notes += clear_leftovers(journal)
        yield


def _still_real(folder: str) -> bool:
    """Is ``folder`` still a folder reached without a symlink? A root or destination swapped
    for a symlink since the batch is not locked (that would write our lock file wherever the
    link points); the files under it are refused one by one anyway."""
    return os.path.isdir(folder) and os.path.realpath(folder) == os.path.normpath(folder)


def undo(
    batch_id: str | None = None, *, journal: Journal | None = None, dry_run: bool = False
) -> UndoReport:
    """Reverse ``batch_id``, or the newest batch not yet undone."""
    journal = journal or Journal()
    report = UndoReport(dry_run=dry_run)
    pending = _pending(journal)
    report.notes += journal.warnings
    if batch_id is None:
        if not pending:
            return report
        target = pending[-1]
        every = journal.batches()
        newer = every[[b.id for b in every].index(target.id) + 1 :]
        report.notes += [_irreversible_note(b) for b in newer if b.irreversible]
    else:
        found = next((b for b in journal.batches() if b.id == batch_id), None)
        if found is None:
            report.problems.append(f"no batch {batch_id!r} in the journal")
            return report
        target = found
        if target.state == "undone":
            report.problems.append(f"batch {batch_id} was already undone")
            return report
        if target.irreversible:
            report.problems.append(_irreversible_note(target))
            return report
    with _locked(journal, [target.id], report):
        undo_batch(journal, target.id, report)
    return report


def undo_all(*, journal: Journal | None = None, dry_run: bool = False) -> UndoReport:
    """Reverse every batch still reversible, newest first."""
    journal = journal or Journal()
    report = UndoReport(dry_run=dry_run)
    pending = _pending(journal)
    report.notes += journal.warnings
    with _locked(journal, [b.id for b in pending], report):
        for b in reversed(pending):
            undo_batch(journal, b.id, report)
    report.notes += [_irreversible_note(b) for b in journal.batches() if b.irreversible]
    return report
