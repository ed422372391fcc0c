"""Hard link / symlink: a byte-identical copy is replaced by a link to the copy that stays.

The original goes to the quarantine first (a journaled move), then the link takes its name.
Undo restores first: the original is linked (or copied and verified) to a temporary name
beside the link and renamed over it, and only then leaves the quarantine; if it is gone from
the quarantine, the link stays, so the picture is still reachable. A symlink's text is
written relative to the real places of both files, so it resolves from where the link is.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

from .. import records as R
from .. import safefs
from ..copying import copy_verified, temp_name
from .base import Kind, Op, Runner, StepFailed, Undoer, reason_of

if TYPE_CHECKING:
    from ...engine.model import FileEntry
    from ..steps import Step


class _Link(Kind):
    op_kinds: ClassVar[tuple[str, ...]] = ()
    strict: ClassVar[bool] = True
    with_sidecars: ClassVar[bool] = False  # the image's path still exists, as a link

    def choose_partner(self, m: FileEntry, kept: list[FileEntry]) -> FileEntry | None:
        return next((k for k in kept if k.dev == m.dev and k.size == m.size), None)

    def no_partner(self, m: FileEntry) -> str:
        return (
            f"{m.path!r} has no unmarked identical-size copy on the same filesystem to "
            f"{self.name} to"
        )

    def describe(self, step: Step) -> str:
        return f"{self.name} {step.entry.path!r} → {step.keeper!r} (original kept in {step.dest!r})"

    def check(self, step: Step, now: safefs.Ident, keep: safefs.Ident) -> str | None:
        if now.dev != keep.dev:
            return "the copy that stays is on another filesystem"
        if step.digest != step.partner_digest or step.digest is None:
            return "not byte-identical to the copy that stays (digests differ)"
        return None

    def text(self, orig: str, keeper: str) -> str:
        """What the link holds (a symlink's text; a hard link's target path, for the record)."""
        return keeper

    def make(self, runner: Runner, orig: str, keeper: str, text: str) -> None:
        raise NotImplementedError

    def run(
        self, runner: Runner, step: Step, files: list[tuple[str, str]], expect: safefs.Ident
    ) -> None:
        orig, keeper = step.real, step.partner_real
        moved_by = runner.op + 1
        dest = runner.move(orig, runner.dest_for(step, orig), expect, step.digest, step.may_copy)
        k = runner.next_op()
        text = self.text(orig, keeper)
        runner.log(
            R.Intent(
                runner.batch,
                k,
                self.name,
                orig,
                size=expect.size,
                digest=step.partner_digest,
                target=text,
                keeper=keeper,
                moved_by=moved_by,
            )
        )
        runner.cp("intent")
        try:
            self.make(runner, orig, keeper, text)
        except OSError as e:
            runner.log(R.Failed(runner.batch, k, reason_of(e)))
            # Put the original back so the user sees the tree as it was.
            runner.log(R.UndoIntent(runner.batch, moved_by))
            safefs.move(dest, orig, safefs.Ident.of(safefs.lstat(dest)))
            runner.log(R.Undone(runner.batch, moved_by))
            raise StepFailed(f"could not create the {self.name}: {reason_of(e)}") from e
        runner.log(R.Done(runner.batch, k))
        runner.cp("done")

    # -- undo ----------------------------------------------------------------------------
    def undo(self, undoer: Undoer, op: Op, ops: Mapping[int, Op]) -> str | None:
        moved = _moved_by(ops, op)
        if moved is not None:
            undoer.handled.add(moved.intent.op)
            if moved.undone:
                moved = None
        orig = op.intent.src
        o_now, problem = undoer.at(orig)
        if problem:
            return f"not restoring {orig!r}: {problem}"
        if o_now is None:
            return undoer.undo_move(moved) if moved is not None else None
        if not self.ours(undoer, op, o_now):
            return f"{orig!r} was changed after it became a {self.name}; leaving it alone"
        if moved is None:
            return f"the journal does not say where the original of {orig!r} went; link kept"
        q = moved.dst or ""
        q_now, problem = undoer.at(q)
        if problem or q_now is None:
            reach = "so the picture is still reachable"
            # A symlink whose keeper was removed too reaches nothing: say so rather than
            # promise a picture that is gone (following it here only reads, for the message).
            if self.name == "symlink" and not os.path.exists(orig):
                gone = op.intent.keeper or op.intent.target
                reach = f"but the file it points at, {gone!r}, is gone too"
            return (
                f"the original of {orig!r} is no longer at {q!r} (was the quarantine "
                f"emptied?); the {self.name} stays, {reach}"
            )
        i = moved.intent
        if (i.size is not None and q_now.st_size != i.size) or (
            i.mtime_ns is not None and q_now.st_mtime_ns != i.mtime_ns
        ):
            return f"{q!r} is not the original that was moved there; the {self.name} stays"
        if undoer.dry:
            return None
        return _restore_over_link(undoer, op, moved, q, q_now, o_now)

    def ours(self, undoer: Undoer, link: Op, now: os.stat_result) -> bool:
        """Is the entry at the link's path still the link we made?"""
        i = link.intent
        if not stat.S_ISREG(now.st_mode) or (i.size is not None and now.st_size != i.size):
            return False
        if i.digest:
            return safefs.digest(i.src) == i.digest
        # A journal of the previous release: the keeper and the link must be one inode now.
        keeper = i.keeper or i.target
        if not keeper:
            return False
        k_now, _ = undoer.at(keeper)
        return k_now is not None and (k_now.st_dev, k_now.st_ino) == (now.st_dev, now.st_ino)


