"""The pair table: its model without Textual, then the widget driven through the Pilot."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
from textual.app import App, ComposeResult

from tui_dedup.engine.model import Pairs
from tui_dedup.tui.widgets import cells
from tui_dedup.tui.widgets import table_model as tm
from tui_dedup.tui.widgets.pair_table import PairTable
from tui_dedup.tui.widgets.table_columns import COLUMN_BY_KEY, COLUMN_KEYS
from tui_dedup.tui.widgets.table_layout import compute_layout
from tui_dedup.tui.widgets.table_model import PairTableModel

# ---------------------------------------------------------------------------------------------
# Fixtures


def make_model(n_pairs: int, n_files: int, seed: int = 0, **kw) -> PairTableModel:
    """Random canonical pairs (i < j) over generated paths; ties in every column on purpose."""
    rng = np.random.default_rng(seed)
    i = rng.integers(0, n_files - 1, n_pairs)
    j = np.minimum(i + rng.integers(1, 8, n_pairs), n_files - 1)
    pairs = Pairs(
        i.astype(np.int32),
        j.astype(np.int32),
        rng.integers(0, 10, n_pairs).astype(np.int16),
        (rng.integers(900, 1001, n_pairs) / 1000).astype(np.float32),
        np.zeros(n_pairs, np.int8),
        np.zeros(n_pairs, bool),
    )
    paths = [f"{['Trip', 'home', 'Work'][f % 3]}/d{f % 7}/img{f:05d}.jpg" for f in range(n_files)]
    return PairTableModel(
        pairs,
        paths,
        facts={
            "size": rng.integers(1, 5, n_files) * 1_000_000,
            "width": rng.choice([640, 4032], n_files),
            "height": rng.choice([480, 3024], n_files),
            "mtime": 1.7e9 + rng.integers(0, 3, n_files) * 86_400.0,
            "badges": np.zeros(n_files, np.uint8),
        },
        labels={"method": "phash"},
        **kw,
    )


class TableApp(App):
    """The widget alone, with the keys the review screen will bind."""

    BINDINGS = [  # noqa: RUF012
        ("o", "cycle_sort", "Sort"),
        ("r", "reverse_sort", "Reverse"),
        ("space", "mark", "Mark"),
    ]

    def __init__(self, model: PairTableModel) -> None:
        super().__init__()
        self.model = model
        self.moved: list[PairTable.CursorMoved] = []
        self.sorted: list[PairTable.SortChanged] = []

    def compose(self) -> ComposeResult:
        yield PairTable(self.model)

    @property
    def table(self) -> PairTable:
        return self.query_one(PairTable)

    def action_cycle_sort(self) -> None:
        self.table.cycle_sort()

    def action_reverse_sort(self) -> None:
        self.table.reverse_sort()

    def action_mark(self) -> None:
        self.table.toggle_mark_current()

    def on_pair_table_cursor_moved(self, message: PairTable.CursorMoved) -> None:
        self.moved.append(message)

    def on_pair_table_sort_changed(self, message: PairTable.SortChanged) -> None:
        self.sorted.append(message)


def lines(table: PairTable) -> list[str]:
    return [table.render_line(y).text for y in range(table.scrollable_content_region.height)]


# ---------------------------------------------------------------------------------------------
# Model, no Textual


def test_model_module_does_not_import_textual():
    tree = ast.parse(Path(tm.__file__).read_text())
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not [m for m in imported if m.split(".")[0] in ("textual", "rich")]


def test_cell_formats():
    assert cells.format_similarity(0.973) == "97.3%"
    assert cells.format_similarity(1.0) == "100.0%"
    assert cells.human_size(999) == "999 B"
    assert cells.human_size(3_200_000) == "3.2 MB"
    assert cells.human_size(123_456_789) == "123 MB"
    assert cells.human_size(999_600_000) == "1.0 GB"
    assert max(len(cells.human_size(10**k + 7)) for k in range(18)) <= 7
    assert cells.format_resolution(4032, 3024) == "4032×3024"
    assert cells.format_resolution(0, 0) == ""
    assert cells.format_date(0) == ""
    assert len(cells.format_date(1.7e9)) == 10


def test_shorten_middle_keeps_the_file_name_and_the_width():
    path = "2019/holidays/with a long folder name/IMG_0042.jpg"
    short = cells.shorten_middle(path, 24)
    assert len(short) == 24 and "…" in short
    assert short.endswith("IMG_0042.jpg") and short.startswith("20")
    assert cells.shorten_middle("a.jpg", 8) == "a.jpg   "
    wide = cells.shorten_middle("写真/" * 6 + "猫.jpg", 15)
    assert cells.cell_width(wide) == 15 and wide.rstrip().endswith("猫.jpg")


def test_printable_defuses_undecodable_and_control_characters():
    assert cells.printable("a\nb\udcff.jpg") == "a?b\ufffd.jpg"
    assert cells.printable("plain.jpg") == "plain.jpg"


@pytest.mark.parametrize("column", COLUMN_KEYS)
@pytest.mark.parametrize("reverse", [False, True])
def test_sort_equals_a_stable_argsort(column, reverse):
    m = make_model(3000, 400, seed=1)
    m.sort_by(column, reverse)
    key = m.sort_key(column).astype(np.float64)
    expected = np.argsort(-key if reverse else key, kind="stable")
    assert np.array_equal(m.view, expected)
    assert m.sort_column == column and m.sort_reverse is reverse


def test_sort_directions_and_cycle():
    m = make_model(200, 50)
    assert (m.sort_column, m.sort_reverse) == ("similarity", True)  # most similar first
    assert np.all(np.diff(m.pairs.similarity[m.view]) <= 0)
    m.reverse_sort()
    assert np.all(np.diff(m.pairs.similarity[m.view]) >= 0)
    assert m.cycle_sort() == "kind"
    assert m.cycle_sort() == "method"
    assert m.cycle_sort() == "file_a"
    shown = [m.paths[f].casefold() for f in m.pairs.i[m.view]]
    assert shown == sorted(shown)


def test_filter_is_case_insensitive_on_either_side_and_refines():
    m = make_model(2000, 300)
    m.set_filter("TRIP/D1")
    fm = np.array(["trip/d1" in p.casefold() for p in m.paths])
    expected = fm[m.pairs.i] | fm[m.pairs.j]
    assert sorted(m.view.tolist()) == np.flatnonzero(expected).tolist()
    m.set_filter("trip/d1/img0001")  # refines the previous file mask
    fresh = make_model(2000, 300)
    fresh.set_filter("trip/d1/img0001")
    assert np.array_equal(m.view, fresh.view)
    m.set_filter("")
    assert len(m) == m.total
    m.set_filter("no such thing")
    assert len(m) == 0 and m.current() is None and m.toggle_mark_current() is None


def test_cursor_follows_its_pair_through_a_filter_and_goes_to_the_top_on_a_sort():
    m = make_model(2000, 300)
    m.set_cursor(123)
    pair = m.current()
    m.set_filter(m.paths[pair[1]])
    assert m.current() == pair
    m.sort_by("size_b")
    assert m.cursor == 0 and m.current()[0] == int(m.view[0])


def test_cursor_goes_to_the_next_shown_pair_when_its_pair_is_filtered_out():
    m = make_model(2000, 300)
    not_work = [
        pos for pos, p in enumerate(m.view.tolist()) if m.pairs.i[p] % 3 != 2 != m.pairs.j[p] % 3
    ]
    start = not_work[len(not_work) // 2]
    m.set_cursor(start)
    hidden = m.current()
    order = m.view.copy()
    m.set_filter("work")
    assert m.current() != hidden
    # The new cursor pair is the first shown one after the old pair in the same order.
    later = order[start + 1 :]
    shown = set(m.view.tolist())
    assert m.current()[0] == next(p for p in later.tolist() if p in shown)


def test_marks_are_per_file_and_survive_sort_filter_and_rematch():
    m = make_model(2000, 300)
    m.set_side("b")
    f, state = m.toggle_mark_current()
    assert state and f == m.current()[2] and m.marked_files().tolist() == [f]
    m.sort_by("file_a")
    m.set_filter("img")
    assert m.is_marked(f)
    # A re-match: fewer pairs, the cursor pair among them.
    keep = m.current()
    sub = np.sort(np.r_[np.arange(0, m.total, 3), keep[0]])
    m.set_pairs(m.pairs.take(np.unique(sub)))
    assert m.is_marked(f)
    assert m.current()[1:] == keep[1:]
    assert m.labels("method").names == ("phash",)


def test_format_row_shows_marks_per_side():
    m = make_model(50, 20)
    layout = compute_layout(160)
    _, _, j = m.current()
    m.set_mark(j)
    row = m.format_row(m.cursor, layout)
    file_a = row.cells[layout.columns.index(COLUMN_BY_KEY["file_a"])]
    file_b = row.cells[layout.columns.index(COLUMN_BY_KEY["file_b"])]
    assert file_b.startswith("✓ ") and not file_a.startswith("✓")
    assert (row.marked_a, row.marked_b) == (False, True)
    assert [len(c) for c in row.cells] == list(layout.widths)


@pytest.mark.parametrize("width", [60, 80, 100, 160, 240])
def test_layout_fits_and_gives_paths_the_rest(width):
    layout = compute_layout(width)
    keys = [c.key for c in layout.columns]
    # What a pair is (exact, re-encoded, similar shot...) is never dropped: at 80 cells two
    # copies would otherwise both read "100.0 %".
    assert {"similarity", "kind", "file_a", "file_b"} <= set(keys)
    assert layout.total <= width
    assert keys.index("file_a") < keys.index("file_b")
    if width >= 80:
        assert layout.total == width
        assert "size_a" in keys and "size_b" in keys
    if width >= 100:
        assert "res_a" in keys and "res_b" in keys
    if width >= 160:
        assert set(keys) == set(COLUMN_KEYS)


def test_method_per_pair():
    m = make_model(6, 10)
    m.set_pairs(m.pairs, {"method": ["phash", "dhash", "phash", "colorhist", "dhash", "phash"]})
    m.sort_by("method")
    names = [COLUMN_BY_KEY["method"].text(m, int(p)) for p in m.view]
    assert names == ["colorhist", "dhash", "dhash", "phash", "phash", "phash"]


# ---------------------------------------------------------------------------------------------
# Widget through the Pilot


async def test_header_rows_and_cursor_keys():
    app = TableApp(make_model(500, 120))
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.table
        text = lines(table)
        assert "Sim ▼" in text[0] and "File A" in text[0] and "File B" in text[0]
        assert "%" in text[1]
        assert table.virtual_size.height == 501
        assert app.model.cursor == 0
        await pilot.press("down", "j", "j", "k")
        assert app.model.cursor == 2
        await pilot.press("pagedown")
        page = table.scrollable_content_region.height - 1
        assert app.model.cursor == 2 + page
        await pilot.press("end")
        await pilot.pause()
        assert app.model.cursor == 499
        # The last row is drawn on the last line.
        last = app.model.format_row(499, table._get_layout()).cells[0]
        assert lines(table)[-1].startswith(last)
        await pilot.press("home", "up")
        await pilot.pause()
        assert app.model.cursor == 0 and table.scroll_y == 0
        assert app.moved[-1].row == 0 and app.moved[-1].pair_index == app.model.current()[0]


async def test_cursor_row_and_chosen_side_are_styled():
    app = TableApp(make_model(50, 40))
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.table
        cursor_bg = table.get_component_rich_style("pair-table--cursor").bgcolor
        side_bg = table.get_component_rich_style("pair-table--side", partial=True).bgcolor

        def bgs(y: int) -> set:
            return {seg.style.bgcolor for seg in table.render_line(y) if seg.text.strip()}

        assert cursor_bg in bgs(1) and side_bg in bgs(1)
        assert cursor_bg not in bgs(2) and side_bg not in bgs(2)
        layout = table._get_layout()
        x_b = layout.spans()[[c.key for c in layout.columns].index("file_b")][0]

        def style_at(y: int, x: int):
            cells = 0
            for seg in table.render_line(y):
                if cells <= x < cells + len(seg.text):
                    return seg.style
                cells += len(seg.text)

        assert style_at(1, x_b).bgcolor == cursor_bg  # side A chosen: B is plain cursor
        await pilot.press("l")
        assert app.model.side == "b" and style_at(1, x_b).bgcolor == side_bg
        await pilot.press("h")
        assert app.model.side == "a"
        assert app.moved[-1].side == "a"


async def test_marks_show_and_survive_sort_and_filter():
    app = TableApp(make_model(300, 60))
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.table
        await pilot.press("right", "space")
        _, _, j = table.current_pair()
        assert app.model.is_marked(j)
        name = app.model.paths[j]
        assert "✓" in lines(table)[1]
        await pilot.press("down")  # off the cursor row, where the side style wins
        marked_color = table.get_component_rich_style("pair-table--marked", partial=True).color
        assert any(seg.style.color == marked_color for seg in table.render_line(1))
        await pilot.press("o", "o", "r")
        table.set_filter(name)
        await pilot.pause()
        assert app.model.is_marked(j)
        # Every shown row holds the marked file, and shows its mark.
        shown = [line for line in lines(table)[1:] if line.strip()]
        assert shown and all("✓" in line for line in shown)


async def test_a_resort_shows_the_top_of_the_new_order():
    """After o / O the first rows of the new order are on screen with the cursor on the first
    (it used to follow its pair, which after O meant landing at the bottom)."""
    app = TableApp(make_model(2000, 300))
    async with app.run_test(size=(100, 30)) as pilot:

        async def away_from_the_top() -> None:
            # Two pages and a row down (three key presses, not forty: each press waits for
            # the app to go idle), so the sort has a cursor and a scroll to put back.
            await pilot.press("pagedown", "pagedown", "j")
            assert app.model.cursor > 40 and int(app.table.scroll_y) > 0

        for _ in range(len(COLUMN_KEYS)):
            await away_from_the_top()
            await pilot.press("o")
            await pilot.pause()
            assert app.model.cursor == 0 and int(app.table.scroll_y) == 0
            assert app.table.current_pair()[0] == int(app.model.view[0])
        await away_from_the_top()
        await pilot.press("r")
        await pilot.pause()
        assert app.model.cursor == 0 and int(app.table.scroll_y) == 0
        assert [m.column for m in app.sorted][:3] == ["kind", "method", "file_a"]
        # Ten columns cycled back to similarity (highest first); "r" made it lowest first.
        assert (app.sorted[-1].column, app.sorted[-1].reverse) == ("similarity", False)


async def test_filter_shows_only_matching_rows():
    app = TableApp(make_model(2000, 300))
    async with app.run_test(size=(160, 30)) as pilot:
        app.table.set_filter("IMG00042")
        await pilot.pause()
        shown = [line for line in lines(app.table)[1:] if line.strip()]
        assert 0 < len(shown) == len(app.model)
        assert all("img00042" in line for line in shown)
        app.table.set_filter("")
        await pilot.pause()
        assert len(app.model) == 2000 and app.table.virtual_size.height == 2001


async def test_header_click_sorts_and_second_click_reverses():
    app = TableApp(make_model(500, 100))
    async with app.run_test(size=(100, 30)) as pilot:
        layout = app.table._get_layout()
        x = layout.spans()[[c.key for c in layout.columns].index("file_b")][0] + 1
        await pilot.click(PairTable, offset=(x, 0))
        assert (app.model.sort_column, app.model.sort_reverse) == ("file_b", False)
        assert "File B ▲" in lines(app.table)[0]
        await pilot.click(PairTable, offset=(x, 0))
        assert (app.model.sort_column, app.model.sort_reverse) == ("file_b", True)
        assert "File B ▼" in lines(app.table)[0]
        top = int(app.table.scroll_y)  # the cursor kept its pair, so the view scrolled
        await pilot.click(PairTable, offset=(2, 5))  # a row click selects it
        assert app.model.cursor == top + 4


async def test_works_at_80_columns():
    app = TableApp(make_model(500, 100))
    async with app.run_test(size=(80, 24)):
        text = lines(app.table)
        assert "File A" in text[0] and "File B" in text[0] and "Size" in text[0]
        width = app.table.scrollable_content_region.width
        assert all(len(line) == width for line in text)


async def test_a_million_pairs_formats_only_what_is_on_screen():
    model = make_model(1_000_000, 200_000, seed=3)
    app = TableApp(model)
    async with app.run_test(size=(100, 30)) as pilot:
        page = app.table.scrollable_content_region.height - 1
        assert model.rows_formatted <= page + 2
        await pilot.press("pagedown", "pagedown", "pagedown", "end", "up", "o")
        await pilot.pause()
        assert model.cursor < len(model)
        # Four new screens were drawn (three pages and the end; sorting by method keeps the
        # same rows in view) -- not a million rows.
        assert model.rows_formatted <= 6 * (page + 2)
        assert app.table.virtual_size.height == 1_000_001


async def test_empty_view_and_set_model():
    app = TableApp(make_model(100, 30))
    async with app.run_test(size=(100, 20)) as pilot:
        app.table.set_filter("nothing matches this")
        await pilot.press("down", "end", "space", "l")
        await pilot.pause()
        assert app.table.current_pair() is None
        assert app.moved[-1].pair_index == -1
        assert "File A" in lines(app.table)[0] and not lines(app.table)[1].strip()
        other = make_model(40, 20, seed=9)
        app.table.set_model(other)
        await pilot.press("j")
        await pilot.pause()
        assert other.cursor == 1 and app.table.virtual_size.height == 41
        assert app.moved[-1].pair_index == other.current()[0]


def test_a_shots_badge_stays_whole_when_its_path_is_cut():
    from tui_dedup.tui.widgets.table_columns import COLUMN_BY_KEY

    col = COLUMN_BY_KEY["file_a"]
    text = "  2024/trip/IMG_0201.JPG +RAW"
    cut = col.cut(text, 20, col.align)
    assert len(cut) == 20 and cut.rstrip().endswith("0201.JPG +RAW")
    assert col.pair_cut is not None
    pair = col.pair_cut(text, "  backup/2024/trip/IMG_0201.JPG +RAW", 24)
    assert len(pair) == 24 and pair.rstrip().endswith(".JPG +RAW")
    assert "+RAW" not in col.cut(text, 14, col.align)  # too narrow: the path comes first
