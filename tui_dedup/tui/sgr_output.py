"""Fewer bytes per picture cell: colour changes the terminal does not need are not sent.

Why: a half-block picture is one cell per two pixels, each cell its own foreground and
background colour, and Textual writes every cell as ``ESC[0m`` + a full colour sequence +
``▀`` even when the cell before had the same colours: ~26 bytes a cell, and a full-screen
picture at 160×50 was ~280 kB of escapes. Over SSH and through tmux that is most of a key's
latency (issue #16: 150–300 ms p95 for keys whose frame carries a picture).

The rewrite is exact, not lossy, and is two regular expressions (a frame of 280 kB takes a
few ms): where a colour-only style follows a reset, so that exactly it is in force, and the
next style again sets both colours and nothing else, the reset between them changes nothing
the next style does not set again, so it is left out (a cursor move may come between: it draws
nothing); and a style repeated with only text between is a no-op, so the repeat is left out.
Every other sequence passes unchanged. Each write is rewritten on its own.
"""

from __future__ import annotations

import re

_COLOUR = r"(?:5;\d{1,3}|2;\d{1,3};\d{1,3};\d{1,3})"
#: A style that sets a foreground and a background colour and nothing else (Textual writes a
#: picture cell's style so: ``38;5;94;48;5;173`` or ``38;2;r;g;b;48;2;r;g;b``).
_COLOURS = rf"38;{_COLOUR};48;{_COLOUR}"
_MOVE = r"\x1b\[\d+;\d+H"  # a cursor position: draws nothing, changes no style
#: A run of colour styles, each with its text and a reset, after a reset (so exactly the first
#: style is in force; a cursor move may come between): the resets inside the run are left out.
_RUN = re.compile(
    rf"(\x1b\[0m(?:{_MOVE})?)((?:\x1b\[{_COLOURS}m[^\x1b]*\x1b\[0m(?:{_MOVE})?(?=\x1b\[{_COLOURS}m))+)"
)
#: A colour style, then text and the same style again (once or more): the repeats go.
_REPEATED = re.compile(rf"\x1b\[({_COLOURS})m((?:[^\x1b]*\x1b\[\1m)+)")


def _drop_resets(m: re.Match[str]) -> str:
    return m.group(1) + m.group(2).replace("\x1b[0m", "")


def _drop_repeats(m: re.Match[str]) -> str:
    style = f"\x1b[{m.group(1)}m"
    return style + m.group(2).replace(style, "")


def compact_sgr(data: str) -> str:
    """``data`` with the redundant resets and repeated colour styles left out (module doc)."""
    if "\x1b[0m\x1b[" not in data:
        return data
    return _REPEATED.sub(_drop_repeats, _RUN.sub(_drop_resets, data))


class CompactSgrOutput:
    """A driver mixin: what the app writes goes through :func:`compact_sgr` first."""

    def write(self, data: str) -> None:
        super().write(compact_sgr(data))  # type: ignore[misc]
