"""Patch ``delay_update``: the palette's closing frame is held until the command has run.

Upstream behaviour (Textual 8.2): when a command is chosen, ``CommandPalette`` calls
``App.delay_update()``, dismisses itself and queues the command (``call_later``).
``delay_update`` holds every frame back for a fixed 50 ms so that the screen under the palette
does not flash before the command's own screen appears, then repaints the whole screen: a second
full render, and 50 ms added to every command run from the palette, however fast the command.

The fix (:func:`delay_update_until_command_ran`, which ``DedupApp.delay_update`` calls): the hold
ends as soon as the command has run and the screen on top then (the command's new screen, or the
one under the palette) has handled what is queued for it; a newly pushed screen has composed and
laid out by then, and its first frame is the one shown. ``delay`` stays as the upper bound. Off:
Textual's ``App.delay_update``.

:func:`hold_frames` is the hold itself; the ``palette`` patch uses it too (no frame between
ctrl+p and the palette's first layout), so the batch counters are touched here only.

Private names touched: ``App._begin_batch``, ``App._end_batch``, ``App._batch_count``; and the
order in which ``CommandPalette._select_or_command`` calls ``delay_update``, ``dismiss`` and
``call_later(command)`` (the release is queued behind the command).

Checked against textual>=8.2.8,<8.3.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import App

PATCH = "delay_update"


def hold_frames(app: App[Any]) -> Callable[[], None]:
    """No frame reaches the terminal until the returned ``release`` is called.

    ``release`` may be called more than once (only the first counts); the last release of all
    the holds in effect repaints the screen, as ``App.delay_update`` does at its end.
    """
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

    return release


def delay_update_until_command_ran(app: App[Any], delay: float) -> None:
    """``App.delay_update``, ending when the palette's command has run (at most ``delay`` s)."""
    release = hold_frames(app)

    def after_command() -> None:
        # queued behind the command, which the palette queues right after this call
        app.screen.call_later(release)

    app.set_timer(delay, release, name="delay_update")
    app.call_later(app.call_later, after_command)
