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


def binding_rows(app, sources: Iterable[tuple[str, Iterable[BindingType]]]) -> list[str]:
    """``key(s)  description  (id)`` lines, one section per source."""
    lines: list[str] = []
    for title, bindings in sources:
        rows = []
        for b in bindings:
            if not isinstance(b, Binding):
                continue
            keys = ", ".join(app.get_key_display(Binding(k, b.action)) for k in b.key.split(","))
            rows.append((keys, b.description or b.action))
        if not rows:
            continue
        lines.append(title)
        width = max(len(k) for k, _ in rows)
        lines += [f"  {k.ljust(width)}  {d}" for k, d in rows]
        lines.append("")
    return lines


class HelpScreen(ModalScreen[None]):
    """Keys of the screen it was opened from, grouped by where they are declared."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "Close", id="help.close"),
    ]

    def __init__(self, sources: list[tuple[str, Iterable[BindingType]]]) -> None:
        super().__init__()
        self.sources = sources

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label("Keys", classes="dialog-title")
            with VerticalScroll(classes="dialog-body"):
                yield Static(
                    "\n".join(binding_rows(self.app, self.sources)), markup=False, id="help-body"
                )

    def action_close(self) -> None:
        self.dismiss(None)
