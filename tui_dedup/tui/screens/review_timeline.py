"""Marks you can take back, on the review screen: every key that changes marks or skips goes
through here, so ``u`` undoes the most recent change whatever it was, and redo makes it again.

The timeline itself (what changed, in which order) is the session's
(:class:`~tui_dedup.review.marks.Timeline`); here it meets the screen: a change to more than
:data:`~tui_dedup.review.marks.CONFIRM_OVER` marks asks first with the count and the bytes,
every undo and redo says what it took back, a file batch is handed to :mod:`.review_files`,
and a skip undone or unskipped leaves the skips file too (:mod:`.review_marks`).
:class:`MarkKeys` holds the screen's key handlers for all of it, so the screen only binds keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import numpy as np
from textual.app import App
from textual.markup import escape
from textual.notifications import SeverityLevel

from tui_dedup.actions.plan import human_bytes
from tui_dedup.review.marks import (
    BATCH,
    CONFIRM_OVER,
    MARKS,
    Change,
    invert_marks,
    left_alone_lines,
    mark_change,
    mark_matching,
    protected_line,
)
from tui_dedup.review.session import ReviewSession
from tui_dedup.tui.host import host_of
from tui_dedup.tui.messages import SkipRemembered
from tui_dedup.tui.screens.confirm import ConfirmScreen
from tui_dedup.tui.screens.marks_dialogs import PatternScreen, SkipsScreen
from tui_dedup.tui.screens.review_files import FileBatches
from tui_dedup.tui.screens.review_marks import (
    SkipHost,
    auto_mark,
    choose_rules,
    forget_skip,
    remember_skip,
    skip_pair,
)
from tui_dedup.tui.screens.review_views import ReviewViews


class TimelineHost(SkipHost, Protocol):
    """What marks, skips, undo and redo need from the review screen."""

    @property
    def views(self) -> ReviewViews: ...

    @property
    def files(self) -> FileBatches: ...

    def current_pair(self) -> tuple[int, int] | None: ...

    def replace_marks(self, rows: Iterable[int]) -> None: ...

    def marks_changed(self) -> None: ...

    def schedule_save(self) -> None: ...

    def notify(
        self, message: str, *, title: str = "", severity: SeverityLevel = "information"
    ) -> None: ...


class ReviewTimeline:
    """Mark changes (asked first when large), skips, undo and redo for one review screen."""

    def __init__(self, host: TimelineHost) -> None:
        self.host = host

    @property
    def app(self) -> App[Any]:
        return self.host.app

    @property
    def session(self) -> ReviewSession:
        return self.host.session

    def marked(self) -> set[int]:
        return {int(r) for r in self.host.views.model.marked_files()}

    # -- changing marks ------------------------------------------------------------------------

    def toggle_current(self) -> None:
        """Space: flip the mark of the file under the cursor (one step of the timeline)."""
        f = self.host.views.current_file()
        if f is None:
            return
        folder = self.session.keeping.folder_of(f)
        if folder is not None and not self.host.views.model.is_marked(f):
            self.host.notify(
                escape(
                    f"not marked: {self.session.paths[f]} is in {folder}, a --keep-in "
                    "folder, whose files are never moved or linked"
                ),
                title="protected",
                severity="warning",
            )
            return
        on = self.host.views.model.toggle_mark(f)
        label = f"{'mark' if on else 'unmark'} {self.session.paths[f]}"
        self.session.record_marks(label, set() if on else {f}, {f} if on else set())
        self.host.marks_changed()

    def propose_marks(self, label: str, rows: Iterable[int], notes: Sequence[str] = ()) -> None:
        """Mark exactly ``rows``: one undo step; more than CONFIRM_OVER changes ask first."""
        before = self.marked()
        change = mark_change(label, before, rows)
        if change is None:
            self.host.notify(escape("\n".join(["no mark changes", *notes])), title=label)
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self.host.replace_marks(sorted(change.after(before)))
                self.session.timeline.record(change)
                lines = [f"{change.title}; u undoes it", *notes]  # paths: no markup
                self.host.notify(escape("\n".join(lines)), title=label)

        if change.size <= CONFIRM_OVER:
            answer(True)
            return
        lines = ["One step: u takes it all back, U makes it again.", *notes]
        title = f"{label.capitalize()}: {'; '.join(self.summary(change))}?"
        self.app.push_screen(ConfirmScreen(title, lines, yes="Change"), answer)

    def summary(self, change: Change) -> list[str]:
        """``mark 117 file(s), 48.2 MB`` / ``unmark 3 file(s), 1.2 MB``."""
        out = []
        for verb, rows in (("mark", change.added), ("unmark", change.removed)):
            if rows:
                size = self.session.bytes_of(np.fromiter(rows, np.int64, len(rows)))
                out.append(f"{verb} {len(rows)} file(s), {human_bytes(size)}")
        return out

    def current_pair(self) -> tuple[int, int] | None:
        return self.host.current_pair()

    def auto_mark(self) -> None:
        auto_mark(self)

    def choose_rules(self) -> None:
        choose_rules(self)

    def edit(self, op: str) -> None:
        """``unmark_all``, ``invert`` (the shown pairs' files) or ``pattern`` (asks which)."""
        s = self.session
        if op == "unmark_all":
            self.propose_marks("unmark all", ())
        elif op == "invert":
            model = self.host.views.model
            view = model.view
            scope = np.union1d(model.pairs.i[view], model.pairs.j[view]).tolist()
            p = invert_marks(s.groups, self.marked(), scope, s.keeping.is_protected)
            self.propose_marks("invert", p.marked, self._left_out(p.left_alone, p.protected))
        elif op == "pattern":
            self.app.push_screen(PatternScreen(), self.mark_pattern)

    def mark_pattern(self, pattern: str | None) -> None:
        if not pattern:
            return
        s = self.session
        p = mark_matching(s.groups, s.paths, self.marked(), pattern, s.keeping.is_protected)
        self.propose_marks(f"mark {pattern}", p.marked, self._left_out(p.left_alone, p.protected))

    def _left_out(self, left_alone: list[int], protected: int) -> list[str]:
        """What a bulk change did not mark: groups that would lose every copy, and files in
        ``--keep-in`` folders."""
        s = self.session
        lines = left_alone_lines(s.groups, s.paths, left_alone)
        return [*protected_line(protected, s.keeping.keep_in), *lines]

    # -- skips ---------------------------------------------------------------------------------

    def skip_current(self) -> None:
        pair = self.host.current_pair()
        if pair is not None:
            skip_pair(self.host, host_of(self.app).skips, *pair)

    def remembered(self, message: SkipRemembered) -> None:
        """A skip is on disk; if it was undone meanwhile, it comes out again."""
        a, b = message.a_digest, message.b_digest
        if self.session.still_skipped(a, b):
            self.session.skip_remembered(a, b)
            self.host.schedule_save()
        else:
            forget_skip(self.host, host_of(self.app).skips, a, b)

    def skips_list(self) -> None:
        """The pairs skipped in this review; the one chosen is unskipped."""
        s = self.session
        pairs = [
            (key, escape(f"{s.paths[key[0]]}  /  {s.paths[key[1]]}"))
            for key in sorted(s.skipped_keys)
        ]
        if not pairs:
            self.host.notify("no pair was skipped in this review", title="skipped pairs")
            return

        def chosen(answer: str | None) -> None:
            if answer is not None:
                i, j = SkipsScreen.pair_of(answer)
                self._unskipped(i, j, s.unskip(i, j))
                self.host.notify(f"unskipped: {s.paths[i]} / {s.paths[j]}", title="skipped pairs")

        self.app.push_screen(SkipsScreen(pairs), chosen)

    def _unskipped(self, i: int, j: int, digests: tuple[str, str]) -> None:
        """The pair is back: out of the skips file; re-match if the match shown lacks it."""
        s, app = self.session, self.app
        self.host.pairs_changed()
        self.host.schedule_save()
        then = None
        if not s.is_matched(i, j):  # matched after the skip was on disk: it was left out

            def then() -> None:
                host_of(app).start_match(s.method, s.threshold)

        forget_skip(self.host, host_of(app).skips, *digests, then=then)

    # -- undo and redo -------------------------------------------------------------------------

    def undo(self) -> None:
        """Take back the newest change: marks and skips here, a file batch in a worker."""
        newest = self.session.timeline.newest()
        if newest is None or self.host.files.busy:
            return
        if newest.kind == BATCH:  # files move again: ask first, as for the batch itself

            def answer(yes: bool | None) -> None:
                if yes:
                    self.host.files.undo()

            self.app.push_screen(
                ConfirmScreen(
                    f"Undo the last {newest.title}?",
                    [
                        "The files go back where they were; nothing that appeared there since"
                        " is overwritten."
                    ],
                    yes="Undo",
                ),
                answer,
            )
            return
        change = self.session.undo()
        if change is not None:
            self._replay(change, undo=True)

    def redo(self) -> None:
        """Make the newest undone mark or skip change again."""
        if self.host.files.busy:
            return
        change = self.session.redo()
        if change is not None:
            self._replay(change, undo=False)

    def _replay(self, change: Change, undo: bool) -> None:
        s = self.session
        if change.kind == MARKS:
            now = self.marked()
            marks = change.before(now) if undo else change.after(now)
            self.host.replace_marks(sorted(m for m in marks if not s.removed[m]))
        elif change.pair is not None:
            i, j = change.pair
            if undo:
                self._unskipped(i, j, (s.digest(i), s.digest(j)))
            else:
                self.host.pairs_changed()
                remember_skip(self.host, host_of(self.app).skips, i, j)
        self.host.notify(
            f"{'undid' if undo else 'redid'}: {change.title}", title="undo" if undo else "redo"
        )


class MarkKeys:
    """The review screen's handlers for marks, skips, undo and redo (a mixin of the screen)."""

    timeline: ReviewTimeline

    def action_mark(self) -> None:
        self.timeline.toggle_current()

    def action_auto_mark(self) -> None:
        self.timeline.auto_mark()

    def action_auto_menu(self) -> None:
        self.timeline.choose_rules()

    def action_skip(self) -> None:
        self.timeline.skip_current()

    def action_undo(self) -> None:
        self.timeline.undo()

    def action_redo(self) -> None:
        self.timeline.redo()

    def action_edit_marks(self, op: str) -> None:
        self.timeline.edit(op)

    def action_skips(self) -> None:
        self.timeline.skips_list()

    def on_skip_remembered(self, message: SkipRemembered) -> None:
        self.timeline.remembered(message)
