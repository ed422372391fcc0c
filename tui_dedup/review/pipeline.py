"""The one pipeline both front ends run: scan → match → confirm → hide skipped → group.

Why one: the CLI and the app used to chain these stages each in its own way and drifted (the
app never showed the feature cache's warnings; skipped pairs were hidden twice with different
fallbacks for an unreadable file). Here each stage is a function the front ends call, with
plain callbacks for progress, a stop flag, and the cache's warnings handed back as values
for the front end to print or show.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from tui_dedup.actions.skips import SkipStore
from tui_dedup.engine.cache.matches import cached_match
from tui_dedup.engine.cache.verdicts import FILENAME as VERDICTS_FILENAME
from tui_dedup.engine.cache.verdicts import VerdictCache
from tui_dedup.engine.features.store import FeatureStore
from tui_dedup.engine.files.discover import is_raw_path
from tui_dedup.engine.matching.group import star_groups
from tui_dedup.engine.model import Pairs
from tui_dedup.engine.registry import Threshold
from tui_dedup.engine.scan import ScanResult, scan
from tui_dedup.engine.scan_progress import ScanProgress
from tui_dedup.engine.verdicts.capture import capture_of
from tui_dedup.engine.verdicts.confirm import confirm
from tui_dedup.engine.verdicts.kinds import Kind, copies_only, mask_of
from tui_dedup.review.result import Result
from tui_dedup.review.settings import RunSettings, match_cache_dir, open_cache

Progress = Callable[[ScanProgress], None]
StopFlag = Callable[[], bool]


@dataclass(slots=True)
class Scanned:
    """A finished (or stopped) scan and what the feature cache had to say about it."""

    result: ScanResult
    cache_warnings: list[str] = field(default_factory=list)


def scan_library(
    settings: RunSettings,
    *,
    on_progress: Progress | None = None,
    should_stop: StopFlag | None = None,
) -> Scanned:
    """Discover and decode (features from the cache where the file is unchanged).

    Problems with the cache never stop the scan: they come back as one-line warnings.
    """
    cache = open_cache(settings)
    try:
        res = scan(
            settings.roots,
            settings.scan,
            cache=cache,
            on_progress=on_progress,
            should_stop=should_stop,
        )
    finally:
        warnings = list(cache.warnings) if cache is not None else []
        if cache is not None:
            cache.close()
    if should_stop is not None and should_stop():
        res.cancelled = True
    return Scanned(res, warnings)


def file_digests(store: FeatureStore) -> Callable[[int], str]:
    """Content digest (hex) of a row: from the scan when it has one, else read once.

    An unreadable file gets a key of its own (``unreadable:<row>``): it can match no
    remembered skip, so its pairs stay visible — the same answer in the CLI and the app."""
    known: dict[int, str] = {}

    def digest(row: int) -> str:
        hit = known.get(row)
        if hit is None:
            hit = store.digest_hex(row)
            if hit is None:
                store.ensure_digests(np.array([row]))
                hit = store.digest_hex(row) or f"unreadable:{row}"
            known[row] = hit
        return hit

    return digest


def hide_skipped(
    pairs: Pairs,
    digest: Callable[[int], str],
    skips: SkipStore | None,
    primary: np.ndarray | None = None,
) -> Pairs:
    """Drop pairs the user said are not duplicates (keyed by content, so renames keep them).
    Digests are read only for files in pairs, and only when there are skips.

    ``primary`` (:func:`shot_primaries`): a pair is also dropped when the pair of its ends'
    shots was skipped, so "not a duplicate" said of a RAW+JPEG shot's row holds for the RAW's
    pair folded into it (:func:`fold_into_shots`), which would otherwise come in its place."""
    if skips is None or len(skips) == 0 or len(pairs) == 0:
        return pairs
    a = [digest(int(r)) for r in pairs.i]
    b = [digest(int(r)) for r in pairs.j]
    keep = skips.filter_mask(a, b)
    if primary is not None:
        pi, pj = primary[pairs.i], primary[pairs.j]
        moved = np.flatnonzero(keep & ((pi != pairs.i) | (pj != pairs.j)))
        if moved.size:
            sa = [digest(int(r)) for r in pi[moved]]
            sb = [digest(int(r)) for r in pj[moved]]
            keep[moved] = skips.filter_mask(sa, sb)
    return pairs.take(np.flatnonzero(keep))


def confirm_pairs(
    store: FeatureStore,
    settings: RunSettings,
    pairs: Pairs,
    *,
    should_stop: StopFlag | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    pixel_check: bool = True,
) -> Pairs:
    """Every candidate with its verdict (engine/verdicts); pixel-checked verdicts are
    remembered per pair beside the feature cache, so each is paid once."""
    folder = match_cache_dir(settings)
    remembered = VerdictCache(os.path.join(folder, VERDICTS_FILENAME)) if folder else None
    try:
        return confirm(
            store,
            pairs,
            capture=capture_of(store),
            remembered=remembered,
            pixel_check=pixel_check,
            should_stop=should_stop,
            on_progress=on_progress,
        )
    finally:
        if remembered is not None:
            remembered.close()


def match_library(
    store: FeatureStore,
    settings: RunSettings,
    method: str,
    threshold: Threshold,
    *,
    skips: SkipStore | None = None,
    digest: Callable[[int], str] | None = None,
    should_stop: StopFlag | None = None,
    on_confirm: Callable[[int, int], None] | None = None,
    quick: bool = False,
) -> Pairs:
    """Confirmed pairs at ``method`` / ``threshold`` from the features in memory (remembered
    when the inputs are unchanged), without the pairs in ``skips`` and without the candidates
    the verdict stage found to be different pictures.

    ``quick``: no pixel check (pairs that need one stay ``unconfirmed``, never auto-selected),
    no crop stage, and nothing is remembered: what the app shows at once after ``+``/``-``
    while the full match runs."""

    def confirmed(cand: Pairs) -> Pairs:
        return confirm_pairs(
            store,
            settings,
            cand,
            should_stop=should_stop,
            on_progress=on_confirm,
            pixel_check=not quick,
        )

    folder = match_cache_dir(settings)
    opts = settings.match
    if quick:
        # the crop stage decodes its candidates (engine/matching/crop_stage.py): the full
        # match that follows adds the crops
        quick_opts = replace(opts, crop_tolerant=False)
        cand = cached_match(store, method, threshold, quick_opts, folder, should_stop=should_stop)
        pairs = confirmed(cand)
    else:
        pairs = cached_match(
            store, method, threshold, opts, folder, should_stop=should_stop, confirm=confirmed
        )
    if not quick:
        store.drop_crop_scratch()
    if pairs.kind is not None:
        pairs = pairs.take(np.flatnonzero(pairs.kind != Kind.DIFFERENT))
    primary = shot_primaries(twin_shots(store, pairs), len(store)) if skips else None
    return hide_skipped(pairs, digest or file_digests(store), skips, primary)


def split_kinds(pairs: Pairs, settings: RunSettings) -> tuple[Pairs, Pairs]:
    """(listed pairs, similar shots): the kinds ``--kinds`` asks for (copies and unconfirmed
    candidates by default), and every similar shot, which the JSON always lists apart."""
    if pairs.kind is None:
        return pairs, pairs.take(np.zeros(0, np.intp))
    listed = mask_of(pairs.kind, settings.kinds)
    similar = pairs.kind == Kind.SIMILAR
    return pairs.take(np.flatnonzero(listed)), pairs.take(np.flatnonzero(similar))


def twin_shots(store: FeatureStore, pairs: Pairs) -> list[list[int]]:
    """The format twins of a match as shots (engine/verdicts/twins.py): each a RAW and the
    images beside it, the primary (a JPEG or HEIC, what a viewer opens) first."""
    if pairs.kind is None:
        return []
    twins = pairs.take(np.flatnonzero(pairs.kind == Kind.TWIN))
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for a, b in zip(twins.i.tolist(), twins.j.tolist(), strict=True):
        parent[root(a)] = root(b)
    shots: dict[int, list[int]] = {}
    for r in list(parent):
        shots.setdefault(root(r), []).append(r)
    entries = store.entries
    return sorted(
        (
            sorted(rows, key=lambda r: (is_raw_path(entries[r].path), entries[r].path))
            for rows in shots.values()
        ),
        key=lambda rows: entries[rows[0]].path,
    )


def shot_primaries(shots: list[list[int]], n: int) -> np.ndarray:
    """Per row: the primary of its shot (:func:`twin_shots`), or the row itself."""
    primary = np.arange(n, dtype=np.int64)
    for rows in shots:
        primary[rows[1:]] = rows[0]
    return primary


def fold_into_shots(pairs: Pairs, shots: list[list[int]], n: int) -> Pairs:
    """A shot is matched as one unit: a pair of one of its other members (the RAW) with a file
    outside the shot is left out when the shot's primary stands in that same pair (both ends
    put through their shots: the RAWs of two backed-up RAW+JPEG shots are one row, the two
    JPEGs). The table and the JSON then show a shot once, as its primary with a ``+RAW``
    badge; what the primary's row does to the shot, the planner decides (a shot leaves only
    whole, actions/plan.py). A member's pair with no such stand-in stays listed (a skip of
    the shot's row hides it too: :func:`hide_skipped`)."""
    if not shots or len(pairs) == 0:
        return pairs
    primary = shot_primaries(shots, n)
    pi, pj = primary[pairs.i], primary[pairs.j]
    a, b = np.minimum(pi, pj), np.maximum(pi, pj)
    moved = (a != pairs.i) | (b != pairs.j)
    if not moved.any():
        return pairs
    keys = pairs.i.astype(np.int64) * n + pairs.j
    stand_in = moved & (a != b) & np.isin(a * n + b, keys)
    return pairs.take(np.flatnonzero(~stand_in))


def result_of(settings: RunSettings, res: ScanResult) -> Result:
    """Match (skips hidden unless ``--show-skipped``) and group a finished scan: the result
    the headless commands print and plan from."""
    th = settings.threshold()
    skips = None if settings.show_skipped else SkipStore()
    pairs = match_library(res.store, settings, settings.method, th, skips=skips)
    shots = twin_shots(res.store, pairs)
    listed, similar = split_kinds(pairs, settings)
    listed = fold_into_shots(listed, shots, len(res.store))
    groups = star_groups(copies_only(listed), len(res.store))
    return Result(
        settings.roots,
        settings.method,
        th,
        res.store,
        listed,
        groups,
        res.errors,
        res.skipped,
        res.cancelled,
        similar=similar,
        shots=shots,
    )
