"""Folders a batch emptied: removed after the batch, journaled, recreated by undo; and the
batch's own quarantine folders, removed once nothing of ours is left in them.

Why: a person who moves the last duplicates out of ``2019/WhatsApp/`` does not want an empty
folder left behind (czkawka needs a separate "empty folders" tool for it; dupeGuru leaves
them). But a folder that was empty before, one that still holds a hidden file (``.DS_Store``,
``.nomedia``) or a subfolder, a scanned folder itself, the quarantine, the ``--move-to`` folder
and a keep-in folder are the user's, not ours to tidy.

So a candidate is a folder a done step took a file out of, and once it is gone its parent, up
to but never including the scanned folder. Each is checked at the moment of removal (still
the folder seen before the batch, and empty now), journaled as an ``rmdir`` record with its
mode, times and owner from before the batch, and removed with rmdir, which fails safely on
anything that is not empty. Undo recreates the folders, parents first, with that mode and
owner, before any file goes back, and gives them back their times once the files are in.
"""

from __future__ import annotations

import contextlib
import heapq
import os
import stat
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol, TypeVar

from . import records as R
from . import safefs
from .paths import QUARANTINE
from .steps import Root, Step

#: The action kinds whose step takes the file's name away (a link keeps it, as a link).
VACATES = frozenset({"move", "trash", "delete"})
#: How many folders a report names one by one (the count is always complete).
LISTED = 20
_OURS = os.path.dirname(QUARANTINE)  # ".dedup-tui"
_NOFOLLOW_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class _Scope:
    """Which folders may be removed: strictly inside a scanned folder, never a scanned folder,
    nothing of ours (``.dedup-tui``, the ``--move-to`` folder) and no keep-in folder, nor a
    folder holding one of those."""

    def __init__(self, roots: Iterable[Root], move_to: str | None, keep_in: Iterable[str]):
        self.roots = {r.real for r in roots}
        self.fenced = [p for p in (move_to, *keep_in) if p]

    def allows(self, folder: str) -> bool:
        if folder in self.roots or not any(safefs.inside(folder, r) for r in self.roots):
            return False
        if _OURS in folder.split(os.sep):
            return False
        return not any(safefs.inside(folder, f) or safefs.inside(f, folder) for f in self.fenced)

    def upward(self, folder: str) -> Iterable[str]:
        """``folder`` and its parents, as long as they may be removed."""
        while self.allows(folder):
            yield folder
            folder = os.path.dirname(folder)


def _vacating(steps: Iterable[Step]) -> list[Step]:
    return [s for s in steps if s.action in VACATES and s.real]


def _names_leaving(step: Step) -> list[str]:
    """The real paths a step takes away: the image and its sidecars (which sit beside it)."""
    d = os.path.dirname(step.real)
    return [step.real, *(os.path.join(d, os.path.basename(c.path)) for c in step.sidecars)]


def _deepest_first(start: Iterable[str], scope: _Scope, gone: Callable[[str], bool]) -> list[str]:
    """Folders from ``start`` that ``gone`` says go, deepest first; a parent is asked after its
    child went (so it is asked once all its children that go have gone)."""
    heap = [(-f.count(os.sep), f) for f in set(start) if scope.allows(f)]
    heapq.heapify(heap)
    queued = {f for _, f in heap}
    out = []
    while heap:
        _, folder = heapq.heappop(heap)
        if not gone(folder):
            continue
        out.append(folder)
        up = os.path.dirname(folder)
        if up not in queued and scope.allows(up):
            queued.add(up)
            heapq.heappush(heap, (-up.count(os.sep), up))
    return out


def _listing(folder: str) -> tuple[os.stat_result, list[str]] | None:
    """The folder at ``folder`` (reached without symlinks) and the names in it, or None."""
    try:
        fd = safefs.open_dir(folder)
    except OSError:
        return None
    try:
        return os.fstat(fd), os.listdir(fd)
    except OSError:
        return None
    finally:
        os.close(fd)


def predict(
    steps: Sequence[Step], roots: Iterable[Root], move_to: str | None, keep_in: Iterable[str]
) -> list[str]:
    """The folders that would be left empty if ``steps`` all ran now (read-only): what a plan
    and a dry run show. Apply decides again, folder by folder, when it gets there."""
    steps = _vacating(steps)
    leaving = {p for s in steps for p in _names_leaving(s)}

    def gone(folder: str) -> bool:
        seen = _listing(folder)
        if seen is None or not all(os.path.join(folder, n) in leaving for n in seen[1]):
            return False
        leaving.add(folder)
        return True

    start = {os.path.dirname(s.real) for s in steps}
    return _deepest_first(start, _Scope(roots, move_to, keep_in), gone)


