"""What the review screen works on, without Textual: features, pairs, groups, hidden files.

Why apart from the screen: re-matching, hiding skipped pairs and moved files, building the plan
for the marked files, the stack of batches ``u`` undoes and the state saved between runs are
plain decisions, tested without an app (tests/review) and run inside thread workers. The screen
owns only the widgets; this object owns the data they show and what the user decided.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from tui_dedup.actions.plan import Plan
from tui_dedup.actions.skips import ReviewState, SkipStore
from tui_dedup.engine.matching.group import star_groups
from tui_dedup.engine.matching.spec import MatchSpec
from tui_dedup.engine.model import FileEntry, Group, Pairs
from tui_dedup.engine.registry import PRESETS, Threshold, resolve_threshold
from tui_dedup.engine.scan import ScanResult
from tui_dedup.engine.verdicts.evidence import blank
from tui_dedup.engine.verdicts.kinds import WORDS, Kind, copies_only, mask_of
from tui_dedup.review import decisions
from tui_dedup.review.bursts import Bursts, bursts_of
from tui_dedup.review.culling import cull_plan
from tui_dedup.review.keep_policy import KeepPolicy
from tui_dedup.review.marks import BATCH, SKIP, Change, Timeline, mark_change
from tui_dedup.review.pipeline import (
    file_digests,
    fold_into_shots,
    match_library,
    shot_primaries,
    twin_shots,
)
from tui_dedup.review.result import Result
from tui_dedup.review.settings import RunSettings
from tui_dedup.review.thresholds import MatchOutcome, step_threshold, threshold_label


def display_paths(entries: list[FileEntry], roots: list[str]) -> list[str]:
    """Paths relative to their root; with several roots the root's name comes first."""
    if len(roots) <= 1:
        return [e.relpath for e in entries]
    return [os.path.join(os.path.basename(os.path.normpath(e.root)), e.relpath) for e in entries]


#: Kind words as the table shows them (11 cells; "similar shot" is "similar" there).
TABLE_WORDS: tuple[str, ...] = tuple(WORDS[k] if k is not Kind.SIMILAR else "similar" for k in Kind)


