"""EXIF evidence: the header fields a file carries, JPEG quality, and what two captures say.

Every file is written by Pillow into tmp_path with the EXIF a camera, a phone, an editor or a
messenger would leave, then read back through the real decoder (``decode_file``).
"""

from __future__ import annotations

import io
import shutil
import sqlite3
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from apple_notes import apple_note
from PIL import Image

from tui_dedup.engine.cache import schema as cache_schema
from tui_dedup.engine.cache import snapshot as cache_snapshot
from tui_dedup.engine.cache.features import FeatureCache
from tui_dedup.engine.cache.layout import RecordColumns, pack_records
from tui_dedup.engine.features.meta_columns import MetaColumns
from tui_dedup.engine.features.store import FeatureRow
from tui_dedup.engine.files.decode import DecodeLimits, decode_bytes, decode_file
from tui_dedup.engine.files.exif_evidence import (
    SOFTWARE_MAX_BYTES,
    apple_content_id,
    capture_evidence,
    normalise_software,
    normalise_unique_id,
    parse_offset,
    parse_subsec,
    software_kind,
)
from tui_dedup.engine.files.jpeg_quality import estimate_jpeg_quality, ijg_table
from tui_dedup.engine.model import FileEntry, ImageMeta
from tui_dedup.engine.scan import scan

UUID = "C5E2F2C4-7A8C-4B8B-9F6E-1B7F4F3D2E10"
HEX_ID = "0123456789abcdef0123456789ABCDEF"


def photo(w: int = 96, h: int = 64, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([x * 255 // w, y * 255 // h, (x + y) * 127 // (w + h)], axis=2)
    noise = rng.integers(0, 40, (h, w, 3))
    return Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8))


def exif_for(
    make: str | None = None,
    model: str | None = None,
    software: str | None = None,
    taken: str | None = None,
    subsec: str | None = None,
    offset: str | None = None,
    unique_id: str | None = None,
    maker_note: bytes | None = None,
) -> Image.Exif:
    ex = Image.Exif()
    for tag, value in ((0x010F, make), (0x0110, model), (0x0131, software)):
        if value is not None:
            ex[tag] = value
    sub = ex.get_ifd(0x8769)
    for tag, value in (
        (0x9003, taken),
        (0x9291, subsec),
        (0x9011, offset),
        (0xA420, unique_id),
        (0x927C, maker_note),
    ):
        if value is not None:
            sub[tag] = value
    return ex


def write_jpeg(path: Path, im: Image.Image | None = None, quality: int = 90, **exif) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    (im or photo()).save(path, "JPEG", quality=quality, exif=exif_for(**exif))
    return path


def entry_of(path: Path, root: Path | None = None) -> FileEntry:
    st = path.stat()
    return FileEntry(
        str(path), str(root or path.parent), st.st_size, st.st_mtime_ns, st.st_dev, st.st_ino
    )


def meta_of(path: Path) -> ImageMeta:
    decoded = decode_file(entry_of(path))
    assert not hasattr(decoded, "reason"), decoded
    return decoded.meta  # type: ignore[union-attr]


# ----------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("raw", "ms"),
    [("5", 500), ("05", 50), ("123", 123), ("123456", 123), (b"045\x00", 45), ("", None)],
)
def test_subsec_is_the_fraction_of_a_second_in_milliseconds(raw, ms):
    assert parse_subsec(raw) == ms


@pytest.mark.parametrize("raw", ["abc", "1.5", "-3", None, "٣"])
def test_subsec_that_is_not_plain_digits_is_unknown(raw):
    assert parse_subsec(raw) is None


@pytest.mark.parametrize(
    ("raw", "minutes"),
    [("+02:00", 120), ("-05:30", -330), ("+05:45", 345), ("+00:00", 0), ("2:00", None)],
)
def test_utc_offset_in_minutes(raw, minutes):
    assert parse_offset(raw) == minutes


def test_unique_id_is_128_bits_as_hex_or_nothing():
    assert normalise_unique_id(HEX_ID) == HEX_ID.lower()
    assert normalise_unique_id(UUID) == UUID.replace("-", "").lower()
    assert normalise_unique_id(HEX_ID.encode() + b"\0") == HEX_ID.lower()
    # a firmware tag some phones write into ImageUniqueID: the same on every picture
    assert normalise_unique_id("A16LLIC08SM A16LLIL02GM") is None
    assert normalise_unique_id("0" * 32) is None  # a placeholder, not an id
    assert normalise_unique_id("abc") is None


