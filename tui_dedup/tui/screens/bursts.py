"""The burst view: the frames of one burst side by side, ranked, and one key to keep the best.

Why a screen of its own: burst frames are not copies, so the review's table of pairs and its
auto-mark never touch them; what a photographer wants is to look at the frames of a burst
together, see which is sharpest and best exposed (measured, shown as numbers), keep that one
(or the ones picked) and move the rest. Bursts come from the review's own session
(:meth:`ReviewSession.bursts`: the similar shots of this review, ranked in a worker thread);
moving goes through the review's file batches (plan in a thread, a confirmation that says the
frames have no copy, apply, ``u`` undoes) with a culling plan (review/culling.py), whose apply
derives each burst again before it moves a frame.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Protocol

from PIL import Image as PILImage
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import get_current_worker

from tui_dedup.engine.bursts.rank import RankedBurst, RankedFrame
from tui_dedup.engine.files.thumbs import load_thumbnail
from tui_dedup.engine.model import ScanError
from tui_dedup.review.bursts import Bursts
from tui_dedup.review.culling import kept_frames
from tui_dedup.review.session import ReviewSession
from tui_dedup.tui.screen_refresh import NoRepaintLoop
from tui_dedup.tui.screens.help import open_help
from tui_dedup.tui.screens.review_files import FileBatches
from tui_dedup.tui.widgets.footer import QuietFooter
from tui_dedup.tui.widgets.picture_frame import PictureFrame
from tui_dedup.tui.widgets.preview_modes import resolve_mode, thumb_side

#: The narrowest frame card: a picture you can judge, and its four lines.
CARD_WIDTH = 26


class BurstHost(Protocol):
    """What the burst view needs from the review: its session, its file batches, its undo."""

    @property
    def session(self) -> ReviewSession: ...

    @property
    def files(self) -> FileBatches: ...

    def action_undo(self) -> None: ...


class BurstsFound(Message):
    """From the worker: the ranked bursts, or why there are none."""

    def __init__(self, token: int, found: Bursts | str) -> None:
        super().__init__()
        self.token = token
        self.found = found


class FramesLoaded(Message):
    """From the worker: pictures (or one-line reasons) of frames, by store row."""

    def __init__(self, token: int, pictures: dict[int, PILImage.Image | str]) -> None:
        super().__init__()
        self.token = token
        self.pictures = pictures


def exposure_words(f: RankedFrame) -> str:
    """``+0.3 EV, 2% clipped`` — the exposure numbers the ranking used."""
    e = f.exposure
    if e is None:
        return "exposure ?"
    words = [f"{e.level:+.1f} EV"]
    if e.clipped >= 0.005:
        words.append(f"{e.clipped:.0%} clipped")
    if e.crushed >= 0.005:
        words.append(f"{e.crushed:.0%} crushed")
    return ", ".join(words)


def frame_lines(session: ReviewSession, f: RankedFrame, best: bool, kept: bool) -> str:
    """The four lines under a frame: rank and fate, the measurements, time, name."""
    rank = "unread" if f.rank is None else f"#{f.rank}" + (" best" if best else "")
    fate = "KEEP" if kept else "move"
    sharp = "sharp ?" if f.sharpness is None else f"sharp {f.sharpness:.0%}"
    meta = session.store.metas[f.row]
    when = "" if meta.taken is None else datetime.fromtimestamp(meta.taken).strftime("%H:%M:%S")
    if when and meta.subsec_ms is not None:
        when += f".{meta.subsec_ms:03d}"
    name = session.paths[f.row].rsplit("/", 1)[-1]
    return f"{rank} · {fate}\n{sharp} · {exposure_words(f)}\n{when}\n{name}"


class FrameCard(Vertical):
    """One frame: its picture over its four lines; ``-focused`` and ``-kept`` style it."""

    DEFAULT_CSS = """
    FrameCard {
        width: 1fr;
        min-width: 20;
        height: 1fr;
        border: round $panel-lighten-2;
        padding: 0 1;
    }
    FrameCard.-focused {
        border: round $accent;
    }
    FrameCard.-kept {
        border-title-color: $success;
    }
    FrameCard > .frame-lines {
        height: 4;
    }
    """

    def __init__(self, image_cls: type[Widget] | None) -> None:
        super().__init__()
        self.frame = PictureFrame(classes="burst-picture")
        self.lines = Static("", classes="frame-lines", markup=False)
        self.row: int | None = None
        self._image_cls = image_cls

    def compose(self) -> ComposeResult:
        yield self.frame
        yield self.lines

    def on_mount(self) -> None:
        self.frame.set_renderer(self._image_cls)


class BurstScreen(NoRepaintLoop, Screen[None]):
    """Bursts one at a time: frames side by side in time order, the kept ones marked KEEP."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left,h", "focus_frame(-1)", "Frame to the left", show=False, id="bursts.left"),
        Binding("right,l", "focus_frame(1)", "Frame to the right", show=False, id="bursts.right"),
        Binding("space", "toggle_keep", "Keep", tooltip="Keep / move the frame", id="bursts.keep"),
        Binding("j,n", "burst(1)", "Next burst", id="bursts.next"),
        Binding("k,N", "burst(-1)", "Previous burst", show=False, id="bursts.previous"),
        Binding(
            "b",
            "best_only",
            "Best only",
            tooltip="Keep only the best frame of this burst again",
            show=False,
            id="bursts.best",
        ),
        Binding(
            "m",
            "cull('move', False)",
            "Move rest",
            tooltip="Move the frames of this burst not kept (asks first; u undoes)",
            id="bursts.move",
        ),
        Binding(
            "M",
            "cull('move', True)",
            "Move the frames not kept of every burst (asks first; u undoes)",
            show=False,
            id="bursts.move_all",
        ),
        Binding(
            "t",
            "cull('trash', False)",
            "Trash the frames of this burst not kept (asks first)",
            show=False,
            id="bursts.trash",
        ),
        Binding("u", "undo", "Undo", tooltip="Undo the last file batch", id="bursts.undo"),
        Binding("question_mark", "help", "Help", id="bursts.help"),
        Binding("escape,q", "close", "Back", tooltip="Back to the pairs", id="bursts.close"),
    ]

    DEFAULT_CSS = """
    BurstScreen #burst-title {
        height: 1;
        padding: 0 1;
        background: $panel;
    }
    BurstScreen #burst-frames {
        height: 1fr;
        layout: grid;
        grid-size: 1 1;
    }
    BurstScreen #burst-status {
        height: 1;
        padding: 0 1;
        color: $text-muted;
    }
    """

    def __init__(self, host: BurstHost, preview_mode: str = "auto") -> None:
        super().__init__()
        self.host = host
        self.mode, self._image_cls = resolve_mode(preview_mode)
        self.found: Bursts | None = None
        self.index = 0  # the burst shown
        self.focus_at = 0  # the focused frame, in time order
        self.keep: dict[int, set[int]] = {}  # burst index → rows kept (default: the best)
        self.pictures: dict[int, PILImage.Image | str] = {}
        self._token = 0
        self._cards: list[FrameCard] = []

    def compose(self) -> ComposeResult:
        yield Static("finding bursts...", id="burst-title")
        yield Horizontal(id="burst-frames")
        yield Static("", id="burst-status")
        yield QuietFooter(compact=True)

    def on_mount(self) -> None:
        self.refind()

    # -- finding and loading (worker threads) ----------------------------------------------------

    def refind(self) -> None:
        """Find and rank the bursts again (on opening, and after a batch or an undo)."""
        self._token += 1
        self._find(self._token)

    @work(thread=True, exclusive=True, group="bursts", exit_on_error=False)
    def _find(self, token: int) -> None:
        worker = get_current_worker()
        try:
            found: Bursts | str = self.host.session.bursts(should_stop=lambda: worker.is_cancelled)
        except Exception as exc:  # a one-line reason on the screen, the review goes on
            found = f"{type(exc).__name__}: {exc}"
        if not worker.is_cancelled:
            self.post_message(BurstsFound(token, found))

    def on_bursts_found(self, message: BurstsFound) -> None:
        if message.token != self._token:
            return
        if isinstance(message.found, str):
            self.query_one("#burst-title", Static).update(f"cannot find bursts: {message.found}")
            return
        self.found = message.found
        self.keep = {}
        self.pictures = {}
        self.index = min(self.index, max(len(self.found.bursts) - 1, 0))
        self.focus_at = 0
        self.show()

    @work(thread=True, exclusive=True, group="burst-pictures", exit_on_error=False)
    def _load(self, token: int, paths: dict[int, str], side: int) -> None:
        worker = get_current_worker()
        out: dict[int, PILImage.Image | str] = {}
        for row, path in paths.items():
            if worker.is_cancelled:
                return
            img = load_thumbnail(path, side)
            out[row] = (
                img.reason
                if isinstance(img, ScanError)
                else PILImage.fromarray(img[:, :, ::-1].copy())
            )
        self.post_message(FramesLoaded(token, out))

    def on_frames_loaded(self, message: FramesLoaded) -> None:
        if message.token != self._token:
            return
        self.pictures.update(message.pictures)
        self._put_pictures()

    # -- what is shown ---------------------------------------------------------------------------

    @property
    def burst(self) -> RankedBurst | None:
        if self.found is None or not self.found.bursts:
            return None
        return self.found.bursts[self.index]

    def kept(self, n: int | None = None) -> set[int]:
        n = self.index if n is None else n
        if self.found is None or not self.found.bursts:
            return set()
        if n not in self.keep:
            self.keep[n] = set(kept_frames(self.found.bursts[n]))
        return self.keep[n]

    def grid(self, n: int, aspect: float) -> tuple[int, int]:
        """(columns, rows) of cards for ``n`` frames: as many as fit (cards at least
        CARD_WIDTH wide, two rows from 40 lines up), laid out so that each picture of this
        width/height ``aspect`` is as large as it can be."""
        width, height = self.size.width or 80, self.size.height or 24
        max_cols = max(1, width // CARD_WIDTH)
        max_rows = 2 if height >= 40 else 1
        page = max(1, min(n, max_cols * max_rows))
        best, shape = -1.0, (min(page, max_cols), 1)
        for rows in range(1, max_rows + 1):
            cols = -(-page // rows)
            if cols > max_cols:
                continue
            w = width / cols - 4  # border and padding
            h = (height - 4) / rows - 6  # title, status, footer; border and four lines
            size = min(w, 2 * h * aspect)  # half-block cells: two pixels a row
            if size > best + 1e-9:
                best, shape = size, (cols, rows)
        return shape

    def show(self) -> None:
        """Title, cards, status for the burst shown (pictures follow from a worker)."""
        title = self.query_one("#burst-title", Static)
        burst = self.burst
        if burst is None:
            title.update("No bursts: no frames of one scene seconds apart from one camera here.")
            self._set_cards([])
            self.query_one("#burst-status", Static).update("")
            return
        assert self.found is not None
        session = self.host.session
        frames = burst.frames
        self.focus_at = min(self.focus_at, len(frames) - 1)
        first = session.store.metas[frames[0].row]
        kept = self.kept()
        title.update(
            Content(
                f"Burst {self.index + 1} of {len(self.found.bursts)} · {first.camera or '?'} · "
                f"{len(frames)} frames · keep {len(kept)}, move {len(frames) - len(kept)}"
            )
        )
        meta0 = session.store.metas[frames[0].row]
        cols, grid_rows = self.grid(len(frames), meta0.width / max(meta0.height, 1))
        page = cols * grid_rows
        start = (self.focus_at // page) * page
        shown = frames[start : start + page]
        box = self.query_one("#burst-frames", Horizontal)
        box.styles.grid_size_columns = cols
        box.styles.grid_size_rows = grid_rows
        self._set_cards(shown)
        best = burst.best.row if burst.best is not None else None
        for card, f in zip(self._cards[: len(shown)], shown, strict=True):
            card.row = f.row
            card.lines.update(Content(frame_lines(session, f, f.row == best, f.row in kept)))
            card.set_class(f is frames[self.focus_at], "-focused")
            card.set_class(f.row in kept, "-kept")
            card.border_title = "KEEP" if f.row in kept else None
        more = f" · frames {start + 1}-{start + len(shown)} of {len(frames)} (←/→)"
        self.query_one("#burst-status", Static).update(
            Content(
                "Frames have no copy; u undoes a move."
                + (more if len(frames) > page else " ←/→ picks a frame.")
            )
        )
        self._put_pictures()
        missing = {f.row: session.store.entries[f.row].path for f in shown}
        missing = {r: p for r, p in missing.items() if r not in self.pictures}
        if missing and self._image_cls is not None:
            # a card's picture area: its share of the width less border and padding, the
            # height less title, status, footer, border and the four lines
            card_cols = max(self.size.width // cols - 4, 8)
            card_rows = max((self.size.height - 4) // grid_rows - 6, 4)
            self._load(self._token, missing, thumb_side(self.mode, card_cols, card_rows))

    def _set_cards(self, frames: list[RankedFrame]) -> None:
        box = self.query_one("#burst-frames", Horizontal)
        while len(self._cards) < len(frames):
            card = FrameCard(self._image_cls)
            self._cards.append(card)
            box.mount(card)
        for k, card in enumerate(self._cards):
            card.display = k < len(frames)

    def _put_pictures(self) -> None:
        for card in self._cards:
            if not card.display or card.row is None:
                continue
            pic = self.pictures.get(card.row)
            if self._image_cls is None:
                card.frame.placeholder("(pictures are off: --preview none)")
            elif pic is None:
                card.frame.placeholder("…")
            elif isinstance(pic, str):
                card.frame.placeholder(f"cannot show: {pic}")
            else:
                why = card.frame.put(pic)
                if why:
                    card.frame.placeholder(why)

    # -- keys ------------------------------------------------------------------------------------

    def action_focus_frame(self, delta: int) -> None:
        burst = self.burst
        if burst is not None:
            self.focus_at = max(0, min(len(burst.frames) - 1, self.focus_at + delta))
            self.show()

    def action_burst(self, delta: int) -> None:
        if self.found is not None and self.found.bursts:
            self.index = (self.index + delta) % len(self.found.bursts)
            self.focus_at = 0
            self.show()

    def action_toggle_keep(self) -> None:
        burst = self.burst
        if burst is None:
            return
        row = burst.frames[self.focus_at].row
        kept = self.kept()
        kept.symmetric_difference_update({row})
        self.show()

    def action_best_only(self) -> None:
        if self.burst is not None:
            self.keep.pop(self.index, None)
            self.show()

    def action_cull(self, action: str, every: bool) -> None:
        """Plan to move (or trash) the frames not kept, of this burst or of every burst; the
        review's file batches confirm it first."""
        found = self.found
        if found is None or not found.bursts:
            return
        if not every and not self.kept():
            self.notify("keep at least one frame (space): a burst is never emptied")
            return
        shown = range(len(found.bursts)) if every else (self.index,)
        keep = {n: set(self.kept(n)) for n in shown}
        session = self.host.session
        self.host.files.plan_with(lambda: session.cull_plan(found, keep, action))

    def action_undo(self) -> None:
        self.host.action_undo()

    def action_help(self) -> None:
        open_help(self.app, [("Bursts", type(self).BINDINGS), ("Everywhere", self.app.BINDINGS)])

    def action_close(self) -> None:
        self.dismiss()

    # -- what the review tells ---------------------------------------------------------------

    def files_changed(self) -> None:
        """A batch or an undo ran: the bursts are found again without the files it moved."""
        self.refind()


def open_bursts(app: Any, host: BurstHost, preview_mode: str) -> None:
    """Show the bursts of the review (found and ranked when the screen opens)."""
    app.push_screen(BurstScreen(host, preview_mode))
