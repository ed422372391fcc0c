"""Every use of Textual's private API, fenced: one module per work-around, each with an off switch.

Textual 8.2 does a few things that cost a user of this app time or terminal bytes (a covered
screen repainting in a loop, a palette that animates while hidden, a lone escape key waiting
100 ms, ...). The work-arounds need names Textual keeps private: a leading underscore, a
``textual._*`` module, a method copied from Textual and changed. Those names live in this package
and nowhere else in ``tui/``; the rest of the app reaches a patch through a public-looking class
or function, and each such call site asks :func:`enabled` first and falls back to Textual's own
behaviour (correct, maybe slower) when the patch is off.

Nothing here is a monkeypatch: no Textual class is changed in place. Each patch is a subclass, a
mixin or a function that the app uses instead of Textual's; switching one off (or upgrading
Textual) changes nothing outside the app.

Turn patches off with an environment variable, read here and only here::

    DEDUP_TUI_NO_PATCH=palette,driver dedup-tui ~/Pictures   # a comma list of names
    DEDUP_TUI_NO_PATCH=all dedup-tui ~/Pictures              # Textual as it comes

It is read when a patch is about to act, so a test can set it with ``monkeypatch.setenv``;
the driver is chosen when the app is created, the others at each use. Unknown names are
ignored (:func:`unknown_names` lists them).

Each module says which upstream behaviour it works around, which private names it touches and
the Textual versions it was checked against: :data:`CHECKED_AGAINST`, which is also the pin in
pyproject.toml. ``tests/tui/test_textual_patches.py`` has two tests per patch: a canary that
fails when a private name it touches changes, and one that fails when Textual (with the patch
off) no longer shows the problem, i.e. when the patch can go.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

#: The environment variable that turns patches off: a comma list of names, or ``all``.
ENV_VAR = "DEDUP_TUI_NO_PATCH"

#: The Textual versions every patch was checked against (pyproject.toml pins the same range).
CHECKED_AGAINST = "textual>=8.2.8,<8.3"


@dataclass(frozen=True)
class Patch:
    """One work-around: its switch name, the module that holds it, and what it fixes."""

    name: str
    module: str
    fixes: str


_HERE = __name__

#: The registry: switch name → patch. ``all`` in :data:`ENV_VAR` means every one of these.
PATCHES: dict[str, Patch] = {
    p.name: p
    for p in (
        Patch(
            "palette",
            f"{_HERE}.palette",
            "the command palette is built once, shown in one frame, and its hidden busy "
            "indicator does not animate",
        ),
        Patch(
            "repaint",
            f"{_HERE}.repaint",
            "a screen covered by a modal stops repainting itself in full in a loop",
        ),
        Patch(
            "driver",
            f"{_HERE}.driver",
            "a lone escape key arrives after ESCDELAY, not after Textual's 0.1 s select()",
        ),
        Patch(
            "delay_update",
            f"{_HERE}.delay_update",
            "the palette's closing frame is held until the chosen command has run, not 50 ms",
        ),
        Patch(
            "footer",
            f"{_HERE}.footer",
            "the footer is not rebuilt when the keys it shows did not change",
        ),
        Patch(
            "executor",
            f"{_HERE}.executor",
            "a finished thread worker does not keep its arguments (a whole scan result) alive",
        ),
    )
}


@lru_cache(maxsize=8)
def _switched_off(raw: str) -> frozenset[str]:
    names = {part.strip().lower() for part in raw.split(",") if part.strip()}
    if "all" in names:
        return frozenset(PATCHES)
    return frozenset(names)


def switched_off() -> frozenset[str]:
    """The names :data:`ENV_VAR` turns off now (unknown names included)."""
    return _switched_off(os.environ.get(ENV_VAR, ""))


def enabled(name: str) -> bool:
    """Is patch ``name`` on? Read at each call (cheap: one environment look-up, then a cache)."""
    if name not in PATCHES:
        raise KeyError(f"no Textual patch named {name!r}; known: {', '.join(PATCHES)}")
    return name not in switched_off()


def unknown_names() -> list[str]:
    """Names in :data:`ENV_VAR` that are no patch (a typo turns nothing off)."""
    return sorted(switched_off() - set(PATCHES))
