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
"""

from __future__ import annotations

import contextlib
import os
import stat
from dataclasses import dataclass, field

from . import records as R
from . import safefs, trash
from .copying import copy_verified, temp_name
from .fsops import CrossDevice
from .journal import BatchInfo, Journal
from .leftovers import clear_leftovers
from .locks import tree_lock
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


@dataclass(slots=True)
class Op:
    """One operation as the journal tells it: its intent and what followed."""

    intent: R.Intent
    copying: R.Copying | None = None
    done: R.Done | None = None
    failed: bool = False
    undone: bool = False
    undo_copy: bool = False  # an undo started copying it back (journaled its temporary name)

    @property
    def dst(self) -> str | None:
        return (self.done.dst if self.done and self.done.dst else None) or self.intent.dst


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
    def __init__(self, journal: Journal, batch: str, dry: bool, report: UndoReport) -> None:
        self.journal, self.batch, self.dry, self.report = journal, batch, dry, report

    def log(self, rec: R.Record) -> None:
        if not self.dry:
            self.journal.append(rec)

    # -- the two places ------------------------------------------------------------------
    @staticmethod
    def _at(path: str) -> tuple[os.stat_result | None, str | None]:
        try:
            return safefs.lstat(path), None
        except FileNotFoundError:
            return None, None
        except safefs.PathRefused:
            return None, f"a folder on the way to {path!r} is now a symlink (or a file)"
        except OSError as e:
            return None, f"cannot reach {path!r}: {e.strerror}"

    def _put_back(self, op: Op, src: str, dst: str, d_now: os.stat_result) -> None:
        """The file at ``dst`` goes back to ``src`` (free): a rename, or a verified copy whose
        source is removed only after the copy is in place."""
        expect = safefs.Ident.of(d_now)
        try:
            safefs.move(dst, src, expect)
        except CrossDevice:
            tmp = temp_name(src)
            self.log(R.TempName(self.batch, op.intent.op, tmp, undo=True))
            want = op.intent.digest or (op.copying.digest if op.copying else None)
            copied = copy_verified(dst, src, tmp, expected_digest=want)
            self.report.notes += copied.notes
            safefs.remove_name(dst, expect)
        _prune(os.path.dirname(dst))

    def undo_move(self, op: Op) -> str | None:
        """None when the file is (now) at its original place, else the problem."""
        src, dst = op.intent.src, op.dst or ""
        s_now, why = self._at(src)
        if why:
            return f"not restoring {src!r}: {why}"
        d_now, why = self._at(dst)
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

    def undo_link(self, link: Op, moved: Op | None) -> str | None:
        """Replace the link with the original — only once the original is back beside it."""
        orig, kind = link.intent.src, link.intent.kind
        o_now, why = self._at(orig)
        if why:
            return f"not restoring {orig!r}: {why}"
        if o_now is None:
            return self.undo_move(moved) if moved is not None else None
        if not self._ours(link, o_now):
            return f"{orig!r} was changed after it became a {kind}; leaving it alone"
        if moved is None:
            return f"the journal does not say where the original of {orig!r} went; link kept"
        q = moved.dst or ""
        q_now, why = self._at(q)
        if why or q_now is None:
            reach = "so the picture is still reachable"
            # A symlink whose keeper was removed too reaches nothing: say so rather than
            # promise a picture that is gone (following it here only reads, for the message).
            if kind == "symlink" and not os.path.exists(orig):
                gone = link.intent.keeper or link.intent.target
                reach = f"but the file it points at, {gone!r}, is gone too"
            return (
                f"the original of {orig!r} is no longer at {q!r} (was the quarantine "
                f"emptied?); the {kind} stays, {reach}"
            )
        i = moved.intent
        if (i.size is not None and q_now.st_size != i.size) or (
            i.mtime_ns is not None and q_now.st_mtime_ns != i.mtime_ns
        ):
            return f"{q!r} is not the original that was moved there; the {kind} stays"
        if self.dry:
            return None
        tmp = temp_name(orig)
        self.log(R.TempName(self.batch, link.intent.op, tmp, undo=True))
        q_ident = safefs.Ident.of(q_now)
        try:
            safefs.add_name(q, tmp)
            same_fs = True
        except OSError as e:
            if e.errno != 18:  # EXDEV
                raise
            copied = copy_verified(q, tmp, temp_name(orig), expected_digest=i.digest)
            self.report.notes += copied.notes
            same_fs = False
        safefs.replace_own(tmp, orig, safefs.Ident.of(o_now))
        back = safefs.lstat(orig)
        if same_fs and (back.st_dev, back.st_ino) != (q_ident.dev, q_ident.ino):
            return f"{orig!r} changed while it was restored; the original also stays at {q!r}"
        safefs.remove_name(q, q_ident)
        self.log(R.Undone(self.batch, moved.intent.op))
        _prune(os.path.dirname(q))
        return None

    @staticmethod
    def _ours(link: Op, now: os.stat_result) -> bool:
        i = link.intent
        if i.kind == "symlink":
            if not stat.S_ISLNK(now.st_mode):
                return False
            with contextlib.suppress(OSError):
                return safefs.readlink(i.src) == i.target
            return False
        if not stat.S_ISREG(now.st_mode) or (i.size is not None and now.st_size != i.size):
            return False
        if i.digest:
            return safefs.digest(i.src) == i.digest
        # A journal of the previous release: the keeper and the link must be one inode now.
        keeper = i.keeper or i.target
        if not keeper:
            return False
        k_now, _ = _Undo._at(keeper)
        return k_now is not None and (k_now.st_dev, k_now.st_ino) == (now.st_dev, now.st_ino)

    def undo_trash(self, op: Op) -> str | None:
        src = op.intent.src
        done = op.done
        found = None
        s_now, why = self._at(src)
        if why:
            return f"not restoring {src!r}: {why}"
        if done and done.trash_file and os.path.lexists(done.trash_file):
            found = trash.Trashed(done.trash_file, done.trash_info or "")
        elif s_now is not None:
            return None  # never left (or already restored)
        elif trash.FREEDESKTOP and op.intent.time is not None:
            t = op.intent.time
            found = trash.find(src, t - 2, t + 24 * 3600, op.intent.size)
        if found is None:
            if not trash.FREEDESKTOP:
                return (
                    f"cannot restore {src!r} automatically here: restore it from the system Trash"
                )
            return f"cannot restore {src!r}: it is not in the trash any more (emptied?)"
        if s_now is not None:
            return f"{src!r} exists again (something new is there); it stays in the trash"
        if self.dry:
            return None
        real = os.path.realpath(found.file)  # our own trash folder: following links is fine
        expect = safefs.Ident.of(safefs.lstat(real))
        try:
            safefs.move(real, src, expect)
        except CrossDevice:
            tmp = temp_name(src)
            self.log(R.TempName(self.batch, op.intent.op, tmp, undo=True))
            copied = copy_verified(real, src, tmp, expected_digest=op.intent.digest)
            self.report.notes += copied.notes
            safefs.remove_name(real, expect)
        if found.info:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(found.info)
        return None

    # -- one batch -----------------------------------------------------------------------
    def run(self) -> None:
        records = self.journal.batch_records(self.batch)
        ops = _ops(records)
        handled: set[int] = set()
        problems: list[str] = []
        for k in sorted(ops, reverse=True):
            op = ops[k]
            if k in handled or op.undone:
                continue
            if op.failed:
                if kind_is_move(op) and not self.dry:
                    self.drop_leftover_name(op)
                continue
            kind = op.intent.kind
            moved = None
            if kind in ("hardlink", "symlink"):
                moved = self._moved_by(ops, op)
                if moved is not None:
                    handled.add(moved.intent.op)
                    if moved.undone:
                        moved = None
            self.log(R.UndoIntent(self.batch, k))
            try:
                if kind == "move":
                    problem = self.undo_move(op)
                elif kind == "trash":
                    problem = self.undo_trash(op)
                elif kind in ("hardlink", "symlink"):
                    problem = self.undo_link(op, moved)
                elif safefs.exists(op.intent.src):
                    problem = None
                else:
                    problem = f"{op.intent.src!r} was permanently deleted; it cannot be restored"
            except (OSError, ValueError) as e:
                problem = (
                    f"could not restore {op.intent.src!r}: {getattr(e, 'strerror', None) or e}"
                )
            if problem:
                problems.append(problem)
                continue
            self.log(R.Undone(self.batch, k))
            if kind != "delete":
                self.report.restored.append(op.intent.src)
        self.log(R.UndoRun(self.batch, not problems, problems))
        self.report.problems += problems

    def drop_leftover_name(self, op: Op) -> None:
        """A failed move whose rollback also failed leaves our second name at dst: drop it
        (the same inode under both names, seen at the same moment)."""
        src, dst = op.intent.src, op.intent.dst or ""
        s_now, _ = self._at(src)
        d_now, _ = self._at(dst)
        both = s_now is not None and d_now is not None
        if both and (s_now.st_dev, s_now.st_ino) == (d_now.st_dev, d_now.st_ino):  # type: ignore[union-attr]
            with contextlib.suppress(OSError):
                safefs.remove_name(dst, safefs.Ident.of(d_now))  # type: ignore[arg-type]
                _prune(os.path.dirname(dst))

    @staticmethod
    def _moved_by(ops: dict[int, Op], link: Op) -> Op | None:
        """The move that took a link's original to the quarantine (the op just before it in a
        journal of the previous release, which did not record it)."""
        k = link.intent.moved_by
        if k is None:
            k = link.intent.op - 1
        op = ops.get(k)
        if op is None or op.intent.kind != "move" or op.intent.src != link.intent.src:
            return None
        return op


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
    if not report.dry_run:
        _prune_move_to(journal, batch)


def _prune_move_to(journal: Journal, batch: str) -> None:
    """The batch's own folder inside a ``--move-to`` destination goes once it is empty."""
    start = next((r for r in journal.batch_records(batch) if isinstance(r, R.BatchStart)), None)
    if start is None or not start.move_to or not start.folder:
        return
    top = os.path.join(start.move_to, start.folder)
    for d, dirs, _files in sorted(os.walk(top, topdown=False), reverse=False):
        del dirs
        if safefs.inside(d, top):
            safefs.rmdir_if_empty(d)


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
            roots.update(x for x in (r.roots or []) if os.path.isdir(x))
            if r.move_to and os.path.isdir(r.move_to):
                dests.add(r.move_to)
    with contextlib.ExitStack() as stack:
        if roots or dests:
            dest = sorted(dests)[0] if len(dests) == 1 else None
            extra = sorted(dests)[1:] if len(dests) > 1 else []
            lock = stack.enter_context(
                tree_lock(sorted(roots) + extra, dest, command="dedup-tui undo")
            )
            report.notes += lock.notes
        stack.enter_context(journal.locked())
        if not report.dry_run:
            report.notes += clear_leftovers(journal)
        yield


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
