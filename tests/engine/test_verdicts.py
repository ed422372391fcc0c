"""The verdict stage on real files: copies are confirmed and named; look-alikes are not copies.

Each case is a kind of picture that fooled the 64-bit hash on a real library (the verdicts
issue): night skies, statements of one layout, one design in two colours, burst frames.
Candidates come from the loose preset so that the verdict stage, not the hash, decides.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from verdict_images import burst, logo, pair_kinds, star_field, statement, with_caption

from tui_dedup.demo import make_photo, write_jpeg
from tui_dedup.engine.verdicts.kinds import COPIES, WORDS


def verdicts(root: Path, **extra: object) -> dict[frozenset[str], str]:
    """{frozenset(names): kind word} of every candidate pair (DIFFERENT ones dropped)."""
    return pair_kinds(root, **{"threshold_arg": "loose", **extra})


def is_copy(word: str | None) -> bool:
    return word is not None and any(WORDS[k] == word for k in COPIES)


def pair(a: str, b: str) -> frozenset[str]:
    return frozenset((a, b))


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "Pictures"
    root.mkdir()
    return root


def test_copies_are_confirmed_and_named_by_what_was_done(library: Path) -> None:
    photo = make_photo(11, 1600, 1200)
    write_jpeg(library / "IMG_1.jpg", photo, 93)
    (library / "IMG_1 copy.jpg").write_bytes((library / "IMG_1.jpg").read_bytes())
    write_jpeg(
        library / "small.jpg", cv2.resize(photo, (800, 600), interpolation=cv2.INTER_AREA), 75
    )
    write_jpeg(library / "turned.jpg", np.ascontiguousarray(np.rot90(photo, -1)), 90)
    write_jpeg(library / "mirror.jpg", np.ascontiguousarray(photo[:, ::-1]), 90)
    cv2.imwrite(
        str(library / "lossless.png"),
        cv2.imdecode(
            np.frombuffer((library / "IMG_1.jpg").read_bytes(), np.uint8), cv2.IMREAD_COLOR
        ),
    )
    got = verdicts(library)
    assert got[pair("IMG_1.jpg", "IMG_1 copy.jpg")] == "exact"
    assert got[pair("IMG_1.jpg", "small.jpg")] == "re-encoded"
    assert got[pair("IMG_1.jpg", "turned.jpg")] == "rotated"
    assert got[pair("IMG_1.jpg", "mirror.jpg")] == "mirrored"
    assert got[pair("IMG_1.jpg", "lossless.png")] in ("same pixels", "re-encoded")


def test_a_caption_is_an_edit_and_a_crop_is_a_crop(library: Path) -> None:
    photo = make_photo(12, 1600, 1200)
    write_jpeg(library / "IMG_2.jpg", photo, 93)
    write_jpeg(library / "IMG_2_caption.jpg", with_caption(photo), 90)
    h, w = photo.shape[:2]
    write_jpeg(library / "IMG_2_crop.jpg", photo[h // 20 : h - h // 25, w // 30 : w - w // 20], 90)
    got = verdicts(library)
    assert got.get(pair("IMG_2.jpg", "IMG_2_caption.jpg")) == "edited"
    assert got.get(pair("IMG_2.jpg", "IMG_2_crop.jpg")) == "cropped"


def test_two_night_skies_are_not_copies_but_a_recompressed_sky_is(library: Path) -> None:
    for k in range(6):
        write_jpeg(library / f"sky_{k}.jpg", star_field(100 + k), 92)
    small = cv2.resize(star_field(100), (800, 600), interpolation=cv2.INTER_AREA)
    write_jpeg(library / "sky_0_small.jpg", small, 80)
    got = verdicts(library)
    assert is_copy(got.get(pair("sky_0.jpg", "sky_0_small.jpg")))
    wrong = {p: w for p, w in got.items() if is_copy(w) and "sky_0_small.jpg" not in p}
    wrong = {p: w for p, w in wrong.items() if p != pair("sky_0.jpg", "sky_0_small.jpg")}
    assert wrong == {}


def test_statements_of_one_layout_are_not_copies(library: Path) -> None:
    for month in range(4):
        cv2.imwrite(str(library / f"statement_{month}.png"), statement(month))
    write_jpeg(library / "statement_0_download.jpg", statement(0), 90)
    got = verdicts(library)
    assert is_copy(got.get(pair("statement_0.png", "statement_0_download.jpg")))
    for a in range(4):
        for b in range(a + 1, 4):
            assert not is_copy(got.get(pair(f"statement_{a}.png", f"statement_{b}.png"))), (a, b)


def test_one_design_in_two_colours_is_not_a_copy(library: Path) -> None:
    cv2.imwrite(str(library / "logo_blue.png"), logo(0))
    cv2.imwrite(str(library / "logo_purple.png"), logo(25))
    write_jpeg(library / "logo_blue.jpg", logo(0), 90)
    got = verdicts(library)
    assert is_copy(got.get(pair("logo_blue.png", "logo_blue.jpg")))
    assert not is_copy(got.get(pair("logo_blue.png", "logo_purple.png")))
    assert not is_copy(got.get(pair("logo_blue.jpg", "logo_purple.png")))


def test_burst_frames_are_similar_shots_never_copies(library: Path) -> None:
    base = make_photo(13, 1600, 1200)
    for f in range(3):
        write_jpeg(library / f"burst_{f}.jpg", burst(base, f), 92)
    got = verdicts(library)
    for a in range(3):
        for b in range(a + 1, 3):
            word = got.get(pair(f"burst_{a}.jpg", f"burst_{b}.jpg"))
            assert word in (None, "similar shot"), (a, b, word)
