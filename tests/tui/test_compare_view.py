"""The full-screen compare (issue #16, item 4): pictures large enough to decide from, a flip
between A and B in one place, a difference view, the pair's kind and evidence, and the review's
keys (next pair, mark, not a duplicate) without leaving it. Also: the review's own preview
takes the rows a short table leaves empty."""

from __future__ import annotations

import pytest
from conftest import wait_for_review

from tui_dedup.tui.app import create_app
from tui_dedup.tui.screens import compare as compare_mod
from tui_dedup.tui.screens.compare import CompareScreen
from tui_dedup.tui.screens.help import HelpScreen
from tui_dedup.tui.widgets import preview as preview_mod
from tui_dedup.tui.widgets.pair_table import PairTable
from tui_dedup.tui.widgets.picture_frame import PictureFrame
from tui_dedup.tui.widgets.preview import PreviewPane


@pytest.fixture
def app(settings, monkeypatch):
    monkeypatch.setattr(preview_mod, "DEBOUNCE", 0.001)
    monkeypatch.setattr(compare_mod, "DEBOUNCE", 0.001)
    settings.preview = "halfblock"
    return create_app(settings)


async def settle(app, pilot) -> None:
    for _ in range(4):
        await pilot.pause(0.02)
        await app.workers.wait_for_complete()
    await pilot.pause()


def row_files(app) -> tuple[str, str]:
    """The files of the review's selected row (the screen under the compare)."""
    review = app.screen_stack[1] if isinstance(app.screen, CompareScreen) else app.screen
    i, j, _ = review.views.selected_pair()
    entries = review.session.store.entries
    return entries[i].path, entries[j].path


def shown_files(screen: CompareScreen) -> tuple[str, str]:
    pane = screen.query_one("#compare-sides", PreviewPane)
    assert pane.shown_pair is not None
    return pane.shown_pair


async def open_compare(app, pilot) -> CompareScreen:
    await wait_for_review(app, pilot)
    await pilot.press("enter")
    await settle(app, pilot)
    assert isinstance(app.screen, CompareScreen)
    return app.screen


@pytest.mark.parametrize("size", [(80, 24), (160, 50)])
async def test_each_picture_gets_at_least_38_by_18_cells(app, size) -> None:
    async with app.run_test(size=size) as pilot:
        screen = await open_compare(app, pilot)
        frames = list(screen.query_one("#compare-sides").query(PictureFrame))
        assert len(frames) == 2
        for frame in frames:
            cols, rows = frame.cells
            assert cols >= 38 and rows >= 18, (size, frame.cells)
            assert frame.shown is not None  # a picture, not a placeholder
        assert shown_files(screen) == row_files(app)
        # what the pair is, from the verdict stage, above the pictures
        assert "1/" in screen.title_text
        kind = screen.title_text.split(" · ")[1]
        assert kind in {
            "exact",
            "same pixels",
            "re-encoded",
            "rotated",
            "mirrored",
            "edited",
            "cropped",
            "similar shot",
            "unconfirmed",
        }


async def test_flip_shows_a_then_b_in_one_place_at_one_scale(app) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_compare(app, pilot)
        a_path, b_path = row_files(app)
        await pilot.press("f")
        await settle(app, pilot)
        frame = screen.query_one("#compare-frame", PictureFrame)
        cols, rows = frame.cells
        assert cols >= 76 and rows >= 18  # one picture: the whole width
        assert screen.label_text.startswith("A  " + a_path.rsplit("/", 1)[1])
        picture_a = frame.shown
        assert picture_a is not None
        await pilot.press("f")  # no decode between: the lined-up B is already there
        assert screen.label_text.startswith("B  " + b_path.rsplit("/", 1)[1])  # at once
        assert "onto A" in screen.label_text
        assert frame.shown is picture_a  # the picture follows when the keys pause
        await pilot.pause(compare_mod.PICTURE_PAUSE * 2)
        picture_b = frame.shown
        assert picture_b is not None and picture_b is not picture_a
        assert picture_b.size == picture_a.size
        await pilot.press("left")  # the side keys show that side
        await pilot.pause(compare_mod.PICTURE_PAUSE * 2)
        assert frame.shown is picture_a


