"""Run a plan: re-check every file, journal every operation, act, report.

Why re-check here and not trust the plan: minutes or days may pass between plan and apply. A
file that changed or vanished since the scan is skipped and reported; a group whose last
unmarked copy is gone is refused (the keeper invariant), however the plan looked.

``checkpoint`` is called with a short label between every durable change; it exists so tests
can simulate a crash (raise a BaseException, or pause and get killed) at each of those points.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..engine.model import FileEntry
from . import trash
from .fsops import (
    CrossDevice,
    copy_verified,
    file_digest,
    fsync_dir,
    makedirs,
    move_noreplace,
    unique_name,
)
from .journal import Journal
from .paths import free_destination, in_folder, quarantine_base, root_labels
from .plan import Plan, Step, human_bytes

Progress = Callable[[int, int, str], None]


class StepFailed(Exception):
    """An operation failed cleanly: the file is still at its source."""


@dataclass(slots=True)
class ApplyReport:
    """What happened, in terms a user can check on disk."""

    batch: str | None
    dry_run: bool = False
    done: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    bytes_freed: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def lines(self) -> list[str]:
        verb = "would act on" if self.dry_run else "done"
        out = [
            f"{verb}: {len(self.done)} file(s), {human_bytes(self.bytes_freed)}; "
            f"skipped {len(self.skipped)}; errors {len(self.errors)}"
            + (f"; batch {self.batch}" if self.batch else "")
        ]
        out += [f"skipped {p!r}: {r}" for p, r in self.skipped]
        out += [f"error {p!r}: {r}" for p, r in self.errors]
        out += self.notes
        return out


def unchanged(path: str, size: int, mtime_ns: int) -> str | None:
    """None if ``path`` is still a file of that size and mtime, else the reason it is not."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return "vanished since the scan"
    except OSError as e:
        return f"cannot check it: {e.strerror}"
    if stat.S_ISDIR(st.st_mode):
        return "is now a folder"
    if st.st_size != size or st.st_mtime_ns != mtime_ns:
        return "changed since the scan (size or modification time differ)"
    return None


def _entry_ok(e: FileEntry) -> str | None:
    return unchanged(e.path, e.size, e.mtime_ns)


