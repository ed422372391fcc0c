"""Run a plan: check it, lock the trees, re-check every file at the moment of acting, journal
every operation, act, report.

Why re-check here and not trust the plan: minutes or days may pass between plan and apply, and
the plan may be a file someone edited. The plan as a whole and each step's shape are checked in
:mod:`~tui_dedup.actions.apply_checks`; each pair is re-matched with the plan's settings
(:mod:`tui_dedup.engine.matching.recheck`); each file and the copy that stays are re-identified just
before the step; destinations are recomputed inside the batch's own folder. Whatever fails is
skipped with its reason; nothing else is touched.

``checkpoint`` is called with a short label between every durable change; it exists so tests
can simulate a crash (raise a BaseException, or pause and get killed) at each of those points.
"""

from __future__ import annotations

import os
import stat
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..engine.files.discover import is_raw_path
from ..engine.model import FileEntry
from . import records as R
from . import safefs
from .apply_checks import Seen, check_plan, check_step_shape, planned_ident, same_file
from .copying import copy_verified, temp_name
from .empty_folders import Watch, after_batch, after_dry_run
from .fsops import CrossDevice, unique_name
from .journal import Journal
from .kinds import kind
from .kinds.base import StepFailed, reason_of
from .leftovers import active_symlink_targets, clear_leftovers
from .locks import tree_lock
from .paths import (
    LiveIds,
    batch_folder,
    free_destination,
    is_shot_part,
    quarantine_base,
    root_labels,
    stem_index,
)
from .plan import Plan, Step, human_bytes

Progress = Callable[[int, int, str], None]


@dataclass(slots=True)
class ApplyReport:
    """What happened, in terms a user can check on disk."""

    batch: str | None
    dry_run: bool = False
    done: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    bytes_freed: int = 0
    folders_removed: list[str] = field(default_factory=list)  # emptied by the batch, journaled

    @property
    def ok(self) -> bool:
        return not self.errors

    def lines(self) -> list[str]:
        verb = "would act on" if self.dry_run else "done"
        out = [
            f"{verb}: {len(self.done)} file(s), {human_bytes(self.bytes_freed)}; "
            f"skipped {len(self.skipped)}; errors {len(self.errors)}"
            + (f"; batch {self.batch}" if self.batch else "")
        ]
        if self.folders_removed:
            verb = "would remove" if self.dry_run else "removed"
            out[0] += f"; {verb} {len(self.folders_removed)} emptied folder(s)"
        out += [f"skipped {p!r}: {r}" for p, r in self.skipped]
        out += [f"error {p!r}: {r}" for p, r in self.errors]
        out += self.notes
        return out


