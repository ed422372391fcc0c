"""Copies with a logo or caption at the defaults, large crops with --crop-tolerant, and the hard
negatives both stages must refuse (another design on the same gradient, halves of one image).

The pictures are smooth generated wallpapers, the case that defeats a global hash: a centred,
mirror-symmetric design has its odd DCT terms near zero, so a logo in one corner moves pHash
past the balanced radius; faint shapes give ORB too few keypoints to verify a crop.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from local_edit_images import H, W, faint_shapes, symmetric_design, with_caption, with_logo

from tui_dedup.demo import make_photo
from tui_dedup.engine.cache.features import FeatureCache
from tui_dedup.engine.features.hashes import TILE_SIDE, tile_signature
from tui_dedup.engine.features.store import FeatureStore
from tui_dedup.engine.matching.match import match
from tui_dedup.engine.matching.pairs import MatchOptions
from tui_dedup.engine.matching.tiles import PERMS, TILE_AGREE, agreement_fraction
from tui_dedup.engine.matching.verify import dense_score
from tui_dedup.engine.registry import resolve_threshold
from tui_dedup.engine.scan import scan


def _save(path: Path, img: np.ndarray) -> None:
    cv2.imwrite(str(path), img, [cv2.IMWRITE_JPEG_QUALITY, 92])


def _pairs(store: FeatureStore, opts: MatchOptions | None = None) -> set[tuple[str, str]]:
    p = match(store, "phash", resolve_threshold("phash"), opts)
    names = [Path(e.path).name for e in store.entries]
    return {(names[a], names[b]) for a, b in zip(p.i.tolist(), p.j.tolist(), strict=True)}


@pytest.fixture(scope="module")
def overlays(tmp_path_factory: pytest.TempPathFactory) -> FeatureStore:
    d = tmp_path_factory.mktemp("overlays")
    img = symmetric_design(0)
    _save(d / "a.jpg", img)
    _save(d / "b_logo.jpg", with_logo(img))
    _save(d / "c_caption.jpg", with_caption(img))
    return scan([str(d)]).store


@pytest.fixture(scope="module")
def negatives(tmp_path_factory: pytest.TempPathFactory) -> FeatureStore:
    d = tmp_path_factory.mktemp("negatives")
    for seed in range(4):  # four designs on one gradient (one palette)
        _save(d / f"design{seed}.jpg", faint_shapes(seed))
    for seed in (3, 5, 6):  # halves of designs symmetric top/bottom: mirrors of each other
        img = faint_shapes(seed + 300)
        _save(d / f"w{seed}_top.jpg", img[: H // 2])
        _save(d / f"w{seed}_bottom.jpg", img[H // 2 :])
    photo = make_photo(7, 640, 480)
    _save(d / "p_left.jpg", photo[:, :320])
    _save(d / "p_right.jpg", photo[:, 320:])
    return scan([str(d)]).store


@pytest.fixture(scope="module")
def crop(tmp_path_factory: pytest.TempPathFactory) -> FeatureStore:
    d = tmp_path_factory.mktemp("crop")
    img = faint_shapes(2)
    ch, cw = int(H * 0.85), int(W * 0.85)  # 15 % off each side, off centre
    _save(d / "a.jpg", img)
    _save(d / "b_crop15.jpg", img[20 : 20 + ch, 80 : 80 + cw])
    _save(d / "c_other.jpg", faint_shapes(102))
    return scan([str(d)]).store


def test_logo_and_caption_copies_found_at_the_defaults(overlays: FeatureStore) -> None:
    found = _pairs(overlays)
    assert {("a.jpg", "b_logo.jpg"), ("a.jpg", "c_caption.jpg")} <= found
    # ...because of the local-edit stage: pHash alone misses them on this picture (and the
    # crop stage, which also finds a copy that is a whole window of the other, is off here)
    without = _pairs(overlays, MatchOptions(local_edits=False, crop_tolerant=False))
    assert ("a.jpg", "b_logo.jpg") not in without
    assert ("a.jpg", "c_caption.jpg") not in without


def test_same_palette_designs_and_halves_are_never_paired(negatives: FeatureStore) -> None:
    assert _pairs(negatives) == set()
    assert _pairs(negatives, MatchOptions(crop_tolerant=True)) == set()


def test_large_crop_of_a_smooth_picture_is_found_by_the_crop_stage(crop: FeatureStore) -> None:
    assert ("a.jpg", "b_crop15.jpg") not in _pairs(crop, MatchOptions(crop_tolerant=False))
    assert _pairs(crop) == {("a.jpg", "b_crop15.jpg")}


def test_tile_agreement_ignores_an_overlay_and_a_contrast_change() -> None:
    base = cv2.resize(faint_shapes(1), (TILE_SIDE, TILE_SIDE), interpolation=cv2.INTER_AREA)
    a = base[:, :, 1].astype(np.float32).ravel()
    edited = a.reshape(TILE_SIDE, TILE_SIDE).copy()
    edited[:2, -3:] = 255.0  # a logo over 6 of 144 cells
    brighter = 1.3 * edited + 12.0  # ...and a contrast + brightness change
    frac = agreement_fraction(a[None], brighter.ravel()[None])[0]
    assert frac >= 0.95
    other = cv2.resize(faint_shapes(9), (TILE_SIDE, TILE_SIDE), interpolation=cv2.INTER_AREA)
    b = other[:, :, 1].astype(np.float32).ravel()
    assert agreement_fraction(a[None], b[None])[0] < TILE_AGREE


def test_tile_agreement_refuses_a_shared_flat_background() -> None:
    """Two product shots on one white background agree only on the background."""
    a = np.full((TILE_SIDE, TILE_SIDE), 250.0, np.float32)
    b = a.copy()
    a[4:7, 4:7] = np.arange(9).reshape(3, 3) * 20.0
    b[4:7, 4:7] = np.arange(9)[::-1].reshape(3, 3) * 20.0
    assert agreement_fraction(a.ravel()[None], b.ravel()[None])[0] == 0.0


def test_tile_signature_turns_with_the_image() -> None:
    img = faint_shapes(4)
    sig = tile_signature(img)
    assert sig.shape == (TILE_SIDE * TILE_SIDE,) and sig.dtype == np.uint8
    turned = tile_signature(np.ascontiguousarray(np.rot90(img, -1)))  # 90° clockwise
    diff = np.abs(turned.astype(int) - sig[PERMS[1]].astype(int))
    assert diff.max() <= 2


def test_dense_score_finds_a_crop_and_refuses_halves() -> None:
    gray = cv2.cvtColor(faint_shapes(2), cv2.COLOR_BGR2GRAY)
    small = cv2.resize(gray, (64, 40), interpolation=cv2.INTER_AREA)
    part = cv2.resize(gray[40:440, 60:740], (64, 38), interpolation=cv2.INTER_AREA)
    assert dense_score(small, part) >= 0.8
    photo = cv2.cvtColor(make_photo(3, 640, 480), cv2.COLOR_BGR2GRAY)
    left = cv2.resize(photo[:, :320], (40, 60), interpolation=cv2.INTER_AREA)
    right = cv2.resize(photo[:, 320:], (40, 60), interpolation=cv2.INTER_AREA)
    assert dense_score(left, right) < 0.8


def test_tile_signatures_survive_the_cache(overlays: FeatureStore, tmp_path: Path) -> None:
    root = str(Path(overlays.entries[0].path).parent)
    with FeatureCache.open(tmp_path / "f.sqlite") as cache:
        cold = scan([root], cache=cache).store
    with FeatureCache.open(tmp_path / "f.sqlite") as cache:
        warm = scan([root], cache=cache)
    assert warm.from_cache == len(cold) == 3
    np.testing.assert_array_equal(warm.store.tiles, cold.tiles)
    np.testing.assert_array_equal(cold.tiles, overlays.tiles)
    assert (cold.tiles.std(axis=1) > 4).all()
