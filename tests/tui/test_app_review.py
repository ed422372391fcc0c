"""Pilot tests of the review screen: what the user sees after pressing keys."""

from __future__ import annotations

import contextlib
import itertools
from dataclasses import replace

from conftest import screen_text, wait_for_review
from textual.worker import WorkerFailed

from tui_dedup.tui.app import create_app
from tui_dedup.tui.screens.help import HelpScreen
from tui_dedup.tui.widgets.group_view import GroupView
from tui_dedup.tui.widgets.pair_table import PairTable
from tui_dedup.tui.widgets.status import StatusBar


def status_text(app) -> str:
    return str(app.screen.query_one(StatusBar).render())


async def test_rows_appear_after_scan(settings):
    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        screen = app.screen
        assert len(screen.model) > 10
        assert f"{len(screen.model)} pairs" in status_text(app)
        text = screen_text(app)
        assert "IMG_2040.jpg" in text
        assert "Pictures" in app.sub_title


async def test_sort_keys_change_order(settings):
    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        model = app.screen.model
        assert model.sort_column == "similarity"
        await pilot.press("o")
        assert model.sort_column == "kind"
        kinds = [model.labels("kind").codes[p] for p in model.view]
        assert kinds == sorted(kinds)  # copies first: exact, same pixels, re-encoded, ...
        await pilot.press("o")
        assert model.sort_column == "method"
        await pilot.press("o")
        assert model.sort_column == "file_a"
        first = model.current()
        paths = [model.paths[int(model.pairs.i[p])] for p in model.view]
        assert paths == sorted(paths, key=str.casefold)
        await pilot.press("O")
        assert model.sort_reverse
        paths = [model.paths[int(model.pairs.i[p])] for p in model.view]
        assert paths == sorted(paths, key=str.casefold, reverse=True)
        assert model.cursor == 0  # the top of the new order, not the old pair at the bottom
        assert model.current() != first or len(model.view) == 1


async def test_space_marks_chosen_side(settings):
    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        model = app.screen.model
        _, i, j = model.current()
        await pilot.press("space")
        assert model.is_marked(i) and not model.is_marked(j)
        await pilot.press("l", "space")
        assert model.is_marked(j)
        assert "2 marked" in status_text(app)
        await pilot.press("space")
        assert not model.is_marked(j)
        assert "1 marked" in status_text(app)


async def test_filter_with_slash_and_escape(settings):
    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        model = app.screen.model
        total = len(model)
        await pilot.press("slash", *"whatsapp")
        await pilot.pause()
        assert 0 < len(model) < total
        assert all(
            "whatsapp"
            in (model.paths[int(model.pairs.i[p])] + model.paths[int(model.pairs.j[p])]).lower()
            for p in model.view
        )
        # keys typed into the filter are text, not commands: "q" did not quit, "s" skipped nothing
        await pilot.press("q", "s")
        assert app.is_running and model.filter_text == "whatsappqs"
        await pilot.press("escape")
        await pilot.pause()
        assert len(model) == total
        assert isinstance(app.screen.focused, PairTable)


async def test_threshold_keys_rematch(settings):
    settings.max_distance_arg = 10  # a fixed start, whatever the presets say
    # the crop stage finds the demo's copies beyond any threshold: off, so the keys tell
    settings.match = replace(settings.match, crop_tolerant=False)
    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        session = app.screen.session
        base = len(session.pairs)
        for _ in range(6):
            await pilot.press("minus")
            await wait_for_review(app, pilot)
        assert session.threshold.max_distance == 4
        stricter = len(session.pairs)
        assert stricter < base
        assert f"{stricter} pairs" in status_text(app)
        assert "phash within 4 bits " in status_text(app)
        for _ in range(10):
            await pilot.press("plus")
            await wait_for_review(app, pilot)
        assert session.threshold.max_distance == 14
        assert len(session.pairs) > base
        assert len(app.screen.model) == len(session.pairs)


