"""Under ``LANG=C``, every glyph the app draws goes out as ASCII; the pictures stay.

Why at the output, not at each widget: the glyphs come from many places — our separators
(``·``), arrows and ellipses, the footer's and the palette's, borders and scrollbars — and a
widget that forgets one shows ``â€¦`` on a terminal without UTF-8. One table applied to what
the driver writes catches them all. Each glyph becomes ASCII of the same width (``─`` → ``-``,
``·`` → ``.``, ``…`` → ``~``, ``🔎`` → ``> ``), so no layout moves. The half-block ``▀`` of the
pictures is left alone: many servers have no locale while the terminal is UTF-8, and
``--preview none`` turns pictures off where it is not. Text that is the user's (file names)
passes unchanged: only the glyph ranges below are mapped.

Borders: a ``thick`` border's top is made of ``▀`` too, so the dialogs ask for ``ascii``
borders under ``LANG=C`` (the ``-ascii`` class on the app; see app.tcss).
"""

from __future__ import annotations

import unicodedata

#: The picture glyph (textual-image's half-cell renderer draws only this one).
PICTURE = "▀"

_SPECIFIC = {
    "·": ".",
    "•": "*",
    "…": "~",
    "←": "<",
    "→": ">",
    "↑": "^",
    "↓": "v",
    "⇅": "|",
    "↕": "|",
    "▲": "^",
    "▼": "v",
    "▶": ">",
    "◀": "<",
    "▸": ">",
    "◂": "<",
    "✗": "x",
    "✓": "v",
    "✔": "v",
    "×": "x",
    "≥": ">",
    "≤": "<",
    "—": "-",
    "–": "-",
    "‘": "'",
    "’": "'",
    "“": '"',
    "”": '"',
    "⏎": "<",
    "🔎": "> ",
    "∞": "~",
    "⭘": "o",  # the header's icon
}


def _box(ch: str) -> str:
    name = unicodedata.name(ch, "")
    horizontal, vertical = "HORIZONTAL" in name, "VERTICAL" in name
    if horizontal and not vertical:
        return "-"
    if vertical and not horizontal:
        return "|"
    return "+"


def _block(ch: str) -> str:
    name = unicodedata.name(ch, "")
    if "LEFT" in name or "RIGHT" in name:
        return "|"
    if "LOWER" in name:
        return "_"
    if "UPPER" in name:
        return "-"
    return "#"  # full block, shades, quadrants


def _table() -> dict[int, str]:
    table = {ord(k): v for k, v in _SPECIFIC.items()}
    table.update({cp: _box(chr(cp)) for cp in range(0x2500, 0x2580)})
    table.update({cp: _block(chr(cp)) for cp in range(0x2580, 0x25A0) if chr(cp) != PICTURE})
    return table


TABLE = _table()


def to_ascii(text: str) -> str:
    """``text`` with every mapped glyph replaced (escape sequences are ASCII: untouched)."""
    return text.translate(TABLE)


class AsciiOutput:
    """A driver mixin: what the app writes goes through :func:`to_ascii` first."""

    def write(self, data: str) -> None:
        super().write(to_ascii(data))  # type: ignore[misc]
