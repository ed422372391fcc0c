"""A plan: exactly what will happen to which file, built without touching anything.

Why a separate, serialisable value: the user confirms *this* list (CLI ``plan -o plan.json``,
TUI confirm dialog), and apply runs *this* list, re-checking every file against what the plan
saw. ``build_plan`` only reads the filesystem (sidecars, free names, devices); it never writes.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

from ..engine.model import FileEntry
from .fsops import device_of
from .kinds import ACTIONS
from .paths import find_sidecars, free_destination, in_folder, quarantine_base, root_labels
from .trash import trash_dir_for

CONFIRM_WORD = "DELETE"
PLAN_VERSION = 1


class PlanError(ValueError):
    """A plan that cannot be built as asked (unknown action, delete not allowed...)."""


@dataclass(frozen=True, slots=True)
class Sidecar:
    """A sidecar travelling with its image, with the size/mtime seen when planning."""

    path: str
    dest: str | None
    size: int
    mtime_ns: int


@dataclass(slots=True)
class Step:
    """One marked file and what happens to it (and its sidecars)."""

    action: str
    entry: FileEntry
    group: int
    dest: str | None = None  # quarantine target; for trash the fallback target
    sidecars: tuple[Sidecar, ...] = ()
    copy: bool = False  # dest is on another filesystem: copy, verify, then remove the source
    may_copy: bool = False  # the user chose the destination, so a copy is allowed
    keeper: str | None = None  # link target for hardlink/symlink
    trash_fallback: bool = False  # no usable trash: goes to the quarantine
    irreversible: bool = False

    @property
    def bytes(self) -> int:
        return self.entry.size + sum(s.size for s in self.sidecars)


@dataclass(slots=True)
class Plan:
    """Steps plus the groups they came from (apply re-checks the keeper invariant on them)."""

    action: str
    steps: list[Step]
    groups: list[list[FileEntry]]
    marked: list[str]
    refused: list[str] = field(default_factory=list)
    move_to: str | None = None
    keep_in: list[str] = field(default_factory=list)
    confirm_word: str | None = None
    created: float = 0.0
    version: int = PLAN_VERSION

    @property
    def bytes_to_free(self) -> int:
        return sum(s.bytes for s in self.steps)

    @property
    def copies(self) -> list[Step]:
        return [s for s in self.steps if s.copy]

    @property
    def irreversible(self) -> bool:
        return any(s.irreversible or s.action == "delete" for s in self.steps)

    def to_json(self) -> str:
        """ASCII JSON; non-UTF-8 names survive as ``\\udcXX`` escapes (surrogateescape)."""
        return json.dumps(asdict(self), indent=1, ensure_ascii=True)

    @classmethod
    def from_json(cls, text: str) -> Plan:
        d = json.loads(text)
        if d.get("version") != PLAN_VERSION:
            raise PlanError(f"unsupported plan version {d.get('version')!r}")
        steps = []
        for s in d["steps"]:
            s = dict(s)
            s["entry"] = FileEntry(**s["entry"])
            s["sidecars"] = tuple(Sidecar(**c) for c in s["sidecars"])
            steps.append(Step(**s))
        d["steps"] = steps
        d["groups"] = [[FileEntry(**e) for e in g] for g in d["groups"]]
        return cls(**d)

    def describe(self) -> list[str]:
        """Human-readable lines for the CLI and the TUI confirm dialog."""
        n_side = sum(len(s.sidecars) for s in self.steps)
        head = f"Plan: {ACTIONS[self.action]}: {len(self.steps)} file(s)"
        if n_side:
            head += f" + {n_side} sidecar(s)"
        head += f", {human_bytes(self.bytes_to_free)}"
        if self.action != "delete":
            where = "trash" if self.action == "trash" else "quarantine"
            head += f" to free once the {where} is emptied"
        lines = [head]
        for s in self.steps:
            lines.append("  " + _describe_step(s))
            for c in s.sidecars:
                shown = c.dest and (s.action != "trash" or s.trash_fallback)
                lines.append(f"      + sidecar {c.path!r}" + (f" → {c.dest!r}" if shown else ""))
        if self.copies:
            lines.append(
                f"{len(self.copies)} file(s) go to another filesystem: they will be copied, "
                "verified (size + BLAKE2b), and only then removed."
            )
        for r in self.refused:
            lines.append(f"REFUSED {r}")
        if self.irreversible:
            lines.append(
                f"This CANNOT be undone. Type {self.confirm_word} to confirm the permanent delete."
            )
        elif self.steps:
            lines.append("Everything here can be undone (dedup-tui undo).")
        return lines


def _describe_step(s: Step) -> str:
    p = repr(s.entry.path)
    if s.action == "move":
        verb = "COPY then remove" if s.copy else "move"
        return f"{verb} {p} → {s.dest!r}"
    if s.action == "trash":
        if s.trash_fallback:
            return f"trash {p} (no usable trash here: quarantine → {s.dest!r})"
        return f"trash {p}"
    if s.action in ("hardlink", "symlink"):
        return f"{s.action} {p} → {s.keeper!r} (original kept in {s.dest!r})"
    return f"DELETE {p}"


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def build_plan(
    groups: Sequence[Sequence[FileEntry]],
    marked: Iterable[str],
    action: str,
    *,
    move_to: str | None = None,
    keep_in: Iterable[str] = (),
    allow_delete: bool = False,
) -> Plan:
    """Plan ``action`` for every marked file; read-only.

    ``groups`` are lists of FileEntry, first = suggested keeper. A group in which nothing would
    stay in place, a marked file inside a ``keep_in`` folder, or a link without a same-device
    keeper is refused with a message in ``plan.refused`` (and no step), never acted on.
    """
    if action not in ACTIONS:
        raise PlanError(f"unknown action {action!r}; choose one of {', '.join(ACTIONS)}")
    if action == "delete" and not allow_delete:
        raise PlanError("permanent delete needs allow_delete=True (--allow-delete)")
    marked = set(marked)
    keep_in = [os.path.abspath(k) for k in keep_in]
    move_to = os.path.abspath(move_to) if move_to else None
    groups = [list(g) for g in groups]
    labels = root_labels(e.root for g in groups for e in g)
    scanned = {e.path for g in groups for e in g}
    listings: dict[str, list[str]] = {}
    taken: set[str] = set()
    steps: list[Step] = []
    refused: list[str] = []
    planned: set[str] = set()

    for gi, members in enumerate(groups):
        name = f"group {gi + 1}"
        protected = [m for m in members if m.path in marked and in_folder(m.path, keep_in)]
        for m in protected:
            refused.append(f"{name}: {m.path!r} is in a keep-in folder and is never touched")
            marked.discard(m.path)
        kept = [m for m in members if m.path not in marked]
        if not kept:
            refused.append(
                f"{name}: all {len(members)} files are marked; keep at least one "
                "(nothing in this group will be touched)"
            )
            continue
        for m in members:
            if m.path not in marked or m.path in planned:
                continue
            step = Step(action=action, entry=m, group=gi)
            if action in ("hardlink", "symlink"):
                keeper = next((k for k in kept if k.dev == m.dev and k.size == m.size), None)
                if keeper is None:
                    refused.append(
                        f"{name}: {m.path!r} has no unmarked identical-size copy on the "
                        f"same filesystem to {action} to"
                    )
                    continue
                step.keeper = keeper.path
            if action == "delete":
                step.irreversible = True
            if action == "trash" and trash_dir_for(m.path) is None:
                step.trash_fallback = True
            d = os.path.dirname(m.path)
            if d not in listings:
                try:
                    listings[d] = os.listdir(d)
                except OSError:
                    listings[d] = []
            side = (
                []
                if action in ("hardlink", "symlink")
                else find_sidecars(m.path, listings[d], scanned)
            )
            if action != "delete":
                base = quarantine_base(m, move_to, labels)
                step.dest, side_dest = free_destination(base, m.path, side, taken)
                taken.update([step.dest, *side_dest])
                step.may_copy = move_to is not None
                step.copy = step.may_copy and device_of(os.path.dirname(step.dest)) != m.dev
            else:
                side_dest = [None] * len(side)
            step.sidecars = tuple(
                Sidecar(p, dst, *_size_mtime(p)) for p, dst in zip(side, side_dest, strict=True)
            )
            planned.add(m.path)
            steps.append(step)

    stray = sorted(marked - scanned)
    for p in stray:
        refused.append(f"{p!r} is marked but not in any group; ignored")
    return Plan(
        action=action,
        steps=steps,
        groups=groups,
        marked=sorted(marked),
        refused=refused,
        move_to=move_to,
        keep_in=keep_in,
        confirm_word=CONFIRM_WORD if action == "delete" else None,
        created=time.time(),
    )


def _size_mtime(path: str) -> tuple[int, int]:
    try:
        st = os.lstat(path)
    except OSError:
        return (-1, -1)
    return (st.st_size, st.st_mtime_ns)
