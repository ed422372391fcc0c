"""The command palette behind ctrl+p: built once and reused, quiet while open.

Textual composes a new palette on every ctrl+p, shows a frame without its search box first and
animates its hidden busy indicator all the while; the palette that avoids all three touches
Textual's private palette internals, so it lives in
:mod:`tui_dedup.tui.textual_patches.palette` (switch: ``DEDUP_TUI_NO_PATCH=palette``). With the
patch off, ctrl+p opens Textual's own palette.
"""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.command import CommandPalette

from tui_dedup.tui.textual_patches import enabled
from tui_dedup.tui.textual_patches.palette import QuietCommandPalette

PALETTE_SCREEN = "command-palette"  # the installed-screen name of the one palette


def open_palette(app: App[Any]) -> None:
    """What ctrl+p does: the app's one palette, pushed; Textual's fresh one when patched off."""
    if not enabled("palette"):
        App.action_command_palette(app)
        return
    if not app.use_command_palette or CommandPalette.is_open(app):
        return
    if not app.is_screen_installed(PALETTE_SCREEN):  # built on first use, then kept
        app.install_screen(QuietCommandPalette(id="--command-palette"), PALETTE_SCREEN)
    palette = app.get_screen(PALETTE_SCREEN)
    assert isinstance(palette, QuietCommandPalette)
    palette.hold_frames(app)
    app.push_screen(palette)
