"""What an export shows: one scan's result (files, pairs, groups, errors), and its summary.

The CLI's pipeline (review/pipeline.py) builds one from a scan, the review session
(review/session.py) for what the app shows; the writers serialise it (review/export.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from tui_dedup.engine.features.store import FeatureStore
from tui_dedup.engine.model import Group, Pairs, ScanError
from tui_dedup.engine.registry import METHODS, Threshold


@dataclass(slots=True)
class Result:
    """Everything an export needs; the TUI builds the same object for its current view."""

    roots: list[str]
    method: str
    threshold: Threshold
    store: FeatureStore
    pairs: Pairs
    groups: list[Group]
    errors: list[ScanError]
    skipped: list[ScanError]
    cancelled: bool = False
    #: Similar shots (same scene, another capture): never copies, listed apart.
    similar: Pairs | None = None
    #: Format twins as shots: store rows, the primary (the non-RAW image) first.
    shots: list[list[int]] | None = None


def pair_columns(p: Pairs) -> Iterator[tuple[int, int, int, float, int, bool]]:
    """(i, j, distance, similarity, transform, exact) per pair, as Python scalars."""
    return zip(
        p.i.tolist(),
        p.j.tolist(),
        p.distance.tolist(),
        p.similarity.tolist(),
        p.transform.tolist(),
        p.exact.tolist(),
        strict=True,
    )


def summary_line(result: Result) -> str:
    """One line for stderr after a headless scan."""
    m = METHODS[result.method]
    th = result.threshold
    limit = f"distance ≤ {th.max_distance}" if th.max_distance is not None else f"≥ {th.similarity}"
    freeable = (
        int(np.sum([result.store.entries[x].size for g in result.groups for x in g.members[1:]]))
        if result.groups
        else 0
    )
    return (
        f"{len(result.store)} images, {len(result.pairs)} pairs in {len(result.groups)} groups "
        f"({m.title}, {limit}), {len(result.errors)} errors, "
        f"{freeable / 1e6:.1f} MB in non-keeper copies"
        + (" — scan interrupted, partial result" if result.cancelled else "")
    )
