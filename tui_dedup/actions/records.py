"""The journal's record schema, defined once: one frozen dataclass per record kind.

Why typed records: the journal is read back by undo, ``history`` and crash recovery, perhaps by
a later release, perhaps after a disk hiccup or a hand edit. A line that is valid JSON but lacks
a key or has a wrong type must cost at most that record (or that batch, with a warning), never
every batch. :func:`parse` is the only way a line becomes a record: it checks every field's type
against the dataclass, so code past it can trust what it reads.

Batches written by the release before this one (journal version 1: flat quarantine, no digests,
``dev``/``ino`` in move intents) parse into the same classes; their missing fields are ``None``.

Kinds (``rec``): ``batch`` starts a batch; per operation ``intent`` → (``tmp`` →) ``copying``
→ ``copied`` → ``done`` | ``failed``; ``skip`` per file left alone; after the files, per folder
the batch emptied ``rmdir`` → ``done`` | ``failed`` (version 3); ``end``. Undo writes
``undo-intent``, ``undo-tmp``, ``undone`` per operation and one ``undo`` per run.

Version 3 only adds ``rmdir``: a version 2 batch has none, and its undo is what it was.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

JOURNAL_VERSION = 3


@dataclass(frozen=True, slots=True)
class Record:
    rec: ClassVar[str] = ""
    batch: str

    def to_dict(self) -> dict[str, Any]:
        d = {"rec": self.rec}
        d.update({k: v for k, v in asdict(self).items() if v is not None})
        return d


@dataclass(frozen=True, slots=True)
class BatchStart(Record):
    rec: ClassVar[str] = "batch"
    time: float
    action: str
    steps: int
    move_to: str | None = None
    version: int = 1
    roots: list[str] | None = None
    folder: str | None = None  # the batch's own quarantine folder name (version 2)


@dataclass(frozen=True, slots=True)
class Intent(Record):
    """About to change one file. ``kind`` is move | trash | hardlink | symlink | delete."""

    rec: ClassVar[str] = "intent"
    op: int
    kind: str
    src: str
    dst: str | None = None
    size: int | None = None
    mtime_ns: int | None = None
    digest: str | None = None  # the content we act on (version 2)
    dev: int | None = None  # version 1 only: never compared with a later inode
    ino: int | None = None
    target: str | None = None  # link text (symlink) or the keeper's path (hardlink)
    keeper: str | None = None
    moved_by: int | None = None  # links: the op that moved the original to the quarantine
    fallback: bool | None = None
    time: float | None = None


@dataclass(frozen=True, slots=True)
class RemoveFolder(Record):
    """About to remove ``path``, a folder this batch emptied (then ``done`` or ``failed`` with
    the same ``op``). Its mode, times and owner are those from before the batch, so undo can
    recreate it as it was before putting files back into it."""

    rec: ClassVar[str] = "rmdir"
    op: int
    path: str
    mode: int  # permission bits, setgid/sticky included (stat.S_IMODE)
    mtime_ns: int | None = None
    atime_ns: int | None = None
    uid: int | None = None
    gid: int | None = None


@dataclass(frozen=True, slots=True)
class TempName(Record):
    """A temporary file is about to be created at ``tmp``; a run that finds it left over
    (killed) removes it. ``undo`` tells whether it belongs to an undo."""

    rec: ClassVar[str] = "tmp"
    op: int
    tmp: str
    undo: bool = False


@dataclass(frozen=True, slots=True)
class Copying(Record):
    rec: ClassVar[str] = "copying"
    op: int
    digest: str
    tmp: str | None = None


@dataclass(frozen=True, slots=True)
class Copied(Record):
    rec: ClassVar[str] = "copied"
    op: int


@dataclass(frozen=True, slots=True)
class Done(Record):
    rec: ClassVar[str] = "done"
    op: int
    dst: str | None = None
    trash_file: str | None = None
    trash_info: str | None = None


@dataclass(frozen=True, slots=True)
class Failed(Record):
    rec: ClassVar[str] = "failed"
    op: int
    error: str = ""


@dataclass(frozen=True, slots=True)
class Skip(Record):
    rec: ClassVar[str] = "skip"
    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class End(Record):
    rec: ClassVar[str] = "end"
    done: int = 0
    skipped: int = 0
    errors: int = 0
    bytes: int = 0


@dataclass(frozen=True, slots=True)
class UndoIntent(Record):
    rec: ClassVar[str] = "undo-intent"
    op: int


@dataclass(frozen=True, slots=True)
class Undone(Record):
    rec: ClassVar[str] = "undone"
    op: int


@dataclass(frozen=True, slots=True)
class UndoRun(Record):
    rec: ClassVar[str] = "undo"
    complete: bool
    problems: list[str] = field(default_factory=list)


KINDS: dict[str, type[Record]] = {
    c.rec: c
    for c in (
        BatchStart,
        Intent,
        RemoveFolder,
        TempName,
        Copying,
        Copied,
        Done,
        Failed,
        Skip,
        End,
        UndoIntent,
        Undone,
        UndoRun,
    )
}
OP_KINDS = ("move", "trash", "hardlink", "symlink", "delete")


def _checker(tp: Any) -> Callable[[Any], bool]:
    """A predicate telling whether a JSON value fits the annotation ``tp`` (str, int, float,
    bool, list[X], X | None), built once per field (parsing a journal checks every field)."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = [_checker(a) for a in typing.get_args(tp)]
        return lambda v: any(ok(v) for ok in options)
    if tp is type(None):
        return lambda v: v is None
    if origin is list:
        (item,) = typing.get_args(tp)
        each = _checker(item)
        return lambda v: isinstance(v, list) and all(each(x) for x in v)
    if tp is bool:
        return lambda v: isinstance(v, bool)
    if tp is int:
        return lambda v: isinstance(v, int) and not isinstance(v, bool)
    if tp is float:
        return lambda v: isinstance(v, int | float) and not isinstance(v, bool)
    if tp is str:
        return lambda v: isinstance(v, str)
    return lambda v: False


_FIELDS: dict[type[Record], list[tuple[str, Callable[[Any], bool]]]] = {
    c: [(f.name, _checker(typing.get_type_hints(c)[f.name])) for f in fields(c)]
    for c in KINDS.values()
}


def parse(d: Any) -> Record | None:
    """The record a JSON object holds, or None when it is not a well-formed record."""
    if not isinstance(d, dict):
        return None
    cls = KINDS.get(d.get("rec"))  # type: ignore[arg-type]
    if cls is None:
        return None
    kwargs = {}
    for name, ok in _FIELDS[cls]:
        if name in d:
            if not ok(d[name]):
                return None
            kwargs[name] = d[name]
    try:
        rec = cls(**kwargs)
    except TypeError:  # a required field is missing
        return None
    if isinstance(rec, Intent) and rec.kind not in OP_KINDS:
        return None
    return rec
