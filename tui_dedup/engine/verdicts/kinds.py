"""What a pair is, in words a person reads: the verdict kinds and the evidence behind them.

Why kinds and not one score: "100.0 %" said the same for a byte copy, a recompression and two
bank statements with the same layout and different numbers. A person deciding what to delete
needs to know which of those it is; auto-select may act only on copies. The codes are stored
in int8 columns beside the pairs (``Pairs.kind``) and their order is part of the remembered
verdicts' format: append, never renumber.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from tui_dedup.engine.model import Pairs


class Kind(IntEnum):
    EXACT = 0  # the same bytes
    SAME_PIXELS = 1  # the same picture element for element; only the metadata differs
    REENCODED = 2  # resized, recompressed or converted
    ROTATED = 3
    MIRRORED = 4
    EDITED = 5  # a local change (a caption, a logo), the rest the same
    CROPPED = 6  # part of the other, at a kept fraction
    SIMILAR = 7  # the same scene, another capture (a burst frame, a stereo half): not a copy
    UNCONFIRMED = 8  # a candidate the verdict stage has not looked at (yet)
    DIFFERENT = 9  # the candidate was two different pictures: never shown as a pair
    #: A RAW and the JPEG (or HEIC) the camera wrote beside it: one shot in two formats, not a
    #: duplicate (engine/verdicts/twins.py). Listed only when asked for (``--kinds``).
    TWIN = 10


WORDS: dict[Kind, str] = {
    Kind.EXACT: "exact",
    Kind.SAME_PIXELS: "same pixels",
    Kind.REENCODED: "re-encoded",
    Kind.ROTATED: "rotated",
    Kind.MIRRORED: "mirrored",
    Kind.EDITED: "edited",
    Kind.CROPPED: "cropped",
    Kind.SIMILAR: "similar shot",
    Kind.UNCONFIRMED: "unconfirmed",
    Kind.DIFFERENT: "different",
    Kind.TWIN: "format twin",
}
BY_WORD: dict[str, Kind] = {w: k for k, w in WORDS.items()}
#: Words as a person may type them: "re-encoded", "reencoded", "similar-shot", "similar".
_LOOSE: dict[str, Kind] = {
    **{w.replace("-", " "): k for w, k in BY_WORD.items()},
    "reencoded": Kind.REENCODED,
    "similar": Kind.SIMILAR,
    "twin": Kind.TWIN,
    "twins": Kind.TWIN,
}

#: Kinds that are copies of one picture: the only pairs groups, keepers and auto-select use.
COPIES: frozenset[Kind] = frozenset(
    {
        Kind.EXACT,
        Kind.SAME_PIXELS,
        Kind.REENCODED,
        Kind.ROTATED,
        Kind.MIRRORED,
        Kind.EDITED,
        Kind.CROPPED,
    }
)
#: What may stay for a file a person removes: a copy of it, or its format twin (the same shot
#: in another format: the RAW stays when its JPEG goes). Auto-select uses copies only.
KEEPS_THE_SHOT: frozenset[Kind] = COPIES | {Kind.TWIN}
#: What ``--kinds`` offers (DIFFERENT pairs are dropped, never listed).
SELECTABLE: tuple[str, ...] = tuple(WORDS[k] for k in Kind if k is not Kind.DIFFERENT)
#: The default ``pairs`` list: copies, and candidates still waiting for their verdict.
SHOWN_BY_DEFAULT: frozenset[Kind] = COPIES | {Kind.UNCONFIRMED}


def copy_mask(kind: np.ndarray) -> np.ndarray:
    """True where the pair is a confirmed copy."""
    return np.isin(kind, np.array(sorted(COPIES), np.int8))


def mask_of(kind: np.ndarray, kinds: frozenset[Kind]) -> np.ndarray:
    return np.isin(kind, np.array(sorted(kinds), np.int8))


def parse_kinds(text: str) -> frozenset[Kind]:
    """``--kinds`` value: words separated by commas ("re-encoded,similar shot"), or the groups
    ``copies`` / ``all``; raises ValueError naming what is offered."""
    out: set[Kind] = set()
    for raw in text.split(","):
        word = raw.strip().lower().replace("_", " ").replace("-", " ")
        if not word:
            continue
        if word == "copies":
            out |= COPIES
        elif word == "all":
            out |= {k for k in Kind if k is not Kind.DIFFERENT}
        elif word in _LOOSE and _LOOSE[word] is not Kind.DIFFERENT:
            out.add(_LOOSE[word])
        else:
            offered = ", ".join(("copies", "all", *SELECTABLE))
            raise ValueError(f"unknown kind {raw.strip()!r}; choose from {offered}")
    if not out:
        raise ValueError("no kind given")
    return frozenset(out)


def copies_only(pairs: Pairs) -> Pairs:
    """The confirmed copies: the only pairs groups, keepers, auto-select and plans are made of
    (candidates without a verdict, as from an old remembered result, are kept as they are)."""
    if pairs.kind is None:
        return pairs
    return pairs.take(np.flatnonzero(copy_mask(pairs.kind)))
