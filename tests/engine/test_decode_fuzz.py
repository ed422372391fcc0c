"""Fuzz: whatever bytes a file holds, decoding returns an image or one ScanError.

It never raises and never hangs (the hypothesis deadline). Inputs are valid small images of
every container we sniff, mutated the way disks and transfers damage files: flipped bytes,
truncation, inserted junk; plus random bytes behind each magic number.
"""

from __future__ import annotations

import io
from datetime import timedelta

import cv2
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from tui_dedup.demo import make_photo
from tui_dedup.engine.files.decode import DecodeLimits, decode_bytes
from tui_dedup.engine.model import ImageMeta, ScanError


def _seeds() -> dict[str, bytes]:
    img = make_photo(3, 48, 36)
    pil = Image.fromarray(np.ascontiguousarray(img[:, :, ::-1]))
    out = {
        "jpeg": cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes(),
        "png": cv2.imencode(".png", img)[1].tobytes(),
        "bmp": cv2.imencode(".bmp", img)[1].tobytes(),
        "tiff": cv2.imencode(".tiff", img)[1].tobytes(),
    }
    for fmt, kw in [("GIF", {}), ("WEBP", {"quality": 70}), ("PNG", {"optimize": False})]:
        buf = io.BytesIO()
        src = pil.convert("P") if fmt == "GIF" else pil.convert("RGBA") if fmt == "PNG" else pil
        src.save(buf, fmt, **kw)
        out[fmt.lower() + ("-rgba" if fmt == "PNG" else "")] = buf.getvalue()
    return out


SEEDS = _seeds()
MAGICS = [
    b"\xff\xd8\xff\xe0",
    b"\x89PNG\r\n\x1a\n",
    b"GIF89a",
    b"RIFF\x00\x00\x00\x00WEBPVP8 ",
    b"BM",
    b"II*\x00",
    b"\x00\x00\x00\x18ftypheic",
    b"\x00\x00\x00\x18ftypavif",
]

mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(1, 255)),
    st.tuples(st.just("truncate"), st.integers(0, 10**6), st.just(0)),
    st.tuples(st.just("insert"), st.integers(0, 10**6), st.binary(min_size=1, max_size=64)),
)


def mutate(data: bytes, ops: list) -> bytes:
    buf = bytearray(data)
    for kind, pos, arg in ops:
        if not buf:
            break
        p = pos % len(buf)
        if kind == "flip":
            buf[p] ^= arg
        elif kind == "truncate":
            del buf[p:]
        else:
            buf[p:p] = arg
    return bytes(buf)


def check(data: bytes) -> None:
    got = decode_bytes("fuzz.bin", data, DecodeLimits())
    if isinstance(got, ScanError):
        assert got.path == "fuzz.bin"
        assert got.reason and "\n" not in got.reason
        return
    image, meta = got
    assert isinstance(meta, ImageMeta)
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    assert image.size > 0
    assert meta.width > 0 and meta.height > 0


FUZZ = settings(
    max_examples=150,
    deadline=timedelta(seconds=5),
    suppress_health_check=[HealthCheck.too_slow],
)


@FUZZ
@given(st.sampled_from(sorted(SEEDS)), st.lists(mutation, min_size=1, max_size=4))
def test_mutated_images_decode_or_fail_cleanly(fmt: str, ops: list) -> None:
    check(mutate(SEEDS[fmt], ops))


@settings(max_examples=60, deadline=timedelta(seconds=5))
@given(st.sampled_from(MAGICS), st.binary(max_size=512))
def test_random_bytes_behind_a_magic_number(magic: bytes, tail: bytes) -> None:
    check(magic + tail)


@settings(max_examples=30, deadline=timedelta(seconds=5))
@given(st.binary(max_size=256))
def test_random_bytes(data: bytes) -> None:
    check(data)


def test_every_seed_decodes() -> None:
    """The fuzz starts from valid files, or it would only exercise the error paths."""
    for fmt, data in SEEDS.items():
        got = decode_bytes(fmt, data, DecodeLimits())
        assert isinstance(got, tuple), (fmt, got)
        assert (got[1].width, got[1].height) == (48, 36)