class _Runner:
    def __init__(self, plan: Plan, journal: Journal, dry_run: bool, checkpoint) -> None:
        self.plan, self.journal, self.dry_run = plan, journal, dry_run
        self.cp = checkpoint or (lambda label: None)
        self.batch = ""
        self.folder = ""
        self.op = 0
        self.seen = Seen()
        self.labels = root_labels(r.real for r in plan.roots)
        self.root_real = {r.path: r.real for r in plan.roots}
        self.removed = {s.real for s in plan.steps}
        self.stays = {s.partner_real for s in plan.steps}
        self.link_targets: dict[str, str] = {}
        self.report = ApplyReport(batch=None, dry_run=dry_run)

    def log(self, rec: R.Record) -> None:
        if not self.dry_run:
            self.journal.append(rec)

    def next_op(self) -> int:
        self.op += 1
        return self.op

    # -- checks --------------------------------------------------------------------------
    def check(self, step: Step, recheck: str | None) -> tuple[str | None, safefs.Ident | None]:
        why = check_step_shape(self.plan, step, self.stays, self.removed)
        if why:
            return f"not a step the planner would make: {why}", None
        assert step.partner is not None
        if step.real in self.link_targets:
            return (
                f"a symlink made by batch {self.link_targets[step.real]} points at it; moving "
                "it would leave that link dangling (undo that batch first)",
                None,
            )
        k = kind(step.action)
        strict = k.strict
        now, why = same_file(
            step.real, planned_ident(step.entry), step.digest, self.seen, need_digest=strict
        )
        if now is None:
            return why, None
        keep, why = same_file(
            step.partner_real,
            planned_ident(step.partner),
            step.partner_digest,
            self.seen,
            need_digest=strict,
        )
        if keep is None:
            if self.plan.purpose == "bursts":
                return (
                    f"the frame that stays, {step.partner.path!r}, {why}; refusing to remove "
                    "another frame of its burst",
                    None,
                )
            return (
                f"the copy that stays, {step.partner.path!r}, {why}; refusing to remove what "
                "may be the last copy",
                None,
            )
        if now.same_inode(keep):
            return "it and the copy that stays are one file (hard links): nothing to free", None
        if recheck:
            if self.plan.purpose == "bursts":
                return f"not removed: {recheck}", None
            return f"no longer a match of {step.partner.path!r}: {recheck}", None
        refusal = k.check(step, now, keep)
        if refusal:
            return refusal, None
        for s in step.sidecars:
            try:
                st = safefs.lstat(self._real(step, s.path))
            except OSError:
                return f"its sidecar {s.path!r} vanished since the scan", None
            if not stat.S_ISREG(st.st_mode) or (st.st_size, st.st_mtime_ns) != (
                s.size,
                s.mtime_ns,
            ):
                return f"its sidecar {s.path!r} changed since the scan", None
        why = self._parts_still_kept(step)
        if why:
            return why, None
        return None, now

    def _parts_still_kept(self, step: Step) -> str | None:
        """A part of a shot (a Live Photo's movie, the RAW beside a JPEG) leaves with its
        primary only while an identical one is beside the file that stays, or is that file
        (the planner checked it; the world may have changed since)."""
        parts = [s for s in step.sidecars if is_shot_part(s.path)]
        if not parts:
            return None
        folder = os.path.dirname(step.partner_real)
        stem = os.path.splitext(os.path.basename(step.partner_real))[0]
        what = "its RAW" if any(is_raw_path(s.path) for s in parts) else "its Live Photo movie"
        try:
            fd = safefs.open_dir(folder)  # reached without following a symlink
            try:
                listed = os.listdir(fd)
            finally:
                os.close(fd)
            names = [n for n in listed if os.path.splitext(n)[0] == stem and is_shot_part(n)]
            paths = [os.path.join(folder, n) for n in names]
            paths += LiveIds().movies(step.partner_real, stem_index(listed))
            theirs = {safefs.digest(p) for p in paths}
            for m in parts:
                if safefs.digest(self._real(step, m.path)) not in theirs:
                    kind = "RAW" if is_raw_path(m.path) else "Live Photo movie"
                    return (
                        f"its {kind} {os.path.basename(m.path)!r} has no copy beside the file "
                        "that stays any more"
                    )
        except OSError as e:
            return f"{what} cannot be checked: {reason_of(e)}"
        return None

    def _real(self, step: Step, path: str) -> str:
        """A sidecar's real path: beside the image's real path."""
        return os.path.join(os.path.dirname(step.real), os.path.basename(path))

    # -- operations ----------------------------------------------------------------------
    def dest_for(self, step: Step, path: str) -> str:
        root = self.root_real[step.entry.root]
        return quarantine_base(
            path, root, step.entry.dev, self.plan.move_to, self.labels, self.folder
        )

    def move(
        self, src: str, dst: str, expect: safefs.Ident, digest: str | None, may_copy: bool, **kw
    ) -> str:
        """Journaled no-clobber move of the file ``expect`` at ``src``; returns where it went."""
        base, n = dst, 0
        while safefs.exists(dst):
            n += 1
            dst = unique_name(base, n)
        k = self.next_op()
        self.log(
            R.Intent(self.batch, k, "move", src, dst, expect.size, expect.mtime_ns, digest, **kw)
        )
        self.cp("intent")
        try:
            try:
                safefs.move(src, dst, expect)
                self.cp("linked")
            except CrossDevice:
                if not may_copy:
                    raise StepFailed(
                        "the quarantine is on another filesystem; not copying into a folder "
                        "you did not choose (use --move-to)"
                    ) from None
                self._copy_then_remove(k, src, dst, expect, digest)
        except (OSError, ValueError, StepFailed) as e:
            self.log(R.Failed(self.batch, k, reason_of(e)))
            raise StepFailed(reason_of(e)) from e
        self.log(R.Done(self.batch, k, dst=dst))
        self.cp("done")
        return dst

    def _copy_then_remove(
        self, k: int, src: str, dst: str, expect: safefs.Ident, digest: str | None
    ) -> None:
        if digest is None:
            digest = safefs.digest(src)
        tmp = temp_name(dst)
        self.log(R.TempName(self.batch, k, tmp))
        self.log(R.Copying(self.batch, k, digest, tmp))
        copied = copy_verified(src, dst, tmp, expected_digest=digest)
        self.cp("copy-written")
        self.log(R.Copied(self.batch, k))
        self.cp("copied")
        now, _ = safefs.regular_file(src)
        if now is None or not now.same_inode(expect) or now.size != expect.size:
            raise StepFailed("the file changed while it was being copied; both copies kept")
        safefs.remove_name(src, expect)
        self.report.notes.append(f"copied {src!r} to another filesystem and verified it")
        self.report.notes += copied.notes

    def run_step(self, step: Step, expect: safefs.Ident) -> None:
        """The step's kind carries it out, on the image and (if it says so) its sidecars."""
        k = kind(step.action)
        src = step.real
        side_real = [self._real(step, s.path) for s in step.sidecars] if k.with_sidecars else []
        dest, side_dest = "", [""] * len(side_real)
        if k.has_destination:
            dest, side_dest = free_destination(self.dest_for(step, src), src, side_real, set())
        k.run(self, step, [(src, dest), *zip(side_real, side_dest, strict=True)], expect)


