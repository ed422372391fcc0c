"""Which terminal driver the app runs on: Textual's, or one whose escape key is not late.

On Linux, Textual's driver delivers a lone escape key ~100 ms after it was pressed whatever
``ESCDELAY`` says (the CLI sets 25 ms); :mod:`tui_dedup.tui.textual_patches.driver` holds the
driver that fixes it, a copy of Textual's input loop (switch: ``DEDUP_TUI_NO_PATCH=driver``).
Every other platform, and Linux with the patch off, gets Textual's own choice. Whatever the
choice, it leaves out colour changes the terminal does not need (:mod:`tui_dedup.tui.sgr_output`:
a picture's frame shrinks by about a third), and under ``LANG=C`` it writes ASCII glyphs
(:mod:`tui_dedup.tui.ascii_output`).
"""

from __future__ import annotations

from textual.driver import Driver

from tui_dedup.tui.ascii_output import AsciiOutput
from tui_dedup.tui.sgr_output import CompactSgrOutput
from tui_dedup.tui.textual_patches import enabled
from tui_dedup.tui.widgets.glyphs import ascii_only

_LINUX = ("textual.drivers.linux_driver", "LinuxDriver")


def driver_class(textual_choice: type[Driver]) -> type[Driver]:
    """The driver to run on, given the one Textual picked (``App.get_driver_class``); under
    ``LANG=C`` it writes ASCII glyphs (:mod:`tui_dedup.tui.ascii_output`)."""
    chosen = textual_choice
    if (textual_choice.__module__, textual_choice.__name__) == _LINUX and enabled("driver"):
        # imported here: the module imports Textual's Linux driver, which needs termios
        from tui_dedup.tui.textual_patches.driver import PromptEscapeLinuxDriver

        chosen = PromptEscapeLinuxDriver
    chosen = type(f"Compact{chosen.__name__}", (CompactSgrOutput, chosen), {})
    if ascii_only():
        return type(f"Ascii{chosen.__name__}", (AsciiOutput, chosen), {})
    return chosen
