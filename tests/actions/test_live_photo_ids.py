"""A Live Photo's still and movie named otherwise are one shot by Apple's content identifier
(issue #17): the movie travels with its still, is refused like a same-named one when it has
no copy beside the file that stays, and apply checks it again. The stills carry an Apple
maker note and the movies QuickTime metadata, both written here."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np
from apple_notes import apple_note
from conftest import entry
from PIL import Image

from tui_dedup.actions import Journal, apply_plan, build_plan, undo
from tui_dedup.engine.files.live_photo import movie_content_id, still_content_id

UUID = "7C1A2B3C-4D5E-4F60-8A9B-0C1D2E3F4A5B"
OTHER = "11112222-3333-4444-5555-666677778888"


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def write_movie(path: Path, content_id: str | None, motion: bytes = b"motion") -> Path:
    """A QuickTime file as an iPhone writes a Live Photo's movie, as far as the identifier
    goes: ftyp, a moov with a meta box (hdlr mdta, keys, ilst), then the media data."""
    meta = b""
    if content_id is not None:
        key = b"com.apple.quicktime.content.identifier"
        keys = box(
            b"keys", struct.pack(">II", 0, 1) + struct.pack(">I4s", 8 + len(key), b"mdta") + key
        )
        data = box(b"data", struct.pack(">II", 1, 0) + content_id.encode())
        ilst = box(b"ilst", box(struct.pack(">I", 1), data))
        hdlr = box(b"hdlr", bytes(8) + b"mdta" + bytes(13))
        meta = box(b"meta", hdlr + keys + ilst)
    mvhd = box(b"mvhd", bytes(100))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        box(b"ftyp", b"qt  \x00\x00\x00\x00qt  ") + box(b"moov", mvhd + meta) + box(b"mdat", motion)
    )
    return path


def write_still(path: Path, content_id: str | None, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    im = Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))
    ex = Image.Exif()
    ex[0x010F], ex[0x0110] = "Apple", "iPhone 12"
    if content_id is not None:
        ex.get_ifd(0x8769)[0x927C] = apple_note(content_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path, "JPEG", quality=90, exif=ex)
    return path


def test_the_identifiers_are_read_from_the_movie_and_the_still(tmp_path: Path) -> None:
    want = UUID.replace("-", "").lower()
    assert movie_content_id(str(write_movie(tmp_path / "a.MOV", UUID))) == want
    assert still_content_id(str(write_still(tmp_path / "a.JPG", UUID))) == want
    assert movie_content_id(str(write_movie(tmp_path / "b.MOV", None))) is None
    (tmp_path / "c.MOV").write_bytes(b"\x00\x00\x00\x10moov" + b"\xff" * 4)  # cut short
    assert movie_content_id(str(tmp_path / "c.MOV")) is None


def shot(folder: Path, still: str, movie: str, content_id: str, motion: bytes = b"motion"):
    s = write_still(folder / still, content_id)
    write_movie(folder / movie, content_id, motion)
    return s


def test_a_renamed_still_takes_its_movie_along_and_undo_brings_both(tmp_path: Path) -> None:
    root = tmp_path / "r"
    keep = shot(root / "DCIM", "IMG_0001.JPG", "IMG_0001.MOV", UUID)
    gone = shot(root / "Export", "IMG_0001 (1).JPG", "IMG_0001.MOV", UUID)
    plan = build_plan([[entry(keep, root), entry(gone, root)]], {str(gone)}, "move")
    (step,) = plan.steps
    assert [os.path.basename(c.path) for c in step.sidecars] == ["IMG_0001.MOV"]
    assert step.sidecars[0].dest is not None
    assert os.path.basename(step.sidecars[0].dest) == "IMG_0001 (1).MOV"  # named after its still
    assert apply_plan(plan, journal=Journal()).ok
    assert not (root / "Export" / "IMG_0001.MOV").exists()
    assert (root / "DCIM" / "IMG_0001.MOV").exists()
    assert undo().ok
    assert (root / "Export" / "IMG_0001.MOV").read_bytes() == (
        root / "DCIM" / "IMG_0001.MOV"
    ).read_bytes()


def test_a_renamed_still_whose_movie_has_no_copy_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "r"
    keep = write_still(root / "DCIM" / "IMG_0001.JPG", UUID)  # the still alone stays
    gone = shot(root / "Export", "IMG_0001 (1).JPG", "IMG_0001.MOV", UUID)
    plan = build_plan([[entry(keep, root), entry(gone, root)]], {str(gone)}, "move")
    assert plan.steps == []
    (why,) = plan.refused
    assert "Live Photo" in why and "IMG_0001.MOV" in why


def test_a_movie_of_another_shot_stays_where_it_is(tmp_path: Path) -> None:
    root = tmp_path / "r"
    keep = write_still(root / "DCIM" / "IMG_0001.JPG", UUID)
    gone = write_still(root / "Export" / "IMG_0001 (1).JPG", UUID)
    write_movie(root / "Export" / "IMG_0002.MOV", OTHER)  # another Live Photo's movie
    plan = build_plan([[entry(keep, root), entry(gone, root)]], {str(gone)}, "move")
    (step,) = plan.steps
    assert step.sidecars == ()


def test_apply_leaves_the_still_when_the_movie_that_stays_changed(tmp_path: Path) -> None:
    root = tmp_path / "r"
    keep = shot(root / "DCIM", "IMG_0001.JPG", "IMG_0001.MOV", UUID)
    gone = shot(root / "Export", "IMG_0001 (1).JPG", "IMG_0001.MOV", UUID)
    plan = build_plan([[entry(keep, root), entry(gone, root)]], {str(gone)}, "move")
    assert len(plan.steps) == 1
    write_movie(root / "DCIM" / "IMG_0001.MOV", UUID, b"trimmed")  # the world changes
    report = apply_plan(plan, journal=Journal())
    assert not report.done
    assert gone.exists() and (root / "Export" / "IMG_0001.MOV").exists()
    assert any("Live Photo movie" in why for _, why in report.skipped)


def test_a_damaged_movie_has_no_identifier_and_never_raises(tmp_path: Path) -> None:
    import random

    good = write_movie(tmp_path / "good.MOV", UUID).read_bytes()
    rng = random.Random(17)
    bad = tmp_path / "bad.MOV"
    for _ in range(1500):
        data = bytearray(good)
        for _ in range(rng.randint(1, 6)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        bad.write_bytes(data[: rng.randrange(len(data))] if rng.random() < 0.3 else data)
        got = movie_content_id(str(bad))
        assert got is None or len(got) == 32