def test_apple_content_id_is_read_from_the_maker_note():
    assert apple_content_id(apple_note(UUID)) == UUID.replace("-", "").lower()
    assert apple_content_id(b"Nikon\x00\x02\x10\x00\x00") is None
    assert apple_content_id(apple_note(UUID)[:20]) is None  # truncated: no exception


def test_software_is_cut_to_the_cache_field_on_a_character_boundary():
    long = "Ä" * 40  # 80 bytes of UTF-8
    cut = normalise_software(long)
    assert cut is not None and len(cut.encode()) <= SOFTWARE_MAX_BYTES and set(cut) == {"Ä"}
    assert normalise_software(" \x00") is None
    assert normalise_software("GIMP 2.10.34\x00") == "GIMP 2.10.34"


@pytest.mark.parametrize(
    ("software", "kind"),
    [
        ("Adobe Photoshop Lightroom Classic 12.0 (Windows)", "editor"),
        ("GIMP 2.10.34", "editor"),
        ("Snapseed 2.0", "editor"),
        ("WhatsApp", "messenger"),
        ("Ver.1.10", None),  # a Nikon's firmware
        ("17.1", None),  # an iPhone's iOS version
        ("HDR+ 1.0.540104767zd", None),  # a Pixel's camera pipeline
        (None, None),
    ],
)
def test_software_kind(software, kind):
    assert software_kind(software) == kind


# ----------------------------------------------------------------------------- JPEG quality


@pytest.mark.parametrize("quality", [10, 30, 50, 75, 90, 95, 100])
def test_jpeg_quality_estimate_of_pillow_files(tmp_path, quality):
    path = write_jpeg(tmp_path / f"q{quality}.jpg", quality=quality)
    estimate = meta_of(path).jpeg_quality
    assert estimate is not None and abs(estimate - quality) <= 5


def test_jpeg_quality_ranks_custom_tables_on_the_same_scale():
    """A camera's own tables (not scaled IJG ones) still rank: finer tables, higher quality."""
    rng = np.random.default_rng(3)
    custom = np.clip(ijg_table(range(1, 65), 50) + rng.integers(0, 3, 64), 1, 255)
    fine, coarse = custom // 3 + 1, custom * 2
    q_fine = estimate_jpeg_quality({0: fine.tolist(), 1: fine.tolist()})
    q_coarse = estimate_jpeg_quality({0: coarse.tolist(), 1: coarse.tolist()})
    assert q_fine is not None and q_coarse is not None and q_fine > q_coarse


def test_jpeg_quality_of_odd_tables_is_unknown():
    assert estimate_jpeg_quality(None) is None
    assert estimate_jpeg_quality({}) is None
    assert estimate_jpeg_quality({0: [1, 2, 3]}) is None
    assert estimate_jpeg_quality({0: [0] * 64}) is None


def test_only_jpegs_have_a_quality(tmp_path):
    png = tmp_path / "a.png"
    photo().save(png)
    assert meta_of(png).jpeg_quality is None


# ----------------------------------------------------------------------------- the decoder


def test_the_decoder_reads_every_field_from_the_header(tmp_path):
    path = write_jpeg(
        tmp_path / "DSC_1295.JPG",
        quality=95,
        make="NIKON CORPORATION",
        model="NIKON D750",
        software="Ver.1.10",
        taken="2021:09:12 10:11:12",
        subsec="45",
        offset="+02:00",
        unique_id=HEX_ID,
    )
    m = meta_of(path)
    assert m.camera == "NIKON CORPORATION NIKON D750" and m.taken is not None
    assert (m.subsec_ms, m.offset_min, m.software) == (450, 120, "Ver.1.10")
    assert m.unique_id == HEX_ID.lower()
    assert m.jpeg_quality is not None and abs(m.jpeg_quality - 95) <= 5


def test_an_iphone_photo_gets_its_unique_id_from_the_maker_note(tmp_path):
    path = write_jpeg(
        tmp_path / "IMG_1203.jpg",
        make="Apple",
        model="iPhone 12",
        taken="2021:09:12 10:11:12",
        maker_note=apple_note(UUID),
    )
    assert meta_of(path).unique_id == UUID.replace("-", "").lower()


