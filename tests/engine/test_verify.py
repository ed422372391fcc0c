"""The crop-tolerant verification stage and the k-of-n agreement count."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tui_dedup.demo import make_photo, write_jpeg
from tui_dedup.engine.features.hashes import LOCAL_ROW_BYTES, local_features, split_local
from tui_dedup.engine.matching.match import match
from tui_dedup.engine.matching.pairs import MatchOptions, agreement
from tui_dedup.engine.matching.verify import verify_pairs
from tui_dedup.engine.model import Pairs
from tui_dedup.engine.registry import METHODS, resolve_threshold
from tui_dedup.engine.scan import scan

SEED = 5  # its 15% crop is 18/64 pHash bits from the original: beyond the balanced preset


def _pairs(p: Pairs, store) -> set[tuple[str, str]]:
    return {
        (Path(store.entries[a].path).name, Path(store.entries[b].path).name)
        for a, b in zip(p.i.tolist(), p.j.tolist(), strict=True)
    }


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory):
    d = tmp_path_factory.mktemp("crops")
    img = make_photo(SEED, 640, 480)
    write_jpeg(d / "a_orig.jpg", img)
    write_jpeg(d / "b_crop15.jpg", img[40 : 40 + 408, 30 : 30 + 544])  # 15% off each side
    write_jpeg(d / "c_other.jpg", make_photo(SEED + 100, 640, 480))
    other = make_photo(SEED + 200, 640, 480)
    write_jpeg(d / "d_left.jpg", other[:, :320])
    write_jpeg(d / "e_right.jpg", other[:, 320:])
    return scan([str(d)]).store


def test_local_features_are_compact_and_round_trip() -> None:
    gray = make_photo(1, 640, 480)[:, :, 1]
    local = local_features(gray)
    assert local.dtype == np.uint8 and local.shape[1] == LOCAL_ROW_BYTES
    assert 0 < len(local) <= 64
    des, xy = split_local(local)
    assert des.shape == (len(local), 32)
    assert ((xy >= 0) & (xy <= 1)).all()


def test_crop_found_at_the_defaults_and_not_with_the_crop_stage_off(library) -> None:
    th = resolve_threshold("phash")
    off = _pairs(match(library, "phash", th, MatchOptions(crop_tolerant=False)), library)
    on = _pairs(match(library, "phash", th), library)
    assert ("a_orig.jpg", "b_crop15.jpg") not in off
    assert ("a_orig.jpg", "b_crop15.jpg") in on
    assert on - off == {("a_orig.jpg", "b_crop15.jpg")}


def test_verifier_refuses_another_photo_and_two_halves(library) -> None:
    names = [Path(e.path).name for e in library.entries]
    k = {n: names.index(n) for n in names}
    i = np.array([k["a_orig.jpg"], k["a_orig.jpg"], k["d_left.jpg"], k["b_crop15.jpg"]])
    j = np.array([k["b_crop15.jpg"], k["c_other.jpg"], k["e_right.jpg"], k["c_other.jpg"]])
    inliers = verify_pairs(library, i, j)
    assert inliers[0] > 0
    assert (inliers[1:] == 0).all()


def test_halves_never_paired_even_with_a_loose_shortlist(library) -> None:
    opts = MatchOptions(crop_tolerant=True, verify_distance=64)
    found = _pairs(match(library, "phash", resolve_threshold("phash"), opts), library)
    assert ("a_orig.jpg", "b_crop15.jpg") in found  # the stage ran, and finds a real crop
    assert ("d_left.jpg", "e_right.jpg") not in found


def test_agreement_counts_methods_at_their_balanced_preset(make_store) -> None:
    rng = np.random.default_rng(3)
    n, nbits = 4, 64
    base = rng.random((1, 8, nbits)) < 0.5
    bits = {}
    for m in ("phash", "dhash", "ahash"):
        b = rng.random((n, 8, nbits)) < 0.5
        b[0] = b[1] = base[0]  # rows 0 and 1: identical hashes for every method
        bits[m] = b
    # rows 2 and 3: same pHash only, 6 bits apart (within pHash's balanced 15)
    bits["phash"][3] = bits["phash"][2]
    bits["phash"][3, :, :6] ^= True
    store = make_store(n, bits=bits)
    store.hist3[1] = store.hist3[0]
    store.hist1[1] = store.hist1[0]
    pairs = Pairs(
        np.array([0, 2, 0], np.int32),
        np.array([1, 3, 2], np.int32),
        np.zeros(3, np.int16),
        np.ones(3, np.float32),
        np.zeros(3, np.int8),
        np.array([False, False, False]),
    )
    k = agreement(store, pairs)
    assert k.dtype == np.int8 and k.shape == (3,)
    assert k[0] == len(METHODS)
    assert k[1] == 1  # pHash agrees; the random dHash/aHash/histograms do not
    exact = Pairs(
        *(getattr(pairs, f)[2:] for f in ("i", "j", "distance", "similarity", "transform")),
        np.array([True]),
    )
    assert agreement(store, exact)[0] == len(METHODS)
    assert agreement(store, Pairs.empty()).shape == (0,)
