"""What apply checks before it acts: the plan as a whole, then each file at the moment of acting.

Why apply re-derives instead of trusting the plan: minutes or days pass between plan and apply,
and a plan file may have been edited. So a plan is a *request*: its roots must still be the
same folders; every file, partner and destination must lie inside them (or inside the chosen
``--move-to``); a step's partner must be a file that stays; and each file must still be the
file that was planned. Dropping steps is allowed; anything else that differs from what the
planner would have made is refused with its reason.

Identity at the moment of acting: (dev, ino, size, mtime_ns, ctime_ns) as seen now against
what the plan (or our own last operation) saw. mtime can be set back by anyone, ctime cannot
be set by an unprivileged user — but it is emulated on vfat/exFAT and many FUSE/SMB mounts, so
there, and before every delete or link, the content digest recorded in the plan decides.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from . import safefs
from .kinds import ACTIONS, kind
from .paths import in_folder
from .plan import Plan, Step
from .trash import fs_type

#: Filesystems whose change time is not a real kernel-kept ctime (emulated or absent).
NO_REAL_CTIME = {
    "vfat",
    "msdos",
    "exfat",
    "ntfs",
    "ntfs3",
    "fuseblk",
    "cifs",
    "smb3",
    "smbfs",
    "9p",
    "fuse.sshfs",
    "sshfs",
    "davfs",
    "fuse.rclone",
}


def real_ctime(path: str) -> bool:
    """Does the filesystem holding ``path`` keep a real change time?"""
    kind = fs_type(path)
    return kind is None or (kind not in NO_REAL_CTIME and not kind.startswith("fuse"))


def check_plan(plan: Plan, confirm: str | None) -> list[str]:
    """Reasons the plan as a whole cannot run (empty when it can). Never touches a file."""
    problems: list[str] = []
    if plan.action not in ACTIONS:
        return [f"unknown action {plan.action!r}"]
    if plan.irreversible and (not plan.confirm_word or confirm != plan.confirm_word):
        problems.append(f"permanent delete not confirmed: type {plan.confirm_word} to confirm")
    if kind(plan.action).irreversible and plan.confirm_word != "DELETE":
        problems.append("a delete plan must ask for the word DELETE")
    if not plan.roots and plan.steps:
        problems.append("the plan names no scanned folder")
    if plan.purpose == "bursts" and plan.action not in ("move", "trash"):
        problems.append(
            f"burst frames have no copy: a culling plan may move or trash them, not {plan.action!r}"
        )
    for r in plan.roots:
        if not os.path.isabs(r.real) or os.path.normpath(r.real) != r.real:
            problems.append(f"root {r.path!r}: not a resolved absolute path")
            continue
        try:
            fd = safefs.open_dir(r.real)
        except OSError as e:
            problems.append(f"root {r.path!r}: cannot be reached without a symlink ({e.strerror})")
            continue
        st = os.fstat(fd)
        os.close(fd)
        if (st.st_dev, st.st_ino) != (r.dev, r.ino):
            problems.append(f"root {r.path!r} ({r.real!r}) is not the folder that was scanned")
    if plan.move_to is not None:
        problems += _check_dest(plan)
    if plan.spec is not None:
        from ..engine.matching.spec import MatchSpec

        try:
            MatchSpec.from_dict(plan.spec)
        except (ValueError, TypeError, KeyError) as e:
            problems.append(f"the plan's match settings are not valid: {e}")
    for f in plan.emptied_folders:  # shown to the person who confirms: only what could go
        if not any(safefs.inside(f, r.real) and f != r.real for r in plan.roots):
            problems.append(f"the plan lists a folder to remove outside its scanned folders: {f!r}")
    for k in plan.keep_in:
        if not os.path.isabs(k):
            problems.append(f"keep-in folder {k!r} is not an absolute path")
        elif not os.path.isdir(k):
            problems.append(f"keep-in folder {k!r} does not exist (it would protect nothing)")
    return problems


def _check_dest(plan: Plan) -> list[str]:
    dest = plan.move_to or ""
    if not os.path.isabs(dest) or os.path.normpath(dest) != dest:
        return [f"--move-to {dest!r} is not a resolved absolute path"]
    if os.path.realpath(dest) != dest:
        return [f"--move-to {dest!r} is a symlink or has one on the way; refused"]
    for r in plan.roots:
        if safefs.inside(r.real, dest):
            return [f"--move-to {dest!r} contains the scanned folder {r.real!r}; refused"]
    return []


def check_step_shape(plan: Plan, step: Step, stays: set[str], removed: set[str]) -> str | None:
    """Is this step one the planner could have made? (No disk access.)"""
    if step.action != plan.action:
        return f"its action {step.action!r} differs from the plan's {plan.action!r}"
    if step.partner is None or not step.partner_real:
        return "it names no copy that stays"
    roots = {r.path: r for r in plan.roots}
    for e, real, what in (
        (step.entry, step.real, "file"),
        (step.partner, step.partner_real, "copy that stays"),
    ):
        root = roots.get(e.root)
        if root is None:
            return f"its {what} is not under a scanned folder of this plan"
        rel = os.path.relpath(e.path, e.root)
        if rel == os.curdir or rel.startswith(os.pardir) or os.path.isabs(rel):
            return f"its {what} {e.path!r} is outside its scanned folder"
        if real != os.path.normpath(os.path.join(root.real, rel)):
            return f"its {what}'s real path {real!r} does not match its place in the folder"
    if step.real == step.partner_real:
        return "the file and the copy that stays are the same path"
    if step.partner_real in removed:
        return f"the copy that stays, {step.partner.path!r}, is itself removed by this plan"
    if step.real in stays:
        return "another step keeps this file as its copy that stays"
    if in_folder(step.real, plan.keep_in):
        return "it is in a keep-in folder, which is never touched"
    if step.keeper is not None and step.keeper != step.partner.path:
        return "its keeper is not the copy that stays"
    for c in step.sidecars:
        if os.path.dirname(c.path) != os.path.dirname(step.entry.path):
            return f"its sidecar {c.path!r} is not beside it"
    return None


@dataclass(slots=True)
class Seen:
    """What we last saw of each real path: the plan's view, updated after our own operations
    (our own renames and links change a file's ctime; they must not read as 'changed')."""

    idents: dict[str, safefs.Ident] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)
    #: real_ctime() per device: reading the mount table for every file was a measurable cost
    #: of every step (benchmarks/RESULTS.md, "Why the code is as it is").
    ctime_real: dict[int, bool] = field(default_factory=dict)

    def real_ctime(self, path: str, dev: int) -> bool:
        known = self.ctime_real.get(dev)
        if known is None:
            known = self.ctime_real[dev] = real_ctime(path)
        return known

    def note(self, path: str) -> None:
        try:
            self.idents[path] = safefs.Ident.of(safefs.lstat(path))
        except OSError:
            self.idents.pop(path, None)


