"""Patch ``palette``: the command palette built once, shown in one frame, quiet while open.

Upstream behaviour (Textual 8.2), three habits that cost a lot over a slow link or during a scan:

- its busy indicator (a ``LoadingIndicator``, hidden until a search has run for half a second)
  animates 16 times a second (``auto_refresh``) from the moment the palette opens, hidden or
  not. Here the indicator animates only while it is shown.
- its first frame is the dimmed screen alone; the search box comes one frame later. Here no
  frame goes out between the key and the palette's first layout with its search box (held with
  :func:`~tui_dedup.tui.textual_patches.delay_update.hold_frames`, at most
  :data:`FIRST_FRAME_BOUND`).
- it is composed, styled and mounted anew on every ctrl+p. Here the app builds one, installs
  it, and resets it on every later opening (:meth:`QuietCommandPalette.reopen`, which re-does
  what Textual's ``CommandPalette._on_mount`` sets up).

With these and the ``repaint`` patch, opening the palette through tmux, and every key during a
scan, got markedly faster (before and after: benchmarks/RESULTS.md, "Keys through tmux" and
"Why the code is as it is"). Off: ctrl+p is Textual's own
``App.action_command_palette`` (``tui_dedup.tui.palette`` decides).

Private names touched: ``CommandPalette._watch__show_busy`` (overridden, calls Textual's),
``_cancel_gather_commands``, ``_stop_busy_countdown``, ``_stop_no_matches_countdown``,
``_gather_commands``, ``_provider_classes``, ``_calling_screen``, ``_providers``,
``_selected_command``, ``_hit_count``, ``_list_visible``, ``_show_busy``, ``Provider._post_init``;
that ``CommandPalette.compose`` yields a ``LoadingIndicator`` and ``LoadingIndicator._on_mount``
starts its animation; the ``--visible`` and ``-ready`` CSS classes of Textual's palette; the
batch counters through ``hold_frames``.

Checked against textual>=8.2.8,<8.3.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from textual.app import App
from textual.command import CommandInput, CommandList, CommandPalette
from textual.widget import Widget
from textual.widgets import Input, LoadingIndicator

from tui_dedup.tui.textual_patches.delay_update import hold_frames

PATCH = "palette"

BUSY_FPS = 16  # the indicator's own rate, kept while it is visible
FIRST_FRAME_BOUND = 0.25  # seconds: frames are held back no longer than this, whatever happens


class QuietLoadingIndicator(LoadingIndicator):
    """Animates only while visible (the palette toggles the ``--visible`` class)."""

    def on_mount(self) -> None:
        # Textual's own mount handler (which starts the animation) runs after this one, for the
        # same Mount event: the animation is set right once that is done
        self.call_next(self.sync_animation)

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

    def on_mount(self) -> None:
        # Textual's own mount handler (calling screen, providers, first search) runs after this
        # one, for the same Mount event
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

    def hold_frames(self, app: App[Any]) -> None:
        """Called just before the palette is pushed: no frame until it is laid out."""
        release = hold_frames(app)
        self._release_frames.append(release)
        app.set_timer(FIRST_FRAME_BOUND, release, name="palette first frame")

    def show_first_frame(self) -> None:
        for release in self._release_frames:
            release()
        self._release_frames.clear()