class ReviewSession:
    """Scan result + current method/threshold + what the user hid (skips, moved files)."""

    def __init__(self, settings: RunSettings, result: ScanResult) -> None:
        self.settings = settings
        self.result = result
        self.store = result.store
        self.roots = list(result.roots)
        self.entries = self.store.entries
        self.paths = display_paths(self.entries, self.roots)
        self.row_of_path = {e.path: k for k, e in enumerate(self.entries)}
        n = len(self.entries)
        self.removed = np.zeros(n, bool)
        self.method = settings.method
        self.threshold = settings.threshold()
        #: The method and threshold last asked for, while their match is still running.
        self.wanted: tuple[str, Threshold] | None = None
        self.all_pairs = Pairs.empty()
        #: RAW+JPEG shots of the match shown (primary first): each listed once, as its primary.
        self.shots: list[list[int]] = []
        self.hidden_pair = np.zeros(0, bool)
        self.listed = Pairs.empty()
        self.pairs = Pairs.empty()
        self.groups: list[Group] = []
        self.generation = 0
        self.skipped_keys: set[tuple[int, int]] = set()
        #: Content digest (hex) of a row, read once (skips are keyed by content).
        self.digest = file_digests(self.store)
        #: Batches applied in this review, newest last: what undo takes back, one at a time.
        self.batches: list[str] = []
        #: Pairs skipped in this review, as content digests: saved with the marks.
        self.skip_digests: list[tuple[str, str]] = []
        #: Every mark change, skip and batch of this review: what ``u`` takes back, newest first.
        self.timeline = Timeline()
        #: The keeper rule chain auto-mark uses and the ``--keep-in`` files it never marks.
        self.keeping = KeepPolicy(self.entries, settings.keep_in)

    @property
    def n_files(self) -> int:
        return len(self.entries)

    # -- matching (the compute part runs in a worker thread) -----------------------------------

    def compute(
        self,
        method: str,
        threshold: Threshold,
        skips: SkipStore | None = None,
        should_stop: Callable[[], bool] | None = None,
        *,
        quick: bool = False,
    ) -> MatchOutcome:
        """Match from the features in memory; pairs remembered as "not a duplicate" drop out.

        Runs in a worker thread: it may read files to digest them (only when skips exist) and
        decode the files of uncertain pairs for the pixel check (never with ``quick``).
        """
        pairs = match_library(
            self.store,
            self.settings,
            method,
            threshold,
            skips=skips,
            digest=self.digest,
            should_stop=should_stop,
            quick=quick,
        )
        return MatchOutcome(method, threshold, pairs, quick)

    def request(self, method: str, threshold: Threshold) -> None:
        """A match was asked for: further steps (+/-) start from it, not from the match shown,
        so five quick presses move five steps while the re-match catches up."""
        self.wanted = (method, threshold)

    def install(self, outcome: MatchOutcome) -> None:
        """Adopt a finished match (on the event loop)."""
        self.method = outcome.method
        self.threshold = outcome.threshold
        if self.wanted == (outcome.method, outcome.threshold) and not outcome.quick:
            self.wanted = None
        self.all_pairs = outcome.pairs
        self.shots = twin_shots(self.store, outcome.pairs)
        self.refilter()

    def refilter(self) -> None:
        """Recompute the shown pairs and groups after a skip, a move or an undo."""
        p = self.all_pairs
        hide = self.removed[p.i] | self.removed[p.j]
        if self.skipped_keys and len(p):
            # by the rows of their shots: "not a duplicate" said of a shot's row holds for the
            # RAW's pair folded into it too, which must not come back in its place
            primary = shot_primaries(self.shots, self.n_files)
            pi, pj = primary[p.i], primary[p.j]
            as_shots = np.minimum(pi, pj) * self.n_files + np.maximum(pi, pj)
            keys = p.i.astype(np.int64) * self.n_files + p.j
            skip = np.fromiter(
                (int(a) * self.n_files + int(b) for a, b in self.skipped_keys), np.int64
            )
            hide |= np.isin(keys, skip) | np.isin(as_shots, skip)
        if p.kind is not None:
            hide |= ~mask_of(p.kind, self.settings.kinds)
        #: Every pair shown or folded into a shot's row: what a plan checks marks against, so
        #: a RAW marked by hand (format twins shown) still finds the copies of its shot.
        self.listed = p.take(np.flatnonzero(~hide))
        self.pairs = fold_into_shots(self.listed, self.shots, self.n_files)
        self.groups = star_groups(copies_only(self.pairs), self.n_files)
        self.generation += 1

    def preset_threshold(self, method: str, preset: str) -> Threshold:
        assert preset in PRESETS
        return resolve_threshold(method, self.store.hash_size, threshold=preset)

    def default_threshold(self, method: str) -> Threshold:
        return self.settings.threshold(method)

    def step(self, looser: bool) -> Threshold | None:
        """One step looser/stricter from the last threshold asked for (None at a limit)."""
        method, th = self.wanted or (self.method, self.threshold)
        return step_threshold(method, self.store.hash_size, th, looser)

    def label(self) -> str:
        return threshold_label(self.method, self.threshold)

    def pair_methods(self) -> np.ndarray | str:
        """The method column: ``exact`` for byte-identical pairs, else the session's method."""
        if len(self.pairs) and self.pairs.exact.any():
            return np.where(self.pairs.exact, "exact", self.method)
        return self.method

    # -- hiding --------------------------------------------------------------------------------

    def pair_kinds(self) -> tuple[tuple[str, ...], np.ndarray] | None:
        """What each shown pair is: the table's words and one code per pair into them (in the
        order of engine/verdicts/kinds.py, copies first); None before the verdicts."""
        kind = self.pairs.kind
        if kind is None:
            return None
        return TABLE_WORDS, kind.astype(np.int32)

    def skip_pair(self, i: int, j: int) -> None:
        """Hide the pair (the caller refilters); a step of the timeline."""
        key = (min(i, j), max(i, j))
        self.skipped_keys.add(key)
        label = f"not a duplicate: {self.paths[key[0]]} / {self.paths[key[1]]}"
        self.timeline.record(Change(SKIP, label, pair=key))

    def skip_remembered(self, a_digest: str, b_digest: str) -> None:
        """A skip is on disk (the skips file): the saved review state lists it too."""
        self.skip_digests.append((a_digest, b_digest))

    def still_skipped(self, a_digest: str, b_digest: str) -> bool:
        """False when the pair was unskipped (undo) while its skip was being written: the
        front end then removes it from the skips file again."""
        return any({a_digest, b_digest} == self.skip_digest_pair(k) for k in self.skipped_keys)

    def skip_digest_pair(self, key: tuple[int, int]) -> set[str]:
        return {self.digest(key[0]), self.digest(key[1])}

    def unskip(self, i: int, j: int, forget: bool = True) -> tuple[str, str]:
        """The pair comes back (refiltered); returns its digests, for the skips file.

        ``forget``: unskipped from the skips list, so the skip leaves the timeline too."""
        key = (min(i, j), max(i, j))
        self.skipped_keys.discard(key)
        pair = self.skip_digest_pair(key)
        self.skip_digests = [d for d in self.skip_digests if set(d) != pair]
        if forget:
            self.timeline.forget(lambda c: c.pair == key)
        self.refilter()
        return self.digest(key[0]), self.digest(key[1])

    def is_matched(self, i: int, j: int) -> bool:
        """The pair is in the last match (else only a re-match can show it again)."""
        p, a, b = self.all_pairs, min(i, j), max(i, j)
        return bool(((p.i == a) & (p.j == b)).any())

    # -- the timeline: marks, skips and batches, undone newest first ---------------------------

    def record_marks(self, label: str, before: Iterable[int], after: Iterable[int]) -> None:
        """Marks went from ``before`` to ``after``: one step of the timeline."""
        change = mark_change(label, before, after)
        if change is not None:
            self.timeline.record(change)

    def undo(self) -> Change | None:
        """Take back the newest mark or skip change (a skipped pair comes back); the caller
        puts the marks to ``change.before(marked)``. None when the newest is a file batch
        (undone by the actions package, after asking) or there is none."""
        change = self.timeline.take_undo()
        if change is not None and change.pair is not None:
            self.unskip(*change.pair, forget=False)
        return change

    def redo(self) -> Change | None:
        """Make the newest undone change again (marks: ``change.after(marked)``)."""
        change = self.timeline.take_redo()
        if change is not None and change.pair is not None:
            self.skipped_keys.add(change.pair)
            self.refilter()
        return change

    def mark_removed(self, paths: list[str]) -> list[int]:
        rows = [self.row_of_path[p] for p in paths if p in self.row_of_path]
        self.removed[rows] = True
        return rows

    def mark_restored(self, paths: list[str]) -> list[int]:
        rows = [self.row_of_path[p] for p in paths if p in self.row_of_path]
        self.removed[rows] = False
        return rows

    # -- file batches: plan, applied, undone ----------------------------------------------------

    def plan(self, action: str, marked_rows: Iterable[int]) -> Plan:
        """What ``action`` would do to the marked files; read-only (runs in a worker thread).

        Apply re-checks every pair against the method and threshold they were matched with.
        Files go to ``--move-to`` when given, ``--keep-in`` files are refused (the planner's
        own check too), and a link only for a file with an exact copy on its filesystem.
        """
        spec = MatchSpec.of(self.method, self.threshold, self.store.hash_size, self.settings.match)
        where = {"move_to": self.settings.move_to, "keep_in": self.settings.keep_in}
        if action in decisions.LINKS:
            return decisions.plan_links(
                self.store,
                self.pairs,
                marked_rows,
                action,
                spec=spec.to_dict(),
                name=self.paths.__getitem__,
                **where,
            )
        return decisions.plan_marked(
            self.store, self.listed, marked_rows, action, spec=spec.to_dict(), **where
        )

    # -- bursts: find, rank, cull (a worker thread) ---------------------------------------------

    def bursts(
        self,
        *,
        should_stop: Callable[[], bool] | None = None,
        on_rank: Callable[[int, int], None] | None = None,
    ) -> Bursts:
        """The bursts among this review's similar shots, each frame ranked (review/bursts.py):
        every copy the match found decides which file stands for a frame, whatever the view
        filters; files moved away in this review are left out. Decodes each frame at ≥ ¼ of
        its resolution: run it in a worker thread."""
        p = self.all_pairs
        p = p.take(np.flatnonzero(~(self.removed[p.i] | self.removed[p.j])))
        similar = p.take(np.flatnonzero(p.kind == Kind.SIMILAR)) if p.kind is not None else p
        copies = copies_only(p)
        result = Result(
            self.roots,
            self.method,
            self.threshold,
            self.store,
            copies,
            star_groups(copies, self.n_files),
            list(self.result.errors),
            list(self.result.skipped),
            similar=similar,
        )
        return bursts_of(
            self.settings,
            result,
            rules=self.keeping.rules,
            should_stop=should_stop,
            on_rank=on_rank,
        )

    def cull_plan(self, bursts: Bursts, keep: dict[int, set[int]], action: str) -> Plan:
        """Move (or trash) every frame of the bursts in ``keep`` (burst index → rows kept)
        but the ones kept (review/culling.py); read-only, a worker thread."""
        spec = MatchSpec.of(self.method, self.threshold, self.store.hash_size, self.settings.match)
        return cull_plan(
            bursts,
            action,
            keep,
            move_to=self.settings.move_to,
            keep_in=self.settings.keep_in,
            spec=spec.to_dict(),
        )

    def batch_applied(self, removed: list[str], batch: str | None) -> list[int]:
        """A batch moved files away: they leave every pair, and the batch becomes undoable.

        Returns their rows (their marks go with them)."""
        rows = self.mark_removed(removed)
        if batch and removed:
            self.batches.append(batch)
            self.timeline.record(Change(BATCH, f"batch of {len(removed)} file(s)", batch=batch))
        self.refilter()
        return rows

    def undoable_batch(self) -> str | None:
        """The batch undo takes back next (the newest), or None."""
        return self.batches[-1] if self.batches else None

    def batch_undone(self, batch: str, restored: list[str]) -> list[int]:
        """An undo of ``batch`` ran: it leaves the stack and its files come back into the pairs
        (those it could not restore stay hidden). Returns the rows back."""
        if batch in self.batches:
            self.batches.remove(batch)
        self.timeline.forget(lambda c: c.batch == batch)
        rows = self.mark_restored(restored)
        self.refilter()
        return rows

    # -- saved review state ----------------------------------------------------------------------

    def saved_state(
        self, marked_rows: Iterable[int], cursor: int, group_mode: bool = False
    ) -> ReviewState:
        """What is saved as the user goes: marks (by path), this review's skips, the cursor
        and which view was shown."""
        return ReviewState(
            roots=self.roots,
            marks={self.entries[int(r)].path for r in marked_rows},
            skips=list(self.skip_digests),
            cursor=cursor,
            group_mode=group_mode,
        )

    def resume(self, state: ReviewState) -> np.ndarray:
        """Take a saved state back: its skips become this review's; returns the rows to mark
        (files no longer scanned are left out)."""
        self.skip_digests = list(state.skips)
        rows = self.row_of_path
        back = [rows[p] for p in state.marks if p in rows]
        return np.array([r for r in back if not self.keeping.is_protected(r)], np.int64)

    # -- what plans and the status bar need --------------------------------------------------

    def plan_groups(self, marked_rows: Iterable[int]) -> list[list[FileEntry]]:
        """For each marked file, the group a plan checks it against: its best unmarked direct
        partner, never a star's other members (see tui_dedup.review.decisions)."""
        return decisions.plan_groups(self.store, self.listed, marked_rows)

    def auto_marks(self, rules: Sequence[str] | None = None) -> set[int]:
        """Rows the rules (by default the review's chain) would mark: per group, the keeper's
        direct partners; never a file in a ``--keep-in`` folder."""
        k = self.keeping
        chain = k.rules if rules is None else rules
        return decisions.auto_mark(self.store, self.pairs, self.groups, chain, k.keep_in)

    def keeper_of(self, row: int, rules: Sequence[str] | None = None) -> tuple[int, str] | None:
        """The keeper ``rules`` choose in the group holding ``row`` (as :meth:`auto_marks`
        keeps it) and why, e.g. ``"keep: larger, camera original"``; None outside a group."""
        group = next((g for g in self.groups if row in g.members), None)
        if group is None:
            return None
        k = self.keeping
        chain = k.rules if rules is None else rules
        reasons = decisions.keeper_reasons(self.store, [group], chain, k.keep_in)
        ((keeper, why),) = reasons.items()
        return keeper, why

    def verdict_of(self, a: int, b: int) -> tuple[int, np.void] | None:
        """What files ``a`` and ``b`` are to each other, as a shown pair: its kind code and
        evidence row (engine/verdicts); None before the verdicts or if they are no pair."""
        p = self.pairs
        if p.kind is None:
            return None
        hit = np.flatnonzero((p.i == min(a, b)) & (p.j == max(a, b)))
        if not hit.size:
            return None
        k = hit[0]
        return int(p.kind[k]), blank(1)[0] if p.evidence is None else p.evidence[k]

    def similarity(self, a: int, b: int) -> float | None:
        """The similarity of files ``a`` and ``b`` as a shown pair, or None if they are none."""
        p = self.pairs
        hit = np.flatnonzero((p.i == min(a, b)) & (p.j == max(a, b)))
        return float(p.similarity[hit[0]]) if hit.size else None

    def export_result(self) -> Result:
        """What the review shows, for an export: this method and threshold, skips and moved
        files left out."""
        r = self.result
        return Result(
            roots=self.roots,
            method=self.method,
            threshold=self.threshold,
            store=self.store,
            pairs=self.pairs,
            groups=self.groups,
            errors=r.errors,
            skipped=r.skipped,
            cancelled=r.cancelled,
            similar=self.similar_shots(),
            shots=[rows for rows in self.shots if not self.removed[rows].any()],
        )

    def similar_shots(self) -> Pairs:
        """Similar shots of this match (not copies), without moved files: the export lists
        them apart, as the headless JSON does."""
        p = self.all_pairs
        if p.kind is None:
            return Pairs.empty()
        keep = (p.kind == Kind.SIMILAR) & ~(self.removed[p.i] | self.removed[p.j])
        return p.take(np.flatnonzero(keep))

    def bytes_of(self, rows: np.ndarray) -> int:
        if rows.size == 0:
            return 0
        return int(self.store.column("size")[rows].sum())
