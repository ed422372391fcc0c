"""Marks you can take back: one timeline of changes, and the bulk ways to change marks.

Why in the review layer: "undo the last thing I did" must mean the same whatever that was —
a single mark, an auto-mark of 117 files, a "not a duplicate", a file batch — so the review
keeps one list of changes, newest last, and the front end only applies what it says. A mark
change is stored as the rows it added and removed (not the whole set), so it undoes on top of
whatever is marked now. The bulk operations (invert, mark by folder or pattern) answer with
the marks they would leave and the groups they left alone, so the screen can ask first
(:data:`CONFIRM_OVER`) and never leaves a group without an unmarked copy.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from tui_dedup.engine.model import Group

MARKS, SKIP, BATCH = "marks", "skip", "batch"
#: A change to more marks than this asks first (count and bytes).
CONFIRM_OVER = 20


@dataclass(frozen=True, slots=True)
class Change:
    """One step of the timeline: marks added/removed, a pair skipped, or a file batch."""

    kind: str
    label: str
    added: frozenset[int] = frozenset()
    removed: frozenset[int] = frozenset()
    pair: tuple[int, int] | None = None
    batch: str | None = None

    @property
    def size(self) -> int:
        """How many marks the change flips (0 for a skip or a batch)."""
        return len(self.added) + len(self.removed)

    @property
    def title(self) -> str:
        """What the status bar says: ``auto-mark (117 files)``."""
        if self.kind != MARKS:
            return self.label
        return f"{self.label} ({self.size} file{'' if self.size == 1 else 's'})"

    def before(self, marked: Iterable[int]) -> set[int]:
        """The marks with this change taken back."""
        return (set(marked) - self.added) | self.removed

    def after(self, marked: Iterable[int]) -> set[int]:
        """The marks with this change made (again)."""
        return (set(marked) - self.removed) | self.added


def mark_change(label: str, before: Iterable[int], after: Iterable[int]) -> Change | None:
    """The change from marks ``before`` to ``after`` (None when they are the same)."""
    b, a = {int(x) for x in before}, {int(x) for x in after}
    if a == b:
        return None
    return Change(MARKS, label, added=frozenset(a - b), removed=frozenset(b - a))


@dataclass(slots=True)
class Timeline:
    """Changes made (newest last) and changes undone (redo takes the newest back).

    A new change empties the redo list. A file batch is undone by the actions package (it
    asks first and may be refused), so undo leaves it for :meth:`forget` once it ran, and it
    is never redone.
    """

    done: list[Change] = field(default_factory=list)
    undone: list[Change] = field(default_factory=list)

    def record(self, change: Change) -> None:
        self.done.append(change)
        self.undone.clear()

    def newest(self) -> Change | None:
        return self.done[-1] if self.done else None

    def next_redo(self) -> Change | None:
        return self.undone[-1] if self.undone else None

    def take_undo(self) -> Change | None:
        """The newest mark or skip change, moved to the redo list (None for a batch)."""
        change = self.newest()
        if change is None or change.kind == BATCH:
            return None
        self.undone.append(self.done.pop())
        return change

    def take_redo(self) -> Change | None:
        change = self.next_redo()
        if change is not None:
            self.done.append(self.undone.pop())
        return change

    def forget(self, match: Callable[[Change], bool]) -> None:
        """Drop the changes ``match`` picks from both lists (a batch undone, a pair unskipped
        from the skips list: there is nothing left of them to undo or redo)."""
        self.done = [c for c in self.done if not match(c)]
        self.undone = [c for c in self.undone if not match(c)]


@dataclass(frozen=True, slots=True)
class Proposal:
    """What a bulk operation would leave marked, and the groups it did not touch."""

    marked: set[int]
    left_alone: list[int]  # indices into the groups it was given
    #: Files it would have marked but did not: they are in a ``--keep-in`` folder.
    protected: int = 0


def _keeps_one(members: Sequence[int], marked: set[int]) -> bool:
    return any(m not in marked for m in members)


#: Is this row in a ``--keep-in`` folder (never marked)?
Protected = Callable[[int], bool]


def _nothing_protected(row: int) -> bool:
    return False


def invert_marks(
    groups: Sequence[Group],
    marked: Iterable[int],
    scope: Iterable[int],
    protected: Protected = _nothing_protected,
) -> Proposal:
    """Flip the marks of the files in ``scope`` (the shown pairs' files), group by group.

    A group whose flip would leave every member marked is left alone (listed), so after an
    invert every group still has a file that stays. Files outside any group keep their mark;
    ``protected`` files (reference folders) are never marked, so they are not flipped.
    """
    now = {int(m) for m in marked}
    inside = {int(f) for f in scope}
    out, left = set(now), []
    kept_out: set[int] = set()
    for k, g in enumerate(groups):
        flip = [m for m in g.members if m in inside]
        kept_out.update(m for m in flip if m not in out and protected(m))
        flip = [m for m in flip if m in out or not protected(m)]
        if not flip:
            continue
        trial = set(out)
        for m in flip:
            trial.symmetric_difference_update((m,))
        if _keeps_one(g.members, trial):
            out = trial
        else:
            left.append(k)
    return Proposal(out, left, len(kept_out))


def path_matcher(pattern: str) -> Callable[[str], bool]:
    """A glob (``*``, ``?``, ``[``) matches the whole display path; anything else is a folder:
    ``backup`` and ``backup/`` match everything under ``backup/``."""
    pattern = pattern.strip()
    if any(c in pattern for c in "*?["):
        return lambda path: fnmatch.fnmatchcase(path, pattern)
    folder = pattern.strip("/") + "/"
    return lambda path: path.startswith(folder)


def mark_matching(
    groups: Sequence[Group],
    paths: Sequence[str],
    marked: Iterable[int],
    pattern: str,
    protected: Protected = _nothing_protected,
) -> Proposal:
    """Mark every grouped file whose display path matches ``pattern`` (:func:`path_matcher`).

    A group where that would mark its last unmarked file is left alone (listed): the pattern
    never marks the last copy of a group. ``protected`` files (reference folders) are never
    marked, only counted.
    """
    match = path_matcher(pattern)
    out, left = {int(m) for m in marked}, []
    kept_out: set[int] = set()
    for k, g in enumerate(groups):
        hit = [m for m in g.members if m not in out and match(paths[m])]
        kept_out.update(m for m in hit if protected(m))
        hit = [m for m in hit if not protected(m)]
        if not hit:
            continue
        if _keeps_one(g.members, out | set(hit)):
            out.update(hit)
        else:
            left.append(k)
    return Proposal(out, left, len(kept_out))


def protected_line(count: int, folders: Sequence[str]) -> list[str]:
    """``2 file(s) in --keep-in folders left unmarked (Originals)``, or nothing."""
    if not count:
        return []
    return [f"{count} file(s) in --keep-in folders left unmarked ({', '.join(folders)})"]


def left_alone_lines(
    groups: Sequence[Group], paths: Sequence[str], left: Sequence[int], limit: int = 5
) -> list[str]:
    """``group 3 (backup/a.jpg): every copy would be marked``, a few, then how many more."""
    lines = [
        f"left alone: group {k + 1} ({paths[groups[k].keeper]}): no copy would stay"
        for k in left[:limit]
    ]
    if len(left) > limit:
        lines.append(f"... and {len(left) - limit} more group(s) left alone")
    return lines