def _rechecked(plan: Plan, cache_path: str | bool | None) -> list[str | None]:
    """Per step: why the pair no longer matches under the plan's settings (None: it does).

    A plan built in this process (no ``spec``) was matched moments ago by the caller; a plan
    file always carries one, and a byte-identical pair needs no features."""
    if plan.purpose == "bursts":
        return _rederived(plan, cache_path)
    if plan.spec is None or not plan.steps:
        return [None] * len(plan.steps)
    from ..engine.matching.recheck import MatchSpec, recheck_pairs

    try:
        spec = MatchSpec.from_dict(plan.spec)
    except (ValueError, TypeError, KeyError) as e:
        return [f"the plan's match settings are not valid ({e})"] * len(plan.steps)
    entries: list[FileEntry] = []
    index: dict[str, int] = {}
    pairs: list[tuple[int, int]] = []
    which: list[int] = []
    for n, s in enumerate(plan.steps):
        if s.digest is not None and s.digest == s.partner_digest:
            continue
        if s.partner is None:  # check_step_shape refuses it; nothing to compare against
            continue
        ids = []
        for entry in (s.entry, s.partner):
            if entry.path not in index:
                index[entry.path] = len(entries)
                entries.append(entry)
            ids.append(index[entry.path])
        pairs.append((ids[0], ids[1]))
        which.append(n)
    out: list[str | None] = [None] * len(plan.steps)
    if pairs:
        cache = _feature_cache(cache_path)
        try:
            found = recheck_pairs(entries, pairs, spec, cache=cache)
        finally:
            if cache is not None:
                cache.close()
        for n, why in zip(which, found, strict=True):
            out[n] = why
    return out


def _rederived(plan: Plan, cache_path: str | bool | None) -> list[str | None]:
    """Per step of a culling plan: why the frame is no longer a frame of the burst whose
    frame stays (None: it is). Always derived again, also for a plan built in this process:
    frames have no copy, so the burst itself is what makes removing one acceptable."""
    from ..engine.bursts.recheck import recheck_bursts
    from ..engine.matching.spec import MatchSpec

    if not plan.steps:
        return []
    try:
        spec = MatchSpec.from_dict(plan.spec) if plan.spec is not None else None
    except (ValueError, TypeError, KeyError) as e:
        return [f"the plan's match settings are not valid ({e})"] * len(plan.steps)
    if spec is None:
        return ["a culling plan must say what the burst was matched with"] * len(plan.steps)
    entries: list[FileEntry] = []
    index: dict[str, int] = {}

    def at(e: FileEntry) -> int:
        if e.path not in index:
            index[e.path] = len(entries)
            entries.append(e)
        return index[e.path]

    bursts: dict[int, list[int]] = {}  # kept frame → frames (indices into entries)
    which: dict[int, int] = {}  # step → its frame's index
    for n, s in enumerate(plan.steps):
        if s.partner is None:  # check_step_shape refuses it
            continue
        which[n] = at(s.entry)
        bursts.setdefault(at(s.partner), []).append(which[n])
    cache = _feature_cache(cache_path)
    try:
        found = recheck_bursts(entries, list(bursts.items()), spec, cache=cache)
    finally:
        if cache is not None:
            cache.close()
    return [found.get(which[n]) if n in which else None for n in range(len(plan.steps))]


def _feature_cache(cache_path: str | bool | None):
    """The feature cache the re-check reads (features of unchanged files are not decoded
    again): ``None`` the default one, a path that one, ``False`` none (``--no-cache``)."""
    if cache_path is False:
        return None
    try:
        from ..engine.cache.features import FeatureCache

        return FeatureCache.open(None if cache_path in (None, True) else str(cache_path))
    except Exception:  # the cache is an optimisation: never a reason to fail
        return None