class _Runner:
    def __init__(self, plan: Plan, journal: Journal, dry_run: bool, checkpoint) -> None:
        self.plan, self.journal, self.dry_run = plan, journal, dry_run
        self.cp = checkpoint or (lambda label: None)
        self.marked = set(plan.marked)
        self.batch: str | None = None
        self.op = 0
        self._digests: dict[str, str] = {}
        self.labels = root_labels(e.root for g in plan.groups for e in g)
        self.report = ApplyReport(batch=None, dry_run=dry_run)

    def digest(self, path: str) -> str:
        """Keeper digests are cached: one keeper may be compared with many duplicates."""
        if path not in self._digests:
            self._digests[path] = file_digest(path)
        return self._digests[path]

    def log(self, rec: dict) -> None:
        if not self.dry_run:
            self.journal.append({"batch": self.batch, **rec})

    # -- checks --------------------------------------------------------------------------
    def check(self, step: Step) -> str | None:
        if in_folder(step.entry.path, self.plan.keep_in):
            return "it is in a keep-in folder, which is never touched"
        why = _entry_ok(step.entry)
        if why:
            return why
        for s in step.sidecars:
            why = unchanged(s.path, s.size, s.mtime_ns)
            if why:
                return f"its sidecar {s.path!r} {why}"
        members = self.plan.groups[step.group]
        partners = [m for m in members if m.path not in self.marked]
        if not any(_entry_ok(m) is None for m in partners):
            gone = "; ".join(f"{m.path!r} {_entry_ok(m)}" for m in partners)
            return (
                f"group {step.group + 1}: no unmarked copy is still in place and unchanged "
                f"({gone}); refusing to remove what may be the last copy"
            )
        if step.action in ("hardlink", "symlink"):
            keeper = next((m for m in members if m.path == step.keeper), None)
            if keeper is None or _entry_ok(keeper):
                return f"the keeper {step.keeper!r} changed or vanished since the scan"
            if keeper.dev != os.lstat(step.entry.path).st_dev:
                return "the keeper is on another filesystem"
            if self.digest(keeper.path) != file_digest(step.entry.path):
                return "not byte-identical to the keeper (digests differ)"
        return None

    # -- operations ----------------------------------------------------------------------
    def move(self, src: str, dst: str, may_copy: bool, **extra) -> str:
        """Journaled no-clobber move; returns the destination actually used."""
        st = os.lstat(src)
        makedirs(os.path.dirname(dst))
        k = self.op = self.op + 1
        base, n = dst, 0
        while os.path.lexists(dst):
            n += 1
            dst = unique_name(base, n)
        rec = {"op": k, "kind": "move", "src": src, "dst": dst, "size": st.st_size}
        self.log({"rec": "intent", **rec, "dev": st.st_dev, "ino": st.st_ino} | extra)
        self.cp("intent")
        try:
            try:
                move_noreplace(src, dst, checkpoint=self.cp)
            except CrossDevice:
                if not may_copy:
                    raise StepFailed(
                        "the quarantine is on another filesystem; not copying into a folder "
                        "you did not choose (use move_to)"
                    ) from None
                digest = file_digest(src)
                self.log({"rec": "copying", "op": k, "digest": digest})
                copy_verified(src, dst, digest, checkpoint=self.cp)
                self.log({"rec": "copied", "op": k})
                self.cp("copied")
                os.unlink(src)
                fsync_dir(os.path.dirname(src))
                self.report.notes.append(f"copied {src!r} to another filesystem and verified it")
        except (OSError, ValueError, StepFailed) as e:
            self.log({"rec": "failed", "op": k, "error": _why(e)})
            raise StepFailed(_why(e)) from e
        self.log({"rec": "done", "op": k, "dst": dst})
        self.cp("done")
        return dst

    def trash(self, src: str, fallback: str | None, may_copy: bool) -> None:
        if trash.trash_dir_for(src) is None:
            self.report.notes.append(f"no usable trash for {src!r}: moved to the quarantine")
            self.move(src, fallback, may_copy, fallback=True)
            return
        size = os.lstat(src).st_size
        k = self.op = self.op + 1
        t0 = time.time()
        self.log({"rec": "intent", "op": k, "kind": "trash", "src": src, "size": size, "time": t0})
        self.cp("intent")
        try:
            where = trash.send(src)
        except Exception as e:  # send2trash raises many kinds; the file must not be lost
            if os.path.lexists(src):
                self.log({"rec": "failed", "op": k, "error": _why(e)})
                self.report.notes.append(
                    f"the trash refused {src!r} ({_why(e)}): moved to the quarantine"
                )
                self.move(src, fallback, may_copy, fallback=True)
                return
            where = trash.find(src, t0 - 2, time.time() + 2, size)
        rec = {"rec": "done", "op": k}
        if where is not None:
            rec |= {"trash_file": where.file, "trash_info": where.info}
        self.log(rec)
        self.cp("done")

    def link(self, step: Step) -> None:
        orig, keeper = step.entry.path, step.keeper
        kst = os.lstat(keeper)
        qk = self.op + 1
        self.move(orig, step.dest, step.may_copy)
        k = self.op = self.op + 1
        target = (
            os.path.relpath(keeper, os.path.dirname(orig)) if step.action == "symlink" else keeper
        )
        self.log(
            {"rec": "intent", "op": k, "kind": step.action, "src": orig, "target": target}
            | {"dev": kst.st_dev, "ino": kst.st_ino}
        )
        self.cp("intent")
        try:
            if step.action == "hardlink":
                os.link(keeper, orig)
            else:
                os.symlink(target, orig)
            fsync_dir(os.path.dirname(orig))
        except OSError as e:
            self.log({"rec": "failed", "op": k, "error": _why(e)})
            # Put the original back so the user sees the tree as it was.
            self.log({"rec": "undo-intent", "op": qk})
            move_noreplace(step.dest, orig)
            self.log({"rec": "undone", "op": qk})
            raise StepFailed(f"could not create the {step.action}: {_why(e)}") from e
        self.log({"rec": "done", "op": k})
        self.cp("done")

    def delete(self, src: str) -> None:
        k = self.op = self.op + 1
        size = os.lstat(src).st_size
        self.log({"rec": "intent", "op": k, "kind": "delete", "src": src, "size": size})
        self.cp("intent")
        try:
            os.unlink(src)
            fsync_dir(os.path.dirname(src))
        except OSError as e:
            self.log({"rec": "failed", "op": k, "error": _why(e)})
            raise StepFailed(_why(e)) from e
        self.log({"rec": "done", "op": k})
        self.cp("done")

    def run_step(self, step: Step) -> None:
        src = step.entry.path
        if step.action in ("hardlink", "symlink"):
            self.link(step)
            return
        dest, side_dest = step.dest, [s.dest for s in step.sidecars]
        if dest is not None and any(os.path.lexists(p) for p in [dest, *side_dest]):
            # Taken since planning: next free name from the same base, image and sidecars alike.
            base = quarantine_base(step.entry, self.plan.move_to, self.labels)
            dest, side_dest = free_destination(base, src, [s.path for s in step.sidecars], set())
        files = [(src, dest), *zip([s.path for s in step.sidecars], side_dest, strict=True)]
        for i, (path, target) in enumerate(files):
            try:
                if step.action == "delete":
                    self.delete(path)
                elif step.action == "trash" and not step.trash_fallback:
                    self.trash(path, target, step.may_copy)
                else:
                    self.move(path, target, step.may_copy)
            except StepFailed:
                if i == 0:
                    raise
                self.report.errors.append((path, "sidecar could not follow its image"))