def test_a_stripped_copy_has_no_evidence(tmp_path):
    path = tmp_path / "IMG-20210912-WA0003.jpg"
    photo().save(path, "JPEG", quality=80)
    m = meta_of(path)
    assert (m.taken, m.camera, m.subsec_ms, m.offset_min, m.unique_id, m.software) == (None,) * 6
    assert not m.has_camera_meta


def test_a_samsung_firmware_string_is_not_a_unique_id(tmp_path):
    path = write_jpeg(tmp_path / "a.jpg", make="samsung", unique_id="A16LLIC08SM A16LLIL02GM")
    assert meta_of(path).unique_id is None


def test_png_exif_after_the_pixels_is_not_read(tmp_path):
    """The PNG header pass never decodes pixels to find a late eXIf chunk."""
    buf = io.BytesIO()
    photo().save(buf, "PNG")
    got = decode_bytes("a.png", buf.getvalue(), DecodeLimits())
    assert not hasattr(got, "reason")
    _, meta = got  # type: ignore[misc]
    assert meta.software is None and meta.unique_id is None


# ----------------------------------------------------------------------------- capture evidence

T0 = 1_631_434_272.0  # 2021-09-12 10:11:12 in some local time


def cap(taken=T0, subsec=None, offset=None, uid=None) -> ImageMeta:
    return ImageMeta(
        100, 100, "JPEG", taken=taken, subsec_ms=subsec, offset_min=offset, unique_id=uid
    )


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        # the same unique id: a copy, whatever its (rewritten) date says
        (cap(uid="ab" * 16), cap(taken=T0 + 86_400, uid="ab" * 16), "same-shot"),
        (cap(subsec=450), cap(subsec=450), "same-shot"),
        (cap(subsec=450), cap(subsec=700), "different-shots"),  # a burst, one second
        (cap(), cap(), "none"),  # equal to the second: burst frames share it
        (cap(subsec=450), cap(), "none"),
        (cap(subsec=0), cap(subsec=0), "none"),  # cameras that write "00" on every frame
        (cap(), cap(taken=T0 + 3), "different-shots"),
        (cap(subsec=900), cap(taken=T0 + 1, subsec=100), "different-shots"),
        (cap(), cap(taken=T0 + 120), "different-shots"),
        (cap(), cap(taken=T0 + 600), "none"),  # minutes apart: no evidence either way
        (cap(subsec=450), cap(taken=T0 + 7200, subsec=450), "none"),  # a time-zone shift
        # one moment recorded in two time zones
        (
            cap(subsec=450, offset=120),
            cap(taken=T0 - 7200, subsec=450, offset=0),
            "same-shot",
        ),
        (cap(uid="ab" * 16), cap(uid="cd" * 16), "none"),  # editors write new ids
        (cap(taken=None), cap(), "none"),
    ],
)
def test_capture_evidence(a, b, expected):
    assert capture_evidence(a, b) == expected
    assert capture_evidence(b, a) == expected


def test_capture_evidence_of_real_files(tmp_path):
    shot = {"make": "Apple", "model": "iPhone 12", "taken": "2021:09:12 10:11:12"}
    first = meta_of(write_jpeg(tmp_path / "a.jpg", subsec="123", **shot))
    copy = meta_of(write_jpeg(tmp_path / "b.jpg", quality=70, subsec="123", **shot))
    burst = meta_of(write_jpeg(tmp_path / "c.jpg", subsec="456", **shot))
    assert capture_evidence(first, copy) == "same-shot"
    assert capture_evidence(first, burst) == "different-shots"


# ----------------------------------------------------------------------------- storage

FULL = ImageMeta(
    4000,
    3000,
    "JPEG",
    taken=T0,
    camera="NIKON D750",
    has_gps=True,
    sharpness=12.5,
    subsec_ms=450,
    offset_min=-330,
    unique_id="ab" * 16,
    software="Ver.1.10",
    jpeg_quality=93,
)


def test_meta_columns_carry_the_new_fields():
    metas = [FULL, ImageMeta(10, 10, "PNG"), replace(FULL, software="GIMP 2.10", unique_id=None)]
    cols = MetaColumns.from_metas(metas)
    assert list(cols) == metas
    both = MetaColumns.concat([cols, MetaColumns.from_metas([FULL])], np.array([3, 1, 0, 2]))
    assert list(both) == [FULL, metas[1], FULL, metas[2]]


