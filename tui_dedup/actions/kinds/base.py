"""What every action kind answers, and the two interfaces it works through.

A kind never touches the disk on its own account: it calls the apply runner's journaled
primitives (``move``, ``log``...) and the undoer's (``undo_move``, ``at``...), which keep the
promises of :mod:`tui_dedup.actions.apply` and :mod:`tui_dedup.actions.undo` (re-check,
journal before and after, never clobber, restore first). The Protocols below are those
primitives, so kinds depend on an interface and apply/undo on the kinds, not on each other.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Protocol

from .. import records as R
from .. import safefs

if TYPE_CHECKING:
    from ...engine.model import FileEntry
    from ..steps import Step


class StepFailed(Exception):
    """An operation failed cleanly: the file is still at its source."""


def reason_of(e: BaseException) -> str:
    """A one-line reason for an exception, as a user reads it."""
    if isinstance(e, OSError) and e.strerror:
        return e.strerror
    return str(e) or type(e).__name__


class Report(Protocol):
    """What a kind adds to the apply report."""

    notes: list[str]
    errors: list[tuple[str, str]]


class Seen(Protocol):
    """What the runner last saw of each file: a kind tells it after changing one."""

    def note(self, path: str) -> None: ...


class Runner(Protocol):
    """The apply runner's primitives that kinds use."""

    @property
    def batch(self) -> str: ...
    @property
    def op(self) -> int: ...
    @property
    def report(self) -> Report: ...
    @property
    def seen(self) -> Seen: ...
    @property
    def cp(self) -> Callable[[str], None]: ...

    def log(self, rec: R.Record) -> None: ...
    def next_op(self) -> int: ...
    def dest_for(self, step: Step, path: str) -> str: ...
    def move(
        self,
        src: str,
        dst: str,
        expect: safefs.Ident,
        digest: str | None,
        may_copy: bool,
        **kw: bool,
    ) -> str: ...


class Undoer(Protocol):
    """The undo primitives that kinds use."""

    @property
    def batch(self) -> str: ...
    @property
    def dry(self) -> bool: ...
    @property
    def handled(self) -> set[int]: ...
    @property
    def notes(self) -> list[str]: ...

    def log(self, rec: R.Record) -> None: ...
    def prune(self, folder: str) -> None: ...
    def at(self, path: str) -> tuple[os.stat_result | None, str | None]: ...
    def undo_move(self, op: Op) -> str | None: ...
    def put_back_from(self, op: Op, real: str, src: str) -> None: ...


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


class Kind:
    """One kind of action. The defaults are those of a move to the quarantine."""

    name: ClassVar[str] = ""
    #: The journal operation kinds this kind writes and knows how to undo.
    op_kinds: ClassVar[tuple[str, ...]] = ()
    #: Before acting, both the file and the copy that stays must hold their planned bytes.
    strict: ClassVar[bool] = False
    #: Cannot be undone: a plan of this kind asks for a typed confirmation word.
    irreversible: ClassVar[bool] = False
    #: Sidecars (.xmp, .aae, .thm) follow the image.
    with_sidecars: ClassVar[bool] = True
    #: Files go to a folder of ours (the quarantine or --move-to).
    has_destination: ClassVar[bool] = True

    # -- planning ------------------------------------------------------------------------
    def choose_partner(self, m: FileEntry, kept: list[FileEntry]) -> FileEntry | None:
        """The copy of ``m`` that must stay for the step to run (None: refuse the step)."""
        return kept[0] if kept else None

    def no_partner(self, m: FileEntry) -> str:
        return f"{m.path!r} has no copy that stays"

    def prepare(self, step: Step) -> None:
        """Kind-specific planning of one step (e.g. where the trash cannot be used)."""

    def uses_our_folder(self, step: Step) -> bool:
        """Will this step put a file in a folder of ours (which then gets the marker that
        keeps scans out)?"""
        return self.has_destination

    def describe(self, step: Step) -> str:
        """One line of the plan a person confirms."""
        raise NotImplementedError

    def where(self) -> str:
        """Where removed files go, for the plan's head line."""
        return "quarantine"

    # -- applying ------------------------------------------------------------------------
    def check(self, step: Step, now: safefs.Ident, keep: safefs.Ident) -> str | None:
        """A kind's own reason to refuse a step, after the common checks passed."""
        return None

    def run(
        self, runner: Runner, step: Step, files: list[tuple[str, str]], expect: safefs.Ident
    ) -> None:
        """Carry out the step: ``files`` is [(image, destination), *(sidecar, destination)]."""
        for i, (path, target) in enumerate(files):
            try:
                ident = expect if i == 0 else safefs.Ident.of(safefs.lstat(path))
                self.act(runner, step, path, target, ident, step.digest if i == 0 else None)
            except (StepFailed, OSError) as e:
                if i == 0:
                    raise StepFailed(str(e) if isinstance(e, StepFailed) else reason_of(e)) from e
                runner.report.errors.append((path, "sidecar could not follow its image"))

    def act(
        self,
        runner: Runner,
        step: Step,
        path: str,
        target: str,
        ident: safefs.Ident,
        digest: str | None,
    ) -> None:
        """Carry out the step for one file (the image, or one of its sidecars)."""
        raise NotImplementedError

    # -- undoing -------------------------------------------------------------------------
    def undo(self, undoer: Undoer, op: Op, ops: Mapping[int, Op]) -> str | None:
        """Reverse one of this kind's operations; None when the file is back, else why not."""
        return f"unknown operation {op.intent.kind!r} in the journal"

    def restores(self) -> bool:
        """Does a successful undo of this kind's operations put a file back?"""
        return True
