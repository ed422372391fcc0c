"""One picture, centred and fitted in its cells, or a line saying why there is none.

Why a widget of its own: the preview pane shows two of these and the compare view one, and
each must swap a textual-image renderer in and out (mode changes, a failed renderer falling
back to half-blocks) and show "…" or "cannot preview: …" without a layout pass on every key
repeat. The renderer class comes from :func:`~tui_dedup.tui.widgets.preview_modes.resolve_mode`.
"""

from __future__ import annotations

from PIL import Image as PILImage
from textual.containers import Container
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static


class PictureFrame(Container):
    """A centred picture (aspect ratio kept, never larger than the frame) or a placeholder."""

    DEFAULT_CSS = """
    PictureFrame {
        height: 1fr;
        align: center middle;
    }
    PictureFrame > .preview-image {
        width: auto;
        height: auto;
    }
    PictureFrame > .preview-placeholder {
        width: auto;
        color: $text-muted;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        # The placeholder is a child from the start (mounted with the frame), so a pair shown
        # before the frame's first refresh finds it.
        self._placeholder = Static("", classes="preview-placeholder")
        super().__init__(self._placeholder, id=id, classes=classes)
        self._image: Widget | None = None
        self.shown: PILImage.Image | None = None  # the picture on screen, None when a text

    def set_renderer(self, image_cls: type[Widget] | None) -> None:
        """Draw pictures with ``image_cls`` from now on (None: no pictures, text only)."""
        if self._image is not None:
            self._image.remove()
            self._image = None
        self.shown = None
        if image_cls is not None:
            self._image = image_cls(classes="preview-image")
            self._image.display = False
            self.mount(self._image)

    @property
    def cells(self) -> tuple[int, int]:
        """(columns, rows) a picture may fill."""
        return self.content_size.width, self.content_size.height

    def placeholder(self, text: str) -> None:
        """Show ``text`` instead of a picture; unchanged text costs no layout pass."""
        img = self._image
        if img is not None and img.display:
            img.display = False
            img.image = None  # type: ignore[attr-defined]
        self.shown = None
        placeholder = self._placeholder
        if str(placeholder.content) != text:
            placeholder.update(Content(text))
        placeholder.display = True

    def put(self, image: PILImage.Image) -> str | None:
        """Show ``image``; a one-line reason when the renderer refused it (nothing shown)."""
        img = self._image
        if img is None:
            return "pictures are off"
        if self.shown is image and img.display:
            return None
        try:
            img.image = image  # type: ignore[attr-defined]
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        self._placeholder.display = False
        img.display = True
        self.shown = image
        return None
