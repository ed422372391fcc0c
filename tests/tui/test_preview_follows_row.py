"""The preview always shows the selected row's pair, whatever the user did to get there.

Issue #13, item 7: after ``g``, Down, Down, ``g`` the pair table's row was one pair while the
preview still showed the pair last selected in the group view, so a person marking by the
pictures marked the wrong file. These tests walk views and rows the way a person does (pairs,
groups, filter, sort, re-match, skip, hiding the preview) and after every step compare the two
names under the pictures with the two files of the row the cursor is on.
"""

from __future__ import annotations

import os

import pytest
from conftest import wait_for_review

from tui_dedup.engine.index.hamming import DIHEDRAL_INVERSE
from tui_dedup.engine.model import TRANSFORMS
from tui_dedup.tui.app import create_app
from tui_dedup.tui.screens.details import DetailsScreen
from tui_dedup.tui.widgets import preview as preview_mod
from tui_dedup.tui.widgets.group_view import GroupView
from tui_dedup.tui.widgets.pair_table import PairTable
from tui_dedup.tui.widgets.preview import PreviewPane


@pytest.fixture
def app(settings, monkeypatch):
    # Pictures load as soon as the keys pause; with (almost) no wait the pictures are checked at
    # every step too (the names are shown at once in any case, before any picture).
    monkeypatch.setattr(preview_mod, "DEBOUNCE", 0.001)
    settings.preview = "halfblock"
    return create_app(settings)


def row_pair(screen) -> tuple[str, str] | None:
    """The two files of the row the cursor is on, read from the view the user is looking at."""
    groups = screen.query_one(GroupView)
    if groups.display and not groups.has_class("hidden"):
        pair = groups.current_pair()
    else:
        cur = screen.query_one(PairTable).current_pair()
        pair = None if cur is None else cur[1:]
    if pair is None:
        return None
    entries = screen.session.store.entries
    return entries[pair[0]].path, entries[pair[1]].path


def expected_turn(screen, a: str, b: str) -> str | None:
    """What B's line should say about rotation: from the match result, for B against A."""
    rows = screen.session.row_of_path
    i, j = rows[a], rows[b]
    pairs = screen.session.pairs
    hit = ((pairs.i == min(i, j)) & (pairs.j == max(i, j))).nonzero()[0]
    assert hit.size == 1, "the row is not a matched pair"
    t = int(pairs.transform[hit[0]])
    return TRANSFORMS[t if i < j else DIHEDRAL_INVERSE[t]]


async def settle(app, pilot) -> None:
    """Keys handled, any re-match installed, preview pictures decoded and handed over."""
    for _ in range(200):
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        pane = screen.query_one(PreviewPane)
        pictures_pending = (
            pane.display and pane.shown_pair is not None and pane.shown_pictures is None
        )
        if not screen.matching and not pictures_pending:
            return
    raise AssertionError("the app never settled")


async def check(app, pilot, step: str) -> tuple[str, str] | None:
    """After ``step``: the names under the pictures (and the pictures) are the row's files."""
    await pilot.pause()
    screen = app.screen
    pane = screen.query_one(PreviewPane)
    row = row_pair(screen)
    # before the pictures arrive: the text already names the row's files
    if row is None:
        assert pane.shown_pair is None, f"{step}: no row, yet the preview shows a pair"
        assert pane.shown_names == ("", ""), step
    else:
        assert pane.shown_pair == row, f"{step}: row {row}, preview {pane.shown_pair}"
        assert pane.shown_names == tuple(os.path.basename(p) for p in row), step
        # pictures may still be on their way, but never those of another pair
        assert pane.shown_pictures in (None, row), f"{step}: pictures of {pane.shown_pictures}"
    await settle(app, pilot)
    assert row_pair(screen) == row, f"{step}: the row moved while nothing was pressed"
    assert pane.shown_pair == row, f"{step}: row {row}, preview {pane.shown_pair} once settled"
    if row is not None:
        assert pane.shown_names == tuple(os.path.basename(p) for p in row), step
        assert pane.shown_pictures == row, f"{step}: pictures of {pane.shown_pictures}"
        turn = expected_turn(screen, *row)
        said = [line for line in pane.side_text("b").splitlines() if "matched as" in line]
        assert said == ([f"matched as {turn} of A"] if turn else []), f"{step}: {said}"
    return row


async def press(app, pilot, *keys: str) -> tuple[str, str] | None:
    await pilot.press(*keys)
    return await check(app, pilot, " ".join(keys))


async def test_preview_follows_the_row_through_views_filter_sort_and_rematch(app) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_review(app, pilot)
        await check(app, pilot, "start")

        # the reported sequence: group view, two rows down, back to the pair table
        await press(app, pilot, "g")
        await press(app, pilot, "down")
        in_groups = await press(app, pilot, "down")
        back = await press(app, pilot, "g")
        assert back != in_groups  # the views' cursors differ: the bug showed the wrong one
        for key in ("down", "down", "up", "right", "left", "end", "home"):
            await press(app, pilot, key)

        # a burst of keys with no pause in between, in each view
        await press(app, pilot, "down", "down", "down", "g", "down", "down", "up")
        await press(app, pilot, "end", "up", "g", "down", "g")
        if not app.screen.query_one(GroupView).has_class("hidden"):  # the group view shows
            await press(app, pilot, "g")

        # filter, typed a letter at a time, in the pair table and in the group view
        await press(app, pilot, "down", "down")
        await press(app, pilot, "slash")
        for ch in "whatsapp":
            await press(app, pilot, ch)
        await press(app, pilot, "enter")
        await press(app, pilot, "down", "down")
        await press(app, pilot, "g")
        await press(app, pilot, "down")
        await press(app, pilot, "escape")  # clear the filter while in the group view
        await press(app, pilot, "down", "down", "down")
        await press(app, pilot, "slash", "z", "z", "z")  # nothing matches: no row, no preview
        assert row_pair(app.screen) is None
        await press(app, pilot, "escape")
        await press(app, pilot, "g")

        # sort by each column, both ways
        for _ in range(4):
            await press(app, pilot, "o")
            await press(app, pilot, "down", "down")
            await press(app, pilot, "O")

        # re-match looser and stricter, from the pair table and from the group view
        await press(app, pilot, "plus")
        await press(app, pilot, "end")
        await press(app, pilot, "minus")
        await press(app, pilot, "g")
        await press(app, pilot, "down", "down", "down")
        await press(app, pilot, "minus")
        await press(app, pilot, "plus")
        await press(app, pilot, "g")

        # "not a duplicate" removes the row: the preview moves with the cursor
        await press(app, pilot, "down")
        await press(app, pilot, "s")
        await press(app, pilot, "g", "down", "down")
        await press(app, pilot, "s")
        await press(app, pilot, "g")

        # a hidden preview catches up when it is shown again
        await pilot.press("p", "g", "down", "down", "g", "down")
        await pilot.pause()
        assert not app.screen.query_one(PreviewPane).display
        await press(app, pilot, "p")

        # details (d) is of the same pair as the preview, in both views
        for view in ("pairs", "groups"):
            row = await press(app, pilot, "down")
            await pilot.press("d")
            await pilot.pause()
            details = app.screen
            assert isinstance(details, DetailsScreen), view
            entries = details.store.entries
            assert (entries[details.i].path, entries[details.j].path) == row, view
            await pilot.press("escape")
            await pilot.pause()
            await press(app, pilot, "g")