def same_file(
    path: str,
    planned: safefs.Ident,
    digest: str | None,
    seen: Seen,
    *,
    need_digest: bool,
) -> tuple[safefs.Ident | None, str | None]:
    """(identity now, None) if ``path`` still holds the planned content, else (None, reason)."""
    now, why = safefs.regular_file(path)
    if now is None:
        return None, why
    ref = seen.idents.get(path, planned)
    if (now.size, now.mtime_ns) != (ref.size, ref.mtime_ns):
        return None, "changed since the scan (size or modification time differ)"
    if (now.dev, now.ino) != (ref.dev, ref.ino):
        return None, "was replaced by another file since the scan"
    if need_digest or now.ctime_ns != ref.ctime_ns or not seen.real_ctime(path, now.dev):
        if digest is None:
            return (
                None,
                "changed since the scan (its change time differs) and no digest was planned",
            )
        have = seen.digests.get(path)
        if have is None or now.ctime_ns != ref.ctime_ns:
            try:
                have = safefs.digest(path)
            except OSError as e:
                return None, f"cannot read it: {e.strerror}"
        if have != digest:
            return None, "its content changed since the scan (the digests differ)"
        seen.digests[path] = have
    return now, None


def planned_ident(e) -> safefs.Ident:  # e: FileEntry
    return safefs.Ident(e.dev, e.ino, e.size, e.mtime_ns, getattr(e, "ctime_ns", 0))
