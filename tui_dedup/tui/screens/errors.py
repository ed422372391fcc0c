"""The files the scan could not use (and why), and the ones discovery skipped.

The app builds this screen once and reuses it (it is opened from the command palette while a
scan runs, where composing a new screen each time was the slowest key): ``set_content`` hands
it the lists to show, and the log is rewritten only when they changed since the last open.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, RichLog

from tui_dedup.engine.model import ScanError
from tui_dedup.tui.screen_refresh import NoRepaintLoop
from tui_dedup.tui.widgets.cells import printable


class ErrorsScreen(NoRepaintLoop, ModalScreen[None]):
    """One line per problem: path, then the reason; escape closes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,e", "close", "Close", id="errors.close"),
    ]

    def __init__(
        self,
        errors: Sequence[ScanError] = (),
        skipped: Sequence[ScanError] = (),
        notes: Sequence[str] = (),
    ) -> None:
        super().__init__()
        self._shown: tuple | None = None  # what the log holds, see _content_key
        self.set_content(errors, skipped, notes)

    def set_content(
        self, errors: Sequence[ScanError], skipped: Sequence[ScanError], notes: Sequence[str]
    ) -> None:
        """The problems to show from the next open on (at once if the screen is shown)."""
        self.errors, self.skipped, self.notes = errors, skipped, list(notes)
        if self.is_mounted:
            self._fill()

    def _content_key(self) -> tuple:
        # The scan's lists are replaced, never edited, once a result exists; the app's notes
        # only grow. Identity and length therefore tell whether the log is still current.
        return (id(self.errors), len(self.errors), id(self.skipped), len(self.skipped), *self.notes)

    def title_text(self) -> str:
        return f"{len(self.errors)} file(s) could not be read, {len(self.skipped)} skipped"

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(self.title_text(), classes="dialog-title", id="errors-title")
            yield RichLog(markup=False, wrap=True, highlight=False, id="error-log")

    def on_mount(self) -> None:
        self._fill()
        self.query_one(RichLog).focus()

    def _fill(self) -> None:
        """Rewrite the log if the content changed; either way show its end, as a new log does."""
        log = self.query_one(RichLog)
        key = self._content_key()
        if key == self._shown:
            log.scroll_end(animate=False, immediate=True)  # where a new log would stand
        else:
            self._shown = key
            self.query_one("#errors-title", Label).update(self.title_text())
            log.clear()
            for e in self.errors:
                log.write(f"error   {printable(e.path)}: {e.reason}")
            for e in self.skipped:
                log.write(f"skipped {printable(e.path)}: {e.reason}")
            for n in self.notes:
                log.write(n)
            if not (self.errors or self.skipped or self.notes):
                log.write("No problems.")  # written lines scroll the log to its end

    def action_close(self) -> None:
        self.dismiss(None)
