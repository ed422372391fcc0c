"""Under LANG=C our glyphs go out as ASCII of the same width; the pictures' half-blocks stay
(issue #16, item 7)."""

from __future__ import annotations

from textual.driver import Driver

from tui_dedup.tui.ascii_output import PICTURE, TABLE, AsciiOutput, to_ascii
from tui_dedup.tui.driver import driver_class
from tui_dedup.tui.widgets.cells import cell_width


def test_every_mapped_glyph_keeps_its_width() -> None:
    for cp, ascii_text in TABLE.items():
        assert ascii_text.isascii()
        assert cell_width(ascii_text) == cell_width(chr(cp)), hex(cp)


def test_our_separators_arrows_and_borders_become_ascii() -> None:
    line = "╭─ 12 pairs · 3 marked ─╮ │ ← → ↑ ↓ … ✗ ✓ × ≥ 🔎 ▏ █ ▄ ▔ ▁"
    out = to_ascii(line)
    assert out.isascii()
    assert cell_width(out) == cell_width(line)
    assert out.startswith("+- 12 pairs . 3 marked -+ | < > ^ v ~ x v x > > ")


def test_pictures_names_and_escape_sequences_pass_unchanged() -> None:
    picture = f"\x1b[38;2;10;20;30;48;2;40;50;60m{PICTURE}{PICTURE}\x1b[0m"
    assert to_ascii(picture) == picture
    assert to_ascii("Ferien/Müller – Zoo.jpg") == "Ferien/Müller - Zoo.jpg"  # é, ü stay
    assert to_ascii("写真/猫.jpg") == "写真/猫.jpg"


class _Recording(Driver):
    """A driver that only records what the app writes."""

    written: list[str]

    def __init__(self) -> None:  # no app, no terminal
        self.written = []

    def write(self, data: str) -> None:
        self.written.append(data)

    def start_application_mode(self) -> None: ...

    def stop_application_mode(self) -> None: ...

    def disable_input(self) -> None: ...


def test_under_lang_c_the_driver_writes_ascii(monkeypatch) -> None:
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.setenv("LC_CTYPE", "C.UTF-8")  # what Python's locale coercion leaves
    monkeypatch.setenv("LANG", "C")
    driver = driver_class(_Recording)()
    driver.write("a · b ─ c ▀")
    assert driver.written == ["a . b - c ▀"]


def test_with_a_utf8_locale_the_driver_writes_glyphs_as_they_are(monkeypatch) -> None:
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_CTYPE", raising=False)
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    chosen = driver_class(_Recording)
    assert issubclass(chosen, _Recording) and not issubclass(chosen, AsciiOutput)
