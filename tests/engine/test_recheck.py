"""Apply-time re-check: a plan's pairs match again only if the files, as they are now, still do.

Real generated pictures in tmp_path, real decoding and a real feature cache: what a user would
notice is a step refused with its reason, or a replaced file deleted anyway.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from local_edit_images import H, W, faint_shapes, symmetric_design, with_logo

from tui_dedup.demo import make_photo, write_image, write_jpeg
from tui_dedup.engine.cache.features import FeatureCache
from tui_dedup.engine.files import decode as decode_mod
from tui_dedup.engine.matching.pairs import MatchOptions
from tui_dedup.engine.matching.recheck import MatchSpec, recheck_pairs
from tui_dedup.engine.model import FileEntry
from tui_dedup.engine.registry import resolve_threshold
from tui_dedup.engine.scan import ScanConfig, scan
from tui_dedup.review.settings import RunSettings

PHOTO = make_photo(1, 640, 480)


def entry(path: Path) -> FileEntry:
    st = path.stat()
    return FileEntry(str(path), str(path.parent), st.st_size, st.st_mtime_ns, st.st_dev, st.st_ino)


def spec(**changes: object) -> MatchSpec:
    """phash at the balanced preset with the defaults a user gets without flags."""
    base = MatchSpec.of("phash", resolve_threshold("phash"), 8, MatchOptions())
    return MatchSpec.from_dict({**base.to_dict(), **changes})


def check(a: Path, b: Path, s: MatchSpec | None = None, **kw: Any) -> str | None:
    return recheck_pairs([entry(a), entry(b)], [(0, 1)], s or spec(), **kw)[0]


@pytest.fixture(scope="module")
def lib(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("lib")
    write_jpeg(d / "a.jpg", PHOTO, 92)
    half = cv2.resize(PHOTO, (320, 240), interpolation=cv2.INTER_AREA)
    write_jpeg(d / "a_half.jpg", half, 75)  # resized and recompressed
    write_jpeg(d / "a_rot90.jpg", cv2.rotate(PHOTO, cv2.ROTATE_90_CLOCKWISE), 92)
    shutil.copyfile(d / "a.jpg", d / "a_same.jpg")
    write_jpeg(d / "other.jpg", make_photo(5, 640, 480), 92)  # 30 pHash bits from a.jpg
    wall = symmetric_design(0)
    write_jpeg(d / "w.jpg", wall, 92)
    write_jpeg(d / "w_logo.jpg", with_logo(wall), 92)
    img = faint_shapes(2)
    ch, cw = int(H * 0.85), int(W * 0.85)
    write_jpeg(d / "s.jpg", img, 92)
    write_jpeg(d / "s_crop15.jpg", img[20 : 20 + ch, 80 : 80 + cw], 92)
    return d


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Paths actually decoded (every path to pixels goes through decode_bytes)."""
    calls: list[str] = []
    real = decode_mod.decode_bytes

    def counting(path, data, limits):
        calls.append(path)
        return real(path, data, limits)

    monkeypatch.setattr(decode_mod, "decode_bytes", counting)
    return calls


def test_a_resized_recompressed_copy_still_matches(lib: Path) -> None:
    assert check(lib / "a.jpg", lib / "a_half.jpg") is None


def test_an_unrelated_picture_is_refused_with_its_distance(lib: Path) -> None:
    reason = check(lib / "other.jpg", lib / "a.jpg")
    assert reason is not None
    assert reason.startswith("no longer similar enough: 30 bits apart, the plan allows 15")


def test_a_rotated_copy_matches_only_with_rotations(lib: Path) -> None:
    assert check(lib / "a_rot90.jpg", lib / "a.jpg") is None
    reason = check(lib / "a_rot90.jpg", lib / "a.jpg", spec(rotations=False, crop_tolerant=False))
    assert reason is not None and "bits apart" in reason


def test_a_copy_with_a_logo_matches_with_local_edits(lib: Path) -> None:
    assert check(lib / "w_logo.jpg", lib / "w.jpg") is None
    without = spec(local_edits=False, crop_tolerant=False)
    assert check(lib / "w_logo.jpg", lib / "w.jpg", without) is not None


def test_a_large_crop_matches_unless_the_crop_stage_was_off(lib: Path) -> None:
    assert check(lib / "s_crop15.jpg", lib / "s.jpg") is None
    assert check(lib / "s_crop15.jpg", lib / "s.jpg", spec(crop_tolerant=False)) is not None


