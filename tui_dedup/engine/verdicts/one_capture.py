"""A copy is a copy of one capture: where a file is called a copy of two different shots, only
the better-matched one stays a copy; the other pair becomes a similar shot.

Why: burst frames and the two halves of a stereo pair are different captures that EXIF (or
the pixel check) tells apart. A messenger copy of one frame carries no EXIF, though, and at a
messenger's size its neighbour frame can agree with it as well as a recompression does
(benchmarks/library: 4 such pairs among 149 at the defaults). Copies are transitive: if C were
a copy of both A and B, A and B would be copies of each other. When they are known to be two
shots, C belongs to the one it matches best, and a person deleting "copies" of C must not
lose the other frame.

Pair by pair nothing can tell these apart; across the pairs of one file it is plain. Runs on
the finished verdicts, after the per-pair ones are remembered (engine/cache/verdicts.py), so
the remembered verdicts stay those of the pair alone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import numpy as np

from tui_dedup.engine.model import Pairs
from tui_dedup.engine.verdicts.kinds import Kind, copy_mask


def strength(kind: np.ndarray, ev: np.ndarray) -> np.ndarray:
    """How closely each pair matches, comparable across kinds: the same bytes, then the same
    pixels, then the aligned fine-detail correlation where the pixel check ran, else the
    256-bit hash's agreement (a pair settled on the hash alone is within a few bits)."""
    fine = ev["fine"].astype(np.float64)
    by_hash = 1.0 - np.maximum(ev["pdq"], 0) / 256.0
    out = np.where(np.isnan(fine), by_hash, fine)
    out = np.where(kind == Kind.SAME_PIXELS, 2.0, out)
    return np.where(kind == Kind.EXACT, 3.0, out)


def demote_cross_shots(
    pairs: Pairs,
    kind: np.ndarray,
    ev: np.ndarray,
    capture: Callable[[int, int], int] | None,
) -> int:
    """Turn the weaker copy pairs of a file that is "a copy" of two different shots into
    similar shots (``kind`` in place). Two files are different shots when EXIF says so
    (``capture``): a pixel check's "similar shot" is no proof, since two crops of one picture
    reach past each other's edges as two frames do. Returns how many pairs changed."""
    copies = np.flatnonzero(copy_mask(kind))
    if copies.size < 2:
        return 0
    if capture is None:
        return 0
    known: dict[tuple[int, int], bool] = {}

    def two_shots(a: int, b: int) -> bool:
        key = (min(a, b), max(a, b))
        hit = known.get(key)
        if hit is None:
            hit = capture(a, b) < 0
            known[key] = hit
        return hit

    edges: dict[int, list[int]] = defaultdict(list)
    ends = zip(copies.tolist(), pairs.i[copies].tolist(), pairs.j[copies].tolist(), strict=True)
    for k, a, b in ends:
        edges[a].append(k)
        edges[b].append(k)
    power = strength(kind, ev)
    demoted: set[int] = set()
    for c, ks in edges.items():
        if len(ks) < 2:
            continue
        kept: list[int] = []  # partners of c that stay copies
        for k in sorted(ks, key=lambda k: -power[k]):
            if k in demoted:
                continue
            other = int(pairs.j[k] if pairs.i[k] == c else pairs.i[k])
            if any(two_shots(other, o) for o in kept):
                demoted.add(k)
            else:
                kept.append(other)
    for k in demoted:
        kind[k] = Kind.SIMILAR
    return len(demoted)
