"""The review layer under the app's issue #16 item 9: the keeper rule chain a person orders,
``--keep-in`` files that are never marked, ``--move-to`` in the plan, and link batches only
for exact copies on one filesystem.

Scanned on a real little library (two photos with copies, one of them a byte copy), so the
answers are the ones the app and the headless commands give.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import pytest

from tui_dedup.demo import make_photo, write_jpeg
from tui_dedup.review.decisions import link_groups, offered_rules, rule_chain
from tui_dedup.review.keepers import DEFAULT_RULES, RULES
from tui_dedup.review.marks import invert_marks, mark_matching
from tui_dedup.review.pipeline import scan_library
from tui_dedup.review.session import ReviewSession
from tui_dedup.review.settings import RunSettings


@pytest.fixture
def library(tmp_path) -> Path:
    """Two photos, each with a smaller copy under backup/; the first also a byte copy there."""
    root = tmp_path / "lib"
    (root / "backup").mkdir(parents=True)
    for k, name in enumerate(("beach", "forest")):
        img = make_photo(100 + k, 480, 360)
        write_jpeg(root / f"{name}.jpg", img, 95)
        write_jpeg(root / "backup" / f"{name} small.jpg", img[::2, ::2], 80)
    shutil.copyfile(root / "beach.jpg", root / "backup" / "beach copy.jpg")
    return root


def review_of(
    root: Path, move_to: str | None = None, keep_in: tuple[str, ...] = ()
) -> ReviewSession:
    s = RunSettings(
        roots=[str(root)], use_cache=False, preview="none", move_to=move_to, keep_in=keep_in
    )
    session = ReviewSession(s, scan_library(s).result)
    session.install(session.compute(session.method, session.threshold))
    return session


def rows_under(session: ReviewSession, folder: str) -> set[int]:
    return {r for r, p in enumerate(session.paths) if p.startswith(folder + "/")}


# -- the chain ---------------------------------------------------------------------------------


def test_preferred_folder_is_offered_only_with_a_reference_folder():
    assert "preferred-folder" not in offered_rules(())
    assert offered_rules(()) == [r for r in RULES if r != "preferred-folder"]
    assert "preferred-folder" in offered_rules(("/photos/originals",))


def test_the_chain_is_what_the_keeper_rules_apply():
    assert rule_chain(()) == DEFAULT_RULES  # nothing picked: the default chain
    assert rule_chain(["size", "oldest", "size"]) == ("size", "oldest")  # each rule once
    keep = ("/photos/originals",)
    assert rule_chain(["size"], keep) == ("preferred-folder", "size")  # reference copies first
    assert rule_chain(["size", "preferred-folder"], keep) == ("size", "preferred-folder")


def test_a_chosen_chain_is_remembered_and_decides_the_keeper(library):
    s = review_of(library)
    assert s.keeping.rules == DEFAULT_RULES and s.keeping.is_default()
    assert s.keeping.choose(["size"]) == ("size",)
    marked = s.auto_marks()  # no rules given: the review's chain
    sizes = s.store.column("size")
    for g in s.groups:
        kept = [m for m in g.members if m not in marked]
        assert max(sizes[m] for m in kept) == max(sizes[m] for m in g.members)
    assert s.keeping.rules == ("size",) and not s.keeping.is_default()


def test_a_rule_not_offered_is_refused(library):
    s = review_of(library)
    with pytest.raises(ValueError, match="preferred-folder"):
        s.keeping.choose(["preferred-folder"])  # no --keep-in: it would prefer nothing
    with pytest.raises(ValueError, match="no-such-rule"):
        s.keeping.choose(["size", "no-such-rule"])
    assert s.keeping.rules == DEFAULT_RULES


# -- --keep-in -----------------------------------------------------------------------------------


def test_reference_files_are_kept_and_never_marked(library):
    backup = os.path.realpath(library / "backup")
    s = review_of(library, keep_in=(backup,))
    protected = rows_under(s, "backup")
    assert protected and all(s.keeping.is_protected(r) for r in protected)
    assert s.keeping.folder_of(min(protected)) == backup
    assert not s.keeping.is_protected(s.row_of_path[str(library / "beach.jpg")])

    assert s.keeping.rules[0] == "preferred-folder"
    marked = s.auto_marks()
    assert marked and not marked & protected
    for g in s.groups:  # each group keeps a backup copy: the library copies are the ones marked
        keeper, _why = s.keeper_of(g.members[0])
        assert keeper in protected
    # the forest's only reference copy is kept for being one (the smaller file)
    forest = s.row_of_path[str(library / "forest.jpg")]
    assert s.keeper_of(forest) == (
        s.row_of_path[str(library / "backup/forest small.jpg")],
        "keep: in a --keep-in folder",
    )

    # a folder pattern and invert skip them too, and count them
    p = mark_matching(s.groups, s.paths, set(), "backup/", s.keeping.is_protected)
    grouped = {m for g in s.groups for m in g.members}
    assert p.marked == set() and p.protected == len(protected & grouped)
    scope = [m for g in s.groups for m in g.members]
    inv = invert_marks(s.groups, set(), scope, s.keeping.is_protected)
    assert not inv.marked & protected and inv.protected > 0


def test_a_resumed_mark_on_a_reference_file_is_dropped(library):
    from tui_dedup.actions.skips import ReviewState

    s = review_of(library, keep_in=(os.path.realpath(library / "backup"),))
    copy, beach = str(library / "backup/beach copy.jpg"), str(library / "beach.jpg")
    rows = s.resume(ReviewState([str(library)], marks={copy, beach}))
    assert rows.tolist() == [s.row_of_path[beach]]


# -- where files go: --move-to, --keep-in in the plan --------------------------------------------


def test_the_plan_sends_files_to_move_to_and_refuses_reference_files(library, tmp_path):
    dest = os.path.realpath(tmp_path / "elsewhere")
    backup = os.path.realpath(library / "backup")
    s = review_of(library, move_to=dest, keep_in=(backup,))
    beach = s.row_of_path[str(library / "beach.jpg")]
    copy = s.row_of_path[str(library / "backup/beach copy.jpg")]
    plan = s.plan("move", [beach, copy])
    assert plan.move_to == dest and plan.keep_in == [backup]
    assert [st.entry.path for st in plan.steps] == [str(library / "beach.jpg")]
    assert plan.steps[0].dest.startswith(os.path.join(dest, "<batch>", "lib") + os.sep)
    assert any("keep-in" in r for r in plan.refused)  # the planner's own check, behind ours


# -- links: exact copies on one filesystem -------------------------------------------------------


def test_a_link_is_planned_only_for_an_exact_copy(library):
    s = review_of(library)
    copy = s.row_of_path[str(library / "backup/beach copy.jpg")]
    small = s.row_of_path[str(library / "backup/forest small.jpg")]
    plan = s.plan("hardlink", [copy, small])
    assert [st.entry.path for st in plan.steps] == [str(library / "backup/beach copy.jpg")]
    assert plan.steps[0].keeper == str(library / "beach.jpg")
    (why, *more) = plan.refused
    assert not more
    assert why.startswith("1 file(s) (backup/forest small.jpg): no exact (byte-identical)")


def test_a_link_across_filesystems_is_refused_with_its_reason(library):
    s = review_of(library)
    copy = s.row_of_path[str(library / "backup/beach copy.jpg")]
    entry = s.store.entries[copy]
    s.store.entries[copy] = dataclasses.replace(entry, dev=entry.dev + 1)  # as if another disk
    groups, rows, refused = link_groups(s.store, s.pairs, [copy], s.paths.__getitem__)
    assert groups == [] and rows == []
    assert refused == [
        "1 file(s) (backup/beach copy.jpg): its exact copy is on another filesystem; "
        "a link needs both on one"
    ]
