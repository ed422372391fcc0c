"""Plan → confirm → apply, and undo, for the files marked on the review screen: move (to the
quarantine or ``--move-to``), trash, and hard or symbolic links for exact copies.

Why apart from the screen: this is the only part of the review that changes a user's files, so
it reads as one story: build the plan in a thread, show it, apply it in a thread only after a
yes, and undo the newest batch. The threads never touch the screen: they post
:class:`PlanReady`, :class:`ApplyProgressed` and :class:`FilesChanged`, and the screen hands
those back here on the event loop. What to plan and which batch to undo are the session's
(:class:`~tui_dedup.review.session.ReviewSession`), decided without Textual.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from textual.app import App
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.worker import Worker, get_current_worker

from tui_dedup.actions.apply import apply_plan
from tui_dedup.actions.journal import Journal, JournalBusy, JournalError
from tui_dedup.actions.kinds import kind
from tui_dedup.actions.locks import TreeBusy
from tui_dedup.actions.plan import ACTIONS, Plan, human_bytes
from tui_dedup.actions.undo import undo
from tui_dedup.review.session import ReviewSession
from tui_dedup.tui.messages import ApplyProgressed, FilesChanged, PlanReady
from tui_dedup.tui.screens.confirm import ConfirmScreen
from tui_dedup.tui.widgets.table_model import PairTableModel

WORKER_GROUP = "apply"  # plan, apply and undo: one at a time
REFUSALS = (TreeBusy, JournalBusy, JournalError)  # raised before anything was changed

#: The dialog's title per action (one line at 80 columns), and its Yes button.
VERBS = {"move": "Move", "trash": "Trash", "hardlink": "Hard link", "symlink": "Symlink"}
YES = {"move": "Move", "trash": "Trash", "hardlink": "Link", "symlink": "Link", "delete": "Delete"}
#: What a link does, said before a person says yes to one.
LINK_MEANING = {
    "hardlink": "A hard link gives the copy that stays a second name: each marked file's name "
    "stays and opens the same picture, stored once on the disk. Editing either changes both.",
    "symlink": "A symbolic link leaves a pointer at each marked file's name that opens the "
    "copy that stays; if that copy is moved or deleted later, the link is broken.",
}


class FilesHost(Protocol):
    """What plan, apply and undo need from the screen they run under."""

    @property
    def app(self) -> App[Any]: ...

    @property
    def session(self) -> ReviewSession: ...

    @property
    def model(self) -> PairTableModel: ...

    def busy_changed(self) -> None:
        """Show the new :attr:`FileBatches.busy` and re-check which keys apply."""
        ...

    def pairs_changed(self) -> None: ...

    def schedule_save(self) -> None: ...

    def post_message(self, message: Message) -> bool: ...

    def notify(
        self, message: str, *, title: str = "", severity: SeverityLevel = "information"
    ) -> None: ...

    def run_worker(
        self,
        work: Callable[[], object],
        *,
        group: str = "default",
        description: str = "",
        exit_on_error: bool = True,
        exclusive: bool = False,
        thread: bool = False,
    ) -> Worker[Any]: ...


class FileBatches:
    """The marked files' way to the disk; :attr:`busy` is non-empty while a step runs."""

    def __init__(self, host: FilesHost) -> None:
        self.host = host
        self.busy = ""

    def _set_busy(self, text: str) -> None:
        self.busy = text
        self.host.busy_changed()

    def _in_thread(self, work: Callable[[], object], description: str) -> None:
        self.host.run_worker(
            work,
            thread=True,
            exclusive=True,
            group=WORKER_GROUP,
            exit_on_error=False,
            description=description,
        )

    def failed(self) -> None:
        """A plan, apply or undo worker raised (the app shows the error): not busy any more."""
        self._set_busy("")

    # -- plan, confirm, apply ------------------------------------------------------------------

    def plan(self, action: str) -> None:
        """Build the plan for the marked files in a thread; :meth:`confirm` shows it."""
        rows = [int(r) for r in self.host.model.marked_files()]
        if self.busy:
            return
        if not rows:  # the palette offers actions whatever is marked
            self.host.notify("nothing is marked: mark the copies to remove first (space)")
            return
        session = self.host.session
        self.plan_with(lambda: session.plan(action, rows))

    def plan_with(self, build: Callable[[], Plan]) -> None:
        """Build a plan in a thread (the marked files', or the burst view's culling);
        :meth:`confirm` shows it, and only a yes applies it."""
        if self.busy:
            return
        self._set_busy("planning...")
        post = self.host.post_message

        def work() -> Plan:
            plan = build()
            post(PlanReady(plan))
            return plan

        self._in_thread(work, "plan")

    def confirm(self, plan: Plan) -> None:
        """Show what the plan does; only a yes starts it."""
        self._set_busy("")
        if not plan.steps:
            self.host.notify(
                "\n".join(plan.refused) or "nothing to do",
                title="nothing to do",
                severity="warning",
            )
            return
        verb = VERBS.get(plan.action, ACTIONS[plan.action].capitalize())
        if plan.action == "move" and plan.move_to is None:
            verb = ACTIONS["move"].capitalize()
        title = f"{verb}: {plan.files_text()}, {human_bytes(plan.bytes_to_free)}?"
        lines = [*self.where_lines(plan), *plan.describe()]
        if plan.irreversible:
            lines.insert(0, "!! IRREVERSIBLE steps below: they cannot be undone !!")
        else:
            lines.append("Here, u undoes the last batch.")

        def answer(yes: bool | None) -> None:
            if yes:
                self._set_busy(f"{plan.action}: 0/{len(plan.steps)}")
                self._apply(plan)

        self.host.app.push_screen(
            ConfirmScreen(title, lines, yes=YES.get(plan.action, "Yes"), danger=plan.irreversible),
            answer,
        )

    def where_lines(self, plan: Plan) -> list[str]:
        """Before the steps: what a link means, where files (or a link's originals) go, and
        which folders are never touched."""
        lines = [LINK_MEANING[plan.action]] if plan.action in LINK_MEANING else []
        how = kind(plan.action)
        if how.has_destination and how.where() == "quarantine":  # the trash says its own
            what = "The originals go" if plan.action in LINK_MEANING else "Files go"
            if plan.move_to is not None:
                lines.append(
                    f"{what} to {plan.move_to} (--move-to), into a new folder for this batch: "
                    "<date time batch>/<scanned folder's name>/<path inside it>."
                )
            else:
                lines.append(f"{what} to .dedup-tui/duplicates/ inside each scanned folder.")
        keep_in = self.host.session.keeping.keep_in
        if keep_in:
            lines.append(f"Never touched (--keep-in): {', '.join(keep_in)}")
        return lines

    def _apply(self, plan: Plan) -> None:
        post = self.host.post_message
        settings = self.host.session.settings  # re-match from the cache this scan used
        cache: str | bool | None = settings.cache_path if settings.use_cache else False

        def work() -> None:
            worker = get_current_worker()

            def progress(done: int, total: int, path: str) -> None:
                if not worker.is_cancelled:
                    post(ApplyProgressed(done, total, path))

            try:
                report = apply_plan(plan, journal=Journal(), on_progress=progress, cache_path=cache)
            except REFUSALS as e:
                post(FilesChanged([], [], [f"refused: {e}", "nothing was changed"]))
                return
            post(FilesChanged(report.done, [], report.lines(), batch=report.batch))

        self._in_thread(work, "apply")

    def progressed(self, message: ApplyProgressed) -> None:
        if self.busy:
            self._set_busy(f"working: {message.done}/{message.total}")

    # -- undo ----------------------------------------------------------------------------------

    def undo(self) -> None:
        """Undo the newest batch in a thread; it leaves the stack once the undo has run."""
        batch = self.host.session.undoable_batch()
        if batch is None or self.busy:
            return
        self._set_busy("undoing...")
        post = self.host.post_message

        def work() -> None:
            try:
                report = undo(batch, journal=Journal())
            except REFUSALS as e:  # still undoable once the other process is done
                post(FilesChanged([], [], [f"undo refused: {e}", "nothing was changed"]))
                return
            lines = [f"restored {len(report.restored)} file(s)", *report.problems, *report.notes]
            post(FilesChanged([], report.restored, lines, undone=batch))

        self._in_thread(work, "undo")

    # -- the outcome ---------------------------------------------------------------------------

    def changed(self, message: FilesChanged) -> None:
        """A batch, an undo or a refusal came back: update the pairs, the marks, the state."""
        self.busy = ""
        session, model = self.host.session, self.host.model
        if message.undone is not None:
            session.batch_undone(message.undone, message.restored)
        else:
            for row in session.batch_applied(message.removed, message.batch):
                model.set_mark(row, False)
        self.host.pairs_changed()
        self.host.schedule_save()
        lines = message.lines
        refused = bool(lines) and "refused" in lines[0]
        self.host.notify(
            "\n".join(lines[:6]),
            title="refused" if refused else ("undo" if message.restored else "done"),
            severity="warning" if len(lines) > 1 else "information",
        )