def _why(e: BaseException) -> str:
    if isinstance(e, OSError) and e.strerror:
        return e.strerror
    return str(e) or type(e).__name__


def apply_plan(
    plan: Plan,
    *,
    journal: Journal,
    dry_run: bool = False,
    on_progress: Progress | None = None,
    confirm: str | None = None,
    checkpoint: Callable[[str], None] | None = None,
) -> ApplyReport:
    """Carry out ``plan``. A permanent delete needs ``confirm`` == ``plan.confirm_word``.

    ``dry_run`` performs every check (including digests for links) and reports what would be
    done, without touching a file or the journal.
    """
    r = _Runner(plan, journal, dry_run, checkpoint)
    if (
        plan.irreversible
        and not dry_run
        and (not plan.confirm_word or confirm != plan.confirm_word)
    ):
        r.report.errors.append(
            ("(plan)", f"permanent delete not confirmed: type {plan.confirm_word} to confirm")
        )
        return r.report
    total = len(plan.steps)
    if dry_run:
        return _run(r, plan, on_progress, total)
    with journal.locked():
        r.batch = r.report.batch = journal.new_batch(plan.action, total, move_to=plan.move_to)
        _run(r, plan, on_progress, total)
        rep = r.report
        r.log(
            {"rec": "end", "done": len(rep.done), "skipped": len(rep.skipped)}
            | {"errors": len(rep.errors), "bytes": rep.bytes_freed}
        )
    return r.report


def _run(r: _Runner, plan: Plan, on_progress: Progress | None, total: int) -> ApplyReport:
    for n, step in enumerate(plan.steps):
        path = step.entry.path
        if on_progress:
            on_progress(n, total, path)
        try:
            why = r.check(step)
        except OSError as e:
            why = f"cannot check it: {_why(e)}"
        if why:
            r.report.skipped.append((path, why))
            r.log({"rec": "skip", "path": path, "reason": why})
            continue
        if not r.dry_run:
            try:
                r.run_step(step)
            except (StepFailed, OSError) as e:
                r.report.errors.append((path, str(e) if isinstance(e, StepFailed) else _why(e)))
                continue
        r.report.done.append(path)
        r.report.bytes_freed += step.bytes
    if on_progress:
        on_progress(total, total, "")
    return r.report
