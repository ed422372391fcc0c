"""Whether the terminal can show Unicode glyphs, asked by every widget that draws one.

Plain Python (no Textual), so the Textual-free table model and its cell formatting can use it.
"""

from __future__ import annotations

import os

_C_LOCALES = ("", "C", "POSIX")


def ascii_only() -> bool:
    """True when the locale cannot show Unicode (LANG=C and friends): use ASCII glyphs.

    Python coerces a C locale to UTF-8 at start-up (PEP 538) and writes ``LC_CTYPE=C.UTF-8``
    into the environment; that says nothing about the terminal, so with no LC_ALL and a C or
    unset LANG it counts as the C locale the user actually has.
    """
    env = os.environ
    lc_all, lc_ctype, lang = env.get("LC_ALL"), env.get("LC_CTYPE"), env.get("LANG", "")
    if not lc_all and lc_ctype == "C.UTF-8" and lang in _C_LOCALES:
        return True
    for value in (lc_all, lc_ctype, lang):
        if value:
            return "UTF8" not in value.upper().replace("-", "")
    return False
