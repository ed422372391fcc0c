"""Whatever a disk holds, each unusable file is exactly one ScanError with a reason a user can
act on, and the scan of the other files goes on. Odd but valid images are decoded."""

from __future__ import annotations

import errno
import io
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from tui_dedup.engine.files.decode import DecodeLimits, decode_bytes
from tui_dedup.engine.scan import ScanConfig, ScanResult, scan

CONFIG = ScanConfig(workers=2)


def run(root: Path, **kw) -> ScanResult:
    return scan([str(root)], kw.pop("config", CONFIG), **kw)


def names(result: ScanResult) -> set[str]:
    return {os.path.basename(e.path) for e in result.store.entries}


def row(result: ScanResult, name: str) -> int:
    (k,) = [k for k, e in enumerate(result.store.entries) if os.path.basename(e.path) == name]
    return k


def phash_distance(result: ScanResult, a: str, b: str) -> int:
    """Distance of the untransformed pHashes: a copy must match as it is, not rotated."""
    codes = result.store.codes("phash")
    return int(np.bitwise_count(codes[row(result, a)] ^ codes[row(result, b)]).sum())


def one_error(result: ScanResult, name: str) -> str:
    """Exactly one error, for ``name``; returns its reason."""
    assert [os.path.basename(e.path) for e in result.errors] == [name], result.errors
    assert result.skipped == []
    return result.errors[0].reason


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int = 100_000, height: int = 100_000, *, full: bool = False) -> bytes:
    """A tiny file whose header promises a huge greyscale image. With ``full``, the pixel data
    is really there (all zeros, ~1000:1 compressed): decoding it would allocate width×height
    bytes."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    if full:
        z = zlib.compressobj(9)
        row = b"\0" * (width + 1)
        idat = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    else:
        idat = zlib.compress(b"\0" * 100_000, 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


@pytest.fixture
def lib(images):
    """A library with one good photo in it; each test adds the file under test."""
    images.jpeg("good.jpg", images.photo(1))
    return images


def encoded(img: np.ndarray, ext: str, *params: int) -> bytes:
    ok, buf = cv2.imencode(ext, img, list(params))
    assert ok
    return buf.tobytes()


# --- unusable files -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "make", "reason"),
    [
        ("empty.jpg", lambda img: b"", "empty file (0 bytes)"),
        ("notes.jpg", lambda img: b"shopping list: milk, eggs\n" * 20, "not an image"),
        (
            "half.jpg",
            lambda img: (b := encoded(img, ".jpg"))[: len(b) // 2],
            "truncated JPEG",
        ),
        (
            "half.png",
            lambda img: (b := encoded(img, ".png"))[: len(b) // 2],
            "corrupt or truncated PNG",
        ),
        (
            "garbled.png",
            lambda img: (
                (b := encoded(img, ".png"))[: len(b) // 2]
                + bytes(range(256)) * 4
                + b[len(b) // 2 + 1024 :]
            ),
            "corrupt or truncated PNG",
        ),
        ("bomb.png", lambda img: png_bomb(), "possible decompression bomb"),
        ("header-only.jpg", lambda img: encoded(img, ".jpg")[:200], "JPEG"),
        ("gif-magic.gif", lambda img: b"GIF89a" + b"\0" * 40, "GIF"),
    ],
)
def test_unusable_file_is_one_error(lib, name, make, reason) -> None:
    lib.raw(name, make(lib.photo(2)))
    result = run(lib.root)
    assert reason in one_error(result, name)
    assert names(result) == {"good.jpg"}
    assert not result.cancelled


def test_bomb_dimensions_are_in_the_reason() -> None:
    got = decode_bytes("bomb.png", png_bomb(), DecodeLimits())
    assert "100000×100000" in got.reason and "250 MP" in got.reason


def test_corrupt_bytes_inside_a_jpeg_never_break_the_scan(lib) -> None:
    """libjpeg resynchronises on damaged entropy data, as every viewer does: such a file is
    either decoded (with the damage visible) or one error; never an exception, never silence
    about the other files."""
    data = bytearray(encoded(lib.photo(2), ".jpg", cv2.IMWRITE_JPEG_QUALITY, 92))
    mid = len(data) // 2
    data[mid : mid + 64] = np.random.default_rng(0).integers(0, 256, 64, np.uint8).tobytes()
    lib.raw("damaged.jpg", bytes(data))
    result = run(lib.root)
    assert "good.jpg" in names(result)
    assert len(result.errors) + len(result.store) == 2


def test_huge_sparse_file_is_refused_by_size_without_reading(lib, monkeypatch) -> None:
    with open(lib.path("huge.jpg"), "wb") as f:
        f.write(b"\xff\xd8\xff\xe0")
        f.truncate(3 << 30)
    read = {"bytes": 0}
    real_read = os.read

    def counting_read(fd: int, n: int) -> bytes:
        data = real_read(fd, n)
        read["bytes"] += len(data)
        return data

    monkeypatch.setattr(os, "read", counting_read)
    result = run(lib.root)
    reason = one_error(result, "huge.jpg")
    assert "file too large" in reason and "3.0 GiB" in reason
    assert names(result) == {"good.jpg"}
    assert read["bytes"] < 1 << 20  # the good photo only, not gigabytes of zeros


def test_permission_denied(lib, monkeypatch) -> None:
    """Tests run as root, so chmod proves nothing: the OS refusal is injected at os.open."""
    locked = str(lib.jpeg("locked.jpg", lib.photo(3)))
    real_open = os.open

    def deny(path, flags, *args, **kw):
        if os.fspath(path) == locked:
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_open(path, flags, *args, **kw)

    monkeypatch.setattr(os, "open", deny)
    result = run(lib.root)
    assert one_error(result, "locked.jpg") == "permission denied"
    assert names(result) == {"good.jpg"}


def test_file_vanishing_between_discovery_and_decode(lib) -> None:
    gone = lib.jpeg("gone.jpg", lib.photo(3))

    def on_progress(p) -> None:
        if p.stage == "hashing" and gone.exists():
            gone.unlink()  # after discovery listed it, before any decode

    result = run(lib.root, on_progress=on_progress)
    assert one_error(result, "gone.jpg") == "vanished before it could be read"
    assert names(result) == {"good.jpg"}


def test_many_bad_files_at_once(lib) -> None:
    lib.raw("a.jpg", b"")
    lib.raw("b.jpg", b"text")
    lib.raw("c.png", png_bomb())
    lib.raw("d.jpg", encoded(lib.photo(2), ".jpg")[:300])
    lib.jpeg("e.jpg", lib.photo(5))
    result = run(lib.root)
    assert sorted(os.path.basename(e.path) for e in result.errors) == [
        "a.jpg",
        "b.jpg",
        "c.png",
        "d.jpg",
    ]
    assert names(result) == {"good.jpg", "e.jpg"}
    assert all(e.reason and "\n" not in e.reason for e in result.errors)


# --- odd but valid images -------------------------------------------------------------------


def test_png_named_jpg_is_decoded_by_content(lib) -> None:
    lib.raw("really-a-png.jpg", encoded(lib.photo(1), ".png"))
    result = run(lib.root)
    assert result.errors == []
    assert result.store.metas[row(result, "really-a-png.jpg")].format == "PNG"
    assert phash_distance(result, "good.jpg", "really-a-png.jpg") <= 6


def test_16_bit_png(lib) -> None:
    img16 = lib.photo(1).astype(np.uint16) * 257
    lib.raw("deep.png", encoded(img16, ".png"))
    result = run(lib.root)
    assert result.errors == []
    assert phash_distance(result, "good.jpg", "deep.png") <= 6


def test_cmyk_jpeg(lib, to_pil) -> None:
    lib.pillow("print.jpg", to_pil(lib.photo(1)).convert("CMYK"), "JPEG", quality=92)
    result = run(lib.root)
    assert result.errors == []
    assert phash_distance(result, "good.jpg", "print.jpg") <= 6
    # colours survive too (an inverted CMYK decode would not)
    k = row(result, "print.jpg")
    assert float(result.store.hist3[row(result, "good.jpg")] @ result.store.hist3[k]) > 0.9


def test_palette_png(lib, to_pil) -> None:
    lib.pillow("palette.png", to_pil(lib.photo(1)).convert("P"), "PNG")
    result = run(lib.root)
    assert result.errors == []
    assert phash_distance(result, "good.jpg", "palette.png") <= 6


def test_transparent_png_matches_its_white_background_twin(images) -> None:
    img = images.photo(4)
    h, w = img.shape[:2]
    alpha = np.zeros((h, w), np.uint8)
    alpha[h // 5 : h - h // 5, w // 5 : w - w // 5] = 255
    rgba = np.dstack([img, alpha])
    rgba[alpha == 0, :3] = 0  # what hides under transparency is usually black
    images.image("cutout.png", rgba)
    white = img.copy()
    white[alpha == 0] = 255
    images.jpeg("cutout-on-white.jpg", white)
    black = img.copy()
    black[alpha == 0] = 0
    images.jpeg("cutout-on-black.jpg", black)
    result = run(images.root)
    assert result.errors == []
    assert phash_distance(result, "cutout.png", "cutout-on-white.jpg") <= 4
    # the test would notice alpha being dropped: the black version is far away
    assert phash_distance(result, "cutout.png", "cutout-on-black.jpg") > 8


@pytest.mark.parametrize(("w", "h"), [(1, 1), (1, 10_000), (10_000, 1), (3, 2)])
def test_tiny_and_thin_images(images, w, h) -> None:
    ramp = np.linspace(0, 255, w * h).reshape(h, w).astype(np.uint8)
    images.image("odd.png", np.dstack([ramp, ramp[::-1], ramp]))
    images.jpeg("odd.jpg", np.dstack([ramp, ramp, ramp]))
    result = run(images.root)
    assert result.errors == []
    m = result.store.metas[row(result, "odd.png")]
    assert (m.width, m.height) == (w, h)


def test_animated_gif_uses_the_first_frame(images, to_pil) -> None:
    first, second = images.photo(1, 320, 240), images.photo(2, 320, 240)
    images.jpeg("first.jpg", first)
    images.jpeg("second.jpg", second)
    # quantised up front: Pillow's own GIF quantiser takes seconds on noisy photos
    frames = [to_pil(f).quantize(method=Image.Quantize.FASTOCTREE) for f in (first, second)]
    images.pillow(
        "anim.gif", frames[0], "GIF", save_all=True, append_images=frames[1:], optimize=False
    )
    result = run(images.root)
    assert result.errors == []
    assert result.store.metas[row(result, "anim.gif")].format == "GIF"
    assert phash_distance(result, "anim.gif", "first.jpg") <= 6
    assert phash_distance(result, "anim.gif", "second.jpg") > 20


def test_webp(lib, to_pil) -> None:
    lib.image("lossless.webp", lib.photo(1))
    lib.pillow("lossy.webp", to_pil(lib.photo(1)), "WEBP", quality=60)
    result = run(lib.root)
    assert result.errors == []
    assert phash_distance(result, "good.jpg", "lossless.webp") <= 6
    assert phash_distance(result, "good.jpg", "lossy.webp") <= 6


def test_heic(images, to_pil) -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    img = images.photo(1, 320, 240)
    try:
        heif = pillow_heif.from_pillow(to_pil(img))
        buf = io.BytesIO()
        heif.save(buf, quality=85)
    except Exception as exc:  # no HEVC encoder in this build; the no-decoder case is below
        pytest.skip(f"HEIC encoder unavailable: {exc}")
    images.raw("phone.heic", buf.getvalue())
    images.jpeg("phone.jpg", img)
    result = run(images.root)
    assert result.errors == []
    assert result.store.metas[row(result, "phone.heic")].format == "HEIF"
    assert phash_distance(result, "phone.jpg", "phone.heic") <= 6


def test_heic_without_pillow_heif_is_a_clear_error(tmp_path: Path) -> None:
    """In a process where pillow_heif cannot be imported, a HEIC file says how to fix it."""
    heic = tmp_path / "phone.heic"
    heic.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\0" * 64)
    code = (
        "import sys; sys.modules['pillow_heif'] = None\n"
        "from tui_dedup.engine.files.decode import decode_bytes, DecodeLimits\n"
        f"print(decode_bytes('x', open({str(heic)!r}, 'rb').read(), DecodeLimits()).reason)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert "pip install pillow-heif" in out.stdout


# --- names ----------------------------------------------------------------------------------

ODD_NAMES = [
    b"with space.jpg",
    "ünïcødé 写真.jpg".encode(),
    b"new\nline.jpg",
    b"not-utf8-\xff\xfe.jpg",
    b"-starts-with-dash.jpg",
]


def test_odd_file_names_round_trip(images) -> None:
    root = os.fsencode(str(images.root))
    data = encoded(images.photo(1), ".jpg", cv2.IMWRITE_JPEG_QUALITY, 90)
    for k, name in enumerate(ODD_NAMES):
        folder = os.path.join(root, b"dir \xe9" if k % 2 else b"plain")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data + bytes([k]))  # distinct bytes: not exact duplicates of each other
    result = scan([str(images.root)], CONFIG)
    assert result.errors == [] and result.skipped == []
    got = {os.fsencode(e.path) for e in result.store.entries}
    want = {
        os.path.join(root, b"dir \xe9" if k % 2 else b"plain", n) for k, n in enumerate(ODD_NAMES)
    }
    assert got == want
    for e in result.store.entries:
        with open(os.fsencode(e.path), "rb") as f:  # the str path leads back to the same file
            assert os.fstat(f.fileno()).st_ino == e.ino
        assert isinstance(e.relpath, str)


def test_scan_accepts_bytes_roots(images) -> None:
    images.jpeg("a.jpg", images.photo(1))
    result = scan([os.fsencode(str(images.root))], CONFIG)
    assert [os.path.basename(e.path) for e in result.store.entries] == ["a.jpg"]
    assert isinstance(result.store.entries[0].path, str)


def test_pillow_writes_what_we_think_it_writes(images, to_pil) -> None:
    """Guards the fixtures above: the CMYK and palette files really are CMYK and palette."""
    p = images.pillow("c.jpg", to_pil(images.photo(1)).convert("CMYK"), "JPEG")
    with Image.open(p) as im:
        assert im.mode == "CMYK"
    p = images.pillow("p.png", to_pil(images.photo(1)).convert("P"), "PNG")
    with Image.open(p) as im:
        assert im.mode == "P"


def test_bomb_is_refused_before_any_pixel_is_decoded(tmp_path: Path) -> None:
    """A 64 MP greyscale PNG (60 kB on disk) over a 10 MP limit: decoding it would raise the
    peak memory by 64 MB; the refusal must come from the header alone. A fresh process, so the
    peak is this decode's."""
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_bomb(8_000, 8_000, full=True))
    code = (
        "import resource\n"
        "from tui_dedup.engine.files.decode import decode_bytes, DecodeLimits\n"
        f"data = open({str(bomb)!r}, 'rb').read()\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "r = decode_bytes('b', data, DecodeLimits(max_pixels=10_000_000))\n"
        "print(r.reason)\n"
        "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    reason, grew_mb = out.stdout.strip().splitlines()
    assert "8000×8000" in reason and "decompression bomb" in reason
    assert int(grew_mb) < 24, f"peak memory grew by {grew_mb} MB: the bomb was decoded"


def test_png_exif_before_the_pixels_is_read(images, to_pil) -> None:
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0110] = "Canon EOS 5D"
    exif.get_ifd(0x8769)[0x9003] = "2021:06:05 14:30:00"
    images.pillow("shot.png", to_pil(images.photo(1, 160, 120)), "PNG", exif=exif)
    got = decode_bytes("shot.png", (images.root / "shot.png").read_bytes(), DecodeLimits())
    assert isinstance(got, tuple)
    meta = got[1]
    assert meta.camera == "Canon EOS 5D"
    assert meta.taken is not None
