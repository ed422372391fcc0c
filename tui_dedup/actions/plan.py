"""A plan: exactly what will happen to which file, built without touching anything.

Reading a plan file back is :func:`tui_dedup.actions.plan_file.read_plan`.

Why a separate, serialisable value: the user confirms *this* list (CLI ``plan -o plan.json``,
TUI confirm dialog), and apply runs *this* list, re-checking every file against what the plan
saw. ``build_plan`` only reads the filesystem (sidecars, free names, devices); it never writes.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field

from ..engine.files.discover import is_raw_path
from ..engine.model import FileEntry
from . import safefs
from .empty_folders import predict
from .fsops import device_of
from .kinds import ACTIONS, kind
from .paths import (
    LiveIds,
    find_sidecars,
    free_destination,
    in_folder,
    is_movie,
    is_shot_part,
    quarantine_base,
    root_labels,
    shot_raws,
    stem_index,
)
from .steps import Root, Sidecar, Step

CONFIRM_WORD = "DELETE"
PLAN_VERSION = 2
#: Shown where a destination depends on the batch id, which only apply knows.
BATCH_FOLDER = "<batch>"


class PlanError(ValueError):
    """A plan that cannot be built or applied as asked (unknown action, delete not allowed,
    a plan file that was edited into something the planner would not have made...)."""


@dataclass(slots=True)
class Plan:
    """What will happen, step by step, and what it was matched with (apply re-checks all)."""

    action: str
    steps: list[Step]
    roots: list[Root] = field(default_factory=list)
    spec: dict | None = None  # engine.recheck.MatchSpec as a dict; None: built in-process
    refused: list[str] = field(default_factory=list)
    move_to: str | None = None
    keep_in: list[str] = field(default_factory=list)
    confirm_word: str | None = None
    created: float = 0.0
    #: Remove the folders the batch leaves empty (undo recreates them); off: leave them.
    remove_emptied_folders: bool = True
    #: The folders it would leave empty, as seen when planning (apply decides again).
    emptied_folders: list[str] = field(default_factory=list)
    #: What the plan removes: "duplicates" (each step's partner is a copy of it that stays)
    #: or "bursts" (frames of a burst that have no copy: the partner is the frame that stays,
    #: and apply re-derives the burst instead of re-checking a copy; review/culling.py).
    purpose: str = "duplicates"
    version: int = PLAN_VERSION
    mac: str | None = None  # keyed digest: tells apply whether the file was edited
    edited: bool = False  # read from a file whose signature is not this user's (not saved)

    @property
    def marked(self) -> list[str]:
        return [s.entry.path for s in self.steps]

    @property
    def bytes_to_free(self) -> int:
        return sum(s.bytes for s in self.steps)

    @property
    def copies(self) -> list[Step]:
        return [s for s in self.steps if s.copy]

    @property
    def irreversible(self) -> bool:
        return any(s.irreversible or kind(s.action).irreversible for s in self.steps)

    def body(self) -> dict:
        d = asdict(self)
        d.pop("mac")
        d.pop("edited")
        return d

    def to_json(self) -> str:
        """ASCII JSON, signed with the user's plan key; non-UTF-8 names survive as ``\\udcXX``
        escapes (surrogateescape)."""
        from .plan_key import sign

        d = self.body()
        d["mac"] = sign(d)
        return json.dumps(d, indent=1, ensure_ascii=True)

    def files_text(self) -> str:
        """``3 file(s) + 1 RAW + 2 sidecars``: the files and what travels with them (a shot's
        RAW, a Live Photo's movie, edits), for a plan's first line and a dialog's title."""
        side = [_part_word(c.path) for s in self.steps for c in s.sidecars]
        text = f"{len(self.steps)} file(s)"
        for word in ("RAW", "Live Photo movie", "sidecar"):
            if n := side.count(word):
                text += f" + {n} {word}" + ("s" if n > 1 else "")
        return text

    def describe(self) -> list[str]:
        """Human-readable lines for the CLI and the TUI confirm dialog."""
        head = f"Plan: {ACTIONS[self.action]}: {self.files_text()}"
        head += f", {human_bytes(self.bytes_to_free)}"
        k = kind(self.action)
        if k.has_destination:
            head += f" to free once the {k.where()} is emptied"
        lines = [head]
        if self.purpose == "bursts":
            lines.append(
                "These frames have no copy: each is another shot of a burst, and each burst "
                "keeps the frame named after it."
            )
        for s in self.steps:
            lines.append("  " + _describe_step(s))
            for c in s.sidecars:
                shown = c.dest and k.uses_our_folder(s)
                lines.append(
                    f"      + {_part_word(c.path)} {c.path!r}" + (f" → {c.dest!r}" if shown else "")
                )
        if self.copies:
            lines.append(
                f"{len(self.copies)} file(s) go to another filesystem: they will be copied, "
                "verified (size + BLAKE2b), and only then removed."
            )
        lines += self._describe_folders()
        if any(s.dest and BATCH_FOLDER in s.dest for s in self.steps):
            lines.append(f"{BATCH_FOLDER} is a new folder named by the date, time and batch id.")
        for r in self.refused:
            lines.append(f"REFUSED {r}")
        if self.irreversible:
            lines.append(
                f"This CANNOT be undone. Type {self.confirm_word} to confirm the permanent delete."
            )
        elif self.steps:
            lines.append("Everything here can be undone (dedup-tui undo).")
        return lines

    def _describe_folders(self) -> list[str]:
        n = len(self.emptied_folders)
        if not n:
            return []
        if not self.remove_emptied_folders:
            return [f"{n} folder(s) left empty by this stay in place (--keep-empty-folders)."]
        again = "" if self.irreversible else " (undo recreates them)"
        head = f"{n} folder(s) left empty by this will be removed{again}:"
        return [head, *(f"  remove folder {f!r}" for f in self.emptied_folders)]


def _describe_step(s: Step) -> str:
    return kind(s.action).describe(s)


def human_bytes(n: float) -> str:
    """``248.9 kB``: decimal units as Linux file managers show them, the one spelling the
    plans, the dialogs and the status bar use (the table's cells have their own, shorter)."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def build_plan(
    groups: Sequence[Sequence[FileEntry]],
    marked: Iterable[str],
    action: str,
    *,
    move_to: str | None = None,
    keep_in: Iterable[str] = (),
    allow_delete: bool = False,
    spec: dict | None = None,
    digest_of: Callable[[FileEntry], str | None] | None = None,
    remove_emptied_folders: bool = True,
) -> Plan:
    """Plan ``action`` for every marked file; read-only.

    ``groups`` are lists of FileEntry; every marked file is paired with the first unmarked
    member of its group (for links: the first on the same filesystem with the same size), the
    copy that must stay for the step to run. A group in which nothing would stay, a marked file
    inside a ``keep_in`` folder or reached through a symlink outside every root, or a link
    without a same-device keeper is refused with a message in ``plan.refused``, never acted on.
    ``spec`` is what the pairs were matched with (apply re-checks each pair against it);
    ``digest_of`` may supply known content digests (else they are read from disk).
    ``remove_emptied_folders``: apply removes the folders the batch leaves empty (a folder
    that holds anything else, hidden files included, stays; undo recreates them).
    """
    if action not in ACTIONS:
        raise PlanError(f"unknown action {action!r}; choose one of {', '.join(ACTIONS)}")
    how = kind(action)
    if how.irreversible and not allow_delete:
        raise PlanError("permanent delete needs allow_delete=True (--allow-delete)")
    marked = set(marked)
    keep_in = [os.path.realpath(k) for k in keep_in]
    move_to = os.path.realpath(move_to) if move_to else None
    groups = [list(g) for g in groups]
    roots = anchor_roots(e.root for g in groups for e in g)
    by_path = {r.path: r for r in roots}
    labels = root_labels(r.real for r in roots)
    scanned = {e.path for g in groups for e in g}
    listings: dict[str, dict[str, list[str]]] = {}
    taken: set[str] = set()
    steps: list[Step] = []
    refused: list[str] = []
    planned: set[str] = set()
    digests: dict[str, str | None] = {}
    live = LiveIds()

    def content(e: FileEntry, real: str) -> str | None:
        if real not in digests:
            known = digest_of(e) if digest_of is not None else None
            try:
                digests[real] = known or safefs.digest(real)
            except OSError:
                digests[real] = None
        return digests[real]

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
            real = real_path(m, by_path[m.root])
            if real is None:
                refused.append(
                    f"{name}: {m.path!r} was reached through a symlink; its real place is not "
                    "inside a scanned folder, so it is shown for review only"
                )
                continue
            partner = how.choose_partner(m, kept)
            if partner is None:
                refused.append(f"{name}: {how.no_partner(m)}")
                continue
            partner_real = real_path(partner, by_path[partner.root])
            if partner_real is None:
                refused.append(
                    f"{name}: the copy that would stay, {partner.path!r}, was reached through a "
                    "symlink outside the scanned folders"
                )
                continue
            step = Step(action=action, entry=m, group=gi, partner=partner, keeper=partner.path)
            step.real, step.partner_real = real, partner_real
            step.digest = content(m, real)
            step.partner_digest = content(partner, partner_real)
            step.irreversible = how.irreversible
            how.prepare(step)
            d = os.path.dirname(m.path)
            if d not in listings:
                try:
                    listings[d] = stem_index(os.listdir(d))
                except OSError:
                    listings[d] = {}
            # a shot leaves whole: the RAW beside a JPEG goes with it, unless it is the copy
            # that stays (the JPEG half removed by hand) or is marked itself (its own step)
            raws = [
                r for r in shot_raws(m.path, listings[d]) if r != partner.path and r not in marked
            ]
            side = find_sidecars(m.path, listings[d], scanned, raws)
            for r in raws:
                side += [r, *find_sidecars(r, listings[d], scanned, [m.path])]
            side = sorted({*side, *live.movies(m.path, listings[d])})
            if how.with_sidecars or how.irreversible:  # the still leaves (a link stays in place)
                why = _part_without_copy(
                    m.path, partner.path, side, listings, scanned, digests, live
                )
                if why is not None:
                    refused.append(f"{name}: {why}")
                    continue
            if not how.with_sidecars:
                side = []
            side_dest: list[str | None] = [None] * len(side)  # a delete moves no sidecar
            if how.has_destination:
                root = by_path[m.root]
                base = quarantine_base(real, root.real, m.dev, move_to, labels, BATCH_FOLDER)
                step.dest, dests = free_destination(base, real, side, taken)
                taken.update([step.dest, *dests])
                side_dest = [*dests]
                step.may_copy = move_to is not None
                step.copy = step.may_copy and device_of(move_to or "") != m.dev
            step.sidecars = tuple(
                Sidecar(p, dst, *_size_mtime(p)) for p, dst in zip(side, side_dest, strict=True)
            )
            planned.add(m.path)
            steps.append(step)

    # a RAW travelling with its shot may not be the copy that stays for another step
    staying = {s.partner.path for s in steps if s.partner is not None}
    for s in [s for s in steps if any(c.path in staying for c in s.sidecars)]:
        raw = next(c.path for c in s.sidecars if c.path in staying)
        steps.remove(s)
        refused.append(
            f"group {s.group + 1}: {s.entry.path!r} would take its RAW {os.path.basename(raw)!r} "
            "along, which is the copy that stays for another marked file"
        )
    stray = sorted(marked - scanned)
    for p in stray:
        refused.append(f"{p!r} is marked but not in any group; ignored")
    return Plan(
        action=action,
        steps=steps,
        roots=roots,
        spec=spec,
        refused=refused,
        move_to=move_to,
        keep_in=keep_in,
        confirm_word=CONFIRM_WORD if how.irreversible else None,
        created=time.time(),
        remove_emptied_folders=remove_emptied_folders,
        emptied_folders=predict(steps, roots, move_to, keep_in),
    )


def _part_without_copy(
    path: str,
    partner: str,
    sidecars: list[str],
    listings: dict[str, dict[str, list[str]]],
    scanned: set[str],
    part_digests: dict[str, str | None],
    live: LiveIds,
) -> str | None:
    """Why ``path`` may not leave, or None: a part of its shot (a Live Photo's movie, the RAW
    of a RAW+JPEG shot) has no identical copy beside ``partner``, the file that stays.

    A shot leaves whole or not at all: removing the still as a duplicate would take the part
    along (or orphan it, for a delete or a link), and the motion or the RAW would be gone
    from the library. The copy that stays may itself be that part's copy (a RAW)."""
    parts = [p for p in sidecars if is_shot_part(p)]
    if not parts:
        return None
    d = os.path.dirname(partner)
    if d not in listings:
        try:
            listings[d] = stem_index(os.listdir(d))
        except OSError:
            listings[d] = {}
    theirs = [p for p in find_sidecars(partner, listings[d], scanned) if is_movie(p)]
    theirs += shot_raws(partner, listings[d]) + live.movies(partner, listings[d])
    if is_raw_path(partner):
        theirs.append(partner)

    def digest(p: str) -> str | None:
        if p not in part_digests:
            try:
                part_digests[p] = safefs.digest(p)
            except OSError:
                part_digests[p] = None
        return part_digests[p]

    kept = {digest(p) for p in theirs} - {None}
    for part in parts:
        if digest(part) in kept:
            continue
        if is_movie(part):
            return (
                f"{path!r} is the still of a Live Photo: its movie {os.path.basename(part)!r} "
                f"has no copy beside {partner!r}, the file that stays; mark that one instead, or "
                "move both by hand"
            )
        return (
            f"{path!r} is one shot with the RAW {os.path.basename(part)!r}, which has no "
            f"identical copy beside {partner!r}, the file that stays: a shot leaves only whole. "
            "Show format twins to remove the JPEG alone, or mark the RAW too to move both"
        )
    return None


def _part_word(path: str) -> str:
    """What a file travelling with its image is, in a plan's description: the RAW of its
    RAW+JPEG shot, the movie of its Live Photo, or a sidecar (edits, a thumbnail)."""
    return "RAW" if is_raw_path(path) else "Live Photo movie" if is_movie(path) else "sidecar"


def anchor_roots(roots: Iterable[str]) -> list[Root]:
    """Each scanned root with its real path and the identity of the folder there."""
    out = []
    for r in sorted(set(roots)):
        real = os.path.realpath(r)
        try:
            st = os.stat(real)
        except OSError:
            st = None
        out.append(Root(r, real, st.st_dev if st else -1, st.st_ino if st else -1))
    return out


def real_path(e: FileEntry, root: Root) -> str | None:
    """Where ``e`` really is: the root's real path plus its path inside the root, or None when
    it was reached through a symlink (its real place differs, or lies outside the root)."""
    rel = os.path.relpath(e.path, e.root)
    if rel == os.curdir or rel.startswith(os.pardir):
        return None
    real = os.path.normpath(os.path.join(root.real, rel))
    if os.path.realpath(real) != real:
        return None
    return real


def _size_mtime(path: str) -> tuple[int, int]:
    try:
        st = os.lstat(path)
    except OSError:
        return (-1, -1)
    return (st.st_size, st.st_mtime_ns)
