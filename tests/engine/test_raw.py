"""RAW files (issue #17): scanned from their embedded preview, upright, with their EXIF.

Every RAW here is a DNG written by tests/raw_images.py (the only RAW that can be written);
other makes are covered for the refusal paths (junk under their names) and by LibRaw itself.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import struct
from pathlib import Path

import cv2
import numpy as np
import pytest
from raw_images import dng_bytes, exif_ifd, upright, write_dng
from verdict_images import pair_kinds

from tui_dedup.demo import make_photo, write_jpeg
from tui_dedup.engine.cache.features import FeatureCache
from tui_dedup.engine.files import raw, raw_meta
from tui_dedup.engine.files.decode import DecodeLimits, decode_entry, decode_file
from tui_dedup.engine.files.discover import IMAGE_EXTENSIONS, DiscoverOptions
from tui_dedup.engine.files.exif_evidence import capture_evidence, parse_datetime
from tui_dedup.engine.files.thumbs import clear_cache, read_thumbnail
from tui_dedup.engine.model import FileEntry, ScanError
from tui_dedup.engine.scan import ScanConfig, scan
from tui_dedup.engine.verdicts import pixels
from tui_dedup.engine.verdicts.kinds import COPIES, WORDS


def entry(path: Path) -> FileEntry:
    st = os.stat(path)
    return FileEntry(
        str(path),
        str(path.parent),
        st.st_size,
        st.st_mtime_ns,
        st.st_dev,
        st.st_ino,
        st.st_ctime_ns,
    )


def decoded(path: Path, limits: DecodeLimits | None = None):
    return decode_file(entry(path), limits)


def verdicts(root: Path) -> dict[frozenset[str], str]:
    """{frozenset(names): kind word} of every pair a scan of ``root`` reports."""
    return pair_kinds(root, threshold_arg="loose")


def is_copy(word: str | None) -> bool:
    return word is not None and any(WORDS[k] == word for k in COPIES)


def close(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two pictures at b's size."""
    a = cv2.resize(a, (b.shape[1], b.shape[0]), interpolation=cv2.INTER_AREA)
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "Pictures"
    root.mkdir()
    return root


SCENE = make_photo(21, 1200, 800)


def test_a_raw_and_its_jpeg_export_in_another_folder_are_copies(library: Path) -> None:
    (library / "camera").mkdir()
    (library / "export").mkdir()
    write_dng(library / "camera" / "IMG_0001.DNG", SCENE)
    write_jpeg(library / "export" / "IMG_0001.jpg", SCENE, 90)
    write_jpeg(library / "export" / "other.jpg", make_photo(22, 1200, 800), 90)
    got = verdicts(library)
    assert is_copy(got.get(frozenset(("camera/IMG_0001.DNG", "export/IMG_0001.jpg"))))
    assert got.get(frozenset(("camera/IMG_0001.DNG", "export/other.jpg"))) is None


def test_orientation_is_applied_once_so_the_upright_export_is_a_copy_not_a_rotation(
    library: Path,
) -> None:
    """A portrait shot: the sensor data and the preview are stored sideways, flip 6. The RAW
    shown upright is the export; "rotated" would say one of them is turned. (Exports under
    another name: the camera's JPEG beside it, of the same name, is its format twin.)"""
    write_dng(library / "IMG_0002.dng", SCENE, orientation=6)
    write_jpeg(library / "IMG_0002_export.jpg", upright(SCENE, 6), 90)
    write_jpeg(library / "IMG_0002_exif.jpg", SCENE, 90, orientation=6)  # EXIF-rotated export
    got = verdicts(library)
    word = got.get(frozenset(("IMG_0002.dng", "IMG_0002_export.jpg")))
    assert is_copy(word) and word not in ("rotated", "mirrored"), word
    word = got.get(frozenset(("IMG_0002.dng", "IMG_0002_exif.jpg")))
    assert is_copy(word) and word not in ("rotated", "mirrored"), word


