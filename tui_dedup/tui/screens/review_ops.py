"""What the review screen does to files and to saved decisions: plan, confirm, apply, undo,
skip, auto-mark, and saving the review state as the user goes.

A mixin of :class:`~tui_dedup.tui.screens.review.ReviewScreen`, kept apart so the screen module
stays about layout and keys. Everything slow or touching the disk runs in a thread worker and
reports back through typed messages; the plan is shown in a confirm dialog before anything
moves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import numpy as np
from textual import work
from textual.app import ScreenStackError
from textual.timer import Timer
from textual.widget import Widget
from textual.worker import get_current_worker

from tui_dedup.actions.apply import apply_plan
from tui_dedup.actions.journal import Journal, JournalBusy, JournalError
from tui_dedup.actions.locks import TreeBusy
from tui_dedup.actions.plan import ACTIONS, Plan, build_plan, human_bytes
from tui_dedup.actions.skips import ReviewState
from tui_dedup.actions.undo import undo
from tui_dedup.engine.matching.spec import MatchSpec
from tui_dedup.review.decisions import store_digests
from tui_dedup.review.keepers import DEFAULT_RULES, RULES
from tui_dedup.tui.messages import ApplyProgressed, FilesChanged
from tui_dedup.tui.screens.confirm import ChoiceScreen, ConfirmScreen

if TYPE_CHECKING:
    from tui_dedup.tui.screens.review import ReviewScreen
    from tui_dedup.tui.widgets.preview import PreviewPane

SAVE_DELAY = 0.5  # seconds: marks are saved this long after the last change
DETAILS_SCREEN = "details"  # installed-screen name of the one, reused, details screen


def _preview_class():
    try:
        from tui_dedup.tui.widgets.preview import PreviewPane
    except ImportError:  # pragma: no cover - the preview module ships with the app
        return None
    return PreviewPane


class ReviewOps:
    """Mixed into ReviewScreen (which provides session, model, busy, undo_stack...)."""

    _save_timer: Timer | None
    _skip_digests: list[tuple[str, str]]

    def init_ops(self: ReviewScreen) -> None:
        self._save_timer = None
        self._skip_digests = []

    # -- preview and details -----------------------------------------------------------------

    def make_preview(self: ReviewScreen) -> Widget | None:
        """The preview pane, or None with ``--preview none`` (then textual-image, which
        queries the terminal when imported, is never imported while the app runs)."""
        mode = self.app.settings.preview
        if mode == "none":
            return None
        cls = _preview_class()
        return None if cls is None else cls(mode=mode, id="preview")

    def preview_available(self: ReviewScreen) -> bool:
        return bool(self.query("#preview"))

    def preview_shown(self: ReviewScreen) -> bool:
        return self.preview_available() and not self.query_one("#preview").has_class("hidden")

    def sync_preview(self: ReviewScreen) -> None:
        """Make the preview show :meth:`selected_pair` (or nothing when no row is selected).

        The only path to the preview. It runs after anything that can change the selection
        (cursor messages, switching views, filter, sort, re-match, skip, apply, undo) and reads
        the selection afresh each time, so a stale message cannot put another pair on screen.
        The same pair again is left alone: its pictures stay up, nothing is reloaded.
        """
        if not self.preview_shown():
            return  # a hidden pane catches up when it is shown again
        pane = cast("PreviewPane", self.query_one("#preview"))  # no import: see make_preview
        selected = self.selected_pair()
        if selected is None:
            if pane.pair is not None:
                pane.clear()
        elif not pane.is_showing(self.session.store, *selected):
            pane.show_pair(self.session.store, *selected)

    def action_toggle_preview(self: ReviewScreen) -> None:
        self.query_one("#preview").toggle_class("hidden")
        self.sync_preview()

    def set_preview_mode(self: ReviewScreen, mode: str) -> None:
        if not self.preview_available():
            return
        pane = self.query_one("#preview")
        if mode == "none":
            pane.add_class("hidden")
            return
        pane.set_mode(mode)
        pane.remove_class("hidden")
        self.sync_preview()

    def action_details(self: ReviewScreen) -> None:
        pair = self.selected_pair()
        if pair is None:
            return
        from tui_dedup.tui.screens.details import DetailsScreen

        i, j, transform = pair
        similarity = None
        cur = None if self.group_mode else self.model.current()
        if cur is not None:
            similarity = float(self.model.pairs.similarity[cur[0]])
        elif self.group_mode:
            similarity = self.query_one("#groups").similarity(i, j)
        store, method, app = self.session.store, self.session.method, self.app
        if app.is_screen_installed(DETAILS_SCREEN):  # built once, then reused for every pair
            app.get_screen(DETAILS_SCREEN).show_pair(store, i, j, method, similarity, transform)
        else:
            app.install_screen(
                DetailsScreen(store, i, j, method, similarity, transform), DETAILS_SCREEN
            )
        app.push_screen(DETAILS_SCREEN)

    # -- marks by rule -----------------------------------------------------------------------

    def action_auto_mark(self: ReviewScreen, rule: str | None = None) -> None:
        rules = (
            list(DEFAULT_RULES)
            if rule is None
            else [rule, *[r for r in DEFAULT_RULES if r != rule]]
        )
        marked = self.session.auto_marks(rules)
        self.model.clear_marks()
        for row in marked:
            self.model.set_mark(row)
        self.marks_changed()
        self.notify(
            f"marked {len(marked)} file(s) by {rule or 'the default rules'}; "
            "every group keeps one copy",
            title="auto-mark",
        )

    def action_auto_menu(self: ReviewScreen) -> None:
        choices = [(name, f"{name}: {r.description}") for name, r in RULES.items()]

        def chosen(rule: str | None) -> None:
            if rule is not None:
                self.action_auto_mark(rule)

        self.app.push_screen(ChoiceScreen("Keep which copy in each group?", choices), chosen)

    # -- skip: not a duplicate ---------------------------------------------------------------

    def action_skip(self: ReviewScreen) -> None:
        pair = self.current_pair()
        if pair is None:
            return
        self.session.skip_pair(*pair)
        self.session.refilter()
        self.pairs_changed()
        self._remember_skip(*pair)

    @work(thread=True, group="skip", exit_on_error=False, description="remember skip")
    def _remember_skip(self: ReviewScreen, i: int, j: int) -> None:
        a, b = self.session.digest(i), self.session.digest(j)
        self.app.skips.add(a, b)
        self._skip_digests.append((a, b))
        self.app.call_from_thread(self.schedule_save)

    # -- move / trash ------------------------------------------------------------------------

    def action_apply(self: ReviewScreen, action: str) -> None:
        rows = self.model.marked_files()
        if not rows.size or self.busy:
            return
        self.busy = "planning..."
        self.update_status()
        self.sync_bindings()
        paths = [self.session.entries[int(r)].path for r in rows]
        self._plan(action, paths)

    @work(thread=True, exclusive=True, group="apply", exit_on_error=False, description="plan")
    def _plan(self: ReviewScreen, action: str, paths: list[str]) -> Plan:
        s = self.session
        rows = [s.row_of_path[p] for p in paths]
        spec = MatchSpec.of(s.method, s.threshold, s.store.hash_size, s.settings.match)
        plan = build_plan(
            s.plan_groups(rows),
            paths,
            action,
            spec=spec.to_dict(),
            digest_of=store_digests(s.store),
        )
        self.app.call_from_thread(self._confirm_plan, plan)
        return plan

    def _confirm_plan(self: ReviewScreen, plan: Plan) -> None:
        self.busy = ""
        self.update_status()
        self.sync_bindings()
        if not plan.steps:
            self.notify(
                "\n".join(plan.refused) or "nothing to do",
                title="nothing to do",
                severity="warning",
            )
            return
        title = (
            f"{ACTIONS[plan.action].capitalize()}: {len(plan.steps)} file(s), "
            f"{human_bytes(plan.bytes_to_free)}?"
        )
        lines = plan.describe()
        if not plan.irreversible:
            lines.append("Here, u undoes the last batch.")
        if plan.irreversible:
            lines.insert(0, "!! IRREVERSIBLE steps below: they cannot be undone !!")

        def answer(yes: bool | None) -> None:
            if yes:
                self.busy = f"{plan.action}: 0/{len(plan.steps)}"
                self.update_status()
                self.sync_bindings()
                self._apply(plan)

        self.app.push_screen(
            ConfirmScreen(title, lines, yes=plan.action.capitalize(), danger=plan.irreversible),
            answer,
        )

    @work(thread=True, exclusive=True, group="apply", exit_on_error=False, description="apply")
    def _apply(self: ReviewScreen, plan: Plan) -> None:
        worker = get_current_worker()

        def progress(done: int, total: int, path: str) -> None:
            if not worker.is_cancelled:
                self.post_message(ApplyProgressed(done, total, path))

        try:
            report = apply_plan(plan, journal=Journal(), on_progress=progress)
        except (TreeBusy, JournalBusy, JournalError) as e:  # nothing was changed
            self.post_message(FilesChanged([], [], [f"refused: {e}", "nothing was changed"]))
            return
        finally:
            self.app.call_from_thread(self._not_busy)
        self.post_message(FilesChanged(report.done, [], report.lines(), batch=report.batch))

    def _not_busy(self: ReviewScreen) -> None:
        self.busy = ""
        self.update_status()
        self.sync_bindings()

    def on_apply_progressed(self: ReviewScreen, message: ApplyProgressed) -> None:
        if self.busy:
            self.busy = f"working: {message.done}/{message.total}"
            self.update_status()

    def action_undo(self: ReviewScreen) -> None:
        if not self.undo_stack or self.busy:
            return
        self.busy = "undoing..."
        self.update_status()
        self.sync_bindings()
        self._undo(self.undo_stack.pop())

    @work(thread=True, exclusive=True, group="apply", exit_on_error=False, description="undo")
    def _undo(self: ReviewScreen, batch: str) -> None:
        try:
            report = undo(batch, journal=Journal())
        except (TreeBusy, JournalBusy, JournalError) as e:
            self.undo_stack.append(batch)  # still undoable once the other process is done
            self.post_message(FilesChanged([], [], [f"undo refused: {e}", "nothing was changed"]))
            return
        finally:
            self.app.call_from_thread(self._not_busy)
        lines = [f"restored {len(report.restored)} file(s)", *report.problems, *report.notes]
        self.post_message(FilesChanged([], report.restored, lines))

    def on_files_changed(self: ReviewScreen, message: FilesChanged) -> None:
        # (named handlers, not @on: the decorator only works on Textual classes, not mixins)
        s = self.session
        if message.removed:
            for row in s.mark_removed(message.removed):
                self.model.set_mark(row, False)
        if message.restored:
            s.mark_restored(message.restored)
        if message.batch and message.removed:
            self.undo_stack.append(message.batch)
        s.refilter()
        self.pairs_changed()
        self.schedule_save()
        problems = len(message.lines) > 1
        self.notify(
            "\n".join(message.lines[:6]),
            title="refused"
            if message.lines and "refused" in message.lines[0]
            else ("undo" if message.restored else "done"),
            severity="warning" if problems else "information",
        )

    # -- saved review state ------------------------------------------------------------------

    def review_state(self: ReviewScreen) -> ReviewState:
        e = self.session.entries
        return ReviewState(
            roots=self.session.roots,
            marks={e[int(r)].path for r in self.model.marked_files()},
            skips=list(self._skip_digests),
            cursor=self.model.cursor,
        )

    def schedule_save(self: ReviewScreen) -> None:
        if self._save_timer is None:
            self._save_timer = self.set_timer(SAVE_DELAY, self.save_state)

    def save_state(self: ReviewScreen) -> None:
        self._save_timer = None
        try:
            self.review_state().save()
        except OSError as exc:
            self.notify(f"could not save the review state: {exc}", severity="error")

    def restore_state(self: ReviewScreen, state: ReviewState, quiet: bool = False) -> None:
        rows = self.session.row_of_path
        hits = np.array([rows[p] for p in state.marks if p in rows], np.int64)
        self.model.clear_marks()
        for r in hits:
            self.model.set_mark(int(r))
        self._skip_digests = list(state.skips)
        self.marks_changed()
        if not self.group_mode:
            self.query_one("#pairs").move_cursor(state.cursor)
        if not quiet:
            self.notify(f"restored {hits.size} mark(s) from the last review", title="resumed")

    def on_unmount(self: ReviewScreen) -> None:
        if self._save_timer is not None:
            self._save_timer.stop()
            self.save_state()
        # the reused details screen refers to this review's store: let both go (rescan)
        app = self.app
        if app.is_screen_installed(DETAILS_SCREEN):
            details = app.get_screen(DETAILS_SCREEN)
            try:
                app.uninstall_screen(DETAILS_SCREEN)
            except ScreenStackError:  # still shown (the app is exiting): Textual cleans up
                return
            if details.is_attached:
                details.remove()

    # -- quit --------------------------------------------------------------------------------

    def action_quit(self: ReviewScreen) -> None:
        n = int(self.model.marked_files().size)
        if not n:
            self.save_state()
            self.app.exit(0)
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self.save_state()
                self.app.exit(0)

        self.app.push_screen(
            ConfirmScreen(
                f"Quit with {n} marked file(s) not moved?",
                ["Nothing has been moved. Your marks are saved and offered back next time."],
                yes="Quit",
            ),
            answer,
        )
