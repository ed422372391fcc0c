"""Generated photos and a demo library, for ``dedup-tui --demo``, tests and screenshots.

Why generated: nobody should need their own photos (or a download) to try the app or run the
tests. The images are not flat colour — smooth random fields, shapes and sensor-like noise — so
hashes behave as they do on real photos, and every copy comes from a known transform.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np


def make_photo(seed: int, width: int = 640, height: int = 480) -> np.ndarray:
    """A deterministic photo-like BGR image: large-scale structure plus fine texture."""
    rng = np.random.default_rng(seed)
    field = rng.integers(0, 256, (4, 5, 3), dtype=np.uint8)
    img: np.ndarray = cv2.resize(field, (width, height), interpolation=cv2.INTER_CUBIC).astype(
        np.float32
    )
    mid = cv2.resize(
        rng.integers(0, 256, (12, 16, 3), dtype=np.uint8),
        (width, height),
        interpolation=cv2.INTER_CUBIC,
    ).astype(np.float32)
    img = 0.65 * img + 0.35 * mid
    for _ in range(6):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        if rng.random() < 0.5:
            radius = int(rng.integers(min(width, height) // 16, min(width, height) // 4))
            cv2.circle(img, centre, radius, colour, -1, lineType=cv2.LINE_AA)
        else:
            p2 = (int(rng.integers(0, width)), int(rng.integers(0, height)))
            cv2.rectangle(img, centre, p2, colour, -1, lineType=cv2.LINE_AA)
    img = cv2.GaussianBlur(img, (0, 0), 1.2)
    img += rng.normal(0, 6, img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def write_jpeg(
    path: str | os.PathLike[str], img: np.ndarray, quality: int = 92, orientation: int | None = None
) -> None:
    """Write a JPEG (unicode-safe); with ``orientation``, add an EXIF Orientation tag."""
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    data = buf.tobytes()
    if orientation is not None:
        data = _with_exif_orientation(data, orientation)
    Path(path).write_bytes(data)


def write_image(path: str | os.PathLike[str], img: np.ndarray, ext: str | None = None) -> None:
    ext = ext or os.path.splitext(os.fspath(path))[1]
    ok, buf = cv2.imencode(ext, img)
    assert ok, ext
    Path(path).write_bytes(buf.tobytes())


def _with_exif_orientation(jpeg: bytes, orientation: int) -> bytes:
    """Insert a minimal APP1/Exif segment holding only the Orientation tag."""
    ifd = (
        b"MM\x00*\x00\x00\x00\x08"  # big-endian TIFF header, IFD at 8
        + b"\x00\x01"  # one entry
        + b"\x01\x12\x00\x03\x00\x00\x00\x01"  # tag 0x0112, SHORT, count 1
        + orientation.to_bytes(2, "big")
        + b"\x00\x00"
        + b"\x00\x00\x00\x00"  # no next IFD
    )
    payload = b"Exif\x00\x00" + ifd
    app1 = b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload
    return jpeg[:2] + app1 + jpeg[2:]


def stored_for_orientation(upright: np.ndarray, orientation: int) -> np.ndarray:
    """The pixels a camera stores so that a viewer applying ``orientation`` shows ``upright``."""
    if orientation == 3:
        return cv2.rotate(upright, cv2.ROTATE_180)
    if orientation == 6:  # viewer rotates 90° clockwise → stored rotated counter-clockwise
        return cv2.rotate(upright, cv2.ROTATE_90_COUNTERCLOCKWISE)
    if orientation == 8:
        return cv2.rotate(upright, cv2.ROTATE_90_CLOCKWISE)
    return upright


def make_demo_library(dest: str | os.PathLike[str], bases: int = 10, seed: int = 7) -> Path:
    """A small photo folder with known duplicates: the scan should find each family.

    Per base photo: the original, a half-size copy, a recompressed copy, a PNG copy, and (for
    some) a mirrored copy, an EXIF-rotated copy and a slightly cropped copy, spread over
    subfolders with realistic names; plus unrelated photos and one corrupt file.
    """
    root = Path(dest)
    for sub in ("2023/holiday", "2024/family", "phone/WhatsApp Images", "backup/old laptop"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for b in range(bases):
        img = make_photo(seed * 1000 + b, 960, 720)
        name = f"IMG_{2040 + b:04d}"
        write_jpeg(root / "2023/holiday" / f"{name}.jpg", img, 95)
        small = cv2.resize(img, (480, 360), interpolation=cv2.INTER_AREA)
        write_jpeg(root / "phone/WhatsApp Images" / f"IMG-2024-WA{b:04d}.jpg", small, 70)
        if b % 2 == 0:
            write_image(root / "backup/old laptop" / f"{name}.png", img)
        if b % 3 == 0:
            write_jpeg(root / "2024/family" / f"{name} (edited).jpg", img[:, ::-1], 88)
        if b % 4 == 1:
            write_jpeg(
                root / "2024/family" / f"{name}_rotated.jpg",
                stored_for_orientation(img, 6),
                90,
                orientation=6,
            )
        if b % 5 == 2:
            h, w = img.shape[:2]
            write_jpeg(
                root / "2024/family" / f"{name}_crop.jpg",
                img[h // 30 : h - h // 30, w // 30 : w - w // 30],
                90,
            )
    for u in range(max(3, bases // 2)):
        img = make_photo(int(rng.integers(1_000_000)), 800, 600)
        write_jpeg(root / "2024/family" / f"DSC{u:05d}.jpg", img, 90)
    (root / "2024/family" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not a photo")
    return root


DEMO_PREFIX = "dedup-tui-demo-"


def make_demo_folder() -> Path:
    """A fresh demo library in its own temporary folder (``--demo``): ``<tmp>/Pictures``."""
    import tempfile

    return make_demo_library(Path(tempfile.mkdtemp(prefix=DEMO_PREFIX)) / "Pictures")


def remove_demo_folder(library: Path) -> None:
    """Remove what :func:`make_demo_folder` made when the demo ends, and nothing else: only a
    folder of ours in the temp dir (named with :data:`DEMO_PREFIX`)."""
    import shutil
    import tempfile

    top = library.parent
    if top.parent == Path(tempfile.gettempdir()) and top.name.startswith(DEMO_PREFIX):
        shutil.rmtree(top, ignore_errors=True)
