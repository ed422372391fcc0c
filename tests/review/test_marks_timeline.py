"""Marks you can take back, without an app: one timeline of mark changes, skips and batches;
invert and mark-by-pattern that never leave a group without a copy that stays; unskip that
forgets the remembered skip.

The session tests scan a real library (two photos with copies); the bulk operations are
checked on groups given by hand, where the expected answer is plain to read.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tui_dedup.actions.skips import SkipStore
from tui_dedup.demo import make_photo, write_jpeg
from tui_dedup.engine.model import Group
from tui_dedup.review.marks import (
    BATCH,
    MARKS,
    SKIP,
    invert_marks,
    left_alone_lines,
    mark_change,
    mark_matching,
    path_matcher,
)
from tui_dedup.review.pipeline import scan_library
from tui_dedup.review.session import ReviewSession
from tui_dedup.review.settings import RunSettings


@pytest.fixture
def library(tmp_path) -> Path:
    """Two photos, each with a smaller copy under backup/; the first also a byte copy."""
    root = tmp_path / "lib"
    (root / "backup").mkdir(parents=True)
    for k, name in enumerate(("beach", "forest")):
        img = make_photo(100 + k, 480, 360)
        write_jpeg(root / f"{name}.jpg", img, 95)
        write_jpeg(root / "backup" / f"{name} small.jpg", img[::2, ::2], 80)
    shutil.copyfile(root / "beach.jpg", root / "backup" / "beach copy.jpg")
    return root


def review_of(root: Path) -> ReviewSession:
    settings = RunSettings(roots=[str(root)], use_cache=False, preview="none")
    session = ReviewSession(settings, scan_library(settings).result)
    session.install(session.compute(session.method, session.threshold))
    return session


def shown(session: ReviewSession) -> set[tuple[int, int]]:
    return set(zip(session.pairs.i.tolist(), session.pairs.j.tolist(), strict=True))


# -- the timeline ----------------------------------------------------------------------------


def test_undo_and_redo_of_marks_apply_on_top_of_what_is_marked_now(library):
    s = review_of(library)
    marked: set[int] = set()
    auto = s.auto_marks(["size"])
    s.record_marks("auto-mark", marked, auto)
    marked = set(auto)
    assert s.timeline.newest().title == f"auto-mark ({len(auto)} files)"

    change = s.undo()
    assert change is not None and change.kind == MARKS
    marked = change.before(marked)
    assert marked == set()
    assert s.undo() is None  # nothing older

    again = s.redo()
    assert again is change
    assert again.after(marked) == auto
    assert s.redo() is None


def test_a_new_change_empties_the_redo_list(library):
    s = review_of(library)
    s.record_marks("mark a.jpg", set(), {0})
    s.undo()
    assert s.timeline.next_redo() is not None
    s.record_marks("mark b.jpg", set(), {1})
    assert s.redo() is None


def test_no_change_is_no_step(library):
    s = review_of(library)
    s.record_marks("unmark all", set(), set())
    assert s.timeline.newest() is None


def test_a_skip_is_undone_and_redone_in_turn_with_marks(library):
    s = review_of(library)
    i, j = int(s.pairs.i[0]), int(s.pairs.j[0])
    s.record_marks("mark", set(), {i})
    s.skip_pair(i, j)
    s.refilter()
    assert (i, j) not in shown(s)

    change = s.undo()  # the newest: the skip, not the mark
    assert change is not None and change.kind == SKIP
    assert (i, j) in shown(s)
    assert s.undo().kind == MARKS

    assert s.redo().kind == MARKS
    assert s.redo().kind == SKIP
    assert (i, j) not in shown(s)


def test_a_file_batch_is_left_for_the_actions_package(library):
    s = review_of(library)
    copy = str(library / "backup/beach copy.jpg")
    s.record_marks("mark", set(), {s.row_of_path[copy]})
    s.batch_applied([copy], "b1")
    assert s.timeline.newest().kind == BATCH
    assert s.undo() is None  # asks first, runs in a worker: not here
    assert s.undoable_batch() == "b1"
    s.batch_undone("b1", [copy])
    assert s.timeline.newest().kind == MARKS  # the batch left the timeline; the mark is next


def test_unskip_from_the_list_brings_the_pair_back_and_leaves_the_timeline(library):
    s = review_of(library)
    i, j = int(s.pairs.i[0]), int(s.pairs.j[0])
    s.skip_pair(i, j)
    s.refilter()
    a, b = s.digest(i), s.digest(j)
    assert s.still_skipped(a, b)
    s.skip_remembered(a, b)
    assert s.skip_digests == [(a, b)]

    assert s.unskip(i, j) == (a, b)
    assert (i, j) in shown(s) and s.skip_digests == [] and not s.skipped_keys
    assert s.timeline.newest() is None
    # written to disk after the undo: the caller is told to remove it again
    assert s.still_skipped(a, b) is False


# -- bulk operations -------------------------------------------------------------------------

GROUPS = [Group(0, [0, 1, 2]), Group(3, [3, 4]), Group(5, [5, 6])]
PATHS = ["a.jpg", "backup/a.jpg", "backup/old/a.jpg", "b.jpg", "backup/b.jpg", "x/c.jpg", "y/c.jpg"]


def test_invert_flips_the_shown_files_and_leaves_alone_a_group_it_would_empty():
    # group 0: 0 marked -> 1, 2 marked, 0 unmarked; group 1: none marked -> both would be
    # marked: left alone; group 2 is not shown
    p = invert_marks(GROUPS, {0}, scope={0, 1, 2, 3, 4})
    assert p.marked == {1, 2}
    assert p.left_alone == [1]
    for g in GROUPS:
        assert any(m not in p.marked for m in g.members)


def test_mark_by_folder_marks_everything_under_it_but_never_a_groups_last_copy():
    p = mark_matching(GROUPS, PATHS, set(), "backup/")
    assert p.marked == {1, 2, 4}
    assert p.left_alone == []
    # "everything under x/ and y/": group 2 would lose its last copy
    p = mark_matching(GROUPS, PATHS, {6}, "x")
    assert p.marked == {6} and p.left_alone == [2]
    lines = left_alone_lines(GROUPS, PATHS, p.left_alone)
    assert lines == ["left alone: group 3 (x/c.jpg): no copy would stay"]


def test_patterns_glob_the_whole_path_and_folders_match_by_prefix():
    assert path_matcher("backup/*")("backup/old/a.jpg")
    assert path_matcher("*.jpg")("x/c.jpg")
    assert not path_matcher("backup")("backups/a.jpg")
    assert path_matcher("backup/old")("backup/old/a.jpg")
    assert mark_matching(GROUPS, PATHS, set(), "*/old/*").marked == {2}


def test_mark_change_holds_only_what_changed():
    c = mark_change("invert", {1, 2, 3}, {3, 4})
    assert c is not None
    assert c.added == {4} and c.removed == {1, 2} and c.size == 3
    assert c.before({3, 4, 9}) == {1, 2, 3, 9}


# -- the skips file --------------------------------------------------------------------------


def test_skip_store_remove_rewrites_the_file_without_the_pair(tmp_path):
    path = tmp_path / "skips.jsonl"
    store = SkipStore(str(path))
    store.add("aa", "bb")
    store.add("cc", "dd")
    other = SkipStore(str(path))  # another run appends after we read
    other.add("ee", "ff")

    assert store.remove("bb", "aa")
    assert not store.contains("aa", "bb")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines == [["cc", "dd"], ["ee", "ff"]]
    assert not SkipStore(str(path)).contains("aa", "bb")
    assert store.remove("aa", "bb") is False
