"""The full-screen compare: one pair as large as the terminal allows, three ways to look.

Why a screen of its own: the review's preview shares the screen with the table, which at
80×24 leaves each picture about 10×3 cells; a person deciding whether to delete a photo needs
to *see* it. Three views of the selected pair:

* side by side — both files as they are (the review's :class:`PreviewPane`, full screen);
* flip — one picture in one place; ``f`` swaps A and B at the same scale and alignment, B
  turned by the matched rotation and laid on A (:mod:`engine.matching.lineup`). Flipping is
  the fastest way to see a difference: the eye catches what moves;
* difference — where the two disagree, red over a dimmed A (blue: not in B at all).

The pair is always the review's selected row: the keys that move, mark or skip are the
review's own (``host``), and this screen only re-reads the selection afterwards, so the
compare and the table cannot disagree. Names and labels change on the key press; pictures are
decoded when the keys pause (the same debounce as the preview) and lined up once per pair.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from PIL import Image as PILImage
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Static
from textual.worker import get_current_worker

from tui_dedup.engine.matching.lineup import LinedUp, load_lined_up
from tui_dedup.engine.model import TRANSFORMS, ScanError
from tui_dedup.review.session import ReviewSession
from tui_dedup.tui.screen_refresh import NoRepaintLoop
from tui_dedup.tui.screens.compare_text import flip_label, title_line
from tui_dedup.tui.screens.help import open_help
from tui_dedup.tui.screens.review_views import ReviewViews
from tui_dedup.tui.widgets.footer import QuietFooter
from tui_dedup.tui.widgets.picture_frame import PictureFrame
from tui_dedup.tui.widgets.preview import DEBOUNCE, PreviewPane
from tui_dedup.tui.widgets.preview_modes import resolve_mode, thumb_side

VIEWS = ("sides", "flip", "diff")
#: A picture follows its label once no key has come for this long (the preview's debounce):
#: a held key (or a quick run of presses) sends labels only, so no key waits behind a picture
#: still on its way. Shorter (80 ms) let the pictures of side by side go out just as an escape
#: arrived (an escape waits out the terminal's escape delay first): back to the list took
#: 140 ms median instead of 60.
PICTURE_PAUSE = DEBOUNCE


class CompareHost(Protocol):
    """What the compare needs from the review: its views (the selection) and its keys."""

    @property
    def session(self) -> ReviewSession: ...

    @property
    def views(self) -> ReviewViews: ...

    def action_mark(self) -> None: ...

    def action_skip(self) -> None: ...


@dataclass(frozen=True, slots=True)
class _Request:
    token: int
    paths: tuple[str, str]
    side: int
    transform: int


class LinedUpReady(Message, bubble=False):
    """From the worker: the pair lined up (PIL A, B on A, difference), or a reason."""

    def __init__(self, token: int, result: tuple[LinedUp, list[PILImage.Image]] | str) -> None:
        super().__init__()
        self.token = token
        self.result = result


class CompareScreen(NoRepaintLoop, Screen[None]):
    """The selected pair full screen: side by side, flip (A/B in one place), difference."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "flip", "Flip A/B", id="compare.flip"),
        Binding("x", "view('diff')", "Difference", id="compare.diff"),
        Binding("b", "view('sides')", "Side by side", id="compare.sides"),
        Binding("space", "mark", "Mark", id="compare.mark"),
        Binding("down,j", "step(1)", "Next pair", show=False, id="compare.next"),
        Binding("up,k", "step(-1)", "Previous pair", show=False, id="compare.previous"),
        Binding("left,h", "side('a')", "Side A (and show A)", show=False, id="compare.side_a"),
        Binding("right,l", "side('b')", "Side B (and show B)", show=False, id="compare.side_b"),
        Binding("s", "skip", "Not a duplicate", show=False, id="compare.skip"),
        Binding("question_mark", "help", "Help", id="compare.help"),
        Binding("escape,q,enter", "close", "Back", id="compare.close"),
    ]

    DEFAULT_CSS = """
    CompareScreen #compare-title {
        height: 1;
        padding: 0 1;
        background: $panel;
    }
    CompareScreen #compare-sides PreviewSideInfo {
        height: 4;
    }
    CompareScreen #compare-one {
        height: 1fr;
    }
    CompareScreen #compare-label {
        height: 2;
        padding: 0 1;
    }
    CompareScreen .-off {
        display: none;
    }
    CompareScreen.-covered #compare-frame {
        visibility: hidden;
    }
    """

    def __init__(self, host: CompareHost, preview_mode: str = "auto") -> None:
        super().__init__()
        self.host = host
        self.view = "sides"
        self.flip_side = "a"
        self.sides = PreviewPane(mode=preview_mode, id="compare-sides")
        self.mode, self._image_cls = resolve_mode(preview_mode)
        self._pair: tuple[int, int, int] | None = None
        self._token = 0
        self._timer: Timer | None = None
        self._lined: tuple[int, LinedUp, list[PILImage.Image]] | None = None  # token, result
        self._picture_timer: Timer | None = None
        self._reason = ""

    def compose(self) -> ComposeResult:
        yield Static("", id="compare-title")
        yield self.sides
        with Vertical(id="compare-one", classes="-off"):
            yield PictureFrame(id="compare-frame")
            yield Static("", id="compare-label")
        yield QuietFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one(PictureFrame).set_renderer(self._image_cls)

    def on_screen_suspend(self) -> None:
        """Help or a dialog over the compare: its pictures are hidden under it, so the frame
        that shows the compare again is text (PreviewPane.cover)."""
        self.sides.cover(True)
        self.add_class("-covered")

    def on_screen_resume(self) -> None:
        """Shown (first time or again): the review's selection may have moved meanwhile."""
        self.sync()
        self.sides.cover(False, PICTURE_PAUSE)
        if self.has_class("-covered"):  # the label first, the picture when the keys pause
            self.set_timer(PICTURE_PAUSE, lambda: self.remove_class("-covered"))

    # -- what is shown ---------------------------------------------------------------------------

    @property
    def pair(self) -> tuple[int, int, int] | None:
        """The pair shown: (file A, file B, transform)."""
        return self._pair

    @property
    def label_text(self) -> str:
        return str(self.query_one("#compare-label", Static).content)

    @property
    def title_text(self) -> str:
        return str(self.query_one("#compare-title", Static).content)

    def sync(self) -> None:
        """Show the review's selected pair (after any key that may have changed it)."""
        selected = self.host.views.selected_pair()
        if selected is None:
            if self.is_current:
                self.dismiss()
            return
        s = self.host.session
        if selected != self._pair:
            self._pair = selected
            self._token += 1
            self._lined = None
            self._reason = ""
            if self._image_cls is not None:
                self.query_one(PictureFrame).placeholder("…")
            self._schedule()
        if self.view == "sides" and not self.sides.is_showing(s.store, *selected):
            self.sides.show_pair(s.store, *selected)
        self._texts()

    def _texts(self) -> None:
        """Title, marks and the one-picture label: at once, before any picture."""
        assert self._pair is not None
        s = self.host.session
        i, j, t = self._pair
        views = self.host.views
        marked = (views.is_marked(i), views.is_marked(j))
        title = title_line(s, self._pair, views.position(), marked)
        self.query_one("#compare-title", Static).update(Content(title))
        self.sides.set_states(
            ("marked" if marked[0] else "", "marked" if marked[1] else ""), views.chosen_side()
        )
        one = self.query_one("#compare-one")
        one.set_class(self.view == "sides", "-off")
        if self.view == "sides" and self.sides.has_class("-off"):
            self.sides.text_first(PICTURE_PAUSE)  # names now, pictures when keys pause
        self.sides.set_class(self.view != "sides", "-off")
        if self.view == "sides":
            return
        lined = self._lined[1] if self._lined else None
        row = i if self.view == "diff" or self.flip_side == "a" else j
        text = flip_label(
            self.view,
            self.flip_side,
            s.store.entries[row].path,
            TRANSFORMS[t] if 0 < t < len(TRANSFORMS) else None,
            lined,
            views.is_marked(row),
            self._reason,
        )
        self.query_one("#compare-label", Static).update(Content(text))
        # The label goes out at once, the picture when the keys pause: a full-screen half-block
        # picture is ~100-200 kB of escapes (100-250 ms through tmux at 160x50), what changed
        # must be readable before it arrives, and a key pressed while a picture is still
        # going into the terminal waits behind it.
        if self._picture_timer is not None:
            self._picture_timer.stop()
        self._picture_timer = self.set_timer(PICTURE_PAUSE, self._put_picture, name="picture")

    def _put_picture(self) -> None:
        self._picture_timer = None
        frame = self.query_one(PictureFrame)
        if self._lined is None or self._lined[0] != self._token or self.view == "sides":
            return
        pictures = self._lined[2]
        picture = (
            pictures[2] if self.view == "diff" else pictures[0 if self.flip_side == "a" else 1]
        )
        error = frame.put(picture)
        if error is not None:
            frame.placeholder(f"cannot draw the picture: {error}")

    # -- loading ---------------------------------------------------------------------------------

    def _schedule(self) -> None:
        if self._image_cls is None:
            return
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE, self._start_load, name="compare-debounce")

    def _start_load(self) -> None:
        self._timer = None
        if self._pair is None:
            return
        # The one-picture view's frame: the screen less title, label and footer (it may be
        # hidden now, and then has no size of its own).
        side = thumb_side(self.mode, self.size.width, max(self.size.height - 4, 1))
        i, j, t = self._pair
        store = self.host.session.store
        paths = (store.entries[i].path, store.entries[j].path)
        self._load(_Request(self._token, paths, side, t))

    @work(thread=True, exclusive=True, group="compare", exit_on_error=False)
    def _load(self, request: _Request) -> None:
        worker = get_current_worker()
        result = load_lined_up(*request.paths, request.side, request.transform)
        if worker.is_cancelled:
            return
        if isinstance(result, ScanError):
            answer: tuple[LinedUp, list[PILImage.Image]] | str = result.reason
        else:
            pictures = [
                PILImage.fromarray(img[:, :, ::-1])  # BGR → RGB
                for img in (result.a, result.b, result.difference)
            ]
            answer = (result, pictures)
        self.post_message(LinedUpReady(request.token, answer))

    def on_lined_up_ready(self, message: LinedUpReady) -> None:
        if message.token != self._token:
            return  # another pair by now
        if isinstance(message.result, str):
            self._reason = message.result
            self.query_one(PictureFrame).placeholder(f"cannot compare: {message.result}")
        else:
            self._lined = (message.token, *message.result)
        if self._pair is not None:
            self._texts()

    # -- keys ------------------------------------------------------------------------------------

    def action_view(self, view: str) -> None:
        self.view = "sides" if view == self.view and view != "sides" else view
        self.sync()

    def action_flip(self) -> None:
        if self.view == "flip":
            self.flip_side = "b" if self.flip_side == "a" else "a"
        else:  # a flip starts from A, the picture the others are compared with
            self.view, self.flip_side = "flip", "a"
        self.sync()

    def action_side(self, side: str) -> None:
        self.host.views.choose_side(side)
        if self.view == "flip":
            self.flip_side = side
        self.sync()

    def action_step(self, delta: int) -> None:
        self.host.views.step(delta)
        self.sync()

    def action_mark(self) -> None:
        self.host.action_mark()
        self.sync()

    def action_skip(self) -> None:
        self.host.action_skip()
        self.sync()

    def action_help(self) -> None:
        open_help(self.app, [("Compare", type(self).BINDINGS), ("Everywhere", self.app.BINDINGS)])

    def action_close(self) -> None:
        self.dismiss()


COMPARE_SCREEN = "compare"  # installed-screen name: built once per review, then reused


def open_compare(app: App[Any], host: CompareHost, preview_mode: str) -> None:
    """Show the review's selected pair full screen (nothing happens without one).

    The screen is built on first use and reused (opening it is then a key press's work, not
    a compose); the review lets it go when it goes (``forget_screen``)."""
    if host.views.selected_pair() is None:
        return
    if app.is_screen_installed(COMPARE_SCREEN):
        screen = app.get_screen(COMPARE_SCREEN)
        if not isinstance(screen, CompareScreen) or screen.host is not host:
            app.uninstall_screen(COMPARE_SCREEN)
    if not app.is_screen_installed(COMPARE_SCREEN):
        app.install_screen(CompareScreen(host, preview_mode), COMPARE_SCREEN)
    app.push_screen(COMPARE_SCREEN)
