"""One-line status bar.

``ascii_only`` lives in :mod:`~tui_dedup.tui.widgets.glyphs` (Textual-free, so the table model
can use it too) and is still importable from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual.reactive import reactive
from textual.widget import Widget

from tui_dedup.actions.plan import human_bytes
from tui_dedup.tui.widgets.glyphs import ascii_only

if TYPE_CHECKING:
    from tui_dedup.review.session import ReviewSession
    from tui_dedup.tui.widgets.table_model import PairTableModel


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
        parts = [shown_txt, f"{groups:,} groups", f"{marked:,} marked {human_bytes(marked_bytes)}"]
        # what is going on comes before the threshold, which is there all the time: at 80
        # cells the end of the line is what is cut
        parts += [note, label] if note else [label]
        self.text = sep.join(parts)

    def show_review(
        self, session: ReviewSession, model: PairTableModel, busy: Sequence[str] = ()
    ) -> None:
        """The review's counts, and what is going on (``busy``: a batch, a re-match) or
        worth knowing (a partial scan, unreadable files, a filter, what ``u`` took back)."""
        notes = list(busy)
        if session.result.cancelled:
            notes.append("partial scan")
        if session.result.errors:
            notes.append(f"{len(session.result.errors)} unreadable (e)")
        if model.filter_text:
            notes.append(f"filter: {model.filter_text}")
        if (undone := session.timeline.next_redo()) is not None:  # until the next change
            notes.append(f"undid: {undone.title} (U redoes)")
        marked = model.marked_files()
        self.show_counts(
            pairs=len(session.pairs),
            shown=len(model),
            groups=len(session.groups),
            marked=int(marked.size),
            marked_bytes=session.bytes_of(marked),
            label=session.label(),
            note=", ".join(notes),
        )
