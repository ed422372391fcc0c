"""Apply-time re-check: do a plan's (file, keeper) pairs still match, as the files are *now*?

Why: a plan file is a request, written minutes or weeks before it is applied, and perhaps
edited. Before a step acts, apply asks whether the file and its keeper are still duplicates under
the settings the plan was matched with (:class:`MatchSpec`), its threshold capped at the
``loose`` preset so that an edited plan cannot widen it to "everything matches". Each file is
stat'ed again and its features come from the cache when the cache still holds a valid row for
it (the cache's own identity rule), so re-checking an unchanged plan decodes nothing; a file
that changed since the scan is decoded again (and its new row cached).

How, faithfully but without :func:`match.match`'s limits: running ``match()`` over every file
of a plan would also apply its per-file caps (:data:`match.MAX_PARTNERS`, the stages' nearest-
neighbour limits), which can drop a pair that genuinely matches when a plan holds many files.
So the rule of each stage is applied to the requested pairs themselves:

1. byte-identical files (same content digest) always match;
2. the primary test, as ``match()`` states it: plain Hamming distance within the limit, or a
   rotation/mirror within :func:`match.rotated_limit` (histograms: similarity at least the
   limit); low-detail files take part only with ``include_low_detail``;
3. pairs that fail it go through the local-edit stage (:func:`tiles.local_edit_pairs`, with
   its per-file cap lifted) and the crop stage's verification (:func:`verify.verify_pairs`,
   on exactly those pairs instead of a colour shortlist). Only the crop check decodes, to get
   ORB keypoints the cache does not hold;
4. every pair that matched and is not byte-identical is confirmed again by the verdict stage
   (engine/verdicts), as the scan confirmed it: a plan edited to pair two statements of one
   layout, or two burst frames, is refused though their hashes agree. This decodes the files
   of pairs the stored evidence cannot settle, once each.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields, replace
from typing import Any

import numpy as np

from tui_dedup.engine import scan as _scan
from tui_dedup.engine.features.store import FeatureRow, FeatureStore, build_store
from tui_dedup.engine.matching.pairs import (
    MatchOptions,
    best_variant_distance,
    hist_matrix,
    low_detail_mask,
    rotated_limit,
)
from tui_dedup.engine.matching.spec import CAP_PRESET, MatchSpec
from tui_dedup.engine.model import FileEntry, Pairs, ScanError
from tui_dedup.engine.registry import METHODS, Threshold
from tui_dedup.engine.scan import FeatureCacheLike, ScanConfig

__all__ = ["CAP_PRESET", "MatchSpec", "recheck_pairs"]

_HAS_CTIME = "ctime_ns" in {f.name for f in fields(FileEntry)}


# ---------------------------------------------------------------------------------------------
# the re-check


def recheck_pairs(
    entries: Sequence[FileEntry],
    pairs: Sequence[tuple[int, int]],
    spec: MatchSpec,
    *,
    cache: FeatureCacheLike | None = None,
    scan_config: ScanConfig | None = None,
) -> list[str | None]:
    """For each (file, keeper) index pair into ``entries``: None if the two files, as they are
    on disk now, still match under ``spec`` with its threshold capped at the ``loose`` preset,
    else a one-line reason ("no longer similar enough: 19 bits apart, the plan allows 12").

    Every file is stat'ed again (the given entries say only which paths); features come from
    ``cache`` where it holds a valid row, else from one decode (limits from ``scan_config``),
    and new rows are written back. A file that cannot be read or decoded gives its reason.
    """
    config = replace(scan_config or ScanConfig(), hash_size=spec.hash_size)
    slot_of: dict[int, int] = {}
    by_path: dict[str, int] = {}
    given: list[FileEntry] = []
    for k in sorted({k for p in pairs for k in p}):
        e = entries[k]
        slot_of[k] = by_path.setdefault(e.path, len(given))
        if slot_of[k] == len(given):
            given.append(e)
    files = _Files(given, config, cache)
    out: list[str | None] = [None] * len(pairs)
    todo: list[int] = []
    for n, (a, b) in enumerate(pairs):
        out[n] = files.pair_problem(slot_of[a], slot_of[b])
        if out[n] is None:
            todo.append(n)
    if todo:
        i = np.array([files.row[slot_of[pairs[n][0]]] for n in todo], np.int32)
        j = np.array([files.row[slot_of[pairs[n][1]]] for n in todo], np.int32)
        for n, reason in zip(todo, _judge(files.store, i, j, spec), strict=True):
            out[n] = reason
    return out


def fresh_store(
    entries: Sequence[FileEntry],
    spec: MatchSpec,
    *,
    cache: FeatureCacheLike | None = None,
    scan_config: ScanConfig | None = None,
) -> tuple[FeatureStore, dict[int, int], dict[int, str]]:
    """The files as they are on disk now, in one store: (store, index into ``entries`` →
    store row, index → why it could not be read). Features as :func:`recheck_pairs` gets
    them (the cache where valid, else one decode); a path given twice is read once."""
    config = replace(scan_config or ScanConfig(), hash_size=spec.hash_size)
    by_path: dict[str, int] = {}
    given: list[FileEntry] = []
    slot_of: dict[int, int] = {}
    for k, e in enumerate(entries):
        slot_of[k] = by_path.setdefault(e.path, len(given))
        if slot_of[k] == len(given):
            given.append(e)
    files = _Files(given, config, cache)
    rows = {k: files.row[s] for k, s in slot_of.items() if s in files.row}
    problems = {k: files.problem[s] for k, s in slot_of.items() if s in files.problem}
    return files.store, rows, problems


class _Files:
    """The distinct files of a re-check: fresh stats, rows (cache or decode), one store."""

    def __init__(
        self, given: list[FileEntry], config: ScanConfig, cache: FeatureCacheLike | None
    ) -> None:
        self.problem: dict[int, str] = {}
        self.current: list[FileEntry] = []
        for s, e in enumerate(given):
            now = _restat(e)
            if isinstance(now, ScanError):
                self.problem[s] = now.reason
            self.current.append(e if isinstance(now, ScanError) else now)
        rows = self._rows(config, cache)
        good = sorted(rows)
        self.row = {s: r for r, s in enumerate(good)}
        self.store = build_store(
            config.hash_size, [self.current[s] for s in good], [rows[s] for s in good]
        )

    def _rows(self, config: ScanConfig, cache: FeatureCacheLike | None) -> dict[int, FeatureRow]:
        ok = [s for s in range(len(self.current)) if s not in self.problem]
        rows: dict[int, FeatureRow] = {}
        if cache is not None and ok:
            hits = cache.get_many([self.current[s] for s in ok], config.hash_size)
            rows = {ok[k]: row for k, row in hits.items()}
        missing = [s for s in ok if s not in rows]
        if not missing:
            return rows
        workers = config.workers or 2 * (os.cpu_count() or 2)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dedup-recheck") as pool:
            computed = list(pool.map(lambda s: _compute(self.current[s], config), missing))
        fresh: list[tuple[FileEntry, FeatureRow]] = []
        for s, res in zip(missing, computed, strict=True):
            if isinstance(res, ScanError):
                self.problem[s] = res.reason
                continue
            rows[s] = res
            if _restat(self.current[s]) == self.current[s]:  # not changed while we read it
                fresh.append((self.current[s], res))
        if cache is not None and fresh:
            cache.put_many(fresh, config.hash_size)
        return rows

    def pair_problem(self, a: int, b: int) -> str | None:
        """Why the pair cannot be compared at all (a file unreadable, one file twice)."""
        if a == b:
            return "the file is its own keeper"
        for s, role in ((a, "file"), (b, "keeper")):
            if s in self.problem:
                return f"the {role} cannot be checked: {self.problem[s]}"
        if self.current[a].identity == self.current[b].identity:
            return "the file and its keeper are one file (two names of one inode)"
        return None


def _restat(entry: FileEntry) -> FileEntry | ScanError:
    """``entry`` with what the file's stat says now (identity, size, times)."""
    try:
        st = os.stat(entry.path)
    except OSError as exc:
        return ScanError(entry.path, f"cannot stat: {exc.strerror or exc}")
    if not stat.S_ISREG(st.st_mode):
        return ScanError(entry.path, "not a regular file any more")
    now: dict[str, Any] = {
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "dev": st.st_dev,
        "ino": st.st_ino,
    }
    if _HAS_CTIME:  # FileEntry gains ctime_ns in issue #13; works before and after
        now["ctime_ns"] = st.st_ctime_ns
    return replace(entry, **now)


