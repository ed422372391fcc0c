"""Bursts: which frames form one, and how its frames rank (engine/bursts, review/bursts.py).

The library tests run the real pipeline (scan → match → verdicts → bursts) once on a folder
made by tests/burst_images.py; the ranking tests measure rendered frames directly. No sample
files: every frame is generated, with camera shake, a moving subject, blur, noise after the
blur and EXIF instants a fraction of a second apart.
"""

from __future__ import annotations

import io
import struct
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from burst_images import (
    SECOND_CAMERA,
    T0,
    FrameSpec,
    Library,
    exif_bytes,
    laplacian_variance,
    render,
    scene,
    small_library,
    write_burst,
)
from PIL import Image

from tui_dedup.engine.bursts.burst_ids import read_burst_id
from tui_dedup.engine.bursts.chain import (
    BURST_GAP_S,
    Moment,
    chain,
    collapsed_copies,
    same_capture,
)
from tui_dedup.engine.bursts.exposure import exposure, penalty
from tui_dedup.engine.bursts.rank import measure, measure_image, rank_measured
from tui_dedup.engine.bursts.ranking_image import rank_reduction
from tui_dedup.engine.files.exif_evidence import apple_burst_id, apple_content_id
from tui_dedup.engine.model import FileEntry, ScanError
from tui_dedup.engine.verdicts.kinds import COPIES, Kind
from tui_dedup.review import pipeline
from tui_dedup.review.bursts import Bursts, bursts_of
from tui_dedup.review.result import Result
from tui_dedup.review.settings import RunSettings

# ----------------------------------------------------------------------------- the library


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Library:
    return small_library(tmp_path_factory.mktemp("bursts") / "Pictures")


