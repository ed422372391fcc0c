"""Which frames form a burst: similar shots of one camera, chained over short time gaps.

A burst is what a camera's continuous mode (or a held shutter button on a phone) leaves: frames
of one scene a fraction of a second to a second or two apart, often several within one second
(so the sub-seconds matter). Here:

- a file can be a frame when the verdict stage called it a ``similar shot`` of another file
  (engine/verdicts: the same scene, another capture) and it has a capture instant
  (DateTimeOriginal + SubSecTimeOriginal) and a camera (EXIF Make + Model);
- such files of one camera, in time order, are chained while the gap between one and the next
  is at most :data:`BURST_GAP_S`; a burst is a chain of two frames or more (same folder not
  required: an import may spread one burst over two);
- an Apple BurstUUID overrides the gap: frames with the same id are one burst, frames with
  two different ids never follow each other in one.

Why chain over time rather than over the similar-shot pairs themselves: the hash index proposes
a pair only within its threshold, and a fast subject over a plain page or a frame exposed
differently can leave a frame without a candidate pair to its neighbours while it has one to
another frame of the burst; linking by pairs split such bursts in the tune half of
benchmarks/bench_bursts.py.

Copies are not frames: a re-encoded or exact copy of a frame has the frame's capture instant
and is a duplicate. The caller says which file stands for each copy (``copy_of``: a copy's
row → the row of the file that stays, as the duplicate rules choose it); the copy itself never
appears in a burst. A "copy" with a capture instant of its own (the verdicts called two frames
of one layout a copy) stays a frame.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from tui_dedup.engine.features.store import FeatureStore
from tui_dedup.engine.model import ImageMeta, Pairs
from tui_dedup.engine.verdicts.kinds import Kind

#: The longest gap between two linked frames, in seconds. Continuous drive runs at 3–30 frames
#: a second on cameras and ~10 on phones; the slowest continuous modes (1–2 frames a second)
#: and a camera slowing down when its buffer is full stay within 2 s between frames. A
#: second press of the shutter after looking at the screen or recomposing takes longer, and a
#: person who shoots a scene again a few seconds later meant another take, not a burst.
BURST_GAP_S = 2.0


@dataclass(frozen=True, slots=True)
class Moment:
    """When, and with which camera, a frame was taken."""

    camera: str
    taken: float  # DateTimeOriginal as POSIX seconds, on the camera's clock
    subsec_ms: int | None = None
    burst_id: str | None = None

    @property
    def instant(self) -> float:
        """Seconds, with the sub-seconds when the file has them."""
        return self.taken + (self.subsec_ms or 0) / 1000.0


def moment_of(meta: ImageMeta, burst_id: str | None = None) -> Moment | None:
    """A frame's moment, or None without a capture time and a camera (such a file cannot be
    placed in a burst: a messenger copy, a screenshot)."""
    if meta.taken is None or not meta.camera:
        return None
    return Moment(meta.camera, meta.taken, meta.subsec_ms, burst_id)


def linked(a: Moment, b: Moment, gap: float = BURST_GAP_S) -> bool:
    """Are two frames, one after the other in time, of one burst?"""
    if a.camera != b.camera:
        return False
    if a.burst_id is not None and b.burst_id is not None:
        return a.burst_id == b.burst_id
    return abs(a.instant - b.instant) <= gap


def _root(parent: dict[int, int], x: int) -> int:
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


def chain(
    moments: Mapping[int, Moment], name: Callable[[int], str], gap: float = BURST_GAP_S
) -> list[list[int]]:
    """Bursts (two frames or more) among rows with a moment: each burst in time order (ties
    by file name: cameras number their frames), bursts by their first frame."""
    parent = {r: r for r in moments}

    def join(a: int, b: int) -> None:
        ra, rb = _root(parent, a), _root(parent, b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    by_camera: dict[str, list[int]] = {}
    for r, m in moments.items():
        by_camera.setdefault(m.camera, []).append(r)
    first_of_id: dict[tuple[str, str], int] = {}
    for camera, rows in by_camera.items():
        rows.sort(key=lambda r: (moments[r].instant, name(r)))
        for a, b in pairwise(rows):
            if linked(moments[a], moments[b], gap):
                join(a, b)
        for r in rows:
            uid = moments[r].burst_id
            if uid is not None:
                join(first_of_id.setdefault((camera, uid), r), r)
    comps: dict[int, list[int]] = {}
    for r in moments:
        comps.setdefault(_root(parent, r), []).append(r)
    bursts = [
        sorted(rows, key=lambda r: (moments[r].instant, name(r)))
        for rows in comps.values()
        if len(rows) > 1
    ]
    bursts.sort(key=lambda rows: (moments[rows[0]].instant, name(rows[0])))
    return bursts


def same_capture(a: Moment, b: Moment) -> bool:
    """One camera, one instant (to the sub-second where both files have it)."""
    if a.camera != b.camera or a.taken != b.taken:
        return False
    return a.subsec_ms is None or b.subsec_ms is None or a.subsec_ms == b.subsec_ms


def collapsed_copies(store: FeatureStore, copy_of: Mapping[int, int]) -> dict[int, int]:
    """The copies that are not frames, each → the row standing for it: ``copy_of`` without
    the files that have a capture of their own (another instant than the file kept for them:
    the verdicts called two frames of one layout a copy, and a frame stays a frame)."""
    out: dict[int, int] = {}
    for copy, kept in copy_of.items():
        own, theirs = moment_of(store.metas[copy]), moment_of(store.metas[kept])
        if own is None or theirs is None or same_capture(own, theirs):
            out[copy] = kept
    return out


def burst_frames(
    store: FeatureStore,
    similar: Pairs,
    copy_of: Mapping[int, int] | None = None,
    *,
    burst_id: Callable[[int], str | None] | None = None,
    gap: float = BURST_GAP_S,
) -> list[list[int]]:
    """The bursts among a scan's similar shots, as store rows (see the module docstring).

    ``copy_of``: a copy's row → the row that stays for it (:func:`collapsed_copies` decides
    which are not frames); ``burst_id``: the BurstUUID of a row, asked only for frames from an
    Apple camera (reading it costs a header parse)."""
    collapsed = collapsed_copies(store, copy_of or {})
    keep = similar.kind == Kind.SIMILAR if similar.kind is not None else np.ones(len(similar), bool)
    ends = (*similar.i[keep].tolist(), *similar.j[keep].tolist())
    moments: dict[int, Moment] = {}
    for r in sorted({collapsed.get(r, r) for r in ends}):
        m = moment_of(store.metas[r])
        if m is None:
            continue
        if burst_id is not None and m.camera.lower().startswith("apple"):
            m = Moment(m.camera, m.taken, m.subsec_ms, burst_id(r))
        moments[r] = m
    entries = store.entries
    return chain(moments, lambda r: entries[r].path, gap)
