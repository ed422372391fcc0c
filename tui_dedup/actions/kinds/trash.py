"""Trash: the marked file goes to the system trash, where the freedesktop rules put it.

Where there is no usable trash on the file's own filesystem (network mounts, servers), or the
trash refuses it, the file goes to the batch's quarantine folder instead — never to deletion.
send2trash takes a path: the file is re-checked just before the call (README says what window
remains).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

from .. import records as R
from .. import safefs, trash
from .base import Kind, Op, Runner, StepFailed, Undoer, reason_of

if TYPE_CHECKING:
    from ..steps import Step


class Trash(Kind):
    name: ClassVar[str] = "trash"
    op_kinds: ClassVar[tuple[str, ...]] = ("trash",)

    def where(self) -> str:
        return "trash"

    def prepare(self, step: Step) -> None:
        step.trash_fallback = trash.trash_dir_for(step.real) is None

    def uses_our_folder(self, step: Step) -> bool:
        return step.trash_fallback or trash.trash_dir_for(step.real) is None

    def describe(self, step: Step) -> str:
        if step.trash_fallback:
            return f"trash {step.entry.path!r} (no usable trash here: quarantine → {step.dest!r})"
        return f"trash {step.entry.path!r}"

    def act(
        self,
        runner: Runner,
        step: Step,
        path: str,
        target: str,
        ident: safefs.Ident,
        digest: str | None,
    ) -> None:
        if step.trash_fallback or trash.trash_dir_for(path) is None:
            if not step.trash_fallback:
                runner.report.notes.append(f"no usable trash for {path!r}: moved to the quarantine")
            runner.move(path, target, ident, digest, step.may_copy, fallback=True)
            return
        k = runner.next_op()
        t0 = time.time()
        runner.log(
            R.Intent(runner.batch, k, "trash", path, size=ident.size, digest=digest, time=t0)
        )
        runner.cp("intent")
        now, _ = safefs.regular_file(path)  # send2trash takes a path: check once more just before
        if now is None or not now.same_inode(ident):
            runner.log(R.Failed(runner.batch, k, "changed just before it was trashed"))
            raise StepFailed("changed just before it was trashed; left in place")
        try:
            went = trash.send(path)
        except Exception as e:  # send2trash raises many kinds; the file must not be lost
            if safefs.exists(path):
                runner.log(R.Failed(runner.batch, k, reason_of(e)))
                runner.report.notes.append(
                    f"the trash refused {path!r} ({reason_of(e)}): moved to the quarantine"
                )
                runner.move(path, target, ident, digest, step.may_copy, fallback=True)
                return
            went = trash.find(path, t0 - 2, time.time() + 2, ident.size)
        rec = R.Done(runner.batch, k)
        if went is not None:
            rec = R.Done(runner.batch, k, trash_file=went.file, trash_info=went.info)
        runner.log(rec)
        runner.cp("done")

    def undo(self, undoer: Undoer, op: Op, ops: Mapping[int, Op]) -> str | None:
        src = op.intent.src
        done = op.done
        found = None
        s_now, problem = undoer.at(src)
        if problem:
            return f"not restoring {src!r}: {problem}"
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
        if undoer.dry:
            return None
        real = os.path.realpath(found.file)  # our own trash folder: following links is fine
        undoer.put_back_from(op, real, src)
        if found.info:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(found.info)
        return None
