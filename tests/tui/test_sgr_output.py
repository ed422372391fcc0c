"""The picture frames' byte diet (tui/sgr_output.py) draws exactly what Textual's output draws.

Checked with a small terminal model: every character drawn, where and in which style, and the
style left in force at the end, must be the same before and after the rewrite, on generated
streams that mix picture cells, text with attributes, resets, cursor moves and erases — and
the rewrite must shrink a picture row."""

from __future__ import annotations

import random
import re

from tui_dedup.tui.sgr_output import compact_sgr

_SEQ = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z])")


def draw(stream: str) -> tuple[list[tuple[int, int, str, tuple]], tuple]:
    """(cells drawn as (row, col, char, style), final style) for a stream of text, SGR, CUP and
    erase sequences. A style is (fg, bg, frozenset of attributes)."""
    fg: str | None = None
    bg: str | None = None
    attrs: set[str] = set()
    row = col = 0
    cells = []
    pos = 0
    for m in _SEQ.finditer(stream):
        for ch in stream[pos : m.start()]:
            cells.append((row, col, ch, (fg, bg, frozenset(attrs))))
            col += 1
        pos = m.end()
        params, final = m.group(1), m.group(2)
        if final == "H":
            r, c = params.split(";")
            row, col = int(r), int(c)
        elif final == "K":
            cells.append((row, col, "<erase>", (fg, bg, frozenset(attrs))))
        elif final == "m":
            parts = params.split(";") if params else ["0"]
            k = 0
            while k < len(parts):
                p = parts[k]
                if p == "0":
                    fg = bg = None
                    attrs.clear()
                elif p in ("38", "48"):
                    width = 3 if parts[k + 1] == "5" else 5
                    value = ";".join(parts[k : k + width])
                    if p == "38":
                        fg = value
                    else:
                        bg = value
                    k += width - 1
                elif p == "39":
                    fg = None
                elif p == "49":
                    bg = None
                else:
                    attrs.add(p)
                k += 1
    for ch in stream[pos:]:
        cells.append((row, col, ch, (fg, bg, frozenset(attrs))))
        col += 1
    return cells, (fg, bg, frozenset(attrs))


def _colour(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"5;{rng.choice([17, 94, 173, 173, 58])}"
    return f"2;{rng.choice([0, 10, 255])};{rng.randint(0, 3)};{rng.choice([7, 200])}"


def _stream(rng: random.Random) -> str:
    out = []
    for _ in range(rng.randint(1, 60)):
        r = rng.random()
        if r < 0.5:  # a picture cell, as Textual writes it
            out.append(f"\x1b[38;{_colour(rng)};48;{_colour(rng)}m▀\x1b[0m")
        elif r < 0.6:
            out.append(f"\x1b[{rng.randint(1, 50)};{rng.randint(1, 160)}H")
        elif r < 0.7:  # text with an attribute, or with one colour only
            style = rng.choice(["1;38;5;214;48;5;17", "38;5;253", "48;5;17", "7", "1"])
            out.append(f"\x1b[{style}m{rng.choice(['q', ' Quit', 'ab'])}\x1b[0m")
        elif r < 0.75:
            out.append("\x1b[K")
        elif r < 0.8:
            out.append("\x1b[0m")
        elif r < 0.9:  # a style without its reset after it
            out.append(f"\x1b[38;{_colour(rng)};48;{_colour(rng)}mx")
        else:
            out.append(rng.choice(["plain", "\x1b[1m", "\x1b[38;5;1m", "▀▀"]))
    return "".join(out)


def test_the_rewrite_draws_the_same_cells_in_the_same_styles() -> None:
    rng = random.Random(7)
    for _ in range(3000):
        s = _stream(rng)
        assert draw(compact_sgr(s)) == draw(s), repr(s)


def test_a_picture_row_shrinks_by_a_fifth_or_more() -> None:
    rng = random.Random(1)
    palette = [f"38;5;{a};48;5;{b}" for a in (94, 173, 58) for b in (173, 94)]
    row = "\x1b[11;2H" + "".join(f"\x1b[{rng.choice(palette)}m▀\x1b[0m" for _ in range(150))
    out = compact_sgr(row)
    assert draw(out) == draw(row)
    assert len(out.encode()) <= 0.8 * len(row.encode())  # a real picture: ~0.7


def test_text_without_colour_runs_passes_unchanged() -> None:
    s = "\x1b[1;38;5;214;48;5;17mq\x1b[0m\x1b[38;5;253;48;5;17m Quit\x1b[0m\x1b[50;65H"
    assert compact_sgr(s) == s
