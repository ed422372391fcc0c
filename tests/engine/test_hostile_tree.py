"""Odd trees a real disk holds: each is walked or reported, and the scan goes on."""

from __future__ import annotations

import os
from pathlib import Path

from tui_dedup.demo import make_photo, write_jpeg
from tui_dedup.engine.files.discover import DiscoverOptions
from tui_dedup.engine.scan import ScanConfig, scan


def _photo(path: Path, seed: int = 1) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_jpeg(path, make_photo(seed, 160, 120))


def test_folder_named_like_an_image_is_walked_into(tmp_path: Path) -> None:
    _photo(tmp_path / "x.jpg" / "inside.jpg")
    res = scan([tmp_path], ScanConfig())
    assert [e.path for e in res.store.entries] == [str(tmp_path / "x.jpg" / "inside.jpg")]
    assert res.errors == []


def test_a_very_deep_tree_does_not_hit_the_recursion_limit(tmp_path: Path) -> None:
    levels = [tmp_path]
    for k in range(1100):  # deeper than Python's default recursion limit (os.makedirs recurses)
        levels.append(levels[-1] / f"d{k % 10}")
        os.mkdir(levels[-1])
    bottom = levels[-1] / "bottom.jpg"
    _photo(bottom)
    try:
        res = scan([tmp_path], ScanConfig())
        assert len(res.store) == 1
        assert res.errors == []
    finally:  # shutil.rmtree (pytest's tmp cleanup) recurses per level: take it down here
        bottom.unlink()
        for d in reversed(levels[1:]):
            d.rmdir()


def test_broken_symlink_is_reported_when_following_links(tmp_path: Path) -> None:
    _photo(tmp_path / "ok.jpg")
    (tmp_path / "gone.jpg").symlink_to(tmp_path / "nowhere.jpg")
    res = scan([tmp_path], ScanConfig(discover=DiscoverOptions(follow_symlinks=True)))
    assert len(res.store) == 1
    reasons = {Path(e.path).name: e.reason for e in res.skipped + res.errors}
    assert "broken symbolic link" in reasons["gone.jpg"]


def test_folder_names_with_newlines_and_bad_bytes(tmp_path: Path) -> None:
    odd = os.path.join(os.fsencode(tmp_path), b"new\nline \xff dir")
    os.mkdir(odd)
    write_jpeg(os.fsdecode(os.path.join(odd, b"p.jpg")), make_photo(3, 160, 120))
    res = scan([tmp_path], ScanConfig())
    assert len(res.store) == 1
    assert os.path.exists(os.fsencode(res.store.entries[0].path))
