"""Which terminal driver the app runs on: Textual's, or one whose escape key is not late.

On Linux, Textual's driver delivers a lone escape key ~100 ms after it was pressed whatever
``ESCDELAY`` says (the CLI sets 25 ms); :mod:`tui_dedup.tui.textual_patches.driver` holds the
driver that fixes it, a copy of Textual's input loop (switch: ``DEDUP_TUI_NO_PATCH=driver``).
Every other platform, and Linux with the patch off, gets Textual's own choice.
"""

from __future__ import annotations

from textual.driver import Driver

from tui_dedup.tui.textual_patches import enabled

_LINUX = ("textual.drivers.linux_driver", "LinuxDriver")


def driver_class(textual_choice: type[Driver]) -> type[Driver]:
    """The driver to run on, given the one Textual picked (``App.get_driver_class``)."""
    if (textual_choice.__module__, textual_choice.__name__) == _LINUX and enabled("driver"):
        # imported here: the module imports Textual's Linux driver, which needs termios
        from tui_dedup.tui.textual_patches.driver import PromptEscapeLinuxDriver

        return PromptEscapeLinuxDriver
    return textual_choice
