"""Smooth generated wallpapers and the local edits made to them (a logo, a caption).

Shared by the engine's local-edit tests and the CLI's --local-edits test: a centred,
mirror-symmetric design has its odd DCT terms near zero, so a logo in one corner moves pHash
past the balanced radius, the case only the local-edit stage catches.
"""

from __future__ import annotations

import cv2
import numpy as np

W, H = 800, 500


def _gradient(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    c0, c1 = np.float32([70, 90, 40]), np.float32([150, 170, 120])
    t = (1 - np.sqrt(u**2 + v**2) * 1.4)[..., None]
    return c0 * (1 - t) + c1 * t


def symmetric_design(seed: int) -> np.ndarray:
    """A centred radial gradient with a symmetric checker of soft waves."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    u, v = (x - W / 2) / W, (y - H / 2) / H
    fx, fy = rng.uniform(8, 16, 2)
    img = _gradient(u, v) + (8 * np.cos(2 * np.pi * fx * u) * np.cos(2 * np.pi * fy * v))[..., None]
    return np.clip(img, 0, 255).astype(np.uint8)


def faint_shapes(seed: int) -> np.ndarray:
    """The same gradient (one palette for every seed) with faint stripes and soft rings."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    img = _gradient((x - W / 2) / W, (y - H / 2) / H)
    img += (4 * np.sin(x / W * rng.uniform(20, 40) + rng.uniform(0, 6)))[..., None]
    for _ in range(6):
        cx, cy, r = rng.uniform(0, W), rng.uniform(0, H), rng.uniform(0.1, 0.35) * W
        ring = np.sqrt((x - cx) ** 2 + (y - cy) ** 2) - r
        img += (rng.uniform(4, 8) * np.exp(-(ring**2) / (2 * (0.03 * W) ** 2)))[..., None]
    return np.clip(img, 0, 255).astype(np.uint8)


def with_logo(img: np.ndarray) -> np.ndarray:
    a = img.copy()
    s = round(W * 0.12)
    x0, y0 = W - s - round(W * 0.03), round(H * 0.04)
    cv2.rectangle(a, (x0, y0), (x0 + s, y0 + s // 2), (30, 60, 200), thickness=-1)
    cv2.circle(a, (x0 + s // 4, y0 + s // 4), s // 6, (255, 255, 255), thickness=-1)
    return a


def with_caption(img: np.ndarray) -> np.ndarray:
    a = img.copy()
    org = (round(W * 0.04), round(H * 0.93))
    for colour, thick in (((0, 0, 0), 6), ((255, 255, 255), 2)):
        cv2.putText(a, "holiday 2024", org, cv2.FONT_HERSHEY_SIMPLEX, 1.0, colour, thick)
    return a
