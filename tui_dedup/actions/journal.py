"""Append-only journal of every file operation: the memory that makes undo and crash recovery work.

Why JSON lines, fsync'd, written before *and* after each operation: if the process dies at any
point, the last "intent" without a "done" tells undo exactly which file may be half-way, and the
operations themselves leave it at its source, at its destination, or both (never neither). A
torn last line (killed mid-write) is ignored on reading and fenced off with a newline before
the next append.

The record kinds and their fields are defined once, in :mod:`tui_dedup.actions.records`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from .kinds import ACTIONS, kind
from .records import BatchStart, End, Record, UndoRun, parse
from .state import state_dir


class JournalBusy(RuntimeError):
    """Another dedup-tui process is applying or undoing right now."""


class JournalError(RuntimeError):
    """The journal cannot be written (disk full, read-only state dir): the batch must stop.

    Deliberately not an OSError, so per-file error handling cannot swallow it and carry on
    changing files without a record.
    """


@dataclass(slots=True)
class BatchInfo:
    """One batch as ``history()`` shows it."""

    id: str
    time: float
    action: str
    steps: int = 0
    done: int = 0
    skipped: int = 0
    errors: int = 0
    bytes: int = 0
    state: str = "interrupted"  # complete | interrupted | undone
    irreversible: bool = False
    undo_problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.time))
        text = (
            f"{self.id}  {when}  {self.action:<8} {self.state:<11} "
            f"done {self.done}, skipped {self.skipped}, errors {self.errors}"
        )
        if self.irreversible:
            text += "  (permanent delete: cannot be undone)"
        return text


class Journal:
    """The journal file, by default ``<state dir>/journal.jsonl``."""

    def __init__(self, path: str | None = None) -> None:
        self.path = path or os.path.join(state_dir(), "journal.jsonl")
        self._fd: int | None = None
        self.warnings: list[str] = []
        self._parsed: tuple[tuple[int, int, int], list[Record], list[str]] | None = None

    @classmethod
    def open(cls, path: str | None = None) -> Journal:
        """The journal in the state dir (or at ``path``); same as ``Journal(path)``."""
        return cls(path)

    # -- writing -------------------------------------------------------------------------
    def _open(self) -> int:
        if self._fd is None:
            os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            size = os.fstat(fd).st_size
            if size:
                with open(self.path, "rb") as f:
                    f.seek(size - 1)
                    if f.read(1) != b"\n":
                        os.write(fd, b"\n")  # fence off a torn last line
            self._fd = fd
        return self._fd

    def append(self, rec: Record) -> None:
        """Write one record durably (fsync) before returning; JournalError if it cannot."""
        text = json.dumps(rec.to_dict(), ensure_ascii=True, separators=(",", ":"))
        data = (text + "\n").encode("ascii")
        try:
            fd = self._open()
            while data:
                n = os.write(fd, data)
                data = data[n:]
            os.fsync(fd)
        except OSError as e:
            raise JournalError(f"cannot write the journal {self.path!r}: {e.strerror or e}") from e

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    @staticmethod
    def new_batch_id() -> str:
        """A batch id: sortable by time, unique."""
        return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """One apply/undo at a time per state dir; the lock dies with the process."""
        lock_path = self.path + ".lock"
        os.makedirs(os.path.dirname(lock_path) or ".", exist_ok=True)
        fd = os.open(lock_path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as e:
                raise JournalBusy("another dedup-tui is changing files right now") from e
            yield
        finally:
            os.close(fd)
            self.close()

    # -- reading -------------------------------------------------------------------------
    def records(self) -> list[Record]:
        """All well-formed records; a torn, corrupt or malformed line is skipped, not fatal.

        Each skipped line adds one entry to :attr:`warnings` (``history`` prints them). The
        parsed records are kept while the file is unchanged: one undo asks several times."""
        try:
            with open(self.path, "rb") as f:
                st = os.fstat(f.fileno())
                key = (st.st_ino, st.st_size, st.st_mtime_ns)
                if self._parsed is not None and self._parsed[0] == key:
                    self.warnings = list(self._parsed[2])
                    return list(self._parsed[1])
                raw = f.read()
        except FileNotFoundError:
            self.warnings = []
            return []
        self.warnings = []
        out = []
        for n, line in enumerate(raw.split(b"\n"), 1):
            if not line.strip():
                continue
            try:
                rec = parse(json.loads(line))
            except ValueError:
                rec = None
            if rec is None:
                self.warnings.append(f"journal line {n} is not a valid record; ignored")
                continue
            out.append(rec)
        self._parsed = (key, out, list(self.warnings))
        return list(out)

    def batch_records(self, batch: str) -> list[Record]:
        return [r for r in self.records() if r.batch == batch]

    def batches(self) -> list[BatchInfo]:
        """Every batch, oldest first, with its state."""
        infos: dict[str, BatchInfo] = {}
        for r in self.records():
            if isinstance(r, BatchStart):
                infos[r.batch] = BatchInfo(r.batch, r.time, r.action, r.steps)
                infos[r.batch].irreversible = r.action in ACTIONS and kind(r.action).irreversible
                continue
            info = infos.get(r.batch)
            if info is None:
                continue
            if isinstance(r, End):
                info.done, info.skipped, info.errors, info.bytes = (
                    r.done,
                    r.skipped,
                    r.errors,
                    r.bytes,
                )
                if info.state != "undone":
                    info.state = "complete"
            elif isinstance(r, UndoRun):
                info.undo_problems = list(r.problems)
                if r.complete:
                    info.state = "undone"
        return list(infos.values())


def history(journal: Journal | None = None) -> list[BatchInfo]:
    """All batches, oldest first (id, time, action, counts, state)."""
    return (journal or Journal()).batches()


def interrupted_batches(journal: Journal | None = None) -> list[BatchInfo]:
    """Batches that started but never ended (killed, power loss): offer undo at start-up."""
    return [b for b in history(journal) if b.state == "interrupted"]
