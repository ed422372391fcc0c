"""Candidates in, verdicts out: every non-exact pair is confirmed before it is called a copy.

Why a stage of its own: the hash index proposes pairs cheaply and by the thousand, and on a real
photo library more than half of them were different pictures (night skies matched "as rot90",
one logo in two colours, bank statements with one layout). The verdict needs evidence that does
not share the hash's blind spots, and it must say what kind of copy a pair is.

Order of evidence, cheapest first (each pair stops at the first that decides):

1. the same bytes: ``exact``;
2. EXIF: two capture instants a fraction of a second or a few minutes apart (not whole hours)
   are two shots: ``similar shot``;
3. colour: one layout in other colours is another picture (a hash sees grey levels only);
4. the 256-bit hash under the pair's transform, trusted alone only within a few bits, for
   colour pictures with enough structure (:attr:`VerdictOptions.info_sure`), and tighter for
   a rotated or mirrored match (grey pictures, documents among them, always go on);
5. the pixel check at the working size (engine/verdicts/pixels.py), each file decoded once:
   copies keep fine detail in place everywhere; an edit changes it in one place; a similar shot
   keeps the coarse layout only; anything else is ``different`` and dropped;
6. pictures of different shapes: the crop check (engine/matching/verify.py);
7. across the pairs of one file: a copy is a copy of one capture
   (engine/verdicts/one_capture.py); a RAW and the JPEG beside it are one shot, not copies
   (engine/verdicts/twins.py).

The thresholds, and how one pixel comparison is judged by them, are in
engine/verdicts/rules.py; they come from the tune half of benchmarks/library and
benchmarks/accuracy (figures in benchmarks/RESULTS.md).
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

import numpy as np

from tui_dedup.engine.features.store import FeatureStore
from tui_dedup.engine.matching import crop_windows
from tui_dedup.engine.matching.compare import apply_transform
from tui_dedup.engine.matching.crop_stage import aspect_ratios
from tui_dedup.engine.matching.verify import verify_pairs
from tui_dedup.engine.memory import opencv_threads
from tui_dedup.engine.model import Pairs
from tui_dedup.engine.verdicts import cheap, pixels
from tui_dedup.engine.verdicts.evidence import blank
from tui_dedup.engine.verdicts.kinds import Kind
from tui_dedup.engine.verdicts.one_capture import demote_cross_shots
from tui_dedup.engine.verdicts.rules import Strictness, VerdictOptions, bad_cells, judge
from tui_dedup.engine.verdicts.twins import mark_format_twins

Progress = Callable[[int, int], None]
#: Mean grey level (0–255) below which a low-information picture counts as dark and sparse.
DIM_LEVEL = 70.0


class Remembered(Protocol):
    """Where verdicts of pixel-checked pairs are kept between runs (engine/cache/verdicts.py)."""

    def keys(self, store: FeatureStore, pairs: Pairs, rows: np.ndarray) -> list[bytes]: ...

    def recall(self, keys: list[bytes]) -> dict[bytes, tuple[int, np.ndarray]]: ...

    def keep(self, items: list[tuple[bytes, int, np.ndarray]]) -> None: ...


def confirm(
    store: FeatureStore,
    pairs: Pairs,
    options: VerdictOptions | None = None,
    *,
    capture: Callable[[int, int], int] | None = None,
    remembered: Remembered | None = None,
    pixel_check: bool = True,
    should_stop: Callable[[], bool] | None = None,
    on_progress: Progress | None = None,
) -> Pairs:
    """``pairs`` with ``kind`` and ``evidence`` filled; pairs the stop flag left out stay
    ``unconfirmed``. ``capture(i, j)`` gives the EXIF evidence of two rows (1 same shot,
    -1 different shots, 0 none). ``pixel_check=False`` decides only what the stored evidence
    and the remembered verdicts can (microseconds a pair): the rest stay ``unconfirmed``, for
    a screen that must answer a key at once and confirm in a second pass."""
    opts = options or VerdictOptions()
    n = len(pairs)
    kind = np.full(n, Kind.UNCONFIRMED, np.int8)
    ev = blank(n)
    if n == 0:
        return _with(pairs, kind, ev)
    kind[pairs.exact] = Kind.EXACT
    if not cheap.has_verdict_columns(store):
        return _with(pairs, kind, ev)
    ev["pdq"] = cheap.pdq_distance(store, pairs)
    ev["chroma"] = cheap.chroma_difference(store, pairs)
    ev["info"] = cheap.information(store, pairs)
    ev["scale"] = _pixel_ratio(store, pairs)
    todo = ~pairs.exact
    if capture is not None:
        for k in np.flatnonzero(todo):
            ev["capture"][k] = capture(int(pairs.i[k]), int(pairs.j[k]))
        two_shots = todo & (ev["capture"] < 0)
        kind[two_shots] = Kind.SIMILAR
        todo &= ~two_shots
    # One layout in other colours: judged only where the layouts line up (a crop moves the
    # colour cells); NaN (a grey picture) compares False.
    recolour = todo & (ev["chroma"] > opts.chroma_max) & (ev["pdq"] <= opts.pdq_layout)
    kind[recolour] = Kind.DIFFERENT
    todo &= ~recolour
    turned = pairs.transform != 0
    limit = np.where(turned, opts.pdq_sure_turned, opts.pdq_sure)
    colour = ~np.isnan(ev["chroma"])
    sure = todo & colour & (ev["info"] >= opts.info_sure) & (ev["pdq"] <= limit)
    sure |= todo & (ev["capture"] > 0) & (ev["pdq"] <= 2 * limit)
    kind[sure] = _copy_kind(store, pairs, np.flatnonzero(sure))
    todo &= ~sure
    rows = np.flatnonzero(todo)
    keys: list[bytes] = []
    if rows.size and remembered is not None:
        keys = remembered.keys(store, pairs, rows)
        known = remembered.recall(keys)
        missed: list[int] = []
        for pos, (row, key) in enumerate(zip(rows.tolist(), keys, strict=True)):
            if key in known:
                kind[row] = known[key][0]
                ev[row] = known[key][1]
            else:
                missed.append(pos)
        rows, keys = rows[missed], [keys[p] for p in missed]
    if rows.size and pixel_check:
        _pixel_check(store, pairs, rows, kind, ev, opts, should_stop, on_progress)
        if remembered is not None:
            remembered.keep(
                [
                    (key, int(kind[k]), ev[k])
                    for k, key in zip(rows.tolist(), keys, strict=True)
                    if kind[k] != Kind.UNCONFIRMED
                ]
            )
    demote_cross_shots(pairs, kind, ev, capture)
    mark_format_twins(store, pairs, kind)
    return _with(pairs, kind, ev)


def _with(pairs: Pairs, kind: np.ndarray, ev: np.ndarray) -> Pairs:
    c = pairs.candidates()
    return Pairs(c.i, c.j, c.distance, c.similarity, c.transform, c.exact, kind, ev)


def _pixel_ratio(store: FeatureStore, pairs: Pairs) -> np.ndarray:
    m = store.metas
    width, height = getattr(m, "width", None), getattr(m, "height", None)
    if isinstance(width, np.ndarray) and isinstance(height, np.ndarray):  # MetaColumns
        px = width.astype(np.float64) * height
    else:
        px = np.array([m[r].width * m[r].height for r in range(len(store))], np.float64)
    return (px[pairs.j] / np.maximum(px[pairs.i], 1)).astype(np.float32)


def _copy_kind(store: FeatureStore, pairs: Pairs, rows: np.ndarray) -> np.ndarray:
    """Which kind of copy each confirmed pair is (rows index ``pairs``)."""
    out = np.full(rows.size, Kind.REENCODED, np.int8)
    t = pairs.transform[rows]
    out[(t >= 1) & (t <= 3)] = Kind.ROTATED
    out[t >= 4] = Kind.MIRRORED
    plain = np.flatnonzero(t == 0)
    if plain.size:
        i, j = pairs.i[rows[plain]], pairs.j[rows[plain]]
        m = store.metas
        same = np.array(
            [
                (m[a].width, m[a].height, m[a].format) == (m[b].width, m[b].height, m[b].format)
                for a, b in zip(i.tolist(), j.tolist(), strict=True)
            ],
            bool,
        )
        for name in ("tiles", "hist3", "pdq"):
            col = store.features.get(name)
            if col is not None:
                same &= (col[i] == col[j]).reshape(len(i), -1).all(axis=1)
        out[plain[same]] = Kind.SAME_PIXELS
    return out


class _Images:
    """Working images by store row, decoded once each while they are in use (LRU)."""

    def __init__(self, store: FeatureStore, keep: int) -> None:
        self.store = store
        self.keep = keep
        self.items: OrderedDict[int, np.ndarray | None] = OrderedDict()
        self.decoded = 0

    def load(self, rows: list[int], pool: ThreadPoolExecutor) -> None:
        missing = [r for r in dict.fromkeys(rows) if r not in self.items]
        for r, img in zip(
            missing,
            pool.map(lambda r: pixels.working_image(self.store.entries[r]), missing),
            strict=True,
        ):
            self.items[r] = img
            self.decoded += 1
        for r in rows:
            self.items.move_to_end(r)
        while len(self.items) > max(self.keep, len(set(rows))):
            self.items.popitem(last=False)

    def get(self, r: int) -> np.ndarray | None:
        return self.items.get(r)


_BATCH = 64  # pairs whose images are loaded together


def _pixel_check(
    store: FeatureStore,
    pairs: Pairs,
    rows: np.ndarray,
    kind: np.ndarray,
    ev: np.ndarray,
    opts: VerdictOptions,
    should_stop: Callable[[], bool] | None,
    on_progress: Progress | None,
) -> None:
    # Pairs sharing a file run close together, so each file is decoded once.
    order = rows[np.lexsort((pairs.j[rows], pairs.i[rows]))]
    dim = _dim(store, pairs)
    window = _window_like(store, pairs, order)
    images = _Images(store, opts.cache_images)
    crop_rows: list[int] = []
    workers = max(1, 2 * (os.cpu_count() or 2))
    with (
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dedup-confirm") as pool,
        opencv_threads(1),
    ):
        for start in range(0, order.size, _BATCH):
            if should_stop is not None and should_stop():
                return
            batch = order[start : start + _BATCH].tolist()
            images.load([int(r) for k in batch for r in (pairs.i[k], pairs.j[k])], pool)

            def one(k: int) -> tuple[int, Kind, pixels.Aligned | None, bool]:
                a = images.get(int(pairs.i[k]))
                b = images.get(int(pairs.j[k]))
                if a is None or b is None:
                    return k, Kind.UNCONFIRMED, None, False
                how = Strictness(
                    strict=bool(np.isnan(ev["chroma"][k]) and ev["info"][k] >= opts.info_sure),
                    dark=bool(ev["info"][k] < opts.info_sure and dim[k]),
                    window=bool(window[k]),
                )
                return k, *judge(a, apply_transform(b, int(pairs.transform[k])), opts, how)

            for k, verdict, res, crop_check in pool.map(one, batch):
                if crop_check:  # no keypoints to register: the crop check may still accept
                    crop_rows.append(k)
                if res is not None:
                    ev["fine"][k] = res.fine
                    ev["coarse"][k] = res.coarse
                    ev["cells"][k] = bad_cells(res, opts)
                    if res.registered:
                        ev["kept"][k] = res.kept
                if verdict is Kind.REENCODED and ev["pdq"][k] > opts.pdq_copy_max:
                    verdict = Kind.SIMILAR  # the pixels agree, the whole-picture hash does not
                if verdict is Kind.REENCODED:
                    verdict = Kind(_copy_kind(store, pairs, np.array([k]))[0])
                    if verdict is Kind.SAME_PIXELS and not res_is_identical(res):
                        verdict = Kind.REENCODED
                kind[k] = verdict
            if on_progress is not None:
                on_progress(min(start + _BATCH, order.size), order.size)
    if crop_rows:
        _crop_check(store, pairs, np.array(crop_rows), kind, ev, should_stop)
        # The crop check's keypoints and thumbnails are scratch for this run: a review of
        # 100,000 files must not carry them (~5 KB a file) for its whole life.
        store.drop_crop_scratch()


def _dim(store: FeatureStore, pairs: Pairs) -> np.ndarray:
    """Per pair: is either picture dark on average (a night sky, not a smooth bright sky)?"""
    tiles = store.features.get("tiles")
    if tiles is None:
        return np.ones(len(pairs), bool)
    cells = tiles.reshape(len(store), -1)
    level = cells.mean(axis=1, dtype=np.float32)  # no float64 copy of the whole column
    return np.minimum(level[pairs.i], level[pairs.j]) < DIM_LEVEL


def _window_like(store: FeatureStore, pairs: Pairs, rows: np.ndarray) -> np.ndarray:
    """Per pair (True only at ``rows``): does one picture's tiles match a window of the
    other's, under the pair's transform (engine/matching/crop_windows.py)?"""
    out = np.zeros(len(pairs), bool)
    tiles = store.features.get("tiles")
    if tiles is None or rows.size == 0:
        return out
    t = pairs.transform[rows].astype(np.int64)[:, None]
    score = crop_windows.scores(tiles, aspect_ratios(store), pairs.i[rows], pairs.j[rows], turns=t)
    out[rows] = score >= crop_windows.MIN_SCORE
    return out


def res_is_identical(res: pixels.Aligned | None) -> bool:
    return res is not None and res.fine >= 0.999


def _crop_check(
    store: FeatureStore,
    pairs: Pairs,
    rows: np.ndarray,
    kind: np.ndarray,
    ev: np.ndarray,
    should_stop: Callable[[], bool] | None,
) -> None:
    """Pairs the keypoint registration could not place: the crop check's small keypoints and
    dense search of one picture inside the other may still find a crop."""
    inliers = verify_pairs(
        store,
        pairs.i[rows],
        pairs.j[rows],
        transform=pairs.transform[rows],
        should_stop=should_stop,
    )
    ok = inliers > 0
    kind[rows[ok]] = Kind.CROPPED  # the others keep the verdict the pixel check gave
    scale = ev["scale"][rows]
    ev["kept"][rows[ok]] = np.minimum(scale[ok], 1 / np.maximum(scale[ok], 1e-6))