class Plan(Protocol):
    """What this module reads of a :class:`~.plan.Plan` (which imports this module)."""

    @property
    def steps(self) -> list[Step]: ...
    @property
    def roots(self) -> list[Root]: ...
    @property
    def move_to(self) -> str | None: ...
    @property
    def keep_in(self) -> list[str]: ...
    @property
    def remove_emptied_folders(self) -> bool: ...


class Report(Protocol):
    """What this module reads and adds to an :class:`~.apply.ApplyReport`."""

    done: list[str]
    errors: list[tuple[str, str]]
    notes: list[str]
    folders_removed: list[str]


_R = TypeVar("_R", bound=Report)


class Batch(Protocol):
    """What removing folders needs of the apply runner (:class:`~.apply._Runner`)."""

    @property
    def batch(self) -> str: ...
    @property
    def cp(self) -> Callable[[str], None]: ...
    @property
    def report(self) -> Report: ...

    def log(self, rec: R.Record) -> None: ...
    def next_op(self) -> int: ...


class Watch:
    """The folders a batch may empty, as they were before it ran; :meth:`remove` afterwards."""

    def __init__(
        self, steps: Sequence[Step], roots: Iterable[Root], move_to: str | None, keep_in: list[str]
    ):
        self.scope = _Scope(roots, move_to, keep_in)
        self.before: dict[str, os.stat_result] = {}
        for s in _vacating(steps):
            for folder in self.scope.upward(os.path.dirname(s.real)):
                if folder in self.before:
                    break
                try:
                    st = safefs.lstat(folder)
                except OSError:
                    break
                if not stat.S_ISDIR(st.st_mode):
                    break
                self.before[folder] = st

    @classmethod
    def of(cls, plan: Plan) -> Watch:
        """The folders ``plan`` may empty (none when it keeps emptied folders)."""
        steps = plan.steps if plan.remove_emptied_folders else []
        return cls(steps, plan.roots, plan.move_to, plan.keep_in)

    def remove(self, r: Batch, done: Iterable[Step]) -> tuple[list[str], list[str]]:
        """Remove the folders the ``done`` steps emptied, each journaled; (removed, notes)."""
        hidden: list[str] = []

        def gone(folder: str) -> bool:
            was = self.before.get(folder)
            now = _listing(folder)
            if was is None or now is None or not safefs.Ident.of(was).same_inode(now[0]):
                return False
            if now[1]:
                if all(n.startswith(".") for n in now[1]) and _OURS not in now[1]:
                    hidden.append(folder)
                return False
            return _remove(r, folder, was)

        start = {os.path.dirname(s.real) for s in _vacating(done)}
        removed = _deepest_first(start, self.scope, gone)
        notes = listed("removed emptied folder", removed)
        notes += listed("kept a folder this batch emptied: it holds hidden files only:", hidden)
        return removed, notes


def done_steps(plan: Plan, done: Iterable[str]) -> list[Step]:
    """The plan's steps whose file was handled (``done`` holds their paths)."""
    paths = set(done)
    return [s for s in plan.steps if s.entry.path in paths]


def after_batch(
    r: Batch, plan: Plan, watch: Watch, records: Callable[[], Sequence[R.Record]]
) -> None:
    """After the last step: remove the folders the batch emptied (if the plan says so), and
    the empty folders a failed move left in the batch's own folder."""
    rep = r.report
    if plan.remove_emptied_folders:
        rep.folders_removed, notes = watch.remove(r, done_steps(plan, rep.done))
        rep.notes += notes
    if rep.errors:
        prune_batch_folders(records())


def after_dry_run(plan: Plan, rep: _R) -> _R:
    """A dry run's report, with the folders the batch would empty."""
    if plan.remove_emptied_folders:
        rep.folders_removed = predict(
            done_steps(plan, rep.done), plan.roots, plan.move_to, plan.keep_in
        )
        rep.notes += listed("would remove emptied folder", rep.folders_removed)
    return rep


def _remove(r: Batch, folder: str, was: os.stat_result) -> bool:
    k = r.next_op()
    mode = stat.S_IMODE(was.st_mode)
    times = {"mtime_ns": was.st_mtime_ns, "atime_ns": was.st_atime_ns}
    r.log(R.RemoveFolder(r.batch, k, folder, mode, uid=was.st_uid, gid=was.st_gid, **times))
    r.cp("rmdir-intent")
    if not safefs.rmdir_if_empty(folder):  # something arrived since the look: it stays
        r.log(R.Failed(r.batch, k, "not empty any more"))
        return False
    r.log(R.Done(r.batch, k))
    r.cp("rmdir-done")
    return True


def listed(what: str, folders: Sequence[str]) -> list[str]:
    """One line per folder, the first :data:`LISTED` of them, then how many more."""
    out = [f"{what} {f!r}" for f in folders[:LISTED]]
    if len(folders) > LISTED:
        out.append(f"{what} ... and {len(folders) - LISTED} more")
    return out


# -- undo ---------------------------------------------------------------------------------