@pytest.fixture(scope="module")
def found(library, tmp_path_factory) -> tuple[Result, Bursts]:
    """The library's matched result and its bursts, computed once (no cache; skips and
    state in a temporary folder)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEDUP_TUI_STATE_DIR", str(tmp_path_factory.mktemp("state")))
        settings = RunSettings(roots=[str(library.root)], use_cache=False)
        scanned = pipeline.scan_library(settings)
        result = pipeline.result_of(settings, scanned.result)
        return result, bursts_of(settings, result)


def _paths(b: Bursts) -> list[list[str]]:
    return [[b.store.entries[f.row].path for f in burst.frames] for burst in b.bursts]


def test_the_frames_of_a_burst_are_one_burst_in_time_order(library, found):
    _, b = found
    a = [str(p) for p in library.bursts[0].paths]
    assert a in _paths(b)  # whole, and in the order they were taken


def test_a_burst_is_ranked_best_first(library, found):
    _, b = found
    for planted in library.bursts:
        burst = next(
            x
            for x in b.bursts
            if b.store.entries[x.frames[0].row].path in {str(p) for p in planted.paths}
        )
        ranked = burst.by_rank()
        assert [f.rank for f in ranked] == list(range(1, len(ranked) + 1))
        assert b.store.entries[ranked[0].row].path == str(planted.best_path)
        assert burst.best is ranked[0] and ranked[0].sharpness == 1.0


def test_a_reencoded_copy_of_a_frame_is_a_duplicate_not_a_frame(library, found):
    result, b = found
    assert all(str(library.copy) not in paths for paths in _paths(b))
    rows = {e.path: r for r, e in enumerate(result.store.entries)}
    pair = {rows[str(library.copy)], rows[str(library.copied)]}
    kinds = [
        Kind(int(k))
        for i, j, k in zip(result.pairs.i, result.pairs.j, result.pairs.kind, strict=True)
        if {int(i), int(j)} == pair
    ]
    assert kinds and kinds[0] in COPIES
    assert b.copies[rows[str(library.copied)]] == [rows[str(library.copy)]]


def test_two_bursts_a_minute_apart_are_two_bursts(library, found):
    _, b = found
    got = _paths(b)
    assert [str(p) for p in library.bursts[1].paths] in got
    assert not any(
        set(map(str, library.bursts[0].paths)) & set(x)
        and set(map(str, library.bursts[1].paths)) & set(x)
        for x in got
    )


def test_two_cameras_at_the_same_instant_are_two_bursts(library, found):
    _, b = found
    assert [str(p) for p in library.bursts[2].paths] in _paths(b)
    cameras = {b.store.metas[f.row].camera for x in b.bursts for f in x.frames}
    assert cameras == {"Canon EOS R6", " ".join(SECOND_CAMERA)}
    assert len(b.bursts) == 3


def test_unrelated_photos_and_broken_files_are_no_frames(library, found):
    _, b = found
    framed = {p for x in _paths(b) for p in x}
    assert not framed & {str(p) for p in library.unrelated}
    assert [e.path for e in b.errors] == [str(library.broken)]


def test_a_frame_unreadable_at_ranking_is_an_error_record(library, found, tmp_path):
    result, _ = found
    gone = library.bursts[1].paths[1]
    saved = gone.read_bytes()
    gone.write_bytes(b"\xff\xd8\xff\xe0 damaged since the scan")
    try:
        b = bursts_of(RunSettings(roots=[str(library.root)], use_cache=False), result)
    finally:
        gone.write_bytes(saved)
    burst = next(
        x
        for x in b.bursts
        if b.store.entries[x.frames[0].row].path == str(library.bursts[1].paths[0])
    )
    broken = [f for f in burst.frames if b.store.entries[f.row].path == str(gone)]
    assert broken and broken[0].rank is None and broken[0].sharpness is None
    assert burst.by_rank()[-1] is broken[0]
    assert str(gone) in [e.path for e in b.errors]
    assert sorted(f.rank for f in burst.frames if f.rank is not None) == [1, 2, 3]


# ----------------------------------------------------------------------------- ranking


def _frames(kind: str, specs: list[FrameSpec], seed: int = 3) -> list[np.ndarray]:
    big = scene(kind, seed, 800, 533)
    return [render(big, s, seed * 10 + k) for k, s in enumerate(specs)]


@pytest.mark.parametrize("kind", ["landscape", "portrait", "night"])
def test_the_sharpest_frame_ranks_first_despite_noise(kind):
    noisy = 14.0 if kind == "night" else 9.0
    specs = [
        FrameSpec(blur=1.4, noise=noisy, dx=2, dy=-1, angle=0.2, subject=0.3),
        FrameSpec(blur=0.7, noise=noisy, dx=-3, dy=2, angle=-0.3, subject=0.4),
        FrameSpec(blur=0.0, noise=2.0, dx=1, dy=1, subject=0.5),
        FrameSpec(blur=0.7, noise=noisy * 1.2, dx=4, dy=0, angle=0.1, subject=0.6),
    ]
    frames = _frames(kind, specs)
    # the data does what it is for: a plain Laplacian variance prefers a blurred noisy frame
    assert int(np.argmax([laplacian_variance(f) for f in frames])) != 2
    ranked = rank_measured([measure_image(k, f) for k, f in enumerate(frames)])
    assert next(f.row for f in ranked if f.rank == 1) == 2
    assert ranked[2].sharpness == 1.0 and all(f.sharpness < 1.0 for f in ranked if f.row != 2)


def test_an_over_exposed_sharp_frame_loses_to_a_well_exposed_one_nearly_as_sharp():
    specs = [
        FrameSpec(blur=0.0, noise=3.0, gain=1.7, subject=0.4),  # sharpest, over-exposed
        FrameSpec(blur=0.7, noise=3.0, dx=2, subject=0.5),  # nearly as sharp, well exposed
        FrameSpec(blur=2.0, noise=3.0, dx=-2, subject=0.6),
    ]
    ranked = rank_measured([measure_image(k, f) for k, f in enumerate(_frames("landscape", specs))])
    by_row = {f.row: f for f in ranked}
    assert by_row[1].rank == 1
    assert by_row[0].sharpness > by_row[1].sharpness  # it is the sharper one, and still loses
    assert by_row[0].exposure.clipped > 0.2


def test_sharpness_decides_between_frames_exposed_alike():
    specs = [
        FrameSpec(blur=0.0, noise=3.0, gain=1.03, subject=0.4),  # auto-exposure's jitter
        FrameSpec(blur=0.7, noise=3.0, gain=0.97, dx=2, subject=0.5),
    ]
    ranked = rank_measured([measure_image(k, f) for k, f in enumerate(_frames("night", specs))])
    assert {f.row: f.rank for f in ranked} == {0: 1, 1: 2}


def test_exposure_numbers():
    white = np.full((100, 100, 3), 255, np.uint8)
    black = np.zeros((100, 100, 3), np.uint8)
    grey = np.full((100, 100, 3), 118, np.uint8)  # sRGB 118: 18 % of the light, mid-grey
    assert exposure(white).clipped == 1.0 and exposure(white).level == pytest.approx(2.47, 0.01)
    assert exposure(black).crushed == 1.0 and exposure(black).level < -9
    e = exposure(grey)
    assert (e.clipped, e.crushed) == (0.0, 0.0) and abs(e.level) < 0.02
    stop_under = exposure(np.full((100, 100, 3), 85, np.uint8))  # half the light of 118
    assert stop_under.level == pytest.approx(-1.0, abs=0.03)
    # judged against the burst: a night burst dark in every frame pays nothing ...
    night = exposure(np.full((100, 100, 3), 23, np.uint8))
    assert penalty([night] * 3) == [0.0, 0.0, 0.0]
    # ... a frame a stop from its siblings does, on either side of mid-grey (a white page
    # sits well above it: a frame that drops to mid-grey is under-exposed)
    assert penalty([e, e, stop_under])[2] > 0.2
    assert penalty([stop_under, stop_under, e])[2] > 0.2
    assert penalty([e, e, stop_under])[:2] == [0.0, 0.0]
    assert penalty([e, e, exposure(white)])[2] > 5.0
    assert penalty([e, stop_under])[0] == pytest.approx(
        penalty([e, stop_under])[1]
    )  # neither knows


def test_a_frame_too_small_to_judge_is_an_error_record(tmp_path):
    path = tmp_path / "tiny.jpg"
    Image.new("RGB", (40, 20), (10, 200, 30)).save(path)
    st = path.stat()
    entry = FileEntry(str(path), str(tmp_path), st.st_size, st.st_mtime_ns, st.st_dev, st.st_ino)
    got = measure(0, entry)
    assert isinstance(got, ScanError) and "too small to rank" in got.reason


@pytest.mark.parametrize(
    ("size", "r"), [((640, 480), 1), ((2047, 1365), 1), ((2048, 1365), 2), ((6000, 4000), 4)]
)
def test_ranking_decodes_at_a_quarter_of_the_resolution_or_more(size, r):
    assert rank_reduction(*size) == r
    assert max(size) / rank_reduction(*size) >= min(max(size), 1024)


# ----------------------------------------------------------------------------- chaining


def _m(t: float, camera: str = "A", burst: str | None = None) -> Moment:
    return Moment(camera, float(int(t)), round((t % 1) * 1000), burst)


def _name(r: int) -> str:
    return f"{r:03d}"


def test_frames_chain_over_short_gaps_in_time_order():
    moments = {0: _m(100.5), 1: _m(100.1), 2: _m(101.9), 3: _m(200.0), 4: _m(200.3)}
    assert chain(moments, _name) == [[1, 0, 2], [3, 4]]


def test_frames_in_one_second_are_ordered_by_sub_seconds_then_by_name():
    moments = {5: Moment("A", 100.0, 700), 6: Moment("A", 100.0, 200), 7: Moment("A", 100.0)}
    assert chain(moments, _name) == [[7, 6, 5]]


def test_a_gap_longer_than_the_burst_gap_breaks_the_chain():
    moments = {0: _m(10.0), 1: _m(10.0 + BURST_GAP_S + 0.1)}
    assert chain(moments, _name) == []
    moments = {0: _m(10.0), 1: _m(10.0 + BURST_GAP_S), 2: _m(10.0 + 2 * BURST_GAP_S)}
    assert chain(moments, _name) == [[0, 1, 2]]  # each gap counts, not the burst's length


def test_two_cameras_are_never_one_burst():
    moments = {0: _m(10.0, "A"), 1: _m(10.1, "B"), 2: _m(10.2, "A"), 3: _m(10.3, "B")}
    assert chain(moments, _name) == [[0, 2], [1, 3]]


def test_a_burst_uuid_links_frames_and_separates_bursts():
    moments = {
        0: _m(10.0, "Apple iPhone 12", "x" * 32),
        1: _m(15.0, "Apple iPhone 12", "x" * 32),  # the same burst, a slow one
        2: _m(15.5, "Apple iPhone 12", "y" * 32),  # another burst, half a second later
    }
    assert chain(moments, _name) == [[0, 1]]


def test_a_copy_stands_for_its_frame_unless_it_has_a_capture_of_its_own(library, found):
    result, _ = found
    store = result.store
    rows = {e.path: r for r, e in enumerate(store.entries)}
    frames = [rows[str(p)] for p in library.bursts[0].paths]
    copy, kept = rows[str(library.copy)], rows[str(library.copied)]
    assert collapsed_copies(store, {copy: kept}) == {copy: kept}  # the same capture
    # two frames of one burst called copies of each other stay two frames
    assert collapsed_copies(store, {frames[1]: frames[2]}) == {}
    assert same_capture(Moment("A", 5.0, 120), Moment("A", 5.0))  # sub-seconds dropped
    assert not same_capture(Moment("A", 5.0, 120), Moment("A", 5.0, 130))
    assert not same_capture(Moment("A", 5.0), Moment("B", 5.0))


# ----------------------------------------------------------------------------- BurstUUID

BURST = "2D6A4F4E-9B1C-4C57-8E0B-6C6B3F3E9A21"
CONTENT = "C5E2F2C4-7A8C-4B8B-9F6E-1B7F4F3D2E10"


def apple_note(burst: str | None, content: str | None = CONTENT) -> bytes:
    """An Apple maker note as iOS writes it: header, an IFD of ASCII entries, their values."""
    header = b"Apple iOS\x00\x00\x01MM"
    items = [(t, v.encode() + b"\0") for t, v in ((0x000B, burst), (0x0011, content)) if v]
    at = len(header) + 2 + 12 * len(items) + 4
    entries, values = b"", b""
    for tag, value in items:
        entries += struct.pack(">HHII", tag, 2, len(value), at + len(values))
        values += value
    return header + struct.pack(">H", len(items)) + entries + b"\0\0\0\0" + values


def test_the_burst_uuid_is_read_from_the_maker_note():
    note = apple_note(BURST)
    assert apple_burst_id(note) == BURST.replace("-", "").lower()
    assert apple_content_id(note) == CONTENT.replace("-", "").lower()  # unchanged
    assert apple_burst_id(apple_note(None)) is None
    assert apple_burst_id(b"Nikon\x00\x02\x00" + note[10:]) is None


def _iphone_jpeg(path: Path, note: bytes | None) -> FileEntry:
    ex = Image.Exif()
    ex.load(exif_bytes(T0, 120, ("Apple", "iPhone 12")))
    if note is not None:
        ex.get_ifd(0x8769)[0x927C] = note
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 120, 150)).save(buf, "JPEG", exif=ex)
    path.write_bytes(buf.getvalue())
    st = path.stat()
    return FileEntry(str(path), str(path.parent), st.st_size, st.st_mtime_ns, st.st_dev, st.st_ino)


def test_a_frame_file_gives_its_burst_uuid(tmp_path):
    assert (
        read_burst_id(_iphone_jpeg(tmp_path / "a.jpg", apple_note(BURST)))
        == BURST.replace("-", "").lower()
    )
    assert read_burst_id(_iphone_jpeg(tmp_path / "b.jpg", None)) is None
    (tmp_path / "c.jpg").write_bytes(b"\xff\xd8\xff junk")
    st = (tmp_path / "c.jpg").stat()
    junk = FileEntry(str(tmp_path / "c.jpg"), str(tmp_path), st.st_size, st.st_mtime_ns, 0, 0)
    assert read_burst_id(junk) is None


def test_frames_with_other_burst_uuids_in_one_second_are_two_bursts(tmp_path, monkeypatch):
    """Through the pipeline: two iPhone bursts of one scene back to back (0.3 s apart) are
    told apart by their BurstUUIDs, which time alone could not."""
    monkeypatch.setenv("DEDUP_TUI_STATE_DIR", str(tmp_path / "state"))
    lib, iphone = tmp_path / "lib", ("Apple", "iPhone 12")
    one = write_burst(lib, "IMG_", "landscape", 21, T0, n=3, size=(640, 427), camera=iphone)
    again = [replace(s, dx=s.dx + 4, dy=s.dy - 3) for s in one.specs]  # the same scene
    t2 = T0 + timedelta(seconds=0.9)
    two = write_burst(
        lib,
        "IMG_",
        "landscape",
        21,
        t2,
        specs=again,
        size=(640, 427),
        camera=iphone,
        first_number=10,
    )
    for burst, uuid in ((one, BURST), (two, CONTENT)):
        for p in burst.paths:
            with Image.open(p) as im:
                ex, pixels = im.getexif(), im.copy()
            ex.get_ifd(0x8769)[0x927C] = apple_note(uuid, None)
            pixels.save(p, "JPEG", quality=92, exif=ex)
    settings = RunSettings(roots=[str(lib)], use_cache=False)
    scanned = pipeline.scan_library(settings)
    b = bursts_of(settings, pipeline.result_of(settings, scanned.result))
    assert sorted(_paths(b)) == sorted([[str(p) for p in one.paths], [str(p) for p in two.paths]])
