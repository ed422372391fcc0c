"""One-line status bar.

``ascii_only`` lives in :mod:`~tui_dedup.tui.widgets.glyphs` (Textual-free, so the table model
can use it too) and is still importable from here.
"""

from __future__ import annotations

from textual.reactive import reactive
from textual.widget import Widget

from tui_dedup.tui.widgets.glyphs import ascii_only


def human(n: float) -> str:
    """Decimal units, like file managers show them."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


class StatusBar(Widget):
    """Counts of the review: pairs, groups, marked files and what they would free.

    A reactive string without layout: a new count only repaints one line, it never costs a
    layout pass of the screen (which is what a ``Static.update`` would do).
    """

    text: reactive[str] = reactive("", layout=False)

    def render(self) -> str:
        return self.text

    def show_counts(
        self,
        *,
        pairs: int,
        shown: int,
        groups: int,
        marked: int,
        marked_bytes: int,
        label: str,
        note: str = "",
    ) -> None:
        sep = " | " if ascii_only() else " · "
        shown_txt = f"{shown:,}/{pairs:,} pairs" if shown != pairs else f"{pairs:,} pairs"
        parts = [
            shown_txt,
            f"{groups:,} groups",
            f"{marked:,} marked {human(marked_bytes)}",
            label,
        ]
        if note:
            parts.append(note)
        self.text = sep.join(parts)