def test_byte_identical_files_always_match(lib: Path, tmp_path: Path) -> None:
    strictest = spec(max_distance=0, similarity=1.0, rotations=False, local_edits=False)
    assert check(lib / "a_same.jpg", lib / "a.jpg", strictest) is None
    # flat frames pair only by content unless low-detail images were asked for
    flat = np.full((120, 160, 3), 128, np.uint8)
    write_image(tmp_path / "flat.png", flat)
    shutil.copyfile(tmp_path / "flat.png", tmp_path / "flat_copy.png")
    flat[:, :80] = 131
    write_image(tmp_path / "flat_other.png", flat)
    assert check(tmp_path / "flat_copy.png", tmp_path / "flat.png") is None
    reason = check(tmp_path / "flat_other.png", tmp_path / "flat.png")
    assert reason is not None and reason.startswith("too plain to compare")


def test_byte_identical_found_when_the_cache_holds_no_digest(tmp_path: Path) -> None:
    (tmp_path / "one").mkdir()
    write_image(tmp_path / "one" / "flat.png", np.full((120, 160, 3), 90, np.uint8))
    with FeatureCache.open(tmp_path / "c.sqlite") as cache:
        scan([str(tmp_path / "one")], cache=cache)  # one file of its size: no digest kept
        shutil.copyfile(tmp_path / "one" / "flat.png", tmp_path / "copy.png")
        assert check(tmp_path / "copy.png", tmp_path / "one" / "flat.png", cache=cache) is None


def test_a_keeper_replaced_by_another_picture_no_longer_matches(lib: Path, tmp_path: Path) -> None:
    shutil.copyfile(lib / "a.jpg", tmp_path / "keeper.jpg")
    shutil.copyfile(lib / "a_half.jpg", tmp_path / "copy.jpg")
    with FeatureCache.open(tmp_path / "c.sqlite") as cache:
        assert check(tmp_path / "copy.jpg", tmp_path / "keeper.jpg", cache=cache) is None
        shutil.copyfile(lib / "other.jpg", tmp_path / "keeper.jpg")
        reason = check(tmp_path / "copy.jpg", tmp_path / "keeper.jpg", cache=cache)
    assert reason is not None and "bits apart" in reason


def test_a_same_size_replacement_with_its_mtime_put_back_is_not_trusted(
    lib: Path, tmp_path: Path
) -> None:
    """rsync/cp -p style: another picture, padded to the same size, old mtime restored."""
    keeper, other = (lib / "a.jpg").read_bytes(), (lib / "other.jpg").read_bytes()
    size = max(len(keeper), len(other))
    (tmp_path / "keeper.jpg").write_bytes(keeper + bytes(size - len(keeper)))
    shutil.copyfile(lib / "a_half.jpg", tmp_path / "copy.jpg")
    with FeatureCache.open(tmp_path / "c.sqlite") as cache:
        assert check(tmp_path / "copy.jpg", tmp_path / "keeper.jpg", cache=cache) is None
        st = (tmp_path / "keeper.jpg").stat()
        (tmp_path / "keeper.jpg").write_bytes(other + bytes(size - len(other)))
        os.utime(tmp_path / "keeper.jpg", ns=(st.st_atime_ns, st.st_mtime_ns))
        assert (tmp_path / "keeper.jpg").stat().st_size == st.st_size
        reason = check(tmp_path / "copy.jpg", tmp_path / "keeper.jpg", cache=cache)
    assert reason is not None and "bits apart" in reason


def test_the_threshold_is_capped_at_loose(lib: Path) -> None:
    wide = spec(max_distance=40, similarity=1 - 40 / 64, rotations=False, local_edits=False)
    reason = check(lib / "other.jpg", lib / "a.jpg", wide)
    assert reason == "no longer similar enough: 30 bits apart, the loose limit allows 17"
    hist = spec(method="hist1", max_distance=None, similarity=0.0, local_edits=False)
    reason = check(lib / "other.jpg", lib / "a.jpg", hist)
    assert reason is not None and reason.endswith("the loose limit needs 93.0 %")


def test_many_pairs_in_one_plan_and_unreadable_files_give_reasons(
    lib: Path, tmp_path: Path
) -> None:
    # One keeper with 40 logo copies, found only by the local-edit stage: match() over these
    # 41 files pairs 32 of them (the stage's per-file cap); the re-check must accept all 40.
    files: list[Path] = []
    logo = with_logo(symmetric_design(0))
    for k in range(40):
        files.append(tmp_path / f"logo{k:02d}.jpg")
        write_jpeg(files[-1], logo, 55 + k)
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 not a picture")
    missing = tmp_path / "gone.jpg"
    shutil.copyfile(lib / "a.jpg", missing)
    entries = [entry(lib / "w.jpg"), entry(tmp_path / "broken.jpg"), entry(missing)]
    entries += [entry(f) for f in files]
    missing.unlink()
    os.link(lib / "a_half.jpg", tmp_path / "half_link.jpg")
    entries += [entry(lib / "a_half.jpg"), entry(tmp_path / "half_link.jpg")]
    pairs = [(k, 0) for k in range(3, 43)] + [(1, 0), (2, 0), (0, 0), (43, 44)]
    out = recheck_pairs(entries, pairs, spec())
    assert out[:40] == [None] * 40
    assert out[40] is not None and out[40].startswith("the file cannot be checked: ")
    assert out[41] == "the file cannot be checked: cannot stat: No such file or directory"
    assert out[42] == "the file is its own keeper"
    assert out[43] == "the file and its keeper are one file (two names of one inode)"


