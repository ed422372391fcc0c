"""Small typed dialogs: yes/no (``ModalScreen[bool]``) and pick-one (``ModalScreen[str | None]``).

Each returns its answer through ``dismiss``; the caller passes a callback to ``push_screen``
(or awaits ``push_screen_wait`` from a worker), frogmouth-style.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.markup import escape
from textual.screen import ModalScreen
from textual.widgets import Button, Label, OptionList, Static
from textual.widgets.option_list import Option

from tui_dedup.tui.screen_refresh import NoRepaintLoop


class ConfirmScreen(NoRepaintLoop, ModalScreen[bool]):
    """A question, a scrollable body (e.g. ``plan.describe()``), and Yes / No.

    Answered from the keyboard every way a person tries: ``y`` / ``n``, Escape (no), Enter
    (the focused button), Tab and Left/Right between the two buttons, which show which one
    has focus. The buttons always stay on screen: the body scrolls within what is left of the
    terminal once the title and the buttons have their rows (an 80×24 terminal included).
    Yes has focus unless the action cannot be undone.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
        Binding("left", "focus_button(-1)", "Previous button", show=False, id="confirm.left"),
        Binding("right", "focus_button(1)", "Next button", show=False, id="confirm.right"),
    ]
    #: Rows a dialog needs besides its body: borders 2, padding 2, title 2, buttons 3, gap 1.
    CHROME_ROWS = 10
    #: The dialog's ``max-height`` in app.tcss, as a share of the screen.
    DIALOG_SHARE = 0.9

    def __init__(
        self,
        title: str,
        lines: list[str] | None = None,
        *,
        yes: str = "Yes",
        no: str = "No",
        danger: bool = False,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.lines = lines or []
        self.yes_label, self.no_label = yes, no
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog" + (" danger" if self.danger else "")):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            if self.lines:
                body = VerticalScroll(classes="dialog-body")
                body.can_focus = False  # Tab goes between the buttons, where Enter answers
                with body:
                    yield Static("\n".join(self.lines), markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(
                    escape(f"{self.yes_label} [y]"),
                    id="yes",
                    variant="error" if self.danger else "primary",
                )
                yield Button(escape(f"{self.no_label} [n]"), id="no")

    def on_mount(self) -> None:
        self.query_one("#no" if self.danger else "#yes", Button).focus()
        self._fit_body()

    def on_resize(self) -> None:
        self._fit_body()

    def _fit_body(self) -> None:
        """The body gets the rows the title and the buttons leave (at least 3) inside the
        dialog's own limit, ``max-height: 90%`` of the screen (app.tcss)."""
        for body in self.query(".dialog-body"):
            room = int(self.size.height * self.DIALOG_SHARE) - self.CHROME_ROWS
            body.styles.max_height = max(3, room)

    def action_focus_button(self, step: int) -> None:
        buttons = list(self.query(Button))
        focused = self.focused
        k = buttons.index(focused) if focused in buttons else 0
        buttons[(k + step) % len(buttons)].focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


class ChoiceScreen(NoRepaintLoop, ModalScreen[str | None]):
    """Pick one of ``choices`` (id, label); escape gives None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="choice.cancel"),
    ]

    def __init__(self, title: str, choices: list[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield OptionList(*(Option(label, id=key) for key, label in self.choices))

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
