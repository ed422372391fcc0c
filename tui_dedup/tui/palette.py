"""The command palette without its idle repaints, built once, shown in one frame.

Textual's palette (8.2) has three habits that cost a lot over a slow link or during a scan:

- its busy indicator (a ``LoadingIndicator``, hidden until a search runs for half a second)
  repaints 16 times a second from the moment the palette opens, hidden or not. The palette
  dims the screen under it, so each of those repaints rewrites the whole terminal: ~8 KB per
  frame at 120×36, ~130 KB/s for as long as the palette stays open, parsed by tmux and sent
  through SSH. Here the indicator animates only while it is shown.
- its first frame is the dimmed screen alone; the search box comes one frame later (~45 ms
  later on an idle machine, more under a scan). Here no frame goes out between the key and
  the palette's first layout with its search box, so the first frame shows the palette.
- it is composed, styled and mounted anew on every ctrl+p: ~40 ms of Python before the
  first frame. Here the app builds one, installs it, and resets it on every later opening
  (``reopen``): the box shows ~30 ms after the key instead of ~55–90 ms.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from textual.app import App
from textual.command import CommandInput, CommandList, CommandPalette
from textual.events import Mount
from textual.widget import Widget
from textual.widgets import Input, LoadingIndicator

BUSY_FPS = 16  # the indicator's own rate, kept while it is visible
FIRST_FRAME_BOUND = 0.25  # seconds: frames are held back no longer than this, whatever happens


class QuietLoadingIndicator(LoadingIndicator):
    """Animates only while visible (the palette toggles the ``--visible`` class)."""

    def _on_mount(self, event: Mount) -> None:
        super()._on_mount(event)
        self.sync_animation()

    def sync_animation(self) -> None:
        self.auto_refresh = 1 / BUSY_FPS if self.has_class("--visible") else None


class QuietCommandPalette(CommandPalette):
    """Textual's palette with :class:`QuietLoadingIndicator` and a one-frame opening."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._release_frames: list[Callable[[], None]] = []
        self._opened_before = False
        self._resumed_before = False

    def compose(self) -> Iterable[Widget]:
        # Textual's own layout, with the indicator swapped as it is yielded (the ``with``
        # blocks of the inner generator are open at that point, so it lands in place)
        for widget in super().compose():
            if type(widget) is LoadingIndicator:
                yield QuietLoadingIndicator()
            else:
                yield widget

    async def _watch__show_busy(self) -> None:
        await super()._watch__show_busy()
        self.query_one(QuietLoadingIndicator).sync_animation()

    def _on_mount(self, event: Mount) -> None:
        super()._on_mount(event)
        self._opened_before = True
        self.call_after_refresh(self.show_first_frame)

    def on_screen_resume(self) -> None:
        # the first opening is Textual's own (compose, mount); later ones reuse all of it
        if self._opened_before and self._resumed_before:
            self.reopen()
        self._resumed_before = True

    def reopen(self) -> None:
        """Reset to a fresh palette for the screen now under it, without composing again.

        What Textual's ``_on_mount`` sets up, done again: the calling screen, providers made
        for it, an empty search box with the focus, no hits, then the discovery search. The
        ``-ready`` class stays: taking it off hides the box, and a hidden box loses the focus.
        """
        self._cancel_gather_commands()
        self._stop_busy_countdown()
        self._stop_no_matches_countdown()
        self._calling_screen = self.app.screen_stack[-2]
        match_style = self.get_visual_style("command-palette--highlight", partial=True)
        self._providers = [cls(self._calling_screen, match_style) for cls in self._provider_classes]
        for provider in self._providers:
            provider._post_init()
        box = self.query_one(CommandInput)
        with self.prevent(Input.Changed):
            box.value = ""
        box.focus()
        self._selected_command = None
        self._hit_count = 0
        self.query_one(CommandList).clear_options()
        self._list_visible = False
        self._show_busy = False
        self._gather_commands("")
        self.call_after_refresh(self.show_first_frame)

    def hold_frames(self, app: App[object]) -> None:
        """Called by the app just before the palette is pushed: no frame until it is laid out."""
        app._begin_batch()
        released = False

        def release() -> None:
            nonlocal released
            if released:
                return
            released = True
            app._end_batch()
            if not app._batch_count:
                app.screen.refresh()

        self._release_frames.append(release)
        app.set_timer(FIRST_FRAME_BOUND, release, name="palette first frame")

    def show_first_frame(self) -> None:
        for release in self._release_frames:
            release()
        self._release_frames.clear()