def test_meta_columns_made_without_them_say_unknown():
    cols = MetaColumns.from_metas([FULL])
    bare = MetaColumns(
        cols.width,
        cols.height,
        cols.format_code,
        cols.formats,
        cols.taken,
        cols.camera_code,
        cols.cameras,
        cols.has_gps,
        cols.sharpness,
    )
    m = bare[0]
    assert (m.subsec_ms, m.offset_min, m.unique_id, m.software, m.jpeg_quality) == (None,) * 5


def test_the_cache_row_round_trips_the_new_fields():
    metas = [FULL, ImageMeta(10, 10, "PNG"), replace(FULL, software="Ä" * 30)]
    items = [
        (FileEntry(f"/p/{k}.jpg", "/p", 100 + k, 7, 1, k), FeatureRow(m, {}, None, None))
        for k, m in enumerate(metas)
    ]
    blobs = pack_records(items, 8)
    cols = RecordColumns(len(items), 8)
    rows = [
        (e.path, b, m.format, m.camera, None)
        for (e, _), b, m in zip(items, blobs, metas, strict=True)
    ]
    cols.add(
        list(range(len(items))),
        rows,
        np.array([e.size for e, _ in items]),
        np.array([e.mtime_ns for e, _ in items]),
    )
    _, block = cols.finish()
    got = list(block.metas)
    assert got[:2] == metas[:2]
    assert got[2].software is not None and len(got[2].software.encode()) <= SOFTWARE_MAX_BYTES


def _library(root: Path) -> Path:
    write_jpeg(
        root / "DSC_1295.JPG",
        make="NIKON CORPORATION",
        model="NIKON D750",
        software="Ver.1.10",
        taken="2021:09:12 10:11:12",
        subsec="45",
        offset="+02:00",
        unique_id=HEX_ID,
    )
    write_jpeg(root / "IMG_1203.jpg", photo(seed=2), make="Apple", maker_note=apple_note(UUID))
    write_jpeg(root / "edited.jpg", photo(seed=1), quality=60, software="GIMP 2.10.34")
    return root


def _metas(res) -> dict[str, ImageMeta]:
    return {Path(e.path).name: m for e, m in zip(res.store.entries, res.store.metas, strict=True)}


def test_a_warm_rescan_has_the_new_fields(tmp_path, decodes):
    lib = _library(tmp_path / "lib")
    cache_path = tmp_path / "cache" / "features.sqlite"
    with FeatureCache.open(cache_path) as cache:
        cold = scan([lib], cache=cache)
        assert cache.warnings == []
    want = _metas(cold)
    assert want["DSC_1295.JPG"].subsec_ms == 450 and want["edited.jpg"].software == "GIMP 2.10.34"
    assert want["IMG_1203.jpg"].unique_id == UUID.replace("-", "").lower()
    decodes.clear()
    with FeatureCache.open(cache_path) as cache:  # from the store snapshot
        warm = scan([lib], cache=cache)
    assert decodes == [] and _metas(warm) == want
    shutil.rmtree(cache_snapshot.snapshot_dir(str(cache_path)))
    with FeatureCache.open(cache_path) as cache:  # from the SQLite rows
        warm = scan([lib], cache=cache)
    assert decodes == [] and _metas(warm) == want


def test_a_cache_of_layout_2_is_rebuilt_and_rescanned(tmp_path, decodes):
    """Rows written before the new fields existed are never read as if they had them."""
    lib = _library(tmp_path / "lib")
    cache_path = tmp_path / "cache" / "features.sqlite"
    with FeatureCache.open(cache_path) as cache:
        cold = scan([lib], cache=cache)
    conn = sqlite3.connect(cache_path)
    conn.execute("PRAGMA user_version=2")
    conn.commit()
    conn.close()
    decodes.clear()
    with FeatureCache.open(cache_path) as cache:
        again = scan([lib], cache=cache)
        assert len(cache.warnings) == 1 and "older dedup-tui (layout 2)" in cache.warnings[0]
    assert len(decodes) == 3 and _metas(again) == _metas(cold)
    assert cache_schema.SCHEMA_VERSION == 3
