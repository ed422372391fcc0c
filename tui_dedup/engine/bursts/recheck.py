"""Apply's second look at a culling plan: is each frame still a frame of the kept frame's burst?

Why not the duplicates' re-check (engine/matching/recheck.py): that one asks whether a file is
still a copy of the file that stays, and burst frames never are. Removing a frame is safe only
while it is what the plan saw: another shot of the same burst, whose best frame stays. So the
burst is derived again from the files as they are now, by the scan's own rules: candidates and
verdicts among the burst's files (engine/matching, engine/verdicts), a frame needs a capture
time and a camera and a "similar shot" (or copy) verdict with another file of the burst, and
the frames chain over gaps of at most :data:`chain.BURST_GAP_S` (engine/bursts/chain.py). A
frame that is not in the kept frame's burst any more (its picture or EXIF rewritten, a file
swapped in under its name, the kept frame changed) is refused with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tui_dedup.engine.bursts.chain import BURST_GAP_S, Moment, chain, moment_of
from tui_dedup.engine.matching.match import match
from tui_dedup.engine.matching.recheck import fresh_store
from tui_dedup.engine.matching.spec import MatchSpec
from tui_dedup.engine.model import FileEntry
from tui_dedup.engine.scan import FeatureCacheLike
from tui_dedup.engine.verdicts.capture import capture_of
from tui_dedup.engine.verdicts.confirm import confirm
from tui_dedup.engine.verdicts.kinds import COPIES, Kind


def recheck_bursts(
    entries: Sequence[FileEntry],
    bursts: Sequence[tuple[int, Sequence[int]]],
    spec: MatchSpec,
    *,
    cache: FeatureCacheLike | None = None,
    gap: float = BURST_GAP_S,
) -> dict[int, str | None]:
    """For each (kept frame, frames to remove), as indices into ``entries``: per frame to
    remove, None while it is still a frame of the kept frame's burst, else a one-line reason.
    """
    store, row, problems = fresh_store(entries, spec, cache=cache)
    out: dict[int, str | None] = {}
    if len(store) >= 2:
        threshold, _ = spec.capped()
        found = confirm(
            store, match(store, spec.method, threshold, spec.options()), capture=capture_of(store)
        )
        assert found.kind is not None
        related = np.isin(found.kind, np.array(sorted({*COPIES, Kind.SIMILAR}), np.int8))
        edges = {(int(a), int(b)) for a, b in zip(found.i[related], found.j[related], strict=True)}
    else:
        edges = set()
    linked_rows = {r for e in edges for r in e}
    for keeper, frames in bursts:
        kept_path = entries[keeper].path
        if keeper in problems:
            why = f"the frame that stays, {kept_path!r}, cannot be checked: {problems[keeper]}"
            out.update((f, why) for f in frames)
            continue
        moments: dict[int, Moment] = {}
        for k in (keeper, *frames):
            if k in row and row[k] in linked_rows:
                m = moment_of(store.metas[row[k]])
                if m is not None:
                    moments[row[k]] = m
        burst = next(
            (
                set(b)
                for b in chain(moments, lambda r: store.entries[r].path, gap)
                if row[keeper] in b
            ),
            set(),
        )
        for f in frames:
            if f in problems:
                out[f] = f"it cannot be checked: {problems[f]}"
            elif moment_of(store.metas[row[f]]) is None:
                out[f] = "it has no capture time and camera any more: not a burst frame"
            elif row[f] not in linked_rows:
                out[f] = "no other frame of the burst is a similar shot of it any more"
            elif row[f] not in burst:
                out[f] = (
                    f"it is no longer in the burst of {kept_path!r} (another camera, or more "
                    f"than {gap:g} s from the frames around it)"
                )
            else:
                out[f] = None
    return out
