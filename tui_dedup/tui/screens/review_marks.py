"""What the user decides about pairs on the review screen, besides marking one file by hand:
auto-mark by the keeper rule chain, the dialog that orders that chain, and "not a duplicate"
(skip) and its undo.

Which rows the chain marks, which rules may be in it and which pairs a skip hides are the
session's decisions (:mod:`tui_dedup.review`, the chain in its
:class:`~tui_dedup.review.keep_policy.KeepPolicy`); here they meet the screen: the dialog, and
the threads that write a skip to the skips file (reporting back with :class:`SkipRemembered`)
or take it out again. An auto-mark is proposed to :mod:`.review_timeline`, which asks first
when it changes many marks and makes it one undo step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from textual.app import App
from textual.message import Message
from textual.worker import Worker

from tui_dedup.actions.skips import SkipStore
from tui_dedup.review.keepers import RULES
from tui_dedup.review.session import ReviewSession
from tui_dedup.tui.messages import SkipRemembered
from tui_dedup.tui.screens.marks_dialogs import RuleChainScreen
from tui_dedup.tui.widgets.cells import printable


class MarksHost(Protocol):
    """What auto-mark and its menu need: the review's mark changes (:mod:`.review_timeline`)."""

    @property
    def app(self) -> App[Any]: ...

    @property
    def session(self) -> ReviewSession: ...

    def current_pair(self) -> tuple[int, int] | None:
        """(file A, file B) of the selected row, or None."""
        ...

    def propose_marks(self, label: str, rows: Iterable[int], notes: Sequence[str] = ()) -> None:
        """Mark exactly ``rows``: one undo step, asked first when many marks change."""
        ...


class SkipHost(Protocol):
    """What a skip needs from the review screen."""

    @property
    def app(self) -> App[Any]: ...

    @property
    def session(self) -> ReviewSession: ...

    def pairs_changed(self) -> None: ...

    def post_message(self, message: Message) -> bool: ...

    def run_worker(
        self,
        work: Callable[[], object],
        *,
        group: str = "default",
        description: str = "",
        exit_on_error: bool = True,
        thread: bool = False,
    ) -> Worker[Any]: ...


def auto_mark(host: MarksHost) -> None:
    """Mark, in every group, the keeper's direct partners, by the review's rule chain.

    The notes (in the question and the notification) name the chain, the ``--keep-in``
    folders it never marks in, and which copy the selected pair's group keeps and why, so the
    choice the rules made can be seen, not only counted."""
    session = host.session
    keeping = session.keeping
    notes = [chain_text(keeping.rules), "every group keeps one copy"]
    if keeping.keep_in:
        notes.append(f"never marked (--keep-in): {', '.join(keeping.keep_in)}")
    kept = keeper_note(session, keeping.rules, host.current_pair())
    if kept is not None:
        notes.append(kept)
    host.propose_marks("auto-mark", session.auto_marks(), notes)


def chain_text(rules: Sequence[str]) -> str:
    """``rules, in order: resolution > size > then the path``: what decides, as a line."""
    return f"rules, in order: {' > '.join(rules)} > then the path"


def keeper_note(
    session: ReviewSession, rules: Sequence[str], pair: tuple[int, int] | None
) -> str | None:
    """``this group keeps 2021/2021-09 Zoo/IMG_1203.jpg (keep: library folder, original name)``
    for the group of the selected pair; None without one."""
    found = None if pair is None else session.keeper_of(pair[0], rules)
    if found is None:
        return None
    keeper, why = found
    return f"this group keeps {printable(session.paths[keeper])} ({why})"


def choose_rules(host: MarksHost) -> None:
    """The dialog that orders the keeper rules; Enter makes its chain the review's (the next
    ``a`` uses it too) and auto-marks by it."""
    keeping = host.session.keeping
    rules = [(name, RULES[name].description) for name in keeping.offered()]

    def chosen(answer: str | None) -> None:
        if answer is not None:
            keeping.choose(RuleChainScreen.rules_of(answer))
            auto_mark(host)

    host.app.push_screen(RuleChainScreen(rules, keeping.rules, keeping.chain_of), chosen)


def skip_pair(host: SkipHost, skips: SkipStore, i: int, j: int) -> None:
    """Hide the pair now (a step of the timeline); remember it on disk (:func:`remember_skip`)."""
    session = host.session
    session.skip_pair(i, j)
    session.refilter()
    host.pairs_changed()
    remember_skip(host, skips, i, j)


def remember_skip(host: SkipHost, skips: SkipStore, i: int, j: int) -> None:
    """Remember the pair by content in the skips file, in a thread (digests may need reading),
    which posts :class:`SkipRemembered` when the skip is on disk."""
    digest, post = host.session.digest, host.post_message

    def work() -> None:
        a, b = digest(i), digest(j)
        skips.add(a, b)  # SkipStore.add takes its lock: other threads may add too
        post(SkipRemembered(a, b))

    host.run_worker(
        work, thread=True, group="skip", exit_on_error=False, description="remember skip"
    )


def forget_skip(
    host: SkipHost,
    skips: SkipStore,
    a_digest: str,
    b_digest: str,
    then: Callable[[], object] | None = None,
) -> None:
    """Take a skip out of the skips file, in a thread (it rewrites the file); ``then`` runs on
    the event loop afterwards (a re-match, when only a re-match can show the pair again)."""

    def work() -> None:
        skips.remove(a_digest, b_digest)  # under its lock, like add
        if then is not None:
            host.app.call_from_thread(then)

    host.run_worker(work, thread=True, group="skip", exit_on_error=False, description="forget skip")