def test_a_preview_with_its_own_orientation_tag_is_not_turned_twice(tmp_path: Path) -> None:
    """Some cameras write an Orientation tag into the preview JPEG as well: the RAW's flip is
    applied once, the preview's own tag never."""
    ok, buf = cv2.imencode(".jpg", SCENE, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    from tui_dedup.demo import _with_exif_orientation

    jpeg = _with_exif_orientation(buf.tobytes(), 6)
    path = write_dng(
        tmp_path / "t.dng", SCENE, orientation=6, preview_jpeg=jpeg, preview_size=(1200, 800)
    )
    got = decoded(path)
    assert not isinstance(got, ScanError), got
    assert got.image.shape[0] > got.image.shape[1]  # portrait, once
    assert close(upright(SCENE, 6), got.image) < 8


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_decodes_upright(tmp_path: Path, orientation: int) -> None:
    """LibRaw's flip for each EXIF orientation, turned back the way a viewer turns the JPEG."""
    scene = make_photo(23, 600, 400)
    path = write_dng(tmp_path / "o.dng", scene, orientation=orientation)
    got = decoded(path)
    assert not isinstance(got, ScanError), got
    want = upright(scene, orientation)
    assert (got.meta.width, got.meta.height) == (want.shape[1], want.shape[0])
    assert close(want, got.image) < 8


def test_a_preview_too_small_or_of_another_shape_falls_back_to_the_sensor_data(
    tmp_path: Path,
) -> None:
    """The preview shows one picture and the sensor data another: which one the decode shows
    says which it used."""
    sensor, shown = make_photo(24, 900, 600), make_photo(25, 900, 600)
    cases = {
        "large.dng": dict(preview_size=(900, 600)),  # used
        "tiny.dng": dict(preview_size=(240, 160)),  # short side < 256
        "shape.dng": dict(preview_size=(800, 600)),  # 4:3 of a 3:2 sensor
        "bitmap.dng": dict(preview="bitmap", preview_size=(600, 400)),  # used
        "none.dng": dict(preview=None),
    }
    for name, kw in cases.items():
        write_dng(tmp_path / name, sensor, preview_scene=shown, **kw)
    for name in cases:
        got = decoded(tmp_path / name)
        assert not isinstance(got, ScanError), got
        used = "preview" if close(shown, got.image) < close(sensor, got.image) else "sensor"
        assert used == ("preview" if name in ("large.dng", "bitmap.dng") else "sensor"), name
        assert (got.meta.width, got.meta.height) == (900, 600)


def test_the_sensor_fallback_of_a_portrait_shot_is_upright_too(tmp_path: Path) -> None:
    scene = make_photo(26, 900, 600)
    got = decoded(write_dng(tmp_path / "p.dng", scene, preview=None, orientation=8))
    assert not isinstance(got, ScanError), got
    # LibRaw's rendering is brighter than the scene (auto-bright): compare with the other turn
    assert close(upright(scene, 8), got.image) < 20 < close(upright(scene, 6), got.image)


def test_the_preview_and_the_pixel_check_decode_a_raw_as_the_scan_does(tmp_path: Path) -> None:
    scene = make_photo(27, 1200, 800)
    path = write_dng(tmp_path / "v.dng", scene, orientation=6)
    want = upright(scene, 6)
    clear_cache()
    thumb = read_thumbnail(str(path), 300)
    assert not isinstance(thumb, ScanError), thumb
    assert thumb.image.shape[:2] == (300, 200) and thumb.format == "DNG"
    assert (thumb.width, thumb.height) == (800, 1200)
    assert close(want, thumb.image) < 8
    work = pixels.working_image(entry(path))
    assert work is not None and work.shape == (512, 341)
    assert close(cv2.cvtColor(want, cv2.COLOR_BGR2GRAY), work) < 8
    scanned = decoded(path)
    assert not isinstance(scanned, ScanError)
    assert close(want, scanned.image) < 8


def test_libraws_preview_and_the_one_found_in_the_files_directories_agree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TIFF-based RAWs: the preview is read where the file's own directories put it (one copy);
    other containers ask LibRaw for it. Both give the same picture."""
    path = write_dng(tmp_path / "p.dng", SCENE, orientation=8)
    own = decoded(path)
    monkeypatch.setattr(raw.raw_meta, "embedded_jpegs", lambda fd, size, head: [])
    libraw = decoded(path)
    assert not isinstance(own, ScanError) and not isinstance(libraw, ScanError)
    assert own.image.shape == libraw.image.shape
    assert close(own.image, libraw.image) < 1.0
    assert own.meta == libraw.meta


def test_the_preview_threshold_is_the_pixel_checks_working_size() -> None:
    assert raw.MIN_PREVIEW_SHORT == pixels.WORK_MIN_SHORT


def test_metadata_camera_capture_instant_and_unique_id(tmp_path: Path) -> None:
    path = write_dng(
        tmp_path / "m.dng",
        make_photo(28, 600, 400),
        make="NIKON CORPORATION",
        model="NIKON Z 6",
        original="2024:07:01 12:30:45",
        subsec="375",
        offset_time="+02:00",
        unique_id="00112233445566778899aabbccddeeff",
    )
    got = decoded(path)
    assert not isinstance(got, ScanError), got
    m = got.meta
    assert m.format == "DNG"
    assert m.camera == "NIKON CORPORATION NIKON Z 6"
    assert m.subsec_ms == 375 and m.offset_min == 120
    assert m.unique_id == "00112233445566778899aabbccddeeff"
    assert m.taken is not None and m.jpeg_quality is None


def test_without_exif_dates_the_time_comes_from_libraw_in_whole_seconds(tmp_path: Path) -> None:
    got = decoded(write_dng(tmp_path / "t.dng", make_photo(29, 600, 400)))
    assert not isinstance(got, ScanError), got
    assert got.meta.taken == parse_datetime("2023:05:06 07:08:09")
    assert got.meta.subsec_ms is None


def test_a_raw_and_its_export_of_one_instant_are_one_shot(tmp_path: Path) -> None:
    """The capture rule: the same instant to the sub-second is one shot; a burst neighbour
    a fraction of a second later is another."""
    a = decoded(write_dng(tmp_path / "a.dng", SCENE, original="2024:07:01 12:30:45", subsec="37"))
    b = decoded(write_dng(tmp_path / "b.dng", SCENE, original="2024:07:01 12:30:45", subsec="62"))
    assert not isinstance(a, ScanError) and not isinstance(b, ScanError)
    export = dataclasses.replace(a.meta, format="JPEG", width=1200, height=800)
    assert capture_evidence(a.meta, export) == "same-shot"
    assert capture_evidence(a.meta, b.meta) == "different-shots"


def test_pixel_and_size_limits_apply_to_raws(tmp_path: Path) -> None:
    path = write_dng(tmp_path / "big.dng", make_photo(30, 600, 400))
    got = decoded(path, DecodeLimits(max_pixels=100_000))
    assert isinstance(got, ScanError) and got.reason.startswith("image too large: 600×400")
    got = decoded(path, DecodeLimits(max_file_bytes=1000))
    assert isinstance(got, ScanError) and got.reason.startswith("file too large")


def test_a_truncated_raw_is_an_error_record_even_when_its_preview_survives(
    tmp_path: Path,
) -> None:
    data = dng_bytes(make_photo(31, 600, 400))
    for cut in (len(data) - 1000, len(data) // 2, 300, 40):
        p = tmp_path / f"cut{cut}.dng"
        p.write_bytes(data[:cut])
        got = decoded(p)
        assert isinstance(got, ScanError), cut
        assert "\n" not in got.reason and ("truncated" in got.reason or "corrupt" in got.reason)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("a.nef", b"not a picture at all" * 50, "not a RAW file LibRaw reads"),
        ("b.CR3", os.urandom(5000), "not a RAW file LibRaw reads"),
        ("c.arw", b"", "empty file"),
        ("d.raf", b"FUJIFILMCCD-RAW 0201FF383501" + bytes(3000), "RAF"),
        ("e.orf", b"IIRO\x08\x00\x00\x00" + os.urandom(3000), "ORF"),
        ("f.rw2", b"IIU\x00\x08\x00\x00\x00" + bytes(3000), "RW2"),
        ("g.cr3", b"\x00\x00\x00\x18ftypcrx \x00\x00\x00\x01crx isom" + bytes(3000), "CR3"),
        ("h.cr2", b"II*\x00\x08\x00\x00\x00" + os.urandom(3000), "CR2"),
        ("i.x3f", b"FOVb" + os.urandom(3000), "X3F"),
    ],
)
def test_junk_under_other_makes_names_is_an_error_record_with_a_reason(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    p = tmp_path / name
    p.write_bytes(content)
    got = decoded(p)
    assert isinstance(got, ScanError), got
    assert reason in got.reason and "\n" not in got.reason and len(got.reason) < 200


def test_a_jpeg_named_like_a_raw_is_decoded_by_its_content(tmp_path: Path) -> None:
    write_jpeg(tmp_path / "misnamed.nef", make_photo(32, 400, 300), 90)
    got = decoded(tmp_path / "misnamed.nef")
    assert not isinstance(got, ScanError), got
    assert got.meta.format == "JPEG"


def test_a_raw_reads_its_header_and_preview_not_its_sensor_data(tmp_path: Path) -> None:
    """LibRaw is handed the file to read what it needs: a 12 MP DNG (24 MB of sensor data)
    costs its preview and headers in reads."""
    if not os.path.exists("/proc/self/io"):
        pytest.skip("no /proc/self/io")
    scene = cv2.resize(make_photo(33, 1000, 750), (4000, 3000))
    path = write_dng(tmp_path / "12mp.dng", scene, quality=85)
    preview = len(dng_bytes(scene, quality=85)) - 4000 * 3000 * 2
    e = entry(path)
    decode_file(e)  # imports and first-use reads out of the way

    def rchar() -> int:
        with open("/proc/self/io") as f:
            return int(next(ln for ln in f if ln.startswith("rchar:")).split()[1])

    before = rchar()
    got = decode_file(e)
    read = rchar() - before
    assert not isinstance(got, ScanError), got
    assert read < preview + 1_000_000, (read, preview)


def test_same_size_raws_are_digested_only_when_their_edges_agree(tmp_path: Path) -> None:
    """Uncompressed RAWs of one camera all have one size: only files whose first and last
    64 KiB agree too are read whole for the exact-copy digest."""
    root = tmp_path / "lib"
    root.mkdir()
    for k in range(3):  # bitmap previews: one size for all
        write_dng(root / f"shot{k}.dng", make_photo(40 + k, 600, 400), preview="bitmap")
    shutil.copyfile(root / "shot0.dng", root / "shot0 copy.dng")
    sizes = {p.stat().st_size for p in root.iterdir()}
    assert len(sizes) == 1
    store = scan([str(root)]).store
    digested = {
        os.path.basename(e.path)
        for e, has in zip(store.entries, store.has_digest, strict=True)
        if has
    }
    assert digested == {"shot0.dng", "shot0 copy.dng"}
    got = verdicts(root)
    assert got[frozenset(("shot0.dng", "shot0 copy.dng"))] == "exact"


def test_raws_a_scan_once_skipped_are_read_by_the_next_scan(tmp_path: Path) -> None:
    """What a scan refused or skipped is not remembered: the cache holds decoded files only,
    so a library scanned before RAW support (RAW skipped) has its RAWs read now."""
    root = tmp_path / "lib"
    root.mkdir()
    write_dng(root / "a.dng", make_photo(50, 600, 400))
    write_jpeg(root / "a.jpg", make_photo(50, 600, 400), 90)
    cache_path = tmp_path / "cache" / "features.sqlite"
    old = ScanConfig(discover=DiscoverOptions(extensions=IMAGE_EXTENSIONS))
    with FeatureCache.open(cache_path) as cache:
        first = scan([str(root)], old, cache=cache)
    assert [os.path.basename(e.path) for e in first.store.entries] == ["a.jpg"]
    assert any(s.path.endswith("a.dng") for s in first.skipped)
    with FeatureCache.open(cache_path) as cache:
        second = scan([str(root)], cache=cache)
    assert sorted(os.path.basename(e.path) for e in second.store.entries) == ["a.dng", "a.jpg"]
    assert second.from_cache == 1 and second.decoded == 1
    with FeatureCache.open(cache_path) as cache:
        third = scan([str(root)], cache=cache)
    assert third.from_cache == 2 and third.store.metas[0].format in ("DNG", "JPEG")


def test_a_raw_refused_once_is_read_when_the_limit_allows(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    root.mkdir()
    write_dng(root / "a.dng", make_photo(51, 600, 400))
    cache_path = tmp_path / "cache" / "features.sqlite"
    small = ScanConfig(limits=DecodeLimits(max_pixels=1000))
    with FeatureCache.open(cache_path) as cache:
        first = scan([str(root)], small, cache=cache)
    assert len(first.store) == 0 and len(first.errors) == 1
    with FeatureCache.open(cache_path) as cache:
        second = scan([str(root)], cache=cache)
    assert len(second.store) == 1 and second.decoded == 1


def test_decode_entry_is_the_one_way_in_for_every_caller(tmp_path: Path) -> None:
    """The thumbnails, the pixel check and the scan all reach a RAW through decode_entry /
    decode_input (a RAW handed over as bytes would be decoded as the TIFF it also is)."""
    path = write_dng(tmp_path / "x.dng", make_photo(52, 600, 400), orientation=3)
    a = decode_entry(entry(path), reduction=lambda w, h: 1, shrink=False)
    assert not isinstance(a, ScanError)
    assert a[0].shape[:2] == (400, 600) and a[1].format == "DNG"


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _tiff(fields: dict[int, str]) -> bytes:
    return b"II*\x00" + struct.pack("<I", 8) + exif_ifd("<", 8, fields)


def test_a_cr3s_exif_comes_from_its_cmt_boxes(tmp_path: Path) -> None:
    """CR3 is no TIFF: IFD0 and the EXIF IFD are two little TIFFs in Canon's uuid box. (No
    CR3 can be written that LibRaw opens; the header reader is checked on its own.)"""
    canon = bytes.fromhex("85c0b687820f11e08111f4ce462b6a48")
    uuid = _box(
        b"uuid",
        canon
        + _box(b"CMT1", _tiff({0x010F: "Canon", 0x0110: "Canon EOS R6"}))
        + _box(b"CMT2", _tiff({0x9003: "2024:03:02 10:11:12", 0x9291: "48"})),
    )
    data = _box(b"ftyp", b"crx \x00\x00\x00\x01crx isom") + _box(b"moov", uuid)
    data += _box(b"mdat", bytes(100))
    path = tmp_path / "IMG_1.CR3"
    path.write_bytes(data)
    fd = os.open(path, os.O_RDONLY)
    try:
        assert raw_meta.container(data[:64]) == "CR3"
        got = raw_meta.header_exif(fd, len(data), data[:65536])
        assert raw_meta.data_end(fd, len(data), data[:65536]) == len(data)
        assert raw_meta.data_end(fd, len(data) - 10, data[:65536]) > len(data) - 10
    finally:
        os.close(fd)
    assert got.camera == "Canon EOS R6" and got.subsec_ms == 480
    assert got.taken == parse_datetime("2024:03:02 10:11:12")
