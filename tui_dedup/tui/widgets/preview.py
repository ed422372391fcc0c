"""Both pictures of a pair side by side, with what a person needs to choose the keeper.

Rendering goes through textual-image: Kitty graphics (TGP), Sixel, or coloured half-blocks
(``▀`` with a foreground and a background colour), which work in any truecolour terminal,
over plain SSH and inside tmux. Which one, and the terminal query at import that decides it,
are in :mod:`~tui_dedup.tui.widgets.preview_modes`; the text under each picture is
:class:`~tui_dedup.tui.widgets.preview_side_info.PreviewSideInfo`.

Slow links: :meth:`PreviewPane.show_pair` only updates the text at once. Pictures wait until
calls pause for :data:`DEBOUNCE` seconds (each call restarts the timer), so holding a key down
sends no image at all until the key is released. Thumbnails are then decoded small (sized to
the pane, cached by :mod:`engine.thumbs`) in one exclusive thread worker, which hands them
back in a message; the widget tree is only touched on the UI thread. Each request has a
token, so a late answer for a pair no longer shown is dropped.

Pictures are shown as the files are (never turned to match each other): the user decides
about files, not about what matching did with them. A pair's transform is named in B's line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from PIL import Image as PILImage
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import Worker, WorkerState, get_current_worker

from tui_dedup.engine.features.store import FeatureStore
from tui_dedup.engine.files import thumbs
from tui_dedup.engine.model import TRANSFORMS, ScanError
from tui_dedup.tui.widgets.picture_frame import PictureFrame
from tui_dedup.tui.widgets.preview_modes import (
    IMAGES_ERROR,
    MODE_TITLES,
    resolve_mode,
    thumb_side,
)
from tui_dedup.tui.widgets.preview_side_info import PreviewSideInfo
from tui_dedup.tui.widgets.preview_text import badges, side_text

#: Seconds without a new show_pair before pictures are loaded.
DEBOUNCE = 0.15


@dataclass(frozen=True, slots=True)
class _Request:
    token: int
    paths: tuple[str, str]
    side: int


class PreviewPane(Widget):
    """Side A and side B of one pair: pictures (aspect ratio kept) over their metadata."""

    DEFAULT_CSS = """
    PreviewPane {
        height: 1fr;
        background: $surface;
        color: $foreground;
    }
    PreviewPane #preview-sides {
        height: 1fr;
    }
    PreviewPane .preview-side {
        width: 1fr;
        height: 1fr;
        padding: 0 1;
    }
    PreviewPane.-text-first .preview-frame, PreviewPane.-covered .preview-frame {
        visibility: hidden;  /* names first, pictures next (text_first); under a screen (cover) */
    }
    PreviewPane.-no-images .preview-frame {
        display: none;
    }
    PreviewPane.-no-images .preview-side {
        height: auto;
    }
    PreviewPane #preview-note {
        height: auto;
        color: $text-warning;
        padding: 0 1;
    }
    PreviewPane #preview-note.-empty {
        display: none;
    }
    """

    class ThumbnailsReady(Message, bubble=False):
        """From the worker: PIL RGB thumbnails (or one-line reasons) of ``paths`` for request
        ``token``."""

        def __init__(
            self,
            token: int,
            side: int,
            images: list[PILImage.Image | str],
            paths: tuple[str, str],
        ) -> None:
            super().__init__()
            self.token = token
            self.side = side
            self.images = images
            self.paths = paths

    SIDES: ClassVar[tuple[str, str]] = ("a", "b")

    def __init__(
        self,
        mode: str = "auto",
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.requested_mode = mode
        self.mode, self._image_cls = resolve_mode(mode)
        self._store: FeatureStore | None = None
        self._pair: tuple[int, int, int] | None = None
        self._token = 0
        self._timer: Timer | None = None
        self._text_timer: Timer | None = None  # pictures back after a pause (text_first)
        self._loaded: tuple[int, int] | None = None  # (token, side) whose pictures are shown
        self._picture_paths: tuple[str, str] | None = None  # files the shown pictures are of
        self._note = "" if IMAGES_ERROR is None else f"pictures unavailable: {IMAGES_ERROR}"

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="preview-sides"):
            for side in self.SIDES:
                with Vertical(classes="preview-side", id=f"preview-{side}"):
                    yield PictureFrame(classes="preview-frame", id=f"preview-frame-{side}")
                    yield PreviewSideInfo(side.upper(), classes="preview-info")
        yield Static(self._note, id="preview-note", classes="" if self._note else "-empty")

    def on_mount(self) -> None:
        self._mount_images()

    def _mount_images(self) -> None:
        self.set_class(self._image_cls is None, "-no-images")
        for side in self.SIDES:
            self._frame(side).set_renderer(self._image_cls)

    def _frame(self, side: str) -> PictureFrame:
        return self.query_one(f"#preview-frame-{side}", PictureFrame)

    def set_mode(self, mode: str) -> None:
        """Switch renderer at run time (e.g. from a command); the current pair is redrawn."""
        self.requested_mode = mode
        self.mode, self._image_cls = resolve_mode(mode)
        self._loaded = None
        self._picture_paths = None
        self._mount_images()
        if self._store is not None and self._pair is not None:
            self.show_pair(self._store, *self._pair)

    # -- public API ----------------------------------------------------------------------------

    @property
    def pair(self) -> tuple[int, int] | None:
        """The (i, j) rows being shown (text at once; pictures after the debounce)."""
        return None if self._pair is None else self._pair[:2]

    @property
    def shown_pair(self) -> tuple[str, str] | None:
        """Paths of the files whose names and facts are shown (A, B); None when empty."""
        if self._store is None or self._pair is None:
            return None
        i, j, _ = self._pair
        return self._store.entries[i].path, self._store.entries[j].path

    @property
    def shown_names(self) -> tuple[str, str]:
        """The file names as written under the pictures (A, B); "" on an empty side."""
        return self._info("a").name_text, self._info("b").name_text

    @property
    def shown_pictures(self) -> tuple[str, str] | None:
        """Paths of the files the pictures on screen were decoded from; None while the
        pictures are pending (debounce, loading) or switched off."""
        return self._picture_paths

    def is_showing(self, store: FeatureStore, i: int, j: int, transform: int = 0) -> bool:
        """True when :meth:`show_pair` with these arguments would change nothing."""
        return self._store is store and self._pair == (i, j, transform)

    def show_pair(self, store: FeatureStore, i: int, j: int, transform: int = 0) -> None:
        """Show rows ``i`` (side A) and ``j`` (side B); pictures follow once calls pause."""
        self._store = store
        self._pair = (i, j, transform)
        self._token += 1
        self._loaded = None
        self._picture_paths = None
        self._set_text(store, i, j, transform)
        if self._image_cls is None:
            return
        for side in self.SIDES:
            self._show_placeholder(side, "…")
        self._schedule()

    def clear(self) -> None:
        """Nothing selected: no pictures, no text, nothing pending."""
        self._store = None
        self._pair = None
        self._token += 1
        self._loaded = None
        self._picture_paths = None
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        for side in self.SIDES:
            self._info(side).set_text("", "", "", [])
            if self._image_cls is not None:
                self._show_placeholder(side, "")
        self._set_note(self._note)

    # -- text ----------------------------------------------------------------------------------

    def _set_text(self, store: FeatureStore, i: int, j: int, transform: int) -> None:
        badge_a, badge_b = badges(store, i, j)
        for side, row, badge in (("a", i, badge_a), ("b", j, badge_b)):
            t = side_text(store, row)
            lines = [t.facts, f"{t.when} · {t.camera}"]
            if side == "b" and 0 < transform < len(TRANSFORMS):
                lines.append(f"matched as {TRANSFORMS[transform]} of A")
            self._info(side).set_text(t.name, badge, t.folder, lines)
        self._set_note(self._note)

    def _info(self, side: str) -> PreviewSideInfo:
        return self.query_one(f"#preview-{side} > PreviewSideInfo", PreviewSideInfo)

    def _set_note(self, text: str) -> None:
        note = self.query_one("#preview-note", Static)
        if str(note.content) != text:
            note.update(Content(text))
            note.set_class(not text, "-empty")

    def text_first(self, pause: float | None = None) -> None:
        """Hide the pictures for one frame, so a pane shown again (the compare's side by side,
        a screen back from under a dialog) sends its names at once and its pictures in the
        next frame. A full-screen half-block picture is ~200 kB of escapes; the text must not
        wait behind it. ``pause``: the pictures come back only once no call has come for that
        long (keys held down send names only)."""
        self.add_class("-text-first")
        if self._text_timer is not None:
            self._text_timer.stop()
            self._text_timer = None
        if pause is None:
            self.call_after_refresh(self.remove_class, "-text-first")
        else:
            self._text_timer = self.set_timer(pause, self._pictures_back, name="names-first")

    def _pictures_back(self) -> None:
        self._text_timer = None
        self.remove_class("-text-first")

    def cover(self, covered: bool, pause: float | None = None) -> None:
        """Hide the pictures while another screen is over them; shown again names first.

        The frame that shows this pane again after a dialog, help or the compare is the whole
        screen; laid out without pictures while covered, it goes out as text (14 kB at 160×50
        instead of 136 kB), and the pictures follow in the next frame (or, with ``pause``, once
        no key has come for that long: see text_first).
        """
        if covered == self.has_class("-covered"):
            return
        if not covered:
            self.text_first(pause)
        self.set_class(covered, "-covered")

    def set_states(self, states: tuple[str, str], chosen: str | None) -> None:
        """Per side "marked" or "", and which side marking acts on (None: neither shown)."""
        for side, state in zip(self.SIDES, states, strict=True):
            self._info(side).set_state(state, chosen == side)

    def badge_text(self, side: str) -> str:
        """The badge shown on ``side`` ("a" or "b"), "" when none."""
        return self._info(side).badge

    def side_text(self, side: str) -> str:
        """All text shown for ``side``, uncut."""
        return self._info(side).text

    # -- pictures ------------------------------------------------------------------------------

    def _show_placeholder(self, side: str, text: str) -> None:
        self._frame(side).placeholder(text)

    def _schedule(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE, self._start_load, name="preview-debounce")

    def on_resize(self) -> None:
        # A bigger pane may want bigger thumbnails; the debounce also absorbs resize storms.
        if self._pair is not None and self._image_cls is not None and self._loaded is not None:
            self._schedule()

    def _frame_cells(self) -> tuple[int, int]:
        return self._frame("a").cells

    def _start_load(self) -> None:
        self._timer = None
        if self._store is None or self._pair is None or self._image_cls is None:
            return
        side = thumb_side(self.mode, *self._frame_cells())
        if self._loaded == (self._token, side):
            return
        i, j, _ = self._pair
        paths = (self._store.entries[i].path, self._store.entries[j].path)
        self._load_thumbnails(_Request(self._token, paths, side))

    @work(
        thread=True,
        exclusive=True,
        group="preview",
        exit_on_error=False,
        description="preview thumbnails",
    )
    def _load_thumbnails(self, request: _Request) -> None:
        worker = get_current_worker()
        images: list[PILImage.Image | str] = []
        for path in request.paths:
            if worker.is_cancelled:
                return
            result = thumbs.load_thumbnail(path, request.side)
            if isinstance(result, ScanError):
                images.append(result.reason)
            else:
                images.append(PILImage.fromarray(result[:, :, ::-1]))  # BGR → RGB (a copy)
        if not worker.is_cancelled:
            self.post_message(
                self.ThumbnailsReady(request.token, request.side, images, request.paths)
            )

    def on_preview_pane_thumbnails_ready(self, message: ThumbnailsReady) -> None:
        if message.token != self._token or self._image_cls is None:
            return  # a pair no longer shown, or pictures switched off meanwhile
        for side, image in zip(self.SIDES, message.images, strict=True):
            if isinstance(image, str):
                self._show_placeholder(side, f"cannot preview: {image}")
                continue
            error = self._put_image(side, image)
            if error is not None:
                self._fallback(error)
                return
        self._loaded = (message.token, message.side)
        self._picture_paths = message.paths

    def _put_image(self, side: str, image: PILImage.Image) -> str | None:
        """Hand a picture to the renderer; a one-line reason if it refused."""
        error = self._frame(side).put(image)
        return None if error is None else f"{MODE_TITLES[self.mode]} failed: {error}"

    def _fallback(self, reason: str) -> None:
        """The renderer failed: try half-blocks once, then metadata only, saying why."""
        if self.mode != "halfblock":
            self._note = f"{reason}; showing half-blocks instead"
            self.set_mode("halfblock")
        else:
            self._note = f"{reason}; showing metadata only"
            self.set_mode("none")
        self._set_note(self._note)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "preview" or event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        self._set_note(f"preview failed: {type(error).__name__}: {error}")
        for side in self.SIDES:
            self._show_placeholder(side, "")