def _compute(entry: FileEntry, config: ScanConfig) -> FeatureRow | ScanError:
    """One decode, as the scan does it (engine.scan.compute_row, looked up at call time)."""
    try:
        return _scan.compute_row(entry, config, True)
    except Exception as exc:  # a bug, not bad input: still one line
        return ScanError(entry.path, f"internal error: {type(exc).__name__}: {exc}")


# ---------------------------------------------------------------------------------------------
# the rules


def _judge(store: FeatureStore, i: np.ndarray, j: np.ndarray, spec: MatchSpec) -> list[str | None]:
    """None per pair of store rows that matches, else why not (module doc: the order)."""
    th, was_capped = spec.capped()
    ok = _same_digest(store, i, j)
    usable = spec.include_low_detail | ~low_detail_mask(store)
    both = usable[i] & usable[j]
    primary_ok, why = _primary(store, i, j, spec, th, was_capped)
    ok |= primary_ok & both
    opts = spec.options()
    if spec.local_edits and not ok.all():
        # only the files of failing pairs take part: the stage's verdict on a pair depends on
        # its two files alone once the cap is lifted, and a plan of many near-identical files
        # would otherwise tile-check every close pair among them
        involved = np.zeros(len(store), bool)
        involved[i[~ok]] = involved[j[~ok]] = True
        ok |= _local_edit_ok(store, i, j, usable & involved, opts)
    rest = np.flatnonzero(~ok)
    if rest.size:  # byte-identical files whose digest the cache did not hold
        same_size = store.column("size")[i[rest]] == store.column("size")[j[rest]]
        rows = np.concatenate([i[rest[same_size]], j[rest[same_size]]])
        if rows.size:
            store.ensure_digests(rows)
            ok |= _same_digest(store, i, j)
    if spec.crop_tolerant and not ok.all():
        ok |= _crop_ok(store, i, j, usable, spec.rotations, ~ok)
    second_look = _not_copies(store, i, j, ok & ~_same_digest(store, i, j))
    return [
        second_look.get(k)
        if good
        else (
            why[k]
            if both[k]
            else "too plain to compare (low detail) and not byte-identical; "
            "the plan did not include low-detail images"
        )
        for k, good in enumerate(ok.tolist())
    ]


