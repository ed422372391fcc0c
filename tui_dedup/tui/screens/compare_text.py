"""The words of the compare screen: its title line and what the one-picture views show.

Apart from the screen because they are plain functions of the pair and testable without a
terminal; the screen decides when to show them.
"""

from __future__ import annotations

import os

from tui_dedup.engine.matching.lineup import LinedUp
from tui_dedup.engine.verdicts.explain import describe
from tui_dedup.engine.verdicts.kinds import WORDS, Kind
from tui_dedup.review.session import ReviewSession
from tui_dedup.tui.widgets.cells import format_similarity, printable


def title_line(
    session: ReviewSession,
    pair: tuple[int, int, int],
    position: tuple[int, int],
    marked: tuple[bool, bool] = (False, False),
) -> str:
    """``3/120 · marked: B · re-encoded · 98.4% · 256-bit hash 4 bits apart, detail match
    0.97``: where the pair is, what marking did, and what the verdict stage found."""
    i, j, t = pair
    bits = [f"{position[0]}/{position[1]}"]
    if any(marked):
        bits.append("marked: " + ", ".join(s for s, m in zip("AB", marked, strict=True) if m))
    verdict = session.verdict_of(i, j)
    if verdict is not None:
        bits.append(WORDS[Kind(verdict[0])])
    similarity = session.similarity(i, j)
    if similarity is not None:
        bits.append(format_similarity(similarity).strip())
    if verdict is not None:
        said = describe(verdict[0], verdict[1], t)
        word = WORDS[Kind(verdict[0])]
        said = said.removeprefix(f"{word}: ").removeprefix(word).lstrip(": ")
        if said:
            bits.append(said)
    return " · ".join(bits)


def flip_label(
    view: str,
    flip_side: str,
    path: str,
    turned: str | None,
    lined: LinedUp | None,
    marked: bool,
    reason: str,
) -> str:
    """Two lines under the one picture: what it is, then the keys that change it."""
    name = printable(os.path.basename(path))
    mark = "  [MARKED]" if marked else ""
    if view == "diff":
        if reason:
            first = f"Difference: cannot compare ({reason})"
        elif lined is None:
            first = "Difference: lining B up on A…"
        elif not lined.aligned:
            first = "Difference: B could not be lined up on A (other shape, no common points)"
        else:
            first = f"Difference: red where A and B disagree ({lined.changed:.1%} of the picture)"
            if lined.placed:
                first += f"; B covers {lined.covered:.0%} of A, blue: only in A"
        return f"{first}\nf flip A/B · b side by side · x back · space mark · j/k next/previous"
    if flip_side == "a":
        first = f"A  {name}  (as the file is){mark}"
    else:
        how = f"as {turned}, " if turned else ""
        placed = "placed" if lined is not None and lined.placed else "scaled"
        first = f"B  {name}  ({how}{placed} onto A){mark}"
    return f"{first}\nf flip to {'B' if flip_side == 'a' else 'A'} · x difference · b side by side"
