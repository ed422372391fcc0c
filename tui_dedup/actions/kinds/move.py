"""Move: the marked file goes to the batch's quarantine folder (or ``--move-to``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

from .base import Kind, Op, Runner, Undoer

if TYPE_CHECKING:
    from .. import safefs
    from ..steps import Step


class Move(Kind):
    name: ClassVar[str] = "move"
    op_kinds: ClassVar[tuple[str, ...]] = ("move",)

    def describe(self, step: Step) -> str:
        verb = "COPY then remove" if step.copy else "move"
        return f"{verb} {step.entry.path!r} → {step.dest!r}"

    def act(
        self,
        runner: Runner,
        step: Step,
        path: str,
        target: str,
        ident: safefs.Ident,
        digest: str | None,
    ) -> None:
        runner.move(path, target, ident, digest, step.may_copy)

    def undo(self, undoer: Undoer, op: Op, ops: Mapping[int, Op]) -> str | None:
        return undoer.undo_move(op)