class HardLink(_Link):
    name: ClassVar[str] = "hardlink"
    op_kinds: ClassVar[tuple[str, ...]] = ("hardlink",)

    def make(self, runner: Runner, orig: str, keeper: str, text: str) -> None:
        safefs.make_hardlink(keeper, orig)
        made, keep_now = safefs.lstat(orig), safefs.lstat(keeper)
        if (made.st_dev, made.st_ino) != (keep_now.st_dev, keep_now.st_ino):
            safefs.remove_name(orig, safefs.Ident.of(made))
            raise OSError(0, "the copy that stays changed while linking")
        runner.seen.note(keeper)  # a new link changes its ctime, not its content


class SymLink(_Link):
    name: ClassVar[str] = "symlink"
    op_kinds: ClassVar[tuple[str, ...]] = ("symlink",)

    def text(self, orig: str, keeper: str) -> str:
        return os.path.relpath(keeper, os.path.dirname(orig))

    def make(self, runner: Runner, orig: str, keeper: str, text: str) -> None:
        safefs.make_symlink(text, orig)

    def ours(self, undoer: Undoer, link: Op, now: os.stat_result) -> bool:
        if not stat.S_ISLNK(now.st_mode):
            return False
        with contextlib.suppress(OSError):
            return safefs.readlink(link.intent.src) == link.intent.target
        return False


def _moved_by(ops: Mapping[int, Op], link: Op) -> Op | None:
    """The move that took a link's original to the quarantine (the op just before it in a
    journal of the previous release, which did not record it)."""
    k = link.intent.moved_by
    if k is None:
        k = link.intent.op - 1
    op = ops.get(k)
    if op is None or op.intent.kind != "move" or op.intent.src != link.intent.src:
        return None
    return op


def _restore_over_link(
    undoer: Undoer, link: Op, moved: Op, q: str, q_now: os.stat_result, o_now: os.stat_result
) -> str | None:
    """The original (at ``q``) back at the link's path: beside it first, then over it."""
    orig = link.intent.src
    tmp = temp_name(orig)
    undoer.log(R.TempName(undoer.batch, link.intent.op, tmp, undo=True))
    q_ident = safefs.Ident.of(q_now)
    try:
        safefs.add_name(q, tmp)
        same_fs = True
    except OSError as e:
        if e.errno != errno.EXDEV:
            raise
        copied = copy_verified(q, tmp, temp_name(orig), expected_digest=moved.intent.digest)
        undoer.notes.extend(copied.notes)
        same_fs = False
    safefs.replace_own(tmp, orig, safefs.Ident.of(o_now))
    back = safefs.lstat(orig)
    if same_fs and (back.st_dev, back.st_ino) != (q_ident.dev, q_ident.ino):
        return f"{orig!r} changed while it was restored; the original also stays at {q!r}"
    safefs.remove_name(q, q_ident)
    undoer.log(R.Undone(undoer.batch, moved.intent.op))
    undoer.prune(os.path.dirname(q))
    return None
