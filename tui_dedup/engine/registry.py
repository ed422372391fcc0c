"""The one list of comparison methods: CLI choices, the TUI menu and the cache key read it.

Thresholds have one meaning everywhere: a similarity in [0, 1]. For hash methods similarity is
the fraction of equal bits, ``1 - distance / bits``, and matching uses the inclusive integer
distance ``distance <= max_distance`` so there is no floating-point edge. Presets are stated as
distances for a 64-bit hash and scaled for other sizes. They were chosen on the *tune* half of
the accuracy benchmark (benchmarks/accuracy/): "balanced" is the best F1 with precision ≥ 0.99,
"strict" the loosest setting with no false pair, "loose" trades some precision for recall.
Figures on the held-out half are in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

PRESETS = ("strict", "balanced", "loose")


@dataclass(frozen=True, slots=True)
class Method:
    name: str
    kind: str  # "hash" or "hist"
    title: str
    description: str
    # For hash methods: max distance out of 64 bits per preset; for histograms: similarity.
    presets: dict[str, float]

    def bits(self, hash_size: int) -> int:
        return hash_size * hash_size if self.kind == "hash" else 0

    def preset_distance(self, preset: str, hash_size: int) -> int:
        """Inclusive max distance for a preset at this hash size (64-bit values scaled)."""
        base = self.presets[preset]
        return math.floor(base * self.bits(hash_size) / 64 + 1e-9)

    def preset_similarity(self, preset: str, hash_size: int) -> float:
        if self.kind == "hash":
            return 1.0 - self.preset_distance(preset, hash_size) / self.bits(hash_size)
        return float(self.presets[preset])


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method(
            "phash",
            "hash",
            "perceptual (DCT) hash",
            "Low-frequency DCT signs: robust to resizing, recompression and colour changes. "
            "The default.",
            {"strict": 10, "balanced": 15, "loose": 17},
        ),
        Method(
            "dhash",
            "hash",
            "difference hash",
            "Signs of horizontal gradients: fast and good for resized copies; more false pairs.",
            {"strict": 4, "balanced": 6, "loose": 7},
        ),
        Method(
            "ahash",
            "hash",
            "average hash",
            "Pixels above the mean: the simplest; floods on similar compositions.",
            {"strict": 2, "balanced": 3, "loose": 4},
        ),
        Method(
            "hist3",
            "hist",
            "3-channel colour histogram",
            "Bhattacharyya similarity of BGR histograms: ignores geometry; a second opinion.",
            {"strict": 0.98, "balanced": 0.95, "loose": 0.93},
        ),
        Method(
            "hist1",
            "hist",
            "1-channel grey histogram",
            "Bhattacharyya similarity of grey-level histograms: survives colour casts.",
            {"strict": 0.99, "balanced": 0.97, "loose": 0.93},
        ),
    )
}

HASH_METHODS = tuple(n for n, m in METHODS.items() if m.kind == "hash")
HIST_METHODS = tuple(n for n, m in METHODS.items() if m.kind == "hist")
DEFAULT_METHOD = "phash"
DEFAULT_PRESET = "balanced"
DEFAULT_HASH_SIZE = 8


@dataclass(frozen=True, slots=True)
class Threshold:
    """A resolved threshold: for hash methods both the distance and its similarity."""

    similarity: float
    max_distance: int | None  # None for histogram methods


def resolve_threshold(
    method: str,
    hash_size: int = DEFAULT_HASH_SIZE,
    *,
    threshold: str | float | None = None,
    max_distance: int | None = None,
) -> Threshold:
    """Turn a preset name, a similarity or a bit distance into one Threshold.

    A similarity s maps to the largest distance d with 1 - d/bits >= s, so ``--threshold 0.875``
    on 64 bits is exactly ``--max-distance 8``.
    """
    m = METHODS[method]
    if max_distance is not None:
        if m.kind != "hash":
            raise ValueError(f"--max-distance applies to hash methods, not {method}")
        bits = m.bits(hash_size)
        if not 0 <= max_distance <= bits:
            raise ValueError(f"--max-distance must be between 0 and {bits}")
        return Threshold(1.0 - max_distance / bits, max_distance)
    if threshold is None:
        threshold = DEFAULT_PRESET
    if isinstance(threshold, str) and threshold in PRESETS:
        if m.kind == "hash":
            d = m.preset_distance(threshold, hash_size)
            return Threshold(1.0 - d / m.bits(hash_size), d)
        return Threshold(m.preset_similarity(threshold, hash_size), None)
    try:
        s = float(threshold)
    except (TypeError, ValueError):
        raise ValueError(
            f"threshold must be {', '.join(PRESETS)} or a number in [0, 1], not {threshold!r}"
        ) from None
    if not 0.0 <= s <= 1.0:
        raise ValueError(f"threshold must be within [0, 1], not {s}")
    if m.kind == "hash":
        bits = m.bits(hash_size)
        d = math.floor((1.0 - s) * bits + 1e-9)
        return Threshold(1.0 - d / bits, d)
    return Threshold(s, None)
