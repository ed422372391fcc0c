"""Shared fixtures: every test makes its own images inside ``tmp_path`` (no downloads, no
photos of anyone's, nothing outside the temporary folder)."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tui_dedup.demo import make_photo, write_image, write_jpeg


@dataclass
class ImageFactory:
    """Writes generated images under ``root``; every method returns the path it wrote."""

    root: Path

    def path(self, name: str | os.PathLike[str]) -> Path:
        p = self.root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    @staticmethod
    def photo(seed: int, width: int = 640, height: int = 480) -> np.ndarray:
        """A deterministic photo-like BGR image (see tui_dedup.demo.make_photo)."""
        return make_photo(seed, width, height)

    def jpeg(
        self, name: str, img: np.ndarray, quality: int = 92, orientation: int | None = None
    ) -> Path:
        p = self.path(name)
        write_jpeg(p, img, quality, orientation=orientation)
        return p

    def image(self, name: str, img: np.ndarray, ext: str | None = None) -> Path:
        """Lossless formats through OpenCV (PNG, BMP, TIFF, WebP at its default quality)."""
        p = self.path(name)
        write_image(p, img, ext)
        return p

    def pillow(self, name: str, img: Image.Image, fmt: str, **save: object) -> Path:
        """Anything Pillow can write: CMYK JPEG, palette PNG, animated GIF, RGBA PNG, ..."""
        p = self.path(name)
        buf = io.BytesIO()
        img.save(buf, fmt, **save)
        p.write_bytes(buf.getvalue())
        return p

    def raw(self, name: str, data: bytes) -> Path:
        p = self.path(name)
        p.write_bytes(data)
        return p


def bgr_to_pil(img: np.ndarray) -> Image.Image:
    return Image.fromarray(np.ascontiguousarray(img[:, :, ::-1]))


@pytest.fixture
def images(tmp_path: Path) -> ImageFactory:
    """A factory writing generated images into ``tmp_path / "lib"``."""
    root = tmp_path / "lib"
    root.mkdir()
    return ImageFactory(root)


@pytest.fixture
def to_pil():
    """BGR numpy image → RGB Pillow image (for formats only Pillow writes)."""
    return bgr_to_pil