def _not_copies(
    store: FeatureStore, i: np.ndarray, j: np.ndarray, todo: np.ndarray
) -> dict[int, str]:
    """Pairs (by position) the verdict stage does not call copies, with the reason."""
    from tui_dedup.engine.verdicts.capture import capture_of
    from tui_dedup.engine.verdicts.confirm import confirm
    from tui_dedup.engine.verdicts.kinds import KEEPS_THE_SHOT, WORDS, Kind

    idx = np.flatnonzero(todo)
    if idx.size == 0:
        return {}
    a, b = i[idx], j[idx]
    ph = store.hashes["phash"]
    dist = np.bitwise_count(ph[a, 0][:, None, :] ^ ph[b]).sum(axis=2)  # (m, 8 variants)
    turn = dist.argmin(axis=1).astype(np.int8)
    best = dist.min(axis=1)
    cand = Pairs(
        a.astype(np.int32),
        b.astype(np.int32),
        best.astype(np.int16),
        (1.0 - best / float(ph.shape[2] * 64)).astype(np.float32),
        turn,
        np.zeros(idx.size, bool),
    )
    verdict = confirm(store, cand, capture=capture_of(store))
    assert verdict.kind is not None
    out: dict[int, str] = {}
    for k, code in zip(idx.tolist(), verdict.kind.tolist(), strict=True):
        kind = Kind(code)
        if kind not in KEEPS_THE_SHOT:  # a format twin keeps the shot too
            word = "cannot be confirmed" if kind is Kind.UNCONFIRMED else f"is a {WORDS[kind]}"
            if kind is Kind.DIFFERENT:
                word = "shows two different pictures"
            out[k] = f"not a copy on a second look: the pair {word}"
    return out


