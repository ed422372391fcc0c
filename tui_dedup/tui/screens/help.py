"""Every key of the review screen, generated from the binding declarations themselves.

Nothing here is hand-written per key: adding a binding (with its description) to a screen or
widget is what puts it in this list, so help and behaviour cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from tui_dedup.tui.screen_refresh import NoRepaintLoop


def binding_rows(app, sources: Iterable[tuple[str, Iterable[BindingType]]]) -> list[str]:
    """``key(s)  description  (id)`` lines, one section per source."""
    lines: list[str] = []
    for title, bindings in sources:
        rows = []
        for b in bindings:
            if not isinstance(b, Binding):
                continue
            keys = ", ".join(app.get_key_display(Binding(k, b.action)) for k in b.key.split(","))
            rows.append((keys, b.tooltip or b.description or b.action))  # the sentence
        if not rows:
            continue
        lines.append(title)
        width = max(len(k) for k, _ in rows)
        lines += [f"  {k.ljust(width)}  {d}" for k, d in rows]
        lines.append("")
    return lines


class HelpScreen(NoRepaintLoop, ModalScreen[None]):
    """Keys of the screen it was opened from, grouped by where they are declared.

    The review screen builds one and reuses it (see ``open_help``): the text is recomputed on
    each open, which is cheap, and the widgets are updated only when it changed.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "Close", id="help.close"),
    ]

    def __init__(self, sources: list[tuple[str, Iterable[BindingType]]]) -> None:
        super().__init__()
        self.sources = sources
        self._text: str | None = None

    def body_text(self) -> str:
        return "\n".join(binding_rows(self.app, self.sources))

    def compose(self) -> ComposeResult:
        self._text = self.body_text()
        with Vertical(classes="dialog wide"):
            yield Label("Keys  (escape, q or ? closes)", classes="dialog-title")
            yield Static(INTRO, classes="help-intro", markup=False)
            with VerticalScroll(classes="dialog-body"):
                yield Static(self._text, markup=False, id="help-body")

    def set_sources(self, sources: list[tuple[str, Iterable[BindingType]]]) -> None:
        """Show these keys from the next open on; scroll back to the top as a new screen would."""
        self.sources = sources
        if not self.is_mounted:
            return
        text = self.body_text()
        if text != self._text:
            self._text = text
            self.query_one("#help-body", Static).update(text)
        self.query_one(VerticalScroll).scroll_home(animate=False, immediate=True)

    def action_close(self) -> None:
        self.dismiss(None)


#: Read before the list: how the keys are grouped, and where the rest of the commands are.
INTRO = (
    "Every key of this screen, by where it works; the footer shows the most used ones. "
    "ctrl+p opens the command palette: rescan, method, threshold preset, export, links, theme."
)

HELP_SCREEN = "help"  # the app-wide name the reused help screen is installed under


def open_help(app, sources: list[tuple[str, Iterable[BindingType]]]) -> None:
    """Push the app's one help screen, built on first use, showing ``sources``."""
    if app.is_screen_installed(HELP_SCREEN):
        screen = app.get_screen(HELP_SCREEN)
        screen.set_sources(sources)
    else:
        app.install_screen(HelpScreen(sources), HELP_SCREEN)
    app.push_screen(HELP_SCREEN)
