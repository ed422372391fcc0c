"""A RAW+JPEG shot is matched as one unit (issue #17): it is listed once, as its JPEG; it is
kept over a loose copy; it leaves only whole — its RAW goes with the JPEG only while an
identical RAW stays beside the copy that stays, re-checked at apply. On DNGs the tests write
(tests/raw_images.py) in real folders."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import cv2
import pytest
from raw_images import write_dng

from tui_dedup.actions import Journal, apply_plan, undo
from tui_dedup.demo import make_photo, write_jpeg
from tui_dedup.engine.matching.spec import MatchSpec
from tui_dedup.engine.verdicts.kinds import parse_kinds
from tui_dedup.review.decisions import auto_mark, keeper_reasons, plan_marked
from tui_dedup.review.export_json import to_json
from tui_dedup.review.pipeline import result_of, scan_library
from tui_dedup.review.result import Result
from tui_dedup.review.session import ReviewSession
from tui_dedup.review.settings import RunSettings

SCENE = make_photo(53, 1200, 800)


def shoot(folder: Path, stem: str = "IMG_0101") -> tuple[Path, Path]:
    """A camera's RAW+JPEG shot: the DNG and the JPEG it wrote beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    raw = write_dng(folder / f"{stem}.DNG", SCENE)
    jpeg = folder / f"{stem}.JPG"
    write_jpeg(jpeg, SCENE, 92)
    return raw, jpeg


def result(root: Path, kinds: str | None = None) -> tuple[RunSettings, Result]:
    settings = RunSettings([str(root)], use_cache=False)
    if kinds:
        settings.kinds = parse_kinds(kinds)
    return settings, result_of(settings, scan_library(settings).result)


def names(res: Result, rows) -> set[str]:
    root = res.roots[0]
    return {os.path.relpath(res.store.entries[int(r)].path, root) for r in rows}


def listed(res: Result) -> set[frozenset[str]]:
    return {frozenset(names(res, [i, j])) for i, j in zip(res.pairs.i, res.pairs.j, strict=True)}


def plan_of(settings: RunSettings, res: Result, marked: set[int], **kw):
    spec = MatchSpec.from_settings(settings).to_dict()
    return plan_marked(res.store, res.pairs, marked, "move", spec=spec, **kw)


@pytest.fixture
def backed_up(tmp_path: Path) -> Path:
    """A shot in the camera folder and a byte-identical backup of both files."""
    root = tmp_path / "Pictures"
    raw, jpeg = shoot(root / "camera")
    (root / "backup").mkdir()
    for f in (raw, jpeg):
        shutil.copy2(f, root / "backup" / f.name)
    return root


def test_a_backed_up_shot_is_one_row_and_leaves_whole_and_comes_back(backed_up: Path) -> None:
    settings, res = result(backed_up)
    # four files, four copy pairs between the shots: one row, JPEG to JPEG
    assert listed(res) == {frozenset({"camera/IMG_0101.JPG", "backup/IMG_0101.JPG"})}
    doc = json.loads(to_json(res))
    assert len(doc["pairs"]) == 1 and len(doc["shots"]) == 2
    marked = auto_mark(res.store, res.pairs, res.groups)
    (gone,) = names(res, marked)
    folder = os.path.dirname(gone)
    plan = plan_of(settings, res, marked)
    (step,) = plan.steps
    assert [os.path.basename(c.path) for c in step.sidecars] == ["IMG_0101.DNG"]
    assert ": 1 file(s) + 1 RAW, " in plan.describe()[0]
    assert apply_plan(plan, journal=Journal()).ok
    other = "camera" if folder == "backup" else "backup"
    assert not (backed_up / folder / "IMG_0101.JPG").exists()
    assert not (backed_up / folder / "IMG_0101.DNG").exists()  # the shot left whole
    assert (backed_up / other / "IMG_0101.JPG").exists()
    assert (backed_up / other / "IMG_0101.DNG").exists()
    assert undo().ok
    assert (backed_up / folder / "IMG_0101.JPG").exists()
    assert (backed_up / folder / "IMG_0101.DNG").exists()


def test_the_shots_xmp_goes_with_the_whole_shot(backed_up: Path) -> None:
    (backed_up / "camera" / "IMG_0101.xmp").write_text("<x:xmpmeta/>")  # the RAW's edits
    (backed_up / "backup" / "IMG_0101.xmp").write_text("<x:xmpmeta/>")
    settings, res = result(backed_up)
    marked = auto_mark(res.store, res.pairs, res.groups)
    (step,) = plan_of(settings, res, marked).steps
    assert sorted(os.path.basename(c.path) for c in step.sidecars) == [
        "IMG_0101.DNG",
        "IMG_0101.xmp",
    ]


def test_apply_keeps_the_shot_when_the_raw_that_stays_changed(backed_up: Path) -> None:
    settings, res = result(backed_up)
    marked = auto_mark(res.store, res.pairs, res.groups)
    (gone,) = names(res, marked)
    plan = plan_of(settings, res, marked)
    other = "camera" if os.path.dirname(gone) == "backup" else "backup"
    kept_raw = backed_up / other / "IMG_0101.DNG"
    kept_raw.write_bytes(kept_raw.read_bytes() + b"edited")  # no longer the same RAW
    report = apply_plan(plan, journal=Journal())
    assert report.done == []
    assert (backed_up / gone).exists()  # nothing of the shot moved
    assert (backed_up / os.path.dirname(gone) / "IMG_0101.DNG").exists()
    ((path, why),) = report.skipped
    assert path.endswith(gone) and "RAW 'IMG_0101.DNG' has no copy beside the file" in why


