"""The group view stays quick at 100k pairs: only the lines on screen are formatted."""

from __future__ import annotations

import numpy as np
from textual.app import App, ComposeResult

from tui_dedup.engine.matching.group import star_groups
from tui_dedup.engine.model import Pairs
from tui_dedup.tui.widgets.group_view import GroupView
from tui_dedup.tui.widgets.table_model import PairTableModel


def synthetic(n_files: int, n_pairs: int) -> tuple[PairTableModel, Pairs]:
    rng = np.random.default_rng(1)
    a = rng.integers(0, n_files, n_pairs * 2)
    b = rng.integers(0, n_files, n_pairs * 2)
    keep = a != b
    i, j = np.minimum(a, b)[keep], np.maximum(a, b)[keep]
    key = np.unique(i.astype(np.int64) * n_files + j)[:n_pairs]
    i, j = (key // n_files).astype(np.int32), (key % n_files).astype(np.int32)
    m = len(i)
    pairs = Pairs(
        i,
        j,
        np.zeros(m, np.int16),
        rng.random(m).astype(np.float32),
        np.zeros(m, np.int8),
        np.zeros(m, bool),
    )
    paths = [f"folder{f % 97}/IMG_{f:06d}.jpg" for f in range(n_files)]
    ones = np.ones(n_files)
    facts = {
        "size": ones * 1000,
        "width": ones * 640,
        "height": ones * 480,
        "mtime": ones * 1.7e9,
        "badges": ones * 0,
    }
    model = PairTableModel(pairs, paths, facts, {"method": "phash"})
    return model, pairs


class GroupsApp(App):
    def compose(self) -> ComposeResult:
        yield GroupView()


async def test_group_view_100k_pairs():
    model, pairs = synthetic(60_000, 100_000)
    groups = star_groups(pairs, model.n_files)
    app = GroupsApp()
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(GroupView)
        view.set_data(model, groups, pairs)  # its speed: benchmarks/bench_table_latency.py
        view.focus()
        await pilot.press("end")
        assert view.current_file() == groups[-1].members[-1]
        await pilot.press("home", "down", "down")
        assert view.current_file() == groups[0].members[2]
        assert view.similarity(groups[0].keeper, groups[0].members[1]) is not None
