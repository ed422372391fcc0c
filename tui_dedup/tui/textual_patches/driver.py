"""Patch ``driver``: a lone escape key arrives after ``ESCDELAY``, not ~100 ms later.

Upstream behaviour (Textual 8.2): ``LinuxDriver.run_input_thread`` reads the terminal in a
thread that waits in ``select()`` with a fixed 0.1 s timeout, and checks the parser's escape
timeout only when that wait ends. A lone ESC byte (the escape key, as opposed to the start of an
arrow key's ``ESC [ A``) therefore reaches the app after max(ESCDELAY, ~100 ms), whatever
``ESCDELAY`` says: lowering the delay alone changes nothing. Escape closes every dialog and the
palette and stops a scan; with this patch and the CLI's ESCDELAY of 25 ms, closing the palette
or the errors screen with escape through tmux stays well below the ~100 ms that Textual's loop
could not go under (benchmarks/RESULTS.md: the tmux rows of "ui load", and "Why the code is as
it is").

The fix: :class:`PromptEscapeLinuxDriver` waits in ``select()`` no longer than the parser's
pending timeout, so the key arrives when the parser gives up on a sequence. Everything else is
Textual's loop, copied unchanged. Off: the app runs on Textual's ``LinuxDriver``
(``tui_dedup.tui.driver`` chooses; the choice is made when the app is created).

Private names touched: ``LinuxDriver.run_input_thread`` (copied, one line changed),
``textual._loop.loop_last``, ``textual._parser.ParseError``, ``textual._time.get_time``,
``textual._xterm_parser.XTermParser`` and its ``_timeout_time``, ``Driver._debug``.

Checked against textual>=8.2.8,<8.3 (the copy is of 8.2.8's loop; the canary test compares
Textual's loop with the one copied here).
"""

from __future__ import annotations

import os
import selectors
from codecs import getincrementaldecoder

from textual._loop import loop_last
from textual._parser import ParseError
from textual._time import get_time
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver

PATCH = "driver"

IDLE_WAIT = 0.1  # seconds: Textual's own select() timeout when no escape sequence is pending


class PromptEscapeLinuxDriver(LinuxDriver):
    """``LinuxDriver`` whose input thread wakes up when a pending escape times out."""

    def run_input_thread(self) -> None:
        """Textual's input loop, with the ``select()`` timeout bounded by the parser's."""
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        fileno = self.fileno
        parser = XTermParser(self._debug)
        feed, tick = parser.feed, parser.tick
        decode = getincrementaldecoder("utf-8")().decode

        def process(selector_events: list, final: bool = False) -> None:
            for last, (_key, mask) in loop_last(selector_events):
                if mask & selectors.EVENT_READ:
                    data = decode(os.read(fileno, 1024 * 4), final=final and last)
                    if not data:
                        break  # stdin is a pipe that ended
                    for event in feed(data):
                        self.process_message(event)
            for event in tick():
                self.process_message(event)

        def wait() -> float:
            due = parser._timeout_time  # set while the parser waits for the rest of a sequence
            if due is None:
                return IDLE_WAIT
            return min(IDLE_WAIT, max(0.0, due - get_time()))

        try:
            while not self.exit_event.is_set():
                process(selector.select(wait()))
            selector.unregister(self.fileno)
            process(selector.select(IDLE_WAIT), final=True)
        finally:
            selector.close()
            try:
                for _event in feed(""):
                    pass
            except (EOFError, ParseError):
                pass
