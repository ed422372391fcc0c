"""The files the scan could not use (and why), and the ones discovery skipped."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, RichLog

from tui_dedup.engine.model import ScanError
from tui_dedup.tui.widgets.table_model import printable


class ErrorsScreen(ModalScreen[None]):
    """One line per problem: path, then the reason; escape closes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,e", "close", "Close", id="errors.close"),
    ]

    def __init__(self, errors: list[ScanError], skipped: list[ScanError], notes: list[str]) -> None:
        super().__init__()
        self.errors, self.skipped, self.notes = errors, skipped, notes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(
                f"{len(self.errors)} file(s) could not be read, {len(self.skipped)} skipped",
                classes="dialog-title",
            )
            yield RichLog(markup=False, wrap=True, highlight=False, id="error-log")

    def on_mount(self) -> None:
        log = self.query_one(RichLog)
        for e in self.errors:
            log.write(f"error   {printable(e.path)}: {e.reason}")
        for e in self.skipped:
            log.write(f"skipped {printable(e.path)}: {e.reason}")
        for n in self.notes:
            log.write(n)
        if not (self.errors or self.skipped or self.notes):
            log.write("No problems.")
        log.focus()

    def action_close(self) -> None:
        self.dismiss(None)
