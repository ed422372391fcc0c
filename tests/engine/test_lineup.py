"""Lining B up on A for the compare view: a copy lines up whatever was done to it, and the
difference picture shows where an edit is and nothing where there is none."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tui_dedup.engine.matching.compare import apply_transform
from tui_dedup.engine.matching.lineup import VISIBLE, line_up, load_lined_up
from tui_dedup.engine.model import TRANSFORMS, ScanError


def photo(seed: int = 1, w: int = 400, h: int = 300) -> np.ndarray:
    """A smooth background with sharp discs: keypoints to place by, detail to compare."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (h // 10, w // 10, 3), dtype=np.uint8)
    img = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    for _ in range(40):
        centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        cv2.circle(img, centre, int(rng.integers(4, 30)), colour, -1)
    return img


def reencoded(img: np.ndarray, quality: int = 60) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.imdecode(data, cv2.IMREAD_COLOR)


def red_share(picture: np.ndarray, box: tuple[int, int, int, int]) -> tuple[float, float]:
    """Share of red pixels inside ``box`` (x0, y0, x1, y1) and outside it."""
    b, g, r = (picture[:, :, k].astype(int) for k in range(3))
    red = (r > 150) & (r > g + 60) & (r > b + 60)
    inside = np.zeros(red.shape, bool)
    x0, y0, x1, y1 = box
    inside[y0:y1, x0:x1] = True
    return float(red[inside].mean()), float(red[~inside].mean())


def test_a_recompressed_copy_shows_no_difference() -> None:
    a = photo()
    lined = line_up(a, reencoded(a))
    assert lined.aligned and not lined.placed
    assert lined.changed < 0.01
    assert lined.b.shape == a.shape


@pytest.mark.parametrize("transform", range(1, len(TRANSFORMS)))
def test_a_turned_copy_lines_up_under_the_matched_transform(transform: int) -> None:
    a = photo(2)
    # B is the file whose variant `transform` matches A: turn A by the inverse to make it.
    b = next(
        apply_transform(a, k)
        for k in range(len(TRANSFORMS))
        if np.array_equal(apply_transform(apply_transform(a, k), transform), a)
    )
    lined = line_up(a, reencoded(b), transform)
    assert lined.aligned
    assert lined.changed < 0.01, TRANSFORMS[transform]
    wrong = line_up(a, reencoded(b), 0)
    assert wrong.changed > 0.2 or not wrong.aligned  # without the transform they disagree


def test_a_half_size_copy_is_shown_at_the_scale_of_a() -> None:
    a = photo(3)
    half = cv2.resize(a, (200, 150), interpolation=cv2.INTER_AREA)
    lined = line_up(a, half)
    assert lined.b.shape == a.shape
    assert lined.changed < 0.03


def test_an_edit_is_red_where_it_is_and_nowhere_else() -> None:
    a = photo(4)
    edited = a.copy()
    cv2.rectangle(edited, (260, 200), (380, 280), (255, 255, 255), -1)
    cv2.putText(edited, "SALE", (270, 255), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (0, 0, 200), 3)
    lined = line_up(a, reencoded(edited, 90))
    assert 0.05 < lined.changed < 0.2
    inside, outside = red_share(lined.difference, (260, 200, 381, 281))
    assert inside > 0.5
    assert outside < 0.01


def test_a_crop_is_placed_on_the_full_picture_and_the_rest_is_only_in_a() -> None:
    a = photo(5)
    crop = cv2.resize(a[60:240, 80:320], (480, 360), interpolation=cv2.INTER_CUBIC)
    lined = line_up(a, crop)
    assert lined.placed and lined.aligned
    assert 0.3 < lined.covered < 0.45  # 240×180 of 400×300
    assert lined.changed < 0.03
    b, _g, r = (lined.difference[10, 10, k] for k in range(3))
    assert b > r  # outside the crop: blue, "only in A"


def test_two_different_pictures_of_other_shapes_are_not_lined_up() -> None:
    lined = line_up(photo(6), photo(7, w=300, h=400))
    assert not lined.aligned or lined.changed > 0.3


def test_files_are_read_with_the_preview_decoder(tmp_path) -> None:
    a = photo(8)
    pa, pb = tmp_path / "a.png", tmp_path / "b.jpg"
    cv2.imwrite(str(pa), a)
    cv2.imwrite(str(pb), a, [cv2.IMWRITE_JPEG_QUALITY, 85])
    lined = load_lined_up(str(pa), str(pb), 256)
    assert not isinstance(lined, ScanError)
    assert max(lined.a.shape[:2]) == 256
    assert lined.changed < 0.01
    missing = load_lined_up(str(pa), str(tmp_path / "gone.jpg"), 256)
    assert isinstance(missing, ScanError)


def test_visible_means_visible() -> None:
    """A difference a person would not see (a few grey levels) is not painted."""
    a = photo(9)
    brighter = np.clip(a.astype(int) + int(VISIBLE // 3), 0, 255).astype(np.uint8)
    assert line_up(a, brighter).changed < 0.01