@pytest.fixture
def shot_and_download(tmp_path: Path) -> Path:
    root = tmp_path / "Pictures"
    shoot(root / "camera")
    (root / "Downloads").mkdir()
    write_jpeg(root / "Downloads" / "IMG_0101 (1).jpg", SCENE, 80)
    return root


def test_the_shot_stays_and_the_loose_copy_goes(shot_and_download: Path) -> None:
    _, res = result(shot_and_download)
    assert listed(res) == {frozenset({"camera/IMG_0101.JPG", "Downloads/IMG_0101 (1).jpg"})}
    marked = auto_mark(res.store, res.pairs, res.groups)
    assert names(res, marked) == {"Downloads/IMG_0101 (1).jpg"}
    ((keeper, why),) = keeper_reasons(res.store, res.groups).items()
    assert names(res, [keeper]) == {"camera/IMG_0101.JPG"}
    assert why.startswith("keep: RAW+JPEG shot")


def test_a_chain_that_puts_resolution_first_keeps_a_larger_copy_over_the_shot(
    tmp_path: Path,
) -> None:
    """The shot ranks under the raw rule, in its place: a person who put resolution first
    keeps the larger file; the shot's JPEG, marked, is refused (its RAW has no copy)."""
    root = tmp_path / "Pictures"
    shoot(root / "camera")
    big = cv2.resize(SCENE, (1800, 1200), interpolation=cv2.INTER_CUBIC)
    (root / "Export").mkdir()
    write_jpeg(root / "Export" / "IMG_0101 large.jpg", big, 92)
    settings, res = result(root)
    rules = ["resolution", "raw"]
    ((keeper, why),) = keeper_reasons(res.store, res.groups, rules).items()
    assert names(res, [keeper]) == {"Export/IMG_0101 large.jpg"} and why.startswith("keep: larger")
    marked = auto_mark(res.store, res.pairs, res.groups, rules)
    assert names(res, marked) == {"camera/IMG_0101.JPG"}
    plan = plan_of(settings, res, marked)
    assert plan.steps == [] and "leaves only whole" in plan.refused[0]


def test_a_shot_with_a_unique_raw_is_refused_by_hand(shot_and_download: Path) -> None:
    settings, res = result(shot_and_download)
    rows = {os.path.relpath(e.path, shot_and_download): k for k, e in enumerate(res.store.entries)}
    plan = plan_of(settings, res, {rows["camera/IMG_0101.JPG"]})
    assert plan.steps == []
    (why,) = plan.refused
    assert "one shot with the RAW 'IMG_0101.DNG'" in why and "leaves only whole" in why


def test_marking_the_raw_too_moves_the_whole_shot(shot_and_download: Path) -> None:
    """With format twins shown, the RAW is a row of its own: marking it too is the person's
    word that this RAW may go; the loose copy is what stays."""
    settings = RunSettings([str(shot_and_download)], use_cache=False)
    settings.kinds = parse_kinds("copies,format twin")
    session = ReviewSession(settings, scan_library(settings).result)
    session.install(session.compute(session.method, session.threshold))
    rows = {os.path.relpath(e.path, shot_and_download): k for k, e in enumerate(session.entries)}
    shot = {rows["camera/IMG_0101.JPG"], rows["camera/IMG_0101.DNG"]}
    plan = session.plan("move", shot)
    assert plan.refused == []
    assert {os.path.basename(s.partner.path) for s in plan.steps if s.partner} == {
        "IMG_0101 (1).jpg"
    }
    assert apply_plan(plan, journal=Journal()).ok
    assert not (shot_and_download / "camera" / "IMG_0101.DNG").exists()
    assert (shot_and_download / "Downloads" / "IMG_0101 (1).jpg").exists()
    assert undo().ok
    assert (shot_and_download / "camera" / "IMG_0101.DNG").exists()


def test_not_a_duplicate_said_of_a_shots_row_holds_for_its_raw(shot_and_download: Path) -> None:
    """Skipped in an earlier run (the skips file, by content): the RAW's pair with the download,
    folded into the shot's row, does not come back in its place, nor is the download marked."""
    from tui_dedup.actions.fsops import file_digest
    from tui_dedup.actions.skips import SkipStore

    jpeg = shot_and_download / "camera" / "IMG_0101.JPG"
    download = shot_and_download / "Downloads" / "IMG_0101 (1).jpg"
    SkipStore().add(file_digest(str(jpeg)), file_digest(str(download)))
    _, res = result(shot_and_download)
    assert listed(res) == set()
    assert auto_mark(res.store, res.pairs, res.groups) == set()


def test_a_shots_row_skipped_in_the_app_takes_its_raws_pair_along(shot_and_download: Path) -> None:
    settings = RunSettings([str(shot_and_download)], use_cache=False)
    session = ReviewSession(settings, scan_library(settings).result)
    session.install(session.compute(session.method, session.threshold))
    ((i, j),) = zip(session.pairs.i.tolist(), session.pairs.j.tolist(), strict=True)
    session.skip_pair(i, j)
    session.refilter()
    assert len(session.pairs) == 0 and len(session.listed) == 0
    session.undo()
    assert len(session.pairs) == 1  # and back with the skip's undo
