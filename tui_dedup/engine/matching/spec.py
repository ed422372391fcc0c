"""MatchSpec: what a plan was matched with, recorded in the plan and checked when it is read.

Why its own module: the plan file (actions/) stores and validates it without needing the
re-check machinery (engine.recheck), and the TUI and CLI make it from what they hold. A spec is
checked where it is made: an edited plan file with an unknown method, a distance beyond the hash
size or a NaN similarity is refused with one line, before anything acts on it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from tui_dedup.engine.matching.pairs import MatchOptions
from tui_dedup.engine.registry import METHODS, Threshold

#: The CLI's valid --hash-size range (cli_options), the only sizes a plan can have been made at.
HASH_SIZE_RANGE = (4, 16)
#: A re-check never matches looser than this preset, whatever a plan file says.
CAP_PRESET = "loose"
_BOOLS = ("rotations", "local_edits", "crop_tolerant", "include_low_detail")


@dataclass(frozen=True, slots=True)
class MatchSpec:
    """What a plan was matched with: enough to re-run the match for a few of its files.

    ``max_distance``/``similarity`` are the resolved :class:`registry.Threshold` values: hash
    methods carry the distance (the similarity, if given, must agree with it), histogram
    methods the similarity only. Constructing an invalid spec raises ValueError with a one-line
    reason, so a spec read from an edited plan file is checked where it is made.
    """

    method: str
    max_distance: int | None
    similarity: float | None
    hash_size: int
    rotations: bool
    local_edits: bool
    crop_tolerant: bool
    include_low_detail: bool

    def __post_init__(self) -> None:
        _validate(self)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> MatchSpec:
        """The spec a plan file recorded; ValueError (one line) for anything else."""
        if not isinstance(d, Mapping):
            raise ValueError(f"match settings must be an object, not {type(d).__name__}")
        names = [f.name for f in fields(cls)]
        unknown = sorted(set(d) - set(names), key=str)
        if unknown:
            raise ValueError(f"unknown match setting {unknown[0]!r}")
        missing = [n for n in names if n not in d]
        if missing:
            raise ValueError(f"match setting {missing[0]!r} is missing")
        return cls(**{n: d[n] for n in names})

    @classmethod
    def of(
        cls, method: str, threshold: Threshold, hash_size: int, options: MatchOptions
    ) -> MatchSpec:
        """The spec of a match run with these arguments (what the TUI and CLI hold)."""
        return cls(
            method=method,
            max_distance=threshold.max_distance,
            similarity=float(threshold.similarity),
            hash_size=hash_size,
            rotations=options.rotations,
            local_edits=options.local_edits,
            crop_tolerant=options.crop_tolerant,
            include_low_detail=options.include_low_detail,
        )

    @classmethod
    def from_settings(cls, settings: Any) -> MatchSpec:
        """From a :class:`tui_dedup.review.settings.RunSettings` (duck-typed: engine/ does not
        import the review layer's settings)."""
        return cls.of(
            settings.method, settings.threshold(), settings.scan.hash_size, settings.match
        )

    @property
    def bits(self) -> int:
        return METHODS[self.method].bits(self.hash_size)

    def capped(self) -> tuple[Threshold, bool]:
        """The threshold a re-check uses: the stricter of the plan's and the ``loose`` preset;
        True when the cap made it stricter."""
        m = METHODS[self.method]
        if m.kind == "hash":
            assert self.max_distance is not None
            d = min(self.max_distance, m.preset_distance(CAP_PRESET, self.hash_size))
            return Threshold(1.0 - d / self.bits, d), d < self.max_distance
        assert self.similarity is not None
        s = max(self.similarity, m.preset_similarity(CAP_PRESET, self.hash_size))
        return Threshold(s, None), s > self.similarity

    def options(self) -> MatchOptions:
        return MatchOptions(
            rotations=self.rotations,
            include_low_detail=self.include_low_detail,
            crop_tolerant=self.crop_tolerant,
            local_edits=self.local_edits,
        )


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _validate(s: MatchSpec) -> None:
    if not isinstance(s.method, str) or s.method not in METHODS:
        raise ValueError(f"unknown method {s.method!r} (known: {', '.join(METHODS)})")
    lo, hi = HASH_SIZE_RANGE
    if not _is_int(s.hash_size) or not lo <= s.hash_size <= hi:
        raise ValueError(f"hash_size must be an integer from {lo} to {hi}, not {s.hash_size!r}")
    for name in _BOOLS:
        if not isinstance(getattr(s, name), bool):
            raise ValueError(f"{name} must be true or false, not {getattr(s, name)!r}")
    sim = s.similarity
    if sim is not None:
        if not isinstance(sim, int | float) or isinstance(sim, bool) or not math.isfinite(sim):
            raise ValueError(f"similarity must be a number from 0 to 1, not {sim!r}")
        if not 0.0 <= sim <= 1.0:
            raise ValueError(f"similarity must be from 0 to 1, not {sim!r}")
        object.__setattr__(s, "similarity", float(sim))
    if METHODS[s.method].kind == "hist":
        if s.max_distance is not None:
            raise ValueError(f"max_distance applies to hash methods, not {s.method}")
        if sim is None:
            raise ValueError(f"{s.method} needs a similarity")
        return
    bits = s.bits
    d = s.max_distance
    if not isinstance(d, int) or isinstance(d, bool) or not 0 <= d <= bits:
        raise ValueError(f"max_distance must be an integer from 0 to {bits}, not {d!r}")
    if sim is not None and abs(sim - (1.0 - d / bits)) > 1e-6:
        raise ValueError(f"similarity {sim} does not agree with max_distance {d} of {bits} bits")
