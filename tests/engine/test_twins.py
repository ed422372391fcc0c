"""RAW+JPEG as one shot (issue #17): a RAW and the JPEG the camera wrote beside it are format
twins, not duplicates; the JSON lists them as a shot with its members; a RAW is never
auto-marked. On DNGs written by the tests (tests/raw_images.py)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from raw_images import write_dng
from verdict_images import pair_kinds

from tui_dedup.demo import make_photo, write_jpeg
from tui_dedup.review.decisions import auto_mark
from tui_dedup.review.export_json import to_json
from tui_dedup.review.pipeline import result_of, scan_library
from tui_dedup.review.settings import RunSettings

SCENE = make_photo(31, 1200, 800)


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "Pictures"
    (root / "DCIM").mkdir(parents=True)
    write_dng(root / "DCIM" / "IMG_0001.DNG", SCENE)
    write_jpeg(root / "DCIM" / "IMG_0001.JPG", SCENE, 92)  # the camera's JPEG beside it
    return root


def test_a_raw_and_the_jpeg_beside_it_are_format_twins(library: Path) -> None:
    got = pair_kinds(library)
    assert got[frozenset(("DCIM/IMG_0001.DNG", "DCIM/IMG_0001.JPG"))] == "format twin"


def test_the_same_pair_in_two_folders_stays_a_copy(library: Path) -> None:
    (library / "export").mkdir()
    shutil.move(library / "DCIM" / "IMG_0001.JPG", library / "export" / "IMG_0001.JPG")
    got = pair_kinds(library)
    assert got[frozenset(("DCIM/IMG_0001.DNG", "export/IMG_0001.JPG"))] == "re-encoded"


def test_twins_are_not_listed_by_default_and_the_json_names_the_shot(library: Path) -> None:
    write_jpeg(library / "IMG_0001 (1).jpg", SCENE, 80)  # a download of the JPEG
    settings = RunSettings([str(library)], use_cache=False)
    result = result_of(settings, scan_library(settings).result)
    doc = json.loads(to_json(result))
    listed = {frozenset(os.path.basename(p) for p in (x["a"], x["b"])) for x in doc["pairs"]}
    assert frozenset(("IMG_0001.DNG", "IMG_0001.JPG")) not in listed
    assert frozenset(("IMG_0001.JPG", "IMG_0001 (1).jpg")) in listed  # a real copy stays
    (shot,) = doc["shots"]
    assert os.path.basename(shot["primary"]) == "IMG_0001.JPG"
    assert [os.path.basename(m) for m in shot["members"]] == ["IMG_0001.JPG", "IMG_0001.DNG"]
    # auto-select keeps the shot: the download goes, never the RAW nor its JPEG
    marked = auto_mark(result.store, result.pairs, result.groups)
    names = {os.path.basename(result.store.entries[m].path) for m in marked}
    assert names == {"IMG_0001 (1).jpg"}  # the shot stays whole, its RAW and its JPEG


def test_a_raw_is_never_auto_marked_not_even_its_exact_backup(tmp_path: Path) -> None:
    root = tmp_path / "Pictures"
    (root / "camera").mkdir(parents=True)
    (root / "backup").mkdir()
    write_dng(root / "camera" / "IMG_0002.DNG", SCENE)
    shutil.copy(root / "camera" / "IMG_0002.DNG", root / "backup" / "IMG_0002.DNG")
    settings = RunSettings([str(root)], use_cache=False)
    result = result_of(settings, scan_library(settings).result)
    assert len(result.pairs) == 1 and bool(np.all(result.pairs.exact))
    assert auto_mark(result.store, result.pairs, result.groups) == set()


def test_the_shots_primary_wears_a_raw_badge_in_the_preview(library: Path) -> None:
    from tui_dedup.tui.widgets.preview_text import badges

    write_jpeg(library / "IMG_0001 (1).jpg", SCENE, 80)
    settings = RunSettings([str(library)], use_cache=False)
    store = scan_library(settings).result.store
    name = [os.path.basename(e.path) for e in store.entries]
    jpeg, download = name.index("IMG_0001.JPG"), name.index("IMG_0001 (1).jpg")
    a, b = badges(store, jpeg, download)
    assert a.startswith("+RAW") and "+RAW" not in b


def test_a_live_photos_still_wears_a_mov_badge(tmp_path: Path) -> None:
    from tui_dedup.tui.widgets.preview_text import badges

    root = tmp_path / "Pictures"
    (root / "DCIM").mkdir(parents=True)
    write_jpeg(root / "DCIM" / "IMG_0002.JPG", SCENE, 92)
    (root / "DCIM" / "IMG_0002.MOV").write_bytes(b"\0\0\0\x08mdat")  # the movie: not scanned
    write_jpeg(root / "IMG_0002 (1).jpg", SCENE, 80)
    settings = RunSettings([str(root)], use_cache=False)
    store = scan_library(settings).result.store
    name = [os.path.basename(e.path) for e in store.entries]
    assert "IMG_0002.MOV" not in name
    a, b = badges(store, name.index("IMG_0002.JPG"), name.index("IMG_0002 (1).jpg"))
    assert a.startswith("+MOV") and "+MOV" not in b


def test_a_shots_members_in_the_json_include_its_live_photo_movie(library: Path) -> None:
    (library / "DCIM" / "IMG_0001.MOV").write_bytes(b"\0\0\0\x08mdat")
    settings = RunSettings([str(library)], use_cache=False)
    result = result_of(settings, scan_library(settings).result)
    (shot,) = json.loads(to_json(result))["shots"]
    assert [os.path.basename(m) for m in shot["members"]] == [
        "IMG_0001.JPG",
        "IMG_0001.DNG",
        "IMG_0001.MOV",
    ]
