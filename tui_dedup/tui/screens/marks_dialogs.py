"""Two small dialogs for taking marks and skips back: a folder/pattern to mark, and the list
of pairs skipped in this review with a key to unskip one.

Both answer through ``dismiss`` like the dialogs in :mod:`.confirm` (the caller's callback
does the work), so they hold no review state of their own.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList

from tui_dedup.tui.screen_refresh import NoRepaintLoop
from tui_dedup.tui.screens.confirm import ChoiceScreen


class PatternScreen(NoRepaintLoop, ModalScreen[str | None]):
    """Ask for a folder (``backup/``) or a glob (``*/old/*.jpg``); escape gives None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="pattern.cancel"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(
                "Mark every copy under a folder or matching a pattern "
                "(never a group's last copy). Enter: mark, escape: cancel",
                classes="dialog-title",
                markup=False,
            )
            yield Input(placeholder="backup/  or  */old/*.jpg", id="pattern")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class SkipsScreen(ChoiceScreen):
    """The pairs skipped ("not a duplicate") in this review; enter or ``u`` unskips one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("u", "unskip", "Unskip", id="skips.unskip"),
    ]

    def __init__(self, pairs: list[tuple[tuple[int, int], str]]) -> None:
        super().__init__(
            "Skipped in this review. Enter or u: unskip (the pair comes back), escape: close",
            [(f"{i},{j}", label) for (i, j), label in pairs],
        )

    def action_unskip(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is not None:
            self.dismiss(options.get_option_at_index(options.highlighted).id)

    @staticmethod
    def pair_of(answer: str) -> tuple[int, int]:
        i, _, j = answer.partition(",")
        return int(i), int(j)