def _same_digest(store: FeatureStore, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    has = store.has_digest[i] & store.has_digest[j]
    return has & (store.digests[i] == store.digests[j]).all(axis=1)


def _primary(
    store: FeatureStore,
    i: np.ndarray,
    j: np.ndarray,
    spec: MatchSpec,
    th: Threshold,
    was_capped: bool,
) -> tuple[np.ndarray, list[str]]:
    """match()'s primary rule per pair (see match._hash_pairs, match._hist_pairs), and for
    each pair the reason it would fail."""
    allows = "the loose limit allows" if was_capped else "the plan allows"
    if METHODS[spec.method].kind == "hist":
        mat = hist_matrix(store, spec.method)
        sim = np.einsum("ij,ij->i", mat[i], mat[j])
        ok = sim >= np.float32(th.similarity)
        needs = "the loose limit needs" if was_capped else "the plan needs"
        why = [
            f"no longer similar enough: {100 * s:.1f} % alike by {spec.method}, "
            f"{needs} {100 * th.similarity:.1f} %"
            for s in np.clip(sim, 0.0, 1.0).tolist()
        ]
        return ok, why
    assert th.max_distance is not None
    limit, turned_limit = th.max_distance, rotated_limit(th.max_distance)
    h = store.hashes[spec.method]
    plain = np.bitwise_count(h[i, 0, :] ^ h[j, 0, :]).sum(axis=1)
    ok = plain <= limit
    if not spec.rotations:
        return ok, [
            f"no longer similar enough: {d} bits apart, {allows} {limit}" for d in plain.tolist()
        ]
    turned = best_variant_distance(h, i, j)
    ok |= turned <= turned_limit
    why = [
        f"no longer similar enough: {d} bits apart, {allows} {limit}"
        + (f" ({t} turned, {turned_limit} allowed)" if t < d else "")
        for d, t in zip(plain.tolist(), turned.tolist(), strict=True)
    ]
    return ok, why


def _local_edit_ok(
    store: FeatureStore, i: np.ndarray, j: np.ndarray, usable: np.ndarray, opts: MatchOptions
) -> np.ndarray:
    """The local-edit stage over the re-check's files, its per-file cap lifted (a plan holds
    many files; the cap is a flood guard, not part of what a match is)."""
    from tui_dedup.engine.matching.tiles import local_edit_pairs

    found = local_edit_pairs(
        store,
        Pairs.empty(),
        usable,
        max_distance=opts.local_edit_distance,
        max_phash=opts.local_edit_max_phash,
        partners=len(store),
        rotations=opts.rotations,
    )
    return _in(i, j, found, len(store))


def _crop_ok(
    store: FeatureStore,
    i: np.ndarray,
    j: np.ndarray,
    usable: np.ndarray,
    rotations: bool,
    want: np.ndarray,
) -> np.ndarray:
    """The crop stage's verification (engine.crop_stage.verified_pairs) of the wanted pairs
    themselves, not of a colour shortlist. Decodes each file once for its ORB keypoints."""
    from tui_dedup.engine.matching.crop_stage import best_orientation
    from tui_dedup.engine.matching.verify import verify_pairs

    sel = np.flatnonzero(want & usable[i] & usable[j])
    ok = np.zeros(len(i), bool)
    if sel.size == 0:
        return ok
    a, b = i[sel], j[sel]
    turn = best_orientation(store, a, b) if rotations else np.zeros(sel.size, np.int8)
    ok[sel] = verify_pairs(store, a, b, transform=turn, accepted=turn.copy()) > 0
    return ok


def _in(i: np.ndarray, j: np.ndarray, found: Pairs, n: int) -> np.ndarray:
    """Which (i, j) pairs (either order) are among ``found`` (canonical i < j)."""
    lo, hi = np.minimum(i, j).astype(np.int64), np.maximum(i, j).astype(np.int64)
    return np.isin(lo * n + hi, found.i.astype(np.int64) * n + found.j)
