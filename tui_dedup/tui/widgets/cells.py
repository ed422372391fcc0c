"""Text of one table cell: widths in terminal cells, cutting to fit, sizes, dates, odd names.

Pure functions (plain Python, no Textual), shared by the pair table model, the group view, the
preview, the details screen and the status line.

Glyphs: under a locale that cannot show Unicode (LANG=C, see
:func:`~tui_dedup.tui.widgets.glyphs.ascii_only`) the mark, the ellipsis, the ``×`` of a
resolution and the sort arrows have one-cell ASCII stand-ins, so widths and cuts do not change.
"""

from __future__ import annotations

import math
import unicodedata
from datetime import datetime
from typing import Literal

from tui_dedup.tui.widgets.glyphs import ascii_only

Align = Literal["left", "right"]

MARK_GLYPH = "✓"
ELLIPSIS = "…"
# One-cell ASCII stand-ins ("~" cuts a name the way Midnight Commander does under LANG=C).
ASCII_MARK_GLYPH = "*"
ASCII_ELLIPSIS = "~"


def mark_glyph() -> str:
    """The sign of a marked file: ``✓``, or ``*`` when the terminal is ASCII only."""
    return ASCII_MARK_GLYPH if ascii_only() else MARK_GLYPH


def ellipsis() -> str:
    """What ends a cut text: ``…``, or ``~`` when the terminal is ASCII only (one cell each)."""
    return ASCII_ELLIPSIS if ascii_only() else ELLIPSIS


def sort_arrow(reverse: bool) -> str:
    """The suffix of a sorted column's title: `` ▼`` descending, `` ▲`` ascending (``v``/``^``)."""
    if ascii_only():
        return " v" if reverse else " ^"
    return " ▼" if reverse else " ▲"


def _char_width(ch: str) -> int:
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def cell_width(text: str) -> int:
    """Terminal cells ``text`` takes (wide East Asian characters count two)."""
    if text.isascii():
        return len(text)
    return sum(_char_width(ch) for ch in text)


def _take_cells(text: str, cells: int, from_end: bool = False) -> str:
    """The longest head (or tail) of ``text`` that fits in ``cells``."""
    if text.isascii():
        if cells <= 0:
            return ""
        return text[-cells:] if from_end else text[:cells]
    chars = reversed(text) if from_end else iter(text)
    out: list[str] = []
    used = 0
    for ch in chars:
        w = _char_width(ch)
        if used + w > cells:
            break
        out.append(ch)
        used += w
    return "".join(reversed(out)) if from_end else "".join(out)


def printable(text: str) -> str:
    """Make a file name safe to draw: undecodable bytes as U+FFFD, control characters as ``?``.

    Paths are ``os.fsdecode`` strings and may hold lone surrogates or even a newline; either
    would corrupt the terminal if written as is.
    """
    if text.isascii() and text.isprintable():
        return text
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def fit(text: str, width: int, align: Align = "left") -> str:
    """Pad or cut ``text`` to exactly ``width`` cells; a cut ends in ``…``."""
    w = cell_width(text)
    if w > width:
        text = _take_cells(text, width - 1) + ellipsis() if width > 0 else ""
        w = cell_width(text)
    pad = " " * (width - w)
    return pad + text if align == "right" else text + pad


def shorten_middle(text: str, width: int) -> str:
    """Cut the middle of ``text`` to fit ``width`` cells, keeping the file name at the end.

    The tail gets two thirds of the room, since the name tells files apart more often than the
    top folders do. The result is exactly ``width`` cells (padded on the right).
    """
    w = cell_width(text)
    if w <= width:
        return text + " " * (width - w)
    if width <= 1:
        return ellipsis()[:width]
    room = width - 1
    head = room // 3
    tail = room - head
    out = _take_cells(text, head) + ellipsis() + _take_cells(text, tail, from_end=True)
    return out + " " * (width - cell_width(out))


def human_size(n: int) -> str:
    """``3.2 MB`` style, decimal units (as file managers on Linux show them), at most 7 cells."""
    if n < 1000:
        return f"{n} B"
    value = float(n)
    for unit in ("kB", "MB", "GB", "TB", "PB"):
        value /= 1000.0
        if value < 999.5 or unit == "PB":
            return f"{value:.1f} {unit}" if value < 99.95 else f"{value:.0f} {unit}"
    raise AssertionError("unreachable")


def format_similarity(s: float) -> str:
    return f"{s * 100:.1f}%"


def format_resolution(w: int, h: int) -> str:
    """``1920×1080`` (``1920x1080`` when the terminal is ASCII only); empty when unknown."""
    if w <= 0 or h <= 0:
        return ""
    return f"{w}{'x' if ascii_only() else '×'}{h}"


def format_date(mtime: float) -> str:
    """Local calendar date of a POSIX time; empty when unknown (0 or NaN)."""
    if not mtime or math.isnan(mtime):
        return ""
    try:
        return datetime.fromtimestamp(mtime).strftime("%Y-%m-%d")
    except (OverflowError, OSError, ValueError):
        return ""