class Undoer(Protocol):
    """What recreating folders needs of the undoer (:class:`~.undo._Undo`)."""

    @property
    def batch(self) -> str: ...
    @property
    def dry(self) -> bool: ...
    @property
    def notes(self) -> list[str]: ...

    def log(self, rec: R.Record) -> None: ...


def recreate(u: Undoer, records: Sequence[R.Record]) -> list[R.RemoveFolder]:
    """Recreate the folders the batch removed and that are still missing, parents first;
    returns them (in a dry run: those that would be recreated)."""
    settled = {r.op for r in records if isinstance(r, R.Failed | R.Undone)}
    removed = [r for r in records if isinstance(r, R.RemoveFolder) and r.op not in settled]
    out = []
    for rec in sorted(removed, key=lambda r: (r.path.count(os.sep), r.path)):
        try:
            now: os.stat_result | None = safefs.lstat(rec.path)
        except FileNotFoundError:
            now = None
        except OSError as e:
            u.notes.append(f"cannot recreate the folder {rec.path!r}: {_why(e)}")
            continue
        if now is not None:  # never removed (killed before the rmdir), or made again since
            if not stat.S_ISDIR(now.st_mode):
                u.notes.append(f"not recreating the folder {rec.path!r}: something else is there")
            elif not u.dry:
                u.log(R.Undone(u.batch, rec.op))
            continue
        if not u.dry:
            try:
                owned = make_folder(rec.path, rec.mode, _owner(rec))
            except OSError as e:
                u.notes.append(f"cannot recreate the folder {rec.path!r}: {_why(e)}")
                continue
            if not owned:
                u.notes.append(
                    f"recreated the folder {rec.path!r}, but not with its owner (uid {rec.uid}, "
                    f"gid {rec.gid}): only root may give it that"
                )
            u.log(R.Undone(u.batch, rec.op))
        out.append(rec)
    return out


def _owner(rec: R.RemoveFolder) -> tuple[int, int] | None:
    return None if rec.uid is None or rec.gid is None else (rec.uid, rec.gid)


def _why(e: OSError) -> str:
    if isinstance(e, safefs.PathRefused):
        return "a folder on the way is now a symlink (or a file)"
    return e.strerror or str(e)


def make_folder(path: str, mode: int, owner: tuple[int, int] | None) -> bool:
    """Create the folder ``path`` with exactly ``mode`` (whatever the umask) and, where this
    user may, ``owner``; reached without symlinks (missing folders on the way are made, as a
    file put back makes them). FileExistsError when anything is at that name. Returns whether
    the owner is the one asked for."""
    owned = True
    with safefs.parent(path, create=True) as (fd, name):
        os.mkdir(name, 0o700, dir_fd=fd)
        nfd = os.open(name, _NOFOLLOW_DIR, dir_fd=fd)
        try:
            st = os.fstat(nfd)
            if owner is not None and (st.st_uid, st.st_gid) != owner:
                try:
                    os.fchown(nfd, *owner)
                except OSError:
                    owned = False
            os.fchmod(nfd, stat.S_IMODE(mode))  # after chown, which may clear setgid
        finally:
            os.close(nfd)
        safefs.fsync_fd(fd)
    return owned


def restore_times(folders: Iterable[R.RemoveFolder]) -> None:
    """Give recreated folders back their times, once the files are back in them."""
    for rec in folders:
        if rec.mtime_ns is None:
            continue
        with contextlib.suppress(OSError):
            fd = safefs.open_dir(rec.path)
            try:
                os.utime(fd, ns=(rec.atime_ns or rec.mtime_ns, rec.mtime_ns))
            finally:
                os.close(fd)


def prune_batch_folders(records: Sequence[R.Record]) -> None:
    """Remove the empty folders inside the batch's own folder (in a quarantine or ``--move-to``
    folder), that folder itself once empty, and an emptied ``.dedup-tui/duplicates`` above it:
    all of them made by the batch or for it, never anything else. (A version 1 batch has no
    folder of its own; undo prunes its flat quarantine file by file.)"""
    start = next((r for r in records if isinstance(r, R.BatchStart)), None)
    if start is None or not start.folder:
        return
    mark = os.sep + start.folder + os.sep
    tops = set()
    for r in records:
        if isinstance(r, R.Intent) and r.dst and mark in r.dst:
            tops.add(r.dst[: r.dst.index(mark) + len(mark) - 1])
    if start.move_to:
        tops.add(os.path.join(start.move_to, start.folder))
    for top in sorted(tops):
        if not safefs.is_dir(top):  # gone, or a symlink now: never walked
            continue
        for d, _dirs, _files in os.walk(top, topdown=False):
            if safefs.inside(d, top):
                safefs.rmdir_if_empty(d)
        up = os.path.dirname(top)
        if up.endswith(os.sep + QUARANTINE) and not safefs.exists(top):
            safefs.rmdir_if_empty(up)