def test_with_a_warm_cache_nothing_is_decoded(
    lib: Path, tmp_path: Path, decodes: list[str]
) -> None:
    names = ["a.jpg", "a_half.jpg", "a_rot90.jpg", "a_same.jpg", "w.jpg", "w_logo.jpg"]
    entries = [entry(lib / n) for n in names]
    pairs = [(1, 0), (2, 0), (3, 0), (5, 4)]
    with FeatureCache.open(tmp_path / "c.sqlite") as cache:
        scan([str(lib)], cache=cache)  # the scan the plan came from
        decodes.clear()
        assert recheck_pairs(entries, pairs, spec(), cache=cache) == [None] * 4
    assert decodes == []
    with FeatureCache.open(tmp_path / "c.sqlite") as cache:  # a cold start fills the cache
        os.utime(lib / "w_logo.jpg")
        assert recheck_pairs(entries, pairs, spec(), cache=cache) == [None] * 4
        assert decodes == [str(lib / "w_logo.jpg")]
        recheck_pairs(entries, pairs, spec(), cache=cache)
    assert decodes == [str(lib / "w_logo.jpg")]


def test_spec_round_trips_and_comes_from_the_run_settings() -> None:
    s = spec()
    assert MatchSpec.from_dict(s.to_dict()) == s
    settings = RunSettings(roots=["."], scan=ScanConfig(hash_size=16), method="dhash")
    settings.match = MatchOptions(rotations=False, crop_tolerant=True)
    got = MatchSpec.from_settings(settings)
    assert (got.method, got.hash_size, got.max_distance) == ("dhash", 16, 24)
    assert (got.rotations, got.crop_tolerant, got.local_edits) == (False, True, True)
    hist = MatchSpec.of("hist3", resolve_threshold("hist3"), 8, MatchOptions())
    assert MatchSpec.from_dict(hist.to_dict()).similarity == 0.95


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"method": "xhash"}, "unknown method 'xhash'"),
        ({"method": 3}, "unknown method 3"),
        ({"max_distance": -1, "similarity": None}, "max_distance must be an integer from 0"),
        ({"max_distance": 65, "similarity": None}, "from 0 to 64, not 65"),
        ({"max_distance": "8", "similarity": None}, "not '8'"),
        ({"max_distance": True, "similarity": None}, "not True"),
        ({"max_distance": 8.0, "similarity": None}, "not 8.0"),
        ({"similarity": float("nan")}, "similarity must be a number from 0 to 1, not nan"),
        ({"similarity": -0.5}, "similarity must be from 0 to 1"),
        ({"similarity": 0.5}, "does not agree with max_distance 15 of 64 bits"),
        ({"hash_size": 3}, "hash_size must be an integer from 4 to 16, not 3"),
        ({"hash_size": 8.5}, "hash_size must be an integer"),
        ({"rotations": 1}, "rotations must be true or false, not 1"),
        ({"crop_tolerant": "yes"}, "crop_tolerant must be true or false"),
        ({"method": "hist3", "similarity": 0.9}, "max_distance applies to hash methods"),
        ({"method": "hist3", "max_distance": None, "similarity": None}, "needs a similarity"),
        ({"extra": 1}, "unknown match setting 'extra'"),
    ],
)
def test_from_dict_refuses_bad_values(changes: dict, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        MatchSpec.from_dict({**spec().to_dict(), **changes})


def test_from_dict_refuses_missing_keys_and_non_objects() -> None:
    d = spec().to_dict()
    del d["include_low_detail"]
    with pytest.raises(ValueError, match="'include_low_detail' is missing"):
        MatchSpec.from_dict(d)
    with pytest.raises(ValueError, match="must be an object, not list"):
        MatchSpec.from_dict([])  # type: ignore[arg-type]


def test_a_plan_pairing_two_statements_of_one_layout_is_refused(tmp_path: Path) -> None:
    """Their hashes agree; the verdict stage's second look (the pixels) does not: an edited
    plan cannot get one month's statement moved as a 'copy' of another's."""
    import cv2
    from verdict_images import statement

    from tui_dedup.demo import write_jpeg

    jan, feb, copy = tmp_path / "jan.png", tmp_path / "feb.png", tmp_path / "jan (1).jpg"
    cv2.imwrite(str(jan), statement(1))
    cv2.imwrite(str(feb), statement(2))
    write_jpeg(copy, statement(1), 90)
    refused = check(copy, feb)
    assert refused is not None and "not a copy on a second look" in refused
    assert check(copy, jan) is None
