"""Crops at the defaults: the window test on the stored tiles picks the candidates, and the crop
check then decodes nothing a cold scan already decoded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tui_dedup.demo import make_photo, write_jpeg
from tui_dedup.engine.files import decode as decode_mod
from tui_dedup.engine.matching import crop_windows
from tui_dedup.engine.matching.crop_stage import aspect_ratios
from tui_dedup.engine.matching.match import match
from tui_dedup.engine.matching.pairs import MatchOptions
from tui_dedup.engine.registry import resolve_threshold
from tui_dedup.engine.scan import ScanConfig, scan


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("windows")
    img = make_photo(21, 800, 600)
    write_jpeg(d / "a.jpg", img)
    write_jpeg(d / "a_crop.jpg", img[30 : 30 + 492, 90 : 90 + 656])  # 82 % of each side
    turned = np.rot90(img[60 : 60 + 510, 20 : 20 + 700], -1).copy()
    write_jpeg(d / "a_crop_rot90.jpg", turned)  # cropped, then turned a quarter
    write_jpeg(d / "other.jpg", make_photo(22, 800, 600))
    half = make_photo(23, 800, 600)
    write_jpeg(d / "half_left.jpg", half[:, :400])
    write_jpeg(d / "half_right.jpg", half[:, 400:])
    return d


def _score(store, a: str, b: str, turn: int = 0) -> float:
    names = [Path(e.path).name for e in store.entries]
    i, j = np.array([names.index(a)]), np.array([names.index(b)])
    tiles = store.features["tiles"]
    return float(crop_windows.scores(tiles, aspect_ratios(store), i, j, np.array([[turn]]))[0])


def test_a_crop_is_a_window_of_its_source_and_other_pictures_are_not(folder: Path) -> None:
    store = scan([str(folder)]).store
    assert _score(store, "a.jpg", "a_crop.jpg") >= crop_windows.MIN_SCORE
    assert _score(store, "a_crop.jpg", "a.jpg") >= crop_windows.MIN_SCORE  # either order
    assert _score(store, "a.jpg", "other.jpg") < crop_windows.MIN_SCORE
    # two halves of one picture: neither is a window of ≥ 70 % of the other
    assert _score(store, "half_left.jpg", "half_right.jpg") < crop_windows.MIN_SCORE


def test_a_turned_crop_fits_only_in_its_orientation(folder: Path) -> None:
    store = scan([str(folder)]).store
    # variant 3 (rot270) of the turned crop is the crop as it was cut
    assert _score(store, "a.jpg", "a_crop_rot90.jpg", turn=3) >= crop_windows.MIN_SCORE
    assert _score(store, "a.jpg", "a_crop_rot90.jpg", turn=0) < crop_windows.MIN_SCORE


def test_crops_are_found_at_the_defaults_without_decoding_again(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = scan([str(folder)]).store
    calls: list[str] = []
    real = decode_mod.decode_bytes

    def counting(path, data, limits):
        calls.append(path)
        return real(path, data, limits)

    monkeypatch.setattr(decode_mod, "decode_bytes", counting)
    pairs = match(store, "phash", resolve_threshold("phash"))
    names = [Path(e.path).name for e in store.entries]
    found = {
        frozenset((names[a], names[b]))
        for a, b in zip(pairs.i.tolist(), pairs.j.tolist(), strict=True)
    }
    assert frozenset(("a.jpg", "a_crop.jpg")) in found
    assert frozenset(("half_left.jpg", "half_right.jpg")) not in found
    assert frozenset(("a.jpg", "other.jpg")) not in found
    assert calls == []  # the cold scan kept each file's keypoints and thumbnail
    off = match(store, "phash", resolve_threshold("phash"), MatchOptions(crop_tolerant=False))
    assert len(off) < len(pairs)


def test_a_scan_without_the_crop_stage_keeps_no_keypoints(folder: Path) -> None:
    store = scan([str(folder)], ScanConfig(crop_features=False)).store
    assert all(k is None for k in store.local)
    kept = scan([str(folder)]).store
    assert all(k is not None for k in kept.local)
    assert all(t is not None and t.size for t in kept.crop_thumbs)
    kept.drop_crop_scratch()
    assert kept.local == [] and kept.crop_thumbs == []