async def test_group_view_toggle(settings):
    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        await pilot.press("g")
        view = app.screen.query_one(GroupView)
        assert view.display and isinstance(app.screen.focused, GroupView)
        text = screen_text(app)
        assert "Group 1:" in text and "keep" in text
        f = view.current_file()
        await pilot.press("down", "space")
        assert app.screen.model.is_marked(view.current_file())
        assert view.current_file() != f
        await pilot.press("g")
        assert isinstance(app.screen.focused, PairTable)


async def test_help_lists_every_binding(settings):
    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        review = app.screen
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        body = str(app.screen.query_one("#help-body").render())
        for b in type(review).BINDINGS:
            assert (b.tooltip or b.description) in body  # the sentence where the footer has a word
        assert "Side A" in body  # the table's own bindings too
        await pilot.press("escape")
        assert app.screen is review


async def test_disabled_keys_do_nothing_visible(settings):
    """Move and undo need marks / a batch: check_action disables them (dimmed, not hidden)."""
    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        screen = app.screen
        assert screen.check_action("apply", ("move",)) is None
        assert screen.check_action("undo", ()) is None
        await pilot.press("m", "u")
        assert app.screen is screen
        await pilot.press("space")
        assert screen.check_action("apply", ("move",)) is True


async def test_skip_hides_pair_and_is_remembered(settings):
    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        model = app.screen.model
        n = len(model)
        _, i, j = model.current()
        await pilot.press("s")
        await app.workers.wait_for_complete()
        assert len(model) == n - 1
        assert len(app.skips) == 1
    app2 = create_app(settings)
    async with app2.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app2, pilot)
        await pilot.press("n")  # the resume question (the skip is kept either way)
        pairs = app2.session.pairs
        assert not ((pairs.i == i) & (pairs.j == j)).any()
        assert len(pairs) == n - 1


async def test_preview_toggle_and_details(settings):
    from tui_dedup.tui.screens.details import DetailsScreen
    from tui_dedup.tui.widgets.preview import PreviewPane

    settings.preview = "halfblock"
    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        pane = app.screen.query_one(PreviewPane)
        _, i, j = app.screen.model.current()
        assert pane.display and pane.pair == (i, j)
        await pilot.press("p")
        assert not pane.display
        await pilot.press("p", "down")
        assert pane.display and pane.pair == app.screen.model.current()[1:]
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, DetailsScreen)
        await pilot.press("escape")
        await app.workers.wait_for_complete()


async def test_preview_key_disabled_without_preview(settings):
    app = create_app(settings)  # preview="none": textual-image is never imported
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        assert app.screen.check_action("toggle_preview", ()) is None


async def test_auto_mark_menu_keeps_one_per_group(settings):
    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        await pilot.press("A")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "RuleChainScreen"
        names = [name for name, _ in app.screen.choices]
        # a chain of one rule, "size": keep the largest file
        await pilot.press("c", *["down"] * names.index("size"), "space", "enter")
        await pilot.pause()
        if app.screen.__class__.__name__ == "ConfirmScreen":  # more than 20 marks: asks first
            await pilot.press("y")
            await pilot.pause()
        review = app.screen
        marked = set(review.model.marked_files().tolist())
        assert marked
        for g in review.session.groups:
            kept = [m for m in g.members if m not in marked]
            assert kept
            sizes = review.session.store.column("size")
            assert max(sizes[m] for m in g.members) == max(sizes[m] for m in kept)


async def test_filter_applies_to_group_view(settings):
    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        await pilot.press("g")
        view = app.screen.query_one(GroupView)
        all_groups = len(view.groups)
        await pilot.press("slash", *"IMG_2041", "enter")
        await pilot.pause()
        assert 0 < len(view.groups) < all_groups
        assert isinstance(app.screen.focused, GroupView)
        await pilot.press("escape")
        assert len(view.groups) == all_groups