def apply_plan(
    plan: Plan,
    *,
    journal: Journal,
    dry_run: bool = False,
    on_progress: Progress | None = None,
    confirm: str | None = None,
    checkpoint: Callable[[str], None] | None = None,
    cache_path: str | bool | None = None,
) -> ApplyReport:
    """Carry out ``plan``. A permanent delete needs ``confirm`` == ``plan.confirm_word``.

    ``cache_path``: the feature cache the pairs are re-matched from (None: the default one;
    False: none, as with ``--no-cache``; a front end passes the one its scan used).

    ``dry_run`` performs every check (digests and re-matching included) and reports what would
    be done, without touching a file or the journal. Raises :class:`~.locks.TreeBusy` when
    another process is changing files in one of the trees, JournalBusy/JournalError when the
    journal cannot be used. Folders the batch empties go after it, unless the plan says to
    keep them (``plan.remove_emptied_folders``; :mod:`~.empty_folders`).
    """
    r = _Runner(plan, journal, dry_run, checkpoint)
    problems = check_plan(plan, None if dry_run and plan.irreversible else confirm)
    if dry_run and plan.irreversible:
        problems = [p for p in problems if "not confirmed" not in p]
    if problems:
        r.report.errors += [("(plan)", p) for p in problems]
        return r.report
    if plan.edited:
        r.report.notes.append(
            "this plan file was edited, or made by another user or under sudo: "
            "every step was re-checked as for any plan"
        )
    rechecked = _rechecked(plan, cache_path)
    if dry_run:
        r.link_targets = active_symlink_targets(journal)
        return after_dry_run(plan, _run(r, plan, rechecked, on_progress))
    roots = [x.real for x in plan.roots]
    command = " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv))
    with tree_lock(roots, plan.move_to, command=command) as lock, journal.locked():
        r.report.notes += lock.notes
        r.report.notes += clear_leftovers(journal)
        r.link_targets = active_symlink_targets(journal)
        r.batch = r.report.batch = journal.new_batch_id()
        now = time.time()
        r.folder = batch_folder(r.batch, plan.action, now)
        journal.append(
            R.BatchStart(
                r.batch,
                now,
                plan.action,
                len(plan.steps),
                move_to=plan.move_to,
                version=R.JOURNAL_VERSION,
                roots=roots,
                folder=r.folder,
            )
        )
        watch = Watch.of(plan)  # the folders the batch may empty, as they are before it
        rep = _run(r, plan, rechecked, on_progress)
        after_batch(r, plan, watch, lambda: journal.batch_records(r.batch))
        r.log(R.End(r.batch, len(rep.done), len(rep.skipped), len(rep.errors), rep.bytes_freed))
    return r.report


def _run(
    r: _Runner, plan: Plan, rechecked: list[str | None], on_progress: Progress | None
) -> ApplyReport:
    total = len(plan.steps)
    marked_dests: set[str] = set()
    for n, step in enumerate(plan.steps):
        path = step.entry.path
        if on_progress:
            on_progress(n, total, path)
        try:
            why, expect = r.check(step, rechecked[n])
        except OSError as e:
            why, expect = f"cannot check it: {reason_of(e)}", None
        if why or expect is None:
            why = why or "cannot check it"
            r.report.skipped.append((path, why))
            r.log(R.Skip(r.batch, path, why))
            continue
        if not r.dry_run:
            try:
                _mark_destination(r, step, marked_dests)
                r.run_step(step, expect)
            except (StepFailed, OSError) as e:
                r.report.errors.append(
                    (path, str(e) if isinstance(e, StepFailed) else reason_of(e))
                )
                continue
        r.report.done.append(path)
        r.report.bytes_freed += step.bytes
    if on_progress:
        on_progress(total, total, "")
    return r.report


def _mark_destination(r: _Runner, step: Step, done: set[str]) -> None:
    """Put the destination marker where this step's files go, so no later scan lists them
    (whatever options it is given), before the first file arrives there."""
    from ..engine.files.discover import DEST_MARKER

    if not kind(step.action).uses_our_folder(step):
        return  # a delete, a real trash: nothing of ours is written
    # The marker goes in the --move-to folder, or in the .dedup-tui folder of the quarantine.
    top = r.plan.move_to or ""
    if not top:
        top = os.path.dirname(r.dest_for(step, step.real).split(os.sep + r.folder + os.sep)[0])
    if top in done:
        return
    fd = safefs.open_dir(top, create=True)
    try:
        try:
            f = os.open(
                DEST_MARKER, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=fd
            )
        except FileExistsError:
            pass
        else:
            with os.fdopen(f, "w") as out:
                out.write(
                    "Signature: dedup-tui destination\n"
                    "# Files dedup-tui moved here. dedup-tui never scans this folder.\n"
                )
    finally:
        os.close(fd)
    done.add(top)
