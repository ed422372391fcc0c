"""One step of a plan: a marked file, the copy of it that stays, and what happens to it.

Apart from plan.py so that the action kinds (which plan.py uses to build and describe steps)
can speak of a step without importing the planner.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..engine.model import FileEntry


@dataclass(frozen=True, slots=True)
class Root:
    """A scanned root as the plan saw it: the path given, its real path and its identity.

    Apply acts below ``real`` only, reaching every file without following a symlink, and
    refuses the plan when the folder at ``real`` is no longer the same folder."""

    path: str
    real: str
    dev: int
    ino: int


@dataclass(frozen=True, slots=True)
class Sidecar:
    """A sidecar travelling with its image, with the size/mtime seen when planning."""

    path: str
    dest: str | None
    size: int
    mtime_ns: int


@dataclass(slots=True)
class Step:
    """One marked file, the copy of it that stays (``partner``), and what happens to it.

    ``real``/``partner_real`` are where apply acts (under a root's real path); ``digest`` and
    ``partner_digest`` the content seen when planning. ``dest`` is informational: apply
    recomputes it, inside the batch's own quarantine folder.
    """

    action: str
    entry: FileEntry
    group: int
    partner: FileEntry | None = None
    real: str = ""
    partner_real: str = ""
    digest: str | None = None
    partner_digest: str | None = None
    dest: str | None = None
    sidecars: tuple[Sidecar, ...] = ()
    copy: bool = False  # dest is on another filesystem: copy, verify, then remove the source
    may_copy: bool = False  # the user chose the destination, so a copy is allowed
    keeper: str | None = None  # link target for hardlink/symlink (the partner's path)
    trash_fallback: bool = False  # no usable trash: goes to the quarantine
    irreversible: bool = False

    @property
    def bytes(self) -> int:
        return self.entry.size + sum(s.size for s in self.sidecars)