async def test_a_superseded_match_is_not_reported_as_an_error(settings, monkeypatch):
    """Pressing +/- quickly cancels the older match; the index then raises Cancelled, which is
    the normal end of a replaced request, not a failure to show the user."""
    import tui_dedup.review.pipeline as pipeline_mod
    from tui_dedup.engine.index.search import Cancelled

    app = create_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_review(app, pilot)

        def replaced(*args, **kwargs):
            raise Cancelled("replaced by a newer request")

        monkeypatch.setattr(pipeline_mod, "cached_match", replaced)
        await pilot.press("minus")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.problems == []
        assert "Cancelled" not in screen_text(app)


async def test_a_failed_rematch_leaves_the_review_usable(settings, monkeypatch):
    """A re-match that raises is shown as an error; the pairs stay, and "matching..." goes
    away so + and - work again."""
    import tui_dedup.review.pipeline as pipeline_mod

    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        n = len(app.screen.model)

        def broken(*args, **kwargs):
            raise RuntimeError("index exploded")

        monkeypatch.setattr(pipeline_mod, "cached_match", broken)
        await pilot.press("minus")
        with contextlib.suppress(WorkerFailed):  # the worker fails on purpose
            await app.workers.wait_for_complete()
        await pilot.pause()
        assert any("index exploded" in p for p in app.problems)
        assert "matching" not in status_text(app)
        assert len(app.screen.model) == n
        assert app.screen.check_action("threshold", (1,)) is True


async def test_a_failed_plan_lets_the_user_try_again(settings, monkeypatch):
    """Building the plan raises: the error is shown, nothing is left "planning...", and m
    applies again (the marks are kept)."""
    from tui_dedup.review.session import ReviewSession

    app = create_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)

        def broken(self, action, rows):
            raise RuntimeError("planner exploded")

        monkeypatch.setattr(ReviewSession, "plan", broken)
        await pilot.press("space", "m")
        with contextlib.suppress(WorkerFailed):  # the worker fails on purpose
            await app.workers.wait_for_complete()
        await pilot.pause()
        assert any("planner exploded" in p for p in app.problems)
        assert "planning" not in status_text(app)
        assert app.screen.model.marked_files().size == 1
        assert app.screen.check_action("apply", ("move",)) is True


async def test_five_quick_minus_presses_move_the_threshold_five_steps(settings, monkeypatch):
    """Issue #16 item 8: every press counts; only the re-match is coalesced. The re-match is
    held until all presses are in, as on a large library where it takes a while."""
    import threading

    import tui_dedup.review.pipeline as pipeline_mod

    app = create_app(settings)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_review(app, pilot)
        start = app.session.threshold.max_distance
        gate = threading.Event()
        real = pipeline_mod.cached_match

        def held(*args, **kwargs):
            gate.wait(30)
            return real(*args, **kwargs)

        monkeypatch.setattr(pipeline_mod, "cached_match", held)
        await pilot.press("minus", "minus", "minus", "minus", "minus")
        assert app.session.threshold.max_distance == start  # nothing finished yet
        gate.set()
        await wait_for_review(app, pilot)
        assert app.session.threshold.max_distance == start - 5
        gate.clear()
        await pilot.press("plus", "plus")
        gate.set()
        await wait_for_review(app, pilot)
        assert app.session.threshold.max_distance == start - 3


async def test_the_footer_fits_80_columns_with_help_and_quit(settings):
    """At 80×24 the footer used to end in '…u Undo▏^p CommandsF': help, quit, filter and
    details were cut. Every key it shows now fits, and ? lists the rest."""
    from textual.widgets import Footer

    app = create_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_review(app, pilot)
        keys = list(app.screen.query_one(Footer).children)
        shown = {getattr(k, "description", "") for k in keys}
        assert {"Mark", "Auto", "Move", "Undo", "Filter", "Details", "Help", "Quit"} <= shown
        spans = sorted((k.region.x, k.region.right) for k in keys)
        assert all(right <= 80 for _, right in spans)
        assert all(a_right <= b_x for (_, a_right), (b_x, _) in itertools.pairwise(spans))
