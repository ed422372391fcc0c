"""``plan --auto-select best-of-burst``: each burst keeps its best frame, the other frames (which
have no copy) are moved or trashed, apply re-derives the burst first, and undo brings them back.
Checked on generated bursts (tests/burst_images.py) and the files on disk."""

from __future__ import annotations

import json
import re
import shutil
from datetime import timedelta
from pathlib import Path

import cv2
import pytest
from burst_images import T0, Library, small_library, write_frame
from cli_helpers import digests

from tui_dedup.demo import make_photo


@pytest.fixture(scope="module")
def master(tmp_path_factory) -> Library:
    return small_library(tmp_path_factory.mktemp("cull") / "Pictures", size=(640, 427))


@pytest.fixture
def lib(master, tmp_path) -> Library:
    """A private copy of the library (the tests move files)."""
    root = tmp_path / "Pictures"
    shutil.copytree(master.root, root)

    def moved(p: Path) -> Path:
        return root / p.relative_to(master.root)

    return Library(
        root,
        [type(b)([moved(p) for p in b.paths], b.specs, b.best, b.kind) for b in master.bursts],
        moved(master.copy),
        moved(master.copied),
        [moved(p) for p in master.unrelated],
        moved(master.broken),
    )


def plan_of(cli, lib: Library, plan_file: Path, *extra: str) -> dict:
    r = cli("plan", lib.root, "-q", "--auto-select", "best-of-burst", "-o", plan_file, *extra)
    assert r.rc == 0, r.err
    return json.loads(plan_file.read_bytes())


def test_each_burst_keeps_its_best_frame_and_moves_the_rest(cli, lib, tmp_path) -> None:
    before = digests(lib.root)
    plan = plan_of(cli, lib, tmp_path / "plan.json")
    assert plan["purpose"] == "bursts" and plan["action"] == "move"
    frames = {str(p) for b in lib.bursts for p in b.paths}
    best = {str(b.best_path) for b in lib.bursts}
    removed = {s["entry"]["path"] for s in plan["steps"]}
    # a frame with a copy elsewhere is still a frame (its copy stays where it is)
    assert removed == frames - best
    for s in plan["steps"]:
        burst = next(b for b in lib.bursts if Path(s["entry"]["path"]) in b.paths)
        assert s["partner"]["path"] == str(burst.best_path)  # the frame that stays
    assert not removed & {str(p) for p in (*lib.unrelated, lib.copy)}
    assert digests(lib.root) == before, "planning changes nothing"

    r = cli("apply", tmp_path / "plan.json")
    assert r.rc == 0, r.err
    for p in best:
        assert Path(p).exists()
    for p in removed:
        assert not Path(p).exists()
    assert "undone" not in cli("history").text
    r = cli("undo")
    assert r.rc == 0, r.err
    assert digests(lib.root) == before, "undo brings every frame back, byte for byte"


def test_the_plan_says_the_frames_have_no_copy(cli, lib, tmp_path) -> None:
    r = cli("plan", lib.root, "-q", "--auto-select", "best-of-burst", "-o", tmp_path / "p.json")
    assert r.rc == 0, r.err
    assert "These frames have no copy" in r.err
    assert re.search(r"Bursts: 3, the frame each keeps", r.err)
    assert str(lib.bursts[0].best_path) in r.err


@pytest.mark.parametrize("action", ["delete", "hardlink", "symlink"])
def test_frames_are_never_deleted_or_linked(cli, lib, tmp_path, action) -> None:
    extra = ("--allow-delete",) if action == "delete" else ()
    r = cli("plan", lib.root, "-q", "--auto-select", "best-of-burst", "--action", action, *extra)
    assert r.rc == 2
    assert "have no copy" in r.err and "move or trash" in r.err


def test_best_of_burst_does_not_mix_with_keeper_rules(cli, lib) -> None:
    r = cli("plan", lib.root, "-q", "--auto-select", "best-of-burst,raw")
    assert r.rc == 2 and "goes alone" in r.err


