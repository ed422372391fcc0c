"""Pixel comparison and thumbnails: golden properties on generated photos."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from tui_dedup.demo import make_photo, stored_for_orientation, write_image, write_jpeg
from tui_dedup.engine.features.hashes import dihedral
from tui_dedup.engine.files import thumbs
from tui_dedup.engine.matching.compare import (
    PixelComparison,
    apply_transform,
    compare_arrays,
    compare_images,
    ssim,
    verdict,
)
from tui_dedup.engine.model import TRANSFORMS, ScanError


@pytest.fixture(autouse=True)
def _fresh_cache():
    thumbs.clear_cache()
    yield
    thumbs.clear_cache()


@pytest.fixture
def photo() -> np.ndarray:
    return make_photo(11, 640, 480)


# ---------------------------------------------------------------------------------------------
# SSIM / MSE / PSNR


def test_identical_files_score_one(tmp_path: Path, photo: np.ndarray) -> None:
    write_image(tmp_path / "a.png", photo)
    write_image(tmp_path / "b.png", photo)
    c = compare_images(str(tmp_path / "a.png"), str(tmp_path / "b.png"))
    assert isinstance(c, PixelComparison)
    assert c.ssim == pytest.approx(1.0, abs=1e-9)
    assert c.mse == 0.0
    assert math.isinf(c.psnr)
    assert (c.width, c.height) == (256, 192)  # long side 256, aspect kept
    assert c.larger is None and c.sharper is None


def test_noisy_copy_scores_lower_and_unrelated_much_lower(tmp_path: Path, photo) -> None:
    rng = np.random.default_rng(3)
    noisy = np.clip(photo + rng.normal(0, 10, photo.shape), 0, 255).astype(np.uint8)
    write_image(tmp_path / "a.png", photo)
    write_image(tmp_path / "noisy.png", noisy)
    write_image(tmp_path / "other.png", make_photo(99, 640, 480))
    same = compare_images(str(tmp_path / "a.png"), str(tmp_path / "a.png"))
    near = compare_images(str(tmp_path / "a.png"), str(tmp_path / "noisy.png"))
    far = compare_images(str(tmp_path / "a.png"), str(tmp_path / "other.png"))
    assert isinstance(near, PixelComparison) and isinstance(far, PixelComparison)
    assert near.ssim < same.ssim
    assert near.mse > 0 and near.psnr < same.psnr
    assert far.ssim < near.ssim - 0.2
    assert far.psnr < near.psnr
    assert far.ssim < 0.75


def test_mirrored_copy_with_mirror_transform_is_identical(tmp_path: Path, photo) -> None:
    write_image(tmp_path / "a.png", photo)
    write_image(tmp_path / "m.png", photo[:, ::-1])
    mirror = TRANSFORMS.index("mirror")
    plain = compare_images(str(tmp_path / "a.png"), str(tmp_path / "m.png"))
    turned = compare_images(str(tmp_path / "a.png"), str(tmp_path / "m.png"), transform=mirror)
    assert isinstance(turned, PixelComparison) and isinstance(plain, PixelComparison)
    assert turned.ssim == pytest.approx(1.0, abs=1e-9)
    assert turned.mse == 0.0
    assert plain.ssim < 0.9


def test_rotated_copy_is_turned_back_by_its_transform(tmp_path: Path, photo) -> None:
    """Code k means "variant k of the second image matches the first" (Pairs.transform)."""
    ccw = np.ascontiguousarray(np.rot90(photo, 1))  # b is a turned counter-clockwise
    write_image(tmp_path / "a.png", photo)
    write_image(tmp_path / "r.png", ccw)
    k = TRANSFORMS.index("rot90")
    c = compare_images(str(tmp_path / "a.png"), str(tmp_path / "r.png"), transform=k)
    assert isinstance(c, PixelComparison)
    assert c.ssim > 0.999
    assert (c.width, c.height) == (256, 192)


def test_apply_transform_matches_the_features_dihedral_order() -> None:
    sq = np.arange(16, dtype=np.uint8).reshape(4, 4)
    for k, expected in enumerate(dihedral(sq)):
        np.testing.assert_array_equal(apply_transform(sq, k), expected)
    rect = np.zeros((2, 5), np.uint8)
    assert apply_transform(rect, 1).shape == (5, 2)
    with pytest.raises(ValueError):
        apply_transform(rect, 8)


def test_ssim_is_symmetric_and_bounded(photo) -> None:
    g = cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY)
    h = cv2.GaussianBlur(g, (0, 0), 2.0)
    assert ssim(g, h) == pytest.approx(ssim(h, g))
    assert -1.0 <= ssim(g, 255 - g) < 0.2 < ssim(g, h) < 1.0
    with pytest.raises(ValueError):
        ssim(g, g[:-1])


def test_larger_and_sharper_side(photo) -> None:
    small_blurred = cv2.GaussianBlur(cv2.resize(photo, (320, 240)), (0, 0), 2.0)
    c = compare_arrays(small_blurred, photo)
    assert c.larger == "b"
    assert c.sharper == "b"
    assert (c.width, c.height) == (320, 240)  # compared at the size both share
    c2 = compare_arrays(photo, small_blurred)
    assert (c2.larger, c2.sharper) == ("a", "a")


def test_errors_are_values(tmp_path: Path, photo) -> None:
    write_image(tmp_path / "a.png", photo)
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a photo")
    bad = compare_images(str(tmp_path / "a.png"), str(tmp_path / "broken.jpg"))
    assert isinstance(bad, ScanError) and bad.path.endswith("broken.jpg")
    gone = compare_images(str(tmp_path / "missing.jpg"), str(tmp_path / "a.png"))
    assert isinstance(gone, ScanError) and "vanished" in gone.reason


def test_verdict_lines(photo) -> None:
    same = compare_arrays(photo, photo)
    assert verdict(same, byte_identical=True).startswith("byte-identical")
    assert verdict(None).endswith("waiting for the pixel comparison…")
    assert verdict(same) == "same picture, different encoding"
    small = compare_arrays(photo, cv2.resize(photo, (320, 240), interpolation=cv2.INTER_AREA))
    assert verdict(small) == "same picture, different size and encoding"
    mirrored = compare_arrays(photo, photo[:, ::-1], transform=4)
    assert verdict(mirrored, transform=4) == "same picture, different encoding (mirror)"
    other = compare_arrays(photo, make_photo(99, 640, 480))
    assert verdict(other).startswith("different pictures")


# ---------------------------------------------------------------------------------------------
# thumbnails


def test_thumbnail_is_reduced_decode_with_orientation(tmp_path: Path) -> None:
    upright = make_photo(5, 1600, 1200)
    write_jpeg(tmp_path / "r.jpg", stored_for_orientation(upright, 6), 92, orientation=6)
    t = thumbs.read_thumbnail(str(tmp_path / "r.jpg"), 200)
    assert isinstance(t, thumbs.Thumbnail)
    assert (t.width, t.height, t.format) == (1600, 1200, "JPEG")  # orientation applied
    assert t.image.shape == (150, 200, 3)  # long side 200, landscape like the upright photo
    expected = cv2.resize(upright, (200, 150), interpolation=cv2.INTER_AREA)
    assert np.abs(t.image.astype(int) - expected).mean() < 6
    assert not t.image.flags.writeable
    assert thumbs.reduction_for(1600, 1200, 200) == 8
    assert thumbs.reduction_for(1600, 1200, 300) == 4
    assert thumbs.reduction_for(1600, 1200, 900) == 1


def test_thumbnail_never_enlarges(tmp_path: Path) -> None:
    write_image(tmp_path / "s.png", make_photo(1, 120, 90))
    img = thumbs.load_thumbnail(str(tmp_path / "s.png"), 500)
    assert isinstance(img, np.ndarray) and img.shape == (90, 120, 3)


def test_thumbnail_cache_hits_and_invalidates_on_change(tmp_path: Path, monkeypatch) -> None:
    p = tmp_path / "a.jpg"
    write_jpeg(p, make_photo(1, 400, 300))
    loads: list[str] = []
    real = thumbs._load
    monkeypatch.setattr(thumbs, "_load", lambda *a: loads.append(a[0]) or real(*a))
    first = thumbs.load_thumbnail(str(p), 100)
    again = thumbs.load_thumbnail(str(p), 100)
    assert again is first and len(loads) == 1
    thumbs.load_thumbnail(str(p), 64)  # another size is another entry
    assert len(loads) == 2
    write_jpeg(p, make_photo(2, 400, 320))  # same path, new content, size and mtime
    changed = thumbs.load_thumbnail(str(p), 100)
    assert len(loads) == 3
    assert isinstance(changed, np.ndarray) and changed.shape == (80, 100, 3)


def test_thumbnail_cache_is_bounded() -> None:
    lru = thumbs._LRU(max_bytes=3 * 100)
    img = np.zeros(100, np.uint8)
    for k in range(5):
        lru.put(("p", k), thumbs.Thumbnail(img, 1, 1, "PNG"))
    assert len(lru) == 3
    assert lru.get(("p", 0)) is None and lru.get(("p", 4)) is not None


def test_engine_modules_do_not_import_textual() -> None:
    code = (
        "import sys, tui_dedup.engine.matching.compare, tui_dedup.engine.files.thumbs;"
        "assert not any(m == 'textual' or m.startswith(('textual.', 'rich')) for m in sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
