"""Delete: the marked file is removed for good (only with --allow-delete and a typed word).

Strict: both the file and the copy that stays must hold the bytes the plan saw, checked just
before the unlink; nothing goes to a folder of ours, and undo can only say so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

from .. import records as R
from .. import safefs
from .base import Kind, Op, Runner, StepFailed, Undoer, reason_of

if TYPE_CHECKING:
    from ..steps import Step


class Delete(Kind):
    name: ClassVar[str] = "delete"
    op_kinds: ClassVar[tuple[str, ...]] = ("delete",)
    strict: ClassVar[bool] = True
    irreversible: ClassVar[bool] = True
    has_destination: ClassVar[bool] = False

    def describe(self, step: Step) -> str:
        return f"DELETE {step.entry.path!r} (a copy stays: {step.keeper!r})"

    def act(
        self,
        runner: Runner,
        step: Step,
        path: str,
        target: str,
        ident: safefs.Ident,
        digest: str | None,
    ) -> None:
        k = runner.next_op()
        runner.log(R.Intent(runner.batch, k, "delete", path, size=ident.size, digest=digest))
        runner.cp("intent")
        try:
            safefs.remove_name(path, ident)
        except OSError as e:
            runner.log(R.Failed(runner.batch, k, reason_of(e)))
            raise StepFailed(reason_of(e)) from e
        runner.log(R.Done(runner.batch, k))
        runner.cp("done")

    def undo(self, undoer: Undoer, op: Op, ops: Mapping[int, Op]) -> str | None:
        if safefs.exists(op.intent.src):
            return None
        return f"{op.intent.src!r} was permanently deleted; it cannot be restored"

    def restores(self) -> bool:
        return False