def test_apply_leaves_a_frame_that_changed_since_the_plan(cli, lib, tmp_path) -> None:
    """Between plan and apply, a frame is replaced by another picture taken an hour later: it
    stays where it is, and the frames still as planned go."""
    plan = plan_of(cli, lib, tmp_path / "plan.json")
    victim = Path(plan["steps"][0]["entry"]["path"])
    write_frame(victim, make_photo(77, 640, 427), T0 + timedelta(hours=1, seconds=7))
    r = cli("apply", tmp_path / "plan.json")
    assert victim.exists()
    assert str(victim) in r.text
    rest = [Path(s["entry"]["path"]) for s in plan["steps"][1:]]
    assert rest and not any(p.exists() for p in rest)


def test_the_burst_is_derived_again_from_the_files(lib) -> None:
    """Apply's second look (engine/bursts/recheck.py), on files whose identity is as planned:
    a frame of the burst passes; a picture of something else, or one an hour later, or one
    without EXIF, is no frame of the kept frame's burst."""
    from tui_dedup.engine.bursts.recheck import recheck_bursts
    from tui_dedup.engine.files.discover import discover
    from tui_dedup.engine.matching.pairs import MatchOptions
    from tui_dedup.engine.matching.spec import MatchSpec
    from tui_dedup.engine.registry import resolve_threshold

    burst = lib.bursts[0]
    later = write_frame(
        lib.root / "DCIM" / "IMG_0500.jpg",
        make_photo(78, 640, 427),
        T0 + timedelta(hours=1),
    )
    no_exif = write_frame(lib.root / "DCIM" / "IMG_0501.jpg", make_photo(79, 640, 427), None)
    same_scene_later = lib.root / "DCIM" / "IMG_0502.jpg"
    shutil.copy(burst.paths[1], same_scene_later)
    write_frame(same_scene_later, cv2.imread(str(burst.paths[1])), T0 + timedelta(minutes=30))
    found = {e.path: e for e in discover([str(lib.root)]).files}
    names = [str(p) for p in (burst.best_path, *burst.paths, later, no_exif, same_scene_later)]
    entries = [found[n] for n in dict.fromkeys(names)]
    idx = {e.path: k for k, e in enumerate(entries)}
    keeper = idx[str(burst.best_path)]
    frames = [idx[str(p)] for p in burst.paths if p != burst.best_path]
    odd = [idx[str(later)], idx[str(no_exif)], idx[str(same_scene_later)]]
    spec = MatchSpec.of("phash", resolve_threshold("phash"), 8, MatchOptions())
    got = recheck_bursts(entries, [(keeper, frames + odd)], spec)
    assert all(got[f] is None for f in frames), got
    assert "no other frame" in got[odd[0]] or "no longer in the burst" in got[odd[0]]
    assert "no capture time" in got[odd[1]]
    assert "no longer in the burst" in got[odd[2]]  # the same scene, half an hour later


def test_apply_refuses_when_the_frame_that_stays_is_gone(cli, lib, tmp_path) -> None:
    plan = plan_of(cli, lib, tmp_path / "plan.json")
    kept = {Path(s["partner"]["path"]) for s in plan["steps"]}
    gone = sorted(kept)[0]
    gone.unlink()
    r = cli("apply", tmp_path / "plan.json")
    affected = [
        Path(s["entry"]["path"]) for s in plan["steps"] if Path(s["partner"]["path"]) == gone
    ]
    assert affected and all(p.exists() for p in affected)
    assert "the frame that stays" in r.text + r.err


def test_scan_culls_in_one_go_and_undo_restores(cli, lib) -> None:
    before = digests(lib.root)
    r = cli("scan", lib.root, "-q", "--auto-select", "best-of-burst")
    assert r.rc == 0, r.err
    assert "These frames have no copy" in r.text
    for b in lib.bursts:
        assert b.best_path.exists()
        assert not any(p.exists() for p in b.paths if p != b.best_path)
    assert cli("undo").rc == 0
    assert digests(lib.root) == before
