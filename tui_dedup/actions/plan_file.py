"""Reading a plan file: its shape and types, checked before anything else looks at it.

Why strict: a plan file is a request from outside the process (perhaps edited, perhaps from
another user), so a missing key or a wrong type must be one clear line, never a traceback or a
silently different meaning. Whether the request is still sound on disk is apply's business
(:mod:`tui_dedup.actions.apply_checks`); this module only makes sure it can be read.
"""

from __future__ import annotations

import json
import math
from typing import Any

from ..engine.model import FileEntry
from .kinds import ACTIONS
from .plan import PLAN_VERSION, Plan, PlanError, Root, Sidecar, Step
from .plan_key import verify


def _need(d: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(d, dict) or key not in d:
        raise PlanError(f"{where}: missing {key!r}")
    v = d[key]
    ok = isinstance(v, kind) and not (isinstance(v, bool) and kind in (int, float, (int, float)))
    if isinstance(v, float) and not math.isfinite(v):
        ok = False
    if not ok:
        raise PlanError(f"{where}: {key!r} has the wrong type")
    return v


def _opt(d: dict, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if d.get(key) is None:
        return None
    return _need(d, key, kind, where)


def _entry(d: Any, where: str) -> FileEntry:
    return FileEntry(
        _need(d, "path", str, where),
        _need(d, "root", str, where),
        _need(d, "size", int, where),
        _need(d, "mtime_ns", int, where),
        _need(d, "dev", int, where),
        _need(d, "ino", int, where),
        *([_need(d, "ctime_ns", int, where)] if isinstance(d, dict) and "ctime_ns" in d else []),
    )


def _step(d: Any, n: int) -> Step:
    where = f"step {n + 1}"
    sidecars = []
    for c in _need(d, "sidecars", list, where):
        sidecars.append(
            Sidecar(
                _need(c, "path", str, where),
                _opt(c, "dest", str, where),
                _need(c, "size", int, where),
                _need(c, "mtime_ns", int, where),
            )
        )
    partner = d.get("partner") if isinstance(d, dict) else None
    if partner is None:
        raise PlanError(f"{where}: names no copy that stays (a 'partner')")
    return Step(
        action=_need(d, "action", str, where),
        entry=_entry(_need(d, "entry", dict, where), where),
        group=_need(d, "group", int, where),
        partner=_entry(partner, where),
        real=_need(d, "real", str, where),
        partner_real=_need(d, "partner_real", str, where),
        digest=_opt(d, "digest", str, where),
        partner_digest=_opt(d, "partner_digest", str, where),
        dest=_opt(d, "dest", str, where),
        sidecars=tuple(sidecars),
        copy=bool(_opt(d, "copy", bool, where)),
        may_copy=bool(_opt(d, "may_copy", bool, where)),
        keeper=_opt(d, "keeper", str, where),
        trash_fallback=bool(_opt(d, "trash_fallback", bool, where)),
        irreversible=bool(_opt(d, "irreversible", bool, where)),
    )


PURPOSES = ("duplicates", "bursts")


def _purpose(d: dict) -> str:
    """What the plan removes; a plan file from before bursts could be culled removes
    duplicates."""
    purpose = _opt(d, "purpose", str, "plan") or "duplicates"
    if purpose not in PURPOSES:
        raise PlanError(f"plan: unknown purpose {purpose!r} (known: {', '.join(PURPOSES)})")
    return purpose


def read_plan(text: str) -> Plan:
    """Parse a plan file; PlanError with a one-line reason for anything malformed.

    Only the shape is checked here; apply checks the content against the disk."""
    try:
        d = json.loads(text)
    except ValueError as e:
        raise PlanError(f"not JSON ({e})") from None
    return plan_from_dict(d)


def plan_from_dict(d: Any) -> Plan:
    """A :class:`Plan` from parsed JSON; PlanError with a one-line reason otherwise."""
    if not isinstance(d, dict):
        raise PlanError("not a plan (expected a JSON object)")
    version = d.get("version")
    if version != PLAN_VERSION:
        if version == 1:
            raise PlanError(
                "this plan was made by an older dedup-tui (plan version 1), which did not record "
                "what apply now re-checks; make a new plan with `dedup-tui plan`"
            )
        raise PlanError(f"unsupported plan version {version!r}")
    action = _need(d, "action", str, "plan")
    if action not in ACTIONS:
        raise PlanError(f"unknown action {action!r}")
    roots = [
        Root(
            _need(r, "path", str, "root"),
            _need(r, "real", str, "root"),
            _need(r, "dev", int, "root"),
            _need(r, "ino", int, "root"),
        )
        for r in _need(d, "roots", list, "plan")
    ]
    steps = [_step(s, n) for n, s in enumerate(_need(d, "steps", list, "plan"))]
    keep_in = _need(d, "keep_in", list, "plan")
    if not all(isinstance(k, str) for k in keep_in):
        raise PlanError("plan: 'keep_in' must list folders")
    refused = _need(d, "refused", list, "plan")
    emptied = _opt(d, "emptied_folders", list, "plan") or []
    if not all(isinstance(f, str) for f in emptied):
        raise PlanError("plan: 'emptied_folders' must list folders")
    plan = Plan(
        action=action,
        steps=steps,
        roots=roots,
        spec=_opt(d, "spec", dict, "plan"),
        refused=[str(r) for r in refused],
        move_to=_opt(d, "move_to", str, "plan"),
        keep_in=list(keep_in),
        confirm_word=_opt(d, "confirm_word", str, "plan"),
        created=float(_opt(d, "created", (int, float), "plan") or 0.0),
        # A plan file from before this setting existed: its batch leaves folders in place.
        remove_emptied_folders=bool(_opt(d, "remove_emptied_folders", bool, "plan")),
        emptied_folders=list(emptied),
        purpose=_purpose(d),
        version=PLAN_VERSION,
        mac=_opt(d, "mac", str, "plan"),
    )
    body = {k: v for k, v in d.items() if k != "mac"}
    plan.edited = not verify(body, plan.mac)
    return plan
