"""The review session's decisions, without an app: the plan for marked files, the stack of
batches undo takes back, the state saved between runs, and what an export shows.

A real library is scanned once per test (a few generated photos, their copies and one byte
copy), so the rows, pairs and digests are the ones the app would have.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from tui_dedup.actions.skips import ReviewState
from tui_dedup.demo import make_photo, write_jpeg
from tui_dedup.review.decisions import rules_first
from tui_dedup.review.keepers import DEFAULT_RULES
from tui_dedup.review.pipeline import scan_library
from tui_dedup.review.session import ReviewSession
from tui_dedup.review.settings import RunSettings


@pytest.fixture
def library(tmp_path) -> Path:
    """Two photos, each with a recompressed copy; the first also with a byte-identical copy;
    and one photo that matches nothing."""
    root = tmp_path / "lib"
    (root / "copies").mkdir(parents=True)
    for k, name in enumerate(("beach", "forest")):
        img = make_photo(100 + k, 480, 360)
        write_jpeg(root / f"{name}.jpg", img, 95)
        write_jpeg(root / "copies" / f"{name} small.jpg", img[::2, ::2], 80)
    shutil.copyfile(root / "beach.jpg", root / "copies" / "beach copy.jpg")
    write_jpeg(root / "other.jpg", make_photo(999, 480, 360), 90)
    return root


def review_of(root: Path) -> ReviewSession:
    settings = RunSettings(roots=[str(root)], use_cache=False, preview="none")
    session = ReviewSession(settings, scan_library(settings).result)
    session.install(session.compute(session.method, session.threshold))
    return session


def row(session: ReviewSession, root: Path, rel: str) -> int:
    return session.row_of_path[str(root / rel)]


def shown_rows(session: ReviewSession) -> set[int]:
    return set(session.pairs.i.tolist()) | set(session.pairs.j.tolist())


def test_the_library_matches_as_expected(library):
    s = review_of(library)
    assert len(s.groups) == 2
    assert row(s, library, "other.jpg") not in shown_rows(s)


def test_plan_for_marked_rows_keeps_a_direct_partner_of_each(library):
    s = review_of(library)
    copy = row(s, library, "copies/beach copy.jpg")
    small = row(s, library, "copies/forest small.jpg")
    plan = s.plan("move", [copy, small])
    assert plan.refused == []
    moved = {step.entry.path: step.partner for step in plan.steps}
    assert set(moved) == {
        str(library / "copies/beach copy.jpg"),
        str(library / "copies/forest small.jpg"),
    }
    for path, partner in moved.items():
        assert partner is not None and partner.path != path
        pair = (s.row_of_path[path], s.row_of_path[partner.path])
        assert s.similarity(*pair) is not None  # kept against a file it was matched with
    assert plan.spec is not None and plan.spec["method"] == s.method


def test_plan_refuses_a_group_with_nothing_left_in_place(library):
    s = review_of(library)
    forest = [row(s, library, "forest.jpg"), row(s, library, "copies/forest small.jpg")]
    plan = s.plan("move", forest)
    assert plan.steps == [] and plan.refused


def test_batches_stack_newest_first_and_hide_what_they_moved(library):
    s = review_of(library)
    n_pairs = len(s.pairs)
    beach_copy = str(library / "copies/beach copy.jpg")
    forest_small = str(library / "copies/forest small.jpg")
    assert s.undoable_batch() is None

    gone = s.batch_applied([beach_copy], "batch-1")
    assert gone == [s.row_of_path[beach_copy]]
    assert s.row_of_path[beach_copy] not in shown_rows(s)
    s.batch_applied([forest_small], "batch-2")
    assert s.undoable_batch() == "batch-2"
    assert len(s.pairs) < n_pairs

    back = s.batch_undone("batch-2", [forest_small])
    assert back == [s.row_of_path[forest_small]]
    assert s.row_of_path[forest_small] in shown_rows(s)
    assert s.undoable_batch() == "batch-1"
    s.batch_undone("batch-1", [beach_copy])
    assert s.undoable_batch() is None
    assert len(s.pairs) == n_pairs


def test_a_refused_batch_changes_nothing_and_is_not_undoable(library):
    s = review_of(library)
    before = len(s.pairs)
    assert s.batch_applied([], None) == []
    assert s.batch_applied([], "batch-nothing-moved") == []
    assert s.undoable_batch() is None and len(s.pairs) == before


def test_an_undo_that_restored_nothing_still_leaves_the_stack(library):
    s = review_of(library)
    gone = str(library / "copies/beach copy.jpg")
    s.batch_applied([gone], "batch-1")
    s.batch_undone("batch-1", [])  # the journal could not put the file back
    assert s.undoable_batch() is None
    assert s.row_of_path[gone] not in shown_rows(s)


def test_saved_state_round_trips_into_another_review(library):
    s = review_of(library)
    marks = [row(s, library, "copies/beach copy.jpg"), row(s, library, "copies/forest small.jpg")]
    s.skip_remembered("aa", "bb")
    state = s.saved_state(np.array(marks), cursor=3)
    assert state.marks == {s.entries[m].path for m in marks}
    assert state.skips == [("aa", "bb")] and state.cursor == 3
    state.save()

    again = review_of(library)
    loaded = ReviewState.load([str(library)])
    assert loaded is not None
    assert sorted(again.resume(loaded).tolist()) == sorted(marks)
    assert again.skip_digests == [("aa", "bb")]


def test_resume_leaves_out_files_no_longer_scanned(library):
    s = review_of(library)
    state = ReviewState([str(library)], marks={str(library / "gone.jpg")})
    assert s.resume(state).size == 0


def test_exact_copies_are_labelled_exact_and_the_rest_by_method(library):
    s = review_of(library)
    a, b = row(s, library, "beach.jpg"), row(s, library, "copies/beach copy.jpg")
    k = int(np.flatnonzero((s.pairs.i == min(a, b)) & (s.pairs.j == max(a, b)))[0])
    methods = s.pair_methods()
    assert isinstance(methods, np.ndarray)
    assert methods[k] == "exact" and s.similarity(a, b) == pytest.approx(1.0)
    small = row(s, library, "copies/beach small.jpg")
    k_small = int(np.flatnonzero((s.pairs.i == min(a, small)) & (s.pairs.j == max(a, small)))[0])
    assert methods[k_small] == s.method
    assert s.similarity(a, row(s, library, "other.jpg")) is None


def test_export_shows_what_the_review_shows(library):
    s = review_of(library)
    i, j = int(s.pairs.i[0]), int(s.pairs.j[0])
    s.skip_pair(i, j)
    s.refilter()
    result = s.export_result()
    assert len(result.pairs) == len(s.pairs)
    assert not ((result.pairs.i == i) & (result.pairs.j == j)).any()
    assert result.method == s.method and result.threshold == s.threshold


def test_rules_first_puts_the_chosen_rule_before_the_defaults():
    assert rules_first(None) == list(DEFAULT_RULES)
    picked = rules_first("size")
    assert picked[0] == "size"
    assert sorted(set(picked)) == sorted(set(DEFAULT_RULES) | {"size"})
    assert len(picked) == len(set(picked))


def test_quick_steps_each_count_while_the_rematch_catches_up(library):
    """Issue #16 item 8: five '-' in one burst moved the threshold one step."""
    session = review_of(library)
    start = session.threshold.max_distance
    for _ in range(5):
        th = session.step(looser=False)
        assert th is not None
        session.request(session.method, th)  # asked for; its match has not finished yet
    assert session.wanted is not None and session.wanted[1].max_distance == start - 5
    session.install(session.compute(session.method, session.wanted[1]))
    assert session.threshold.max_distance == start - 5 and session.wanted is None


def test_the_saved_state_remembers_which_view_was_shown(library):
    """Issue #16 item 10: group mode was not restored on resume."""
    from tui_dedup.actions.skips import ReviewState

    s = review_of(library)
    s.saved_state([], cursor=1, group_mode=True).save()
    again = ReviewState.load(s.roots)
    assert again is not None and again.group_mode and again.cursor == 1
