"""The review screen's keys: what each does, in the footer's word and in help's sentence.

Why apart from the screen: the list is long and its words matter to a newcomer. The footer
shows the keys a review needs most and fits 80 cells with them (mark, auto-mark, move, undo,
filter, details, help, quit, and ^p), so their descriptions stay one word; ``tooltip`` holds
the sentence ``?`` shows instead. The rest (``show=False``) are in ``?`` and the command
palette, described in full.
"""

from __future__ import annotations

from textual.binding import Binding, BindingType

REVIEW_BINDINGS: list[BindingType] = [
    Binding(
        "space",
        "mark",
        "Mark",
        tooltip="Mark / unmark the chosen file (A or B: left / right)",
        id="review.mark",
    ),
    Binding(
        "a",
        "auto_mark",
        "Auto",
        tooltip="Auto-mark every copy but the best one of each group",
        id="review.auto_mark",
    ),
    Binding("A", "auto_menu", "Choose auto-mark rules...", show=False, id="review.auto_menu"),
    Binding(
        "s", "skip", "Not a duplicate (hide the pair, remembered)", show=False, id="review.skip"
    ),
    Binding(
        "m",
        "apply('move')",
        "Move",
        tooltip="Move the marked files to the quarantine (asks first; u undoes)",
        id="review.move",
    ),
    Binding("t", "apply('trash')", "Trash marked files", show=False, id="review.trash"),
    Binding("L", "apply('hardlink')", "Hard link (exact)", show=False, id="review.hardlink"),
    Binding(
        "u",
        "undo",
        "Undo",
        tooltip="Undo the last change: marks, a skip or a file batch",
        id="review.undo",
    ),
    Binding("U,ctrl+r", "redo", "Redo (marks, skips)", show=False, id="review.redo"),
    Binding("c", "edit_marks('unmark_all')", "Unmark all", show=False, id="review.unmark_all"),
    Binding("i", "edit_marks('invert')", "Invert marks", show=False, id="review.invert"),
    Binding("f", "edit_marks('pattern')", "Mark by folder...", show=False, id="review.pattern"),
    Binding("S", "skips", "Skipped pairs (unskip)...", show=False, id="review.skips"),
    Binding("g", "toggle_groups", "Pairs / groups", show=False, id="review.groups"),
    Binding(
        "slash", "filter", "Filter", tooltip="Show only paths containing...", id="review.filter"
    ),
    Binding("o", "sort_next", "Next sort column", show=False, id="review.sort_next"),
    Binding("O", "sort_reverse", "Reverse sort", show=False, id="review.sort_reverse"),
    Binding("plus,equals_sign", "threshold(1)", "Looser (+1 bit)", show=False, id="review.looser"),
    Binding("minus", "threshold(-1)", "Stricter (-1 bit)", show=False, id="review.stricter"),
    Binding("0", "threshold(0)", "Threshold as at the start", show=False, id="review.th_reset"),
    Binding("p", "toggle_preview", "Show / hide the preview", show=False, id="review.preview"),
    Binding(
        "d",
        "details",
        "Details",
        tooltip="Everything about the pair: kind, evidence, scores, pixels",
        id="review.details",
    ),
    Binding("enter,v", "compare", "Compare full screen", show=False, id="review.compare"),
    Binding(
        "B",
        "bursts",
        "Bursts: frames side by side, keep the best, move the rest",
        show=False,
        id="review.bursts",
    ),
    Binding("e", "errors", "Files that could not be read", show=False, id="review.errors"),
    Binding("escape", "clear_filter", "Clear filter", show=False, id="review.clear_filter"),
    Binding("question_mark", "help", "Help", tooltip="This list", id="review.help"),
    Binding("q", "quit", "Quit", tooltip="Quit (asks when marks are pending)", id="review.quit"),
]
