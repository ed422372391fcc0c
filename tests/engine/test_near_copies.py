"""The copies a user has on disk are found, with the right rotation; strangers are not."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from tui_dedup.demo import make_photo, stored_for_orientation, write_image, write_jpeg
from tui_dedup.engine.features.hashes import dihedral
from tui_dedup.engine.matching.match import match
from tui_dedup.engine.matching.pairs import MatchOptions, pair_scores
from tui_dedup.engine.model import TRANSFORMS, Pairs
from tui_dedup.engine.registry import resolve_threshold
from tui_dedup.engine.scan import ScanConfig, ScanResult, scan

ORIGINAL = make_photo(11, 640, 480)
NEAR = 6  # of 64 bits

# name → pixels written (pixel-rotated copies are matched through a transform)
PIXEL_COPIES = {
    "b_rot90.jpg": cv2.rotate(ORIGINAL, cv2.ROTATE_90_CLOCKWISE),
    "b_rot180.jpg": cv2.rotate(ORIGINAL, cv2.ROTATE_180),
    "b_rot270.jpg": cv2.rotate(ORIGINAL, cv2.ROTATE_90_COUNTERCLOCKWISE),
    "b_mirror.jpg": ORIGINAL[:, ::-1],
    "b_flip.jpg": ORIGINAL[::-1],
    "b_transpose.jpg": ORIGINAL.transpose(1, 0, 2),
}
UNRELATED = [f"z_other{k}.jpg" for k in range(4)]


def build_library(root: Path) -> None:
    write_jpeg(root / "a_original.jpg", ORIGINAL, 95)
    (root / "b_identical.jpg").write_bytes((root / "a_original.jpg").read_bytes())
    half = cv2.resize(ORIGINAL, (320, 240), interpolation=cv2.INTER_AREA)
    write_jpeg(root / "b_half.jpg", half, 85)
    big = cv2.resize(ORIGINAL, (960, 720), interpolation=cv2.INTER_CUBIC)
    write_jpeg(root / "b_150.jpg", big, 90)
    write_jpeg(root / "b_q40.jpg", ORIGINAL, 40)
    write_image(root / "b_lossless.png", ORIGINAL)
    for o in (3, 6, 8):
        write_jpeg(root / f"b_exif{o}.jpg", stored_for_orientation(ORIGINAL, o), 92, orientation=o)
    for name, pixels in PIXEL_COPIES.items():
        write_jpeg(root / name, np.ascontiguousarray(pixels), 92)
    for k, name in enumerate(UNRELATED):
        write_jpeg(root / name, make_photo(100 + k, 640, 480), 90)
    black = np.zeros((480, 640, 3), np.uint8)
    write_image(root / "flat_black.png", black)
    (root / "flat_black_copy.png").write_bytes((root / "flat_black.png").read_bytes())
    write_jpeg(root / "flat_black_small.jpg", black[:240, :320], 90)
    write_image(root / "flat_grey.png", np.full((480, 640, 3), 128, np.uint8))
    noise = np.random.default_rng(0).normal(0, 1.0, (480, 640, 3))
    write_image(root / "flat_grey_noisy.png", np.clip(128 + noise, 0, 255).astype(np.uint8))


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> ScanResult:
    root = tmp_path_factory.mktemp("near") / "lib"
    root.mkdir()
    build_library(root)
    result = scan([str(root)], ScanConfig(workers=2))
    assert result.errors == []
    return result


def row(result: ScanResult, name: str) -> int:
    (k,) = [k for k, e in enumerate(result.store.entries) if os.path.basename(e.path) == name]
    return k


def find(pairs: Pairs, a: int, b: int) -> int | None:
    i, j = min(a, b), max(a, b)
    hit = np.flatnonzero((pairs.i == i) & (pairs.j == j))
    return int(hit[0]) if hit.size else None


def identity_distance(result: ScanResult, a: str, b: str) -> int:
    codes = result.store.codes("phash")
    return int(np.bitwise_count(codes[row(result, a)] ^ codes[row(result, b)]).sum())


@pytest.mark.parametrize(
    "name",
    [
        "b_half.jpg",
        "b_150.jpg",
        "b_q40.jpg",
        "b_lossless.png",
        "b_exif3.jpg",
        "b_exif6.jpg",
        "b_exif8.jpg",
    ],
)
def test_near_copies_are_near_as_they_are(library: ScanResult, name: str) -> None:
    """Untransformed pHash within 6 bits: EXIF orientation is applied, not rescued by rotation
    matching."""
    assert identity_distance(library, "a_original.jpg", name) <= NEAR
    pairs = match(library.store, "phash", resolve_threshold("phash", max_distance=NEAR))
    k = find(pairs, row(library, "a_original.jpg"), row(library, name))
    assert k is not None
    assert pairs.distance[k] <= NEAR
    assert pairs.similarity[k] >= 1 - NEAR / 64
    assert pairs.transform[k] == 0
    assert not pairs.exact[k]


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_rotated_size_is_the_upright_size(library: ScanResult, orientation: int) -> None:
    meta = library.store.metas[row(library, f"b_exif{orientation}.jpg")]
    assert (meta.width, meta.height) == (640, 480)


@pytest.mark.parametrize("name", sorted(PIXEL_COPIES))
def test_rotated_and_mirrored_copies_report_the_transform(library: ScanResult, name: str) -> None:
    a, b = row(library, "a_original.jpg"), row(library, name)
    assert a < b  # so the transform is "which transform of the copy matches the original"
    want = [t for t, v in enumerate(dihedral(PIXEL_COPIES[name])) if np.array_equal(v, ORIGINAL)]
    assert len(want) == 1
    pairs = match(library.store, "phash", resolve_threshold("phash", max_distance=NEAR))
    k = find(pairs, a, b)
    assert k is not None, f"{name} not matched"
    assert pairs.distance[k] <= NEAR
    assert pairs.transform[k] == want[0], (TRANSFORMS[pairs.transform[k]], TRANSFORMS[want[0]])
    # the second opinion agrees that it is near, through the same rotations
    assert pair_scores(library.store, pairs.take(np.array([k])))["phash"][0] >= 1 - NEAR / 64


def test_without_rotations_rotated_copies_are_not_paired(library: ScanResult) -> None:
    pairs = match(
        library.store,
        "phash",
        resolve_threshold("phash", max_distance=NEAR),
        MatchOptions(rotations=False),
    )
    a = row(library, "a_original.jpg")
    for name in ("b_rot90.jpg", "b_rot270.jpg", "b_transpose.jpg"):
        assert find(pairs, a, row(library, name)) is None
    assert find(pairs, a, row(library, "b_half.jpg")) is not None
    assert np.all(pairs.transform == 0)


def test_unrelated_photos_are_far(library: ScanResult) -> None:
    names = ["a_original.jpg", *UNRELATED]
    rows = np.array([row(library, n) for n in names], np.int32)
    iu, ju = np.triu_indices(len(rows), 1)
    pairs = Pairs(
        rows[iu],
        rows[ju],
        np.zeros(iu.size, np.int16),
        np.zeros(iu.size, np.float32),
        np.zeros(iu.size, np.int8),
        np.zeros(iu.size, bool),
    )
    best_over_rotations = pair_scores(library.store, pairs)["phash"]
    assert np.all(best_over_rotations < 1 - 20 / 64)  # more than 20 bits apart, any rotation
    for n in UNRELATED:
        assert identity_distance(library, "a_original.jpg", n) > 20


@pytest.mark.parametrize("method", ["phash", "dhash", "ahash", "hist3", "hist1"])
def test_flat_images_pair_only_when_byte_identical(library: ScanResult, method: str) -> None:
    flats = [e for e in library.store.entries if os.path.basename(e.path).startswith("flat_")]
    assert len(flats) == 5
    pairs = match(library.store, method, resolve_threshold(method, threshold="loose"))
    flat_rows = {row(library, os.path.basename(e.path)) for e in flats}
    flat_pairs = [
        (int(i), int(j), float(s), bool(x))
        for i, j, s, x in zip(pairs.i, pairs.j, pairs.similarity, pairs.exact, strict=True)
        if i in flat_rows or j in flat_rows
    ]
    a, b = sorted((row(library, "flat_black.png"), row(library, "flat_black_copy.png")))
    assert flat_pairs == [(a, b, 1.0, True)]
    k = find(pairs, a, b)
    assert pairs.distance[k] == 0 and pairs.transform[k] == 0


def test_flat_images_pair_when_asked(library: ScanResult) -> None:
    pairs = match(
        library.store,
        "phash",
        resolve_threshold("phash"),
        MatchOptions(include_low_detail=True),
    )
    assert (
        find(pairs, row(library, "flat_black.png"), row(library, "flat_black_small.jpg"))
        is not None
    )


def test_default_match_finds_every_copy_and_no_stranger(library: ScanResult) -> None:
    """With the defaults a user gets: every copy pairs with the original, strangers don't."""
    pairs = match(library.store, "phash", resolve_threshold("phash"))
    a = row(library, "a_original.jpg")
    partners = {int(j) for i, j in zip(pairs.i, pairs.j, strict=True) if i == a} | {
        int(i) for i, j in zip(pairs.i, pairs.j, strict=True) if j == a
    }
    names = {os.path.basename(library.store.entries[p].path) for p in partners}
    assert names == {
        os.path.basename(e.path)
        for e in library.store.entries
        if os.path.basename(e.path).startswith("b_")
    }


@pytest.mark.parametrize("method", ["phash", "hist1"])
def test_byte_identical_files_are_exact_pairs(library: ScanResult, method: str) -> None:
    a, b = row(library, "a_original.jpg"), row(library, "b_identical.jpg")
    assert library.store.has_digest[a] and library.store.has_digest[b]
    assert library.store.digest_hex(a) == library.store.digest_hex(b)
    pairs = match(library.store, method, resolve_threshold(method, threshold="strict"))
    k = find(pairs, a, b)
    assert k is not None
    assert pairs.exact[k] and pairs.similarity[k] == 1.0 and pairs.distance[k] == 0
    # only byte-identical files are exact
    assert int(pairs.exact.sum()) == 2  # this pair and the two black frames
