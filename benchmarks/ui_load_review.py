"""Part 4 of bench_ui_load.py: the review screen's keys, headless, on the partial result.

Apart from the scan-screen part because it measures another screen with its own keys and
probes; it runs inside bench_ui_load.bench_pilot after the cancel (the review screen exists
only once a scan has ended). See bench_ui_load.py's docstring for what is timed.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ui_load_common import PACE, TimedDedupApp, press, wait_for  # noqa: E402

from tui_dedup.tui.screens.details import DetailsScreen  # noqa: E402
from tui_dedup.tui.screens.help import HelpScreen  # noqa: E402
from tui_dedup.tui.screens.review import ReviewScreen  # noqa: E402
from tui_dedup.tui.widgets.pair_table import PairTable  # noqa: E402

REVIEW_KINDS = (
    "down (cursor moves)",
    "pagedown (cursor moves a page)",
    "o (next sort column)",
    "space (mark / unmark)",
    "p (preview pane shown / hidden)",
    "g (pairs ↔ groups)",
    "d (details screen opens)",
    "? (help screen opens)",
    "escape (details / help closes)",
)


def review_cycle(review: ReviewScreen, n: int) -> list[tuple[str, str, Callable[[], object]]]:
    """(kind, key, state probe) of cycle ``n``; a key's result is visible in the first frame
    whose probe differs from its value before the key (screen changes are probed by type)."""
    model = review.model
    table = review.query_one(PairTable)
    pane = review.query("#preview")
    keys = [
        (REVIEW_KINDS[0], "down", lambda: model.cursor),
        (REVIEW_KINDS[1], "pagedown", lambda: model.cursor),
        (REVIEW_KINDS[2], "o", lambda: (model.sort_column, table.scroll_y)),
        (REVIEW_KINDS[3], "space", lambda: int(model.marked_files().size)),
    ]
    if pane:
        keys.append((REVIEW_KINDS[4], "p", lambda: pane.first().has_class("hidden")))
    keys += [
        (REVIEW_KINDS[5], "g", lambda: review.views.group_mode),
        (REVIEW_KINDS[5], "g", lambda: review.views.group_mode),
        (REVIEW_KINDS[6], "d", None),
        (REVIEW_KINDS[8], "escape", None),
        (REVIEW_KINDS[7], "question_mark", None),
        (REVIEW_KINDS[8], "escape", None),
    ]
    if model.cursor and model.cursor + 3 * max(table.size.height, 1) >= len(model):
        keys.insert(0, ("", "home", lambda: model.cursor))  # not timed: keeps pagedown moving
    return keys


def review_pred(
    review: ReviewScreen, key: str, probe: Callable[[], object] | None, opens: dict
) -> Callable[[object], bool]:
    """The frame predicate: the probe's value changed, or the expected screen is on top."""
    if probe is not None:
        before = probe()
        return lambda s: s is review and probe() != before
    if key in opens:
        return lambda s: isinstance(s, opens[key])
    return lambda s: s is review


async def bench_review(app: TimedDedupApp, pilot, cycles: int, budget: float) -> dict:
    """The review screen's keys on the partial result the cancel left (Pilot, headless)."""
    await wait_for(
        lambda: isinstance(app.screen, ReviewScreen) and not app.screen.matching,
        120,
        f"the review screen after the cancel (stack: {app.screen_stack})",
    )
    review = app.screen
    if len(review.model) < 2:
        return {"skipped": f"{len(review.model)} pair(s) in the partial result"}
    await pilot.pause(0.5)
    out: dict = {"keys": {k: [] for k in REVIEW_KINDS}, "pairs": len(review.model)}
    opens = {"d": DetailsScreen, "question_mark": HelpScreen}
    t_start, done = time.perf_counter(), 0
    for n in range(cycles):
        for kind, key, probe in review_cycle(review, n):
            w = await press(app, key, review_pred(review, key, probe, opens))
            if w.t_visible is None:
                raise RuntimeError(f"review: no visible result for {key} ({kind}), {app.screen}")
            if kind:
                out["keys"][kind].append((w.t_visible, w.t_any))
            await pilot.pause(PACE)
        done += 1
        if time.perf_counter() - t_start > budget:
            break
    out["cycles"], out["seconds"] = done, time.perf_counter() - t_start
    return out
