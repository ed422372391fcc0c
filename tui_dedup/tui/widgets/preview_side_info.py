"""The text under one preview picture: side letter, name, badge, folder and facts.

Apart from the pane because it is a plain widget that draws five lines itself (no layout pass
on a new pair) and knows nothing of pictures, workers or the store.
"""

from __future__ import annotations

from typing import ClassVar

from textual.content import Content
from textual.widget import Widget

from tui_dedup.tui.widgets.cells import cell_width, fit, shorten_middle


class PreviewSideInfo(Widget):
    """The text under one picture: "A name  [badge]", folder, facts, date · camera, note.

    One widget of fixed height that draws its lines itself, so a new pair costs a repaint of
    five lines and never a layout pass (show_pair runs on every key repeat). The folder is cut
    in the middle and the name at its end to fit; :attr:`text` has them uncut.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "preview-side-info--label",
        "preview-side-info--name",
        "preview-side-info--badge",
        "preview-side-info--folder",
        "preview-side-info--state",
        "preview-side-info--chosen",
    }
    """
    | Class | Description |
    | :- | :- |
    | `preview-side-info--label` | The side letter, A or B. |
    | `preview-side-info--name` | The file name. |
    | `preview-side-info--badge` | "larger · sharper" on the side that wins. |
    | `preview-side-info--folder` | The folder line. |
    | `preview-side-info--state` | "MARKED" after the letter of a marked file. |
    | `preview-side-info--chosen` | The letter of the side that marking acts on. |
    """

    DEFAULT_CSS = """
    PreviewSideInfo {
        height: 5;
    }
    PreviewSideInfo > .preview-side-info--label {
        color: $primary;
        text-style: bold;
    }
    PreviewSideInfo > .preview-side-info--name {
        text-style: bold;
    }
    PreviewSideInfo > .preview-side-info--badge {
        background: $success;
        color: $text;
    }
    PreviewSideInfo > .preview-side-info--folder {
        color: $text-muted;
    }
    PreviewSideInfo > .preview-side-info--state {
        color: $text-error;
        text-style: bold;
    }
    PreviewSideInfo > .preview-side-info--chosen {
        text-style: bold reverse;
    }
    """

    def __init__(self, label: str, *, classes: str | None = None) -> None:
        super().__init__(classes=classes)
        self.label = label
        self.name_text = ""
        self.badge = ""
        self.folder = ""
        self.lines: list[str] = []
        self.state = ""  # "marked", or "" (the compare view shows it; the table has its own)
        self.chosen = False

    def set_state(self, state: str, chosen: bool) -> None:
        """What marking did to this side, and whether marking acts on it."""
        if (state, chosen) != (self.state, self.chosen):
            self.state, self.chosen = state, chosen
            self.refresh()

    def set_text(self, name: str, badge: str, folder: str, lines: list[str]) -> None:
        if (name, badge, folder, lines) != (self.name_text, self.badge, self.folder, self.lines):
            self.name_text, self.badge, self.folder, self.lines = name, badge, folder, lines
            self.refresh()

    @property
    def text(self) -> str:
        """Everything shown, uncut (for tests and screen readers of the source)."""
        state = self.state.upper()
        head = " ".join(x for x in (self.label, state, self.name_text, self.badge) if x)
        return "\n".join([head, self.folder, *self.lines]) if self.name_text else ""

    def render(self) -> Content:
        if not self.name_text:
            return Content("")
        width = max(self.content_size.width, 1)
        style = self.get_visual_style
        badge = f" {self.badge} " if self.badge else ""
        state = f"{self.state.upper()} " if self.state else ""
        room = width - len(self.label) - 1 - len(state) - (cell_width(badge) + 1 if badge else 0)
        name = fit(self.name_text, max(room, 0)) if room > 0 else ""
        label = "preview-side-info--chosen" if self.chosen else "preview-side-info--label"
        head = Content.assemble(
            (self.label, style(label)),
            " ",
            (state, style("preview-side-info--state")),
            (name, style("preview-side-info--name")),
            *((" ", (badge, style("preview-side-info--badge"))) if badge else ()),
        )
        folder = shorten_middle(self.folder, width).rstrip()
        lines = [head, Content.styled(folder, style("preview-side-info--folder"))]
        lines.extend(Content(fit(line, width).rstrip()) for line in self.lines)
        return Content("\n").join(lines)
