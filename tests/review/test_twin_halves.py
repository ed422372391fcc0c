"""Removing one half of a RAW+JPEG shot (issue #17): with format twins listed, a person may mark
the JPEG and move it, the RAW staying for it; auto-select never does; undo brings it back."""

from __future__ import annotations

from pathlib import Path

from raw_images import write_dng

from tui_dedup.actions import Journal, apply_plan, undo
from tui_dedup.demo import make_photo, write_jpeg
from tui_dedup.engine.matching.spec import MatchSpec
from tui_dedup.engine.verdicts.kinds import Kind, parse_kinds
from tui_dedup.review.decisions import auto_mark, plan_marked
from tui_dedup.review.pipeline import result_of, scan_library
from tui_dedup.review.settings import RunSettings

SCENE = make_photo(41, 1200, 800)


def test_the_jpeg_half_of_a_shot_can_be_moved_by_hand_and_comes_back(tmp_path: Path) -> None:
    root = tmp_path / "Pictures"
    (root / "DCIM").mkdir(parents=True)
    raw = write_dng(root / "DCIM" / "IMG_0007.DNG", SCENE)
    jpeg = root / "DCIM" / "IMG_0007.JPG"
    write_jpeg(jpeg, SCENE, 92)
    settings = RunSettings([str(root)], use_cache=False)
    settings.kinds = parse_kinds("copies,format twin")
    result = result_of(settings, scan_library(settings).result)
    assert result.pairs.kind is not None and list(result.pairs.kind) == [Kind.TWIN]
    assert auto_mark(result.store, result.pairs, result.groups) == set()  # never by itself
    rows = {e.path: k for k, e in enumerate(result.store.entries)}
    plan = plan_marked(
        result.store,
        result.pairs,
        [rows[str(jpeg)]],
        "move",
        spec=MatchSpec.from_settings(settings).to_dict(),
    )
    assert [(s.entry.path, s.partner.path) for s in plan.steps if s.partner] == [
        (str(jpeg), str(raw))
    ]
    report = apply_plan(plan, journal=Journal())
    assert report.ok and not jpeg.exists() and raw.exists()
    assert undo().ok
    assert jpeg.exists()