async def test_difference_view_says_how_much_differs(app) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_compare(app, pilot)
        await pilot.press("x")
        await settle(app, pilot)
        assert screen.label_text.startswith("Difference: red where A and B disagree (")
        frame = screen.query_one("#compare-frame", PictureFrame)
        assert frame.shown is not None
        await pilot.press("b")
        assert screen.query_one("#compare-sides").display
        assert not screen.query_one("#compare-one").display


async def test_next_pair_mark_and_back_keep_the_table_and_the_compare_together(app) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_compare(app, pilot)
        first = row_files(app)
        await pilot.press("j")
        await settle(app, pilot)
        second = row_files(app)
        assert second != first
        assert shown_files(screen) == second
        assert screen.title_text.startswith("2/")
        await pilot.press("right", "space")  # mark side B of the shown pair
        await settle(app, pilot)
        assert "marked: B" in screen.title_text
        assert "MARKED" in screen.query_one("#compare-sides", PreviewPane).side_text("b")
        await pilot.press("escape")
        await settle(app, pilot)
        review = app.screen
        assert not isinstance(review, CompareScreen)
        table = review.query_one(PairTable)
        assert table.current_pair()[1:] == tuple(review.session.row_of_path[p] for p in second)
        marked = review.model.marked_files()
        assert [review.session.store.entries[int(r)].path for r in marked] == [second[1]]


async def test_not_a_duplicate_from_the_compare_moves_on_to_the_next_pair(app) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_compare(app, pilot)
        first = row_files(app)
        n = len(app.screen_stack[1].session.pairs)
        await pilot.press("s")
        await settle(app, pilot)
        assert isinstance(app.screen, CompareScreen)
        assert len(app.screen_stack[1].session.pairs) == n - 1
        assert shown_files(screen) == row_files(app) != first


async def test_help_names_the_compare_keys(app) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await open_compare(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = "\n".join(str(w.render()) for w in app.screen.query("Static"))
        for words in ("Flip A/B", "Difference", "Side by side", "Next pair", "Not a duplicate"):
            assert words in text


async def test_the_review_help_names_the_compare_key(app) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_review(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        text = "\n".join(str(w.render()) for w in app.screen.query("Static"))
        assert "Compare full screen" in text


async def test_the_preview_takes_the_rows_a_short_table_leaves(app) -> None:
    """160×50: the pictures fill at least 60 % of the rows the table does not need."""
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for_review(app, pilot)
        await settle(app, pilot)
        screen = app.screen
        pane = screen.query_one(PreviewPane)
        main = screen.query_one("#review-main").region

        def picture_share() -> float:
            table = screen.query_one(PairTable).region
            free = (main.height - min(table.height, screen.views.rows_wanted())) * main.width
            frames = [f.region for f in pane.query(PictureFrame)]
            return sum(r.width * r.height for r in frames) / free

        assert picture_share() >= 0.6  # a long table: the pane still gets most rows
        await pilot.press("slash", *"old laptop", "enter")  # a few pairs
        await settle(app, pilot)
        rows = screen.views.rows_wanted()
        assert rows < 20
        assert screen.query_one(PairTable).region.height <= max(rows, 5)
        assert picture_share() >= 0.6


def _pictures_visible(pane: PreviewPane) -> bool:
    return all(f.visible for f in pane.query(PictureFrame))


async def test_help_stands_alone_and_the_review_comes_back_names_first(app, monkeypatch) -> None:
    """Help is drawn on a plain background (a dimmed review with its pictures beneath cost
    ~100 ms a key at 160×50); back from help or the compare, the names go out a frame before
    the pictures, which then come back."""
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for_review(app, pilot)
        await settle(app, pilot)
        review = app.screen
        pane = review.query_one(PreviewPane)
        assert _pictures_visible(pane)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert app.screen.styles.background.a == 1  # nothing beneath is rendered
        first: list[PreviewPane] = []
        real = PreviewPane.text_first

        def spy(self: PreviewPane, pause: float | None = None) -> None:
            first.append(self)
            real(self, pause)

        monkeypatch.setattr(PreviewPane, "text_first", spy)
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen is review
        assert first == [pane]  # one frame of names only...
        assert not pane.has_class("-text-first") and _pictures_visible(pane)  # ...then pictures
        compare = await open_compare(app, pilot)
        sides = compare.query_one("#compare-sides", PreviewPane)
        assert _pictures_visible(sides)
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen is review and _pictures_visible(pane)
