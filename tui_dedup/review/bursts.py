"""Bursts, for both front ends: scan → match → verdicts → bursts, each frame ranked.

The stages are the review pipeline's own (review/pipeline.py: scan_library, result_of, which
matches, confirms and groups); this module adds what bursts need on top of them:

- which file stands for a frame that has copies: the one the duplicate rules keep
  (review/decisions.py, the same chain and ``--keep-in`` folders as auto-select), so a burst
  lists only files auto-select leaves alone, and a copy of a frame stays a duplicate;
- the bursts among the similar shots (engine/bursts/chain.py), Apple BurstUUIDs read where a
  frame comes from an Apple camera, and each burst ranked (engine/bursts/rank.py).

Nothing here marks or moves a file: a burst is shown, and a person decides.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tui_dedup.engine.bursts.burst_ids import read_burst_id
from tui_dedup.engine.bursts.chain import BURST_GAP_S, burst_frames, collapsed_copies
from tui_dedup.engine.bursts.rank import RankedBurst, RankedFrame, rank_bursts
from tui_dedup.engine.features.store import FeatureStore
from tui_dedup.engine.model import Pairs, ScanError
from tui_dedup.engine.verdicts.kinds import SHOWN_BY_DEFAULT
from tui_dedup.review.decisions import auto_mark, keeper_reasons
from tui_dedup.review.keepers import DEFAULT_RULES
from tui_dedup.review.pipeline import Progress, StopFlag, result_of, scan_library
from tui_dedup.review.result import Result
from tui_dedup.review.settings import RunSettings

#: 1: the first version of the ``bursts`` document.
JSON_VERSION = 1


@dataclass(slots=True)
class Bursts:
    """What ``dedup-tui bursts`` prints and the burst view shows."""

    roots: list[str]
    store: FeatureStore
    bursts: list[RankedBurst]
    errors: list[ScanError]  # the scan's, then frames the ranking could not read
    cancelled: bool = False
    cache_warnings: list[str] = field(default_factory=list)
    #: A frame's copies (rows), which the duplicate rules would remove: never frames.
    copies: dict[int, list[int]] = field(default_factory=dict)


def copies_of_frames(
    result: Result, rules: Sequence[str] = DEFAULT_RULES, keep_in: Sequence[str] = ()
) -> dict[int, int]:
    """Each file auto-select would mark → the file that stays for it (its group's keeper)."""
    marked = auto_mark(result.store, result.pairs, result.groups, rules, keep_in)
    keepers = keeper_reasons(result.store, result.groups, rules, keep_in)
    out: dict[int, int] = {}
    for g in result.groups:
        keeper = next((m for m in g.members if m in keepers), g.keeper)
        out.update({m: keeper for m in g.members if m in marked})
    return out


def bursts_of(
    settings: RunSettings,
    result: Result,
    *,
    rules: Sequence[str] = DEFAULT_RULES,
    should_stop: StopFlag | None = None,
    on_rank: Callable[[int, int], None] | None = None,
    gap: float = BURST_GAP_S,
) -> Bursts:
    """The ranked bursts of a matched result (its pairs must hold the copies: the default
    ``--kinds``), its errors first among the errors."""
    copy_of = copies_of_frames(result, rules, settings.keep_in)
    store = result.store
    limits = settings.scan.limits
    frames = burst_frames(
        store,
        result.similar if result.similar is not None else Pairs.empty(),
        copy_of,
        burst_id=lambda r: read_burst_id(store.entries[r], limits),
        gap=gap,
    )
    ranked, unreadable = rank_bursts(
        store.entries, frames, limits, should_stop=should_stop, on_progress=on_rank
    )
    stopped = len(ranked) < len(frames)
    shown = {f.row for b in ranked for f in b.frames}
    copies: dict[int, list[int]] = {}
    for copy, frame in sorted(collapsed_copies(store, copy_of).items()):
        if frame in shown:
            copies.setdefault(frame, []).append(copy)
    return Bursts(
        result.roots,
        store,
        ranked,
        [*result.errors, *unreadable],
        cancelled=result.cancelled or stopped,
        copies=copies,
    )


def find_bursts(
    settings: RunSettings,
    *,
    rules: Sequence[str] = DEFAULT_RULES,
    on_progress: Progress | None = None,
    on_rank: Callable[[int, int], None] | None = None,
    should_stop: StopFlag | None = None,
) -> Bursts:
    """Scan, match, confirm and group (review/pipeline.py), then the bursts, ranked.

    Matching lists every copy whatever ``settings.kinds`` says: a frame's copies must be
    known for them to stay out of its burst."""
    scanned = scan_library(settings, on_progress=on_progress, should_stop=should_stop)
    matching = dataclasses.replace(settings, kinds=SHOWN_BY_DEFAULT)
    result = result_of(matching, scanned.result)
    out = bursts_of(settings, result, rules=rules, should_stop=should_stop, on_rank=on_rank)
    out.cache_warnings = scanned.cache_warnings
    return out


# ----------------------------------------------------------------------------- JSON


def _taken(meta_taken: float | None) -> str | None:
    if meta_taken is None:
        return None
    return datetime.fromtimestamp(meta_taken).strftime("%Y-%m-%dT%H:%M:%S")


def frame_dict(store: FeatureStore, f: RankedFrame) -> dict[str, Any]:
    meta = store.metas[f.row]
    e = f.exposure
    return {
        "path": store.entries[f.row].path,
        "taken": _taken(meta.taken),
        "subsec": meta.subsec_ms,
        "sharpness": f.sharpness,
        "exposure": None
        if e is None
        else {
            "clipped": round(e.clipped, 4),
            "crushed": round(e.crushed, 4),
            "level": round(e.level, 4),
        },
        "score": f.score,
        "rank": f.rank,
    }


def to_dict(b: Bursts) -> dict[str, Any]:
    """The ``bursts`` JSON document: each burst's frames in time order, and its best frame."""
    store = b.store
    bursts = []
    for burst in b.bursts:
        best = burst.best
        first = store.metas[burst.frames[0].row]
        bursts.append(
            {
                "camera": first.camera,
                "frames": [frame_dict(store, f) for f in burst.frames],
                "best": None if best is None else store.entries[best.row].path,
                "copies": {
                    store.entries[f.row].path: [store.entries[c].path for c in b.copies[f.row]]
                    for f in burst.frames
                    if f.row in b.copies
                },
            }
        )
    return {
        "version": JSON_VERSION,
        "roots": b.roots,
        "files": len(store),
        "cancelled": b.cancelled,
        "bursts": bursts,
        "errors": [{"path": e.path, "error": e.reason} for e in b.errors],
    }
