"""Culling a burst: keep its best frame (or the frames a person picks) and move the rest.

Why its own purpose, not the duplicate rules: burst frames are not copies. Each is another
shot, so removing one loses a picture that exists nowhere else, and the duplicate machinery's
promise ("a copy of it stays") does not hold. A culling plan says so (``Plan.purpose`` is
"bursts", its confirmation says "these frames have no copy"), may only move or trash (both
undoable; never delete, never link), names for each frame the frame of its burst that stays,
and apply re-derives the burst from the files as they are then instead of re-checking a copy
(engine/bursts/recheck.py). Nothing here runs unless a person asks: ``plan --auto-select
best-of-burst`` or the app's burst view.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from tui_dedup.actions.plan import Plan, PlanError, build_plan
from tui_dedup.engine.bursts.rank import RankedBurst
from tui_dedup.engine.model import FileEntry
from tui_dedup.review.bursts import Bursts
from tui_dedup.review.decisions import store_digests

#: What a culling plan may do with a frame: both can be undone.
CULL_ACTIONS = ("move", "trash")
#: The ``--auto-select`` word that culls bursts instead of choosing among copies.
BEST_OF_BURST = "best-of-burst"


def kept_frames(burst: RankedBurst, keep: Collection[int] | None = None) -> list[int]:
    """The rows a burst keeps: ``keep`` (rows of its frames) or its best frame; [] when the
    burst has no best frame (every frame unreadable) and nothing was picked."""
    rows = [f.row for f in burst.frames]
    if keep is not None:
        return [r for r in rows if r in keep]
    return [] if burst.best is None else [burst.best.row]


def cull_plan(
    bursts: Bursts,
    action: str = "move",
    keep: Mapping[int, Collection[int]] | None = None,
    *,
    move_to: str | None = None,
    keep_in: Iterable[str] = (),
    spec: dict | None = None,
    remove_emptied_folders: bool = True,
) -> Plan:
    """A plan that moves (or trashes) every frame of each burst but the ones kept.

    ``keep``: burst index → rows to keep (default: each burst's best frame). A burst that
    would keep nothing is left alone, and so is one whose frames are all kept.
    """
    if action not in CULL_ACTIONS:
        raise PlanError(
            f"burst frames have no copy: they can be moved or sent to the trash (undoable), "
            f"not {action!r}"
        )
    store = bursts.store
    groups: list[list[FileEntry]] = []
    marked: list[str] = []
    for n, burst in enumerate(bursts.bursts):
        kept = kept_frames(burst, None if keep is None else keep.get(n, ()))
        if not kept:
            continue
        rest = [f.row for f in burst.frames if f.row not in kept]
        if not rest:
            continue
        groups.append([store.entries[r] for r in (*kept, *rest)])
        marked += [store.entries[r].path for r in rest]
    plan = build_plan(
        groups,
        marked,
        action,
        move_to=move_to,
        keep_in=keep_in,
        spec=spec,
        digest_of=store_digests(store),
        remove_emptied_folders=remove_emptied_folders,
    )
    plan.purpose = "bursts"
    return plan


def keeper_lines(bursts: Bursts, plan: Plan) -> list[str]:
    """``keep  2024/IMG_0003.jpg  (best of 5: sharpest, well exposed)``: one line per burst the
    plan takes frames from."""
    kept = {s.partner.path for s in plan.steps if s.partner is not None}
    lines = []
    for burst in bursts.bursts:
        for f in burst.frames:
            path = bursts.store.entries[f.row].path
            if path in kept:
                why = "best" if burst.best is not None and f.row == burst.best.row else "kept"
                sharp = "unread" if f.sharpness is None else f"{f.sharpness:.2f}"
                lines.append(f"  keep  {path}  ({why} of {len(burst.frames)}, sharpness {sharp})")
                break
    if lines:
        lines.insert(0, f"Bursts: {len(lines)}, the frame each keeps:")
    return lines
