"""Pictures that fool a 64-bit hash, made here: night skies, statements, recoloured designs,
burst frames. Each is what a real ~/Pictures holds and what the verdict stage must tell apart
from a copy."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from tui_dedup.engine.verdicts.kinds import WORDS, Kind
from tui_dedup.review.pipeline import match_library, scan_library
from tui_dedup.review.settings import RunSettings


def star_field(seed: int, width: int = 1600, height: int = 1200, galaxy: bool = True) -> np.ndarray:
    """A night sky: a few hundred point stars (power-law brightness), a central galaxy."""
    rng = np.random.default_rng(seed)
    img = np.zeros((height, width), np.float32)
    n = int(rng.integers(300, 900))
    xs, ys = rng.integers(0, width, n), rng.integers(0, height, n)
    img[ys, xs] = np.minimum((rng.pareto(1.5, n) * 20 + 5) * 30, 4000)
    img = cv2.GaussianBlur(img, (0, 0), 1.5)
    if galaxy:
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
        cx, cy = width / 2 + rng.normal(0, 60), height / 2 + rng.normal(0, 60)
        a = float(rng.uniform(150, 300))
        b = a * float(rng.uniform(0.3, 0.9))
        t = float(rng.uniform(0, np.pi))
        u = (xx - cx) * np.cos(t) + (yy - cy) * np.sin(t)
        v = -(xx - cx) * np.sin(t) + (yy - cy) * np.cos(t)
        img += 120 * np.exp(-np.sqrt((u / a) ** 2 + (v / b) ** 2) * 3)
    img += rng.normal(8, 3, img.shape).astype(np.float32)
    grey = np.clip(img, 0, 255)
    return np.clip(grey[:, :, None] * np.array([1.0, 0.92, 0.85]), 0, 255).astype(np.uint8)


def statement(seed: int, width: int = 1240, height: int = 1754) -> np.ndarray:
    """A bank statement: one layout (header, table lines) and the amounts of month ``seed``."""
    rng = np.random.default_rng(seed)
    img = np.full((height, width, 3), 255, np.uint8)
    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.putText(img, "NORDBANK", (80, 140), font, 2.4, (0, 0, 0), 5, cv2.LINE_AA)
    cv2.putText(img, "Account statement", (80, 220), font, 1.2, (0, 0, 0), 2, cv2.LINE_AA)
    for k in range(24):
        y = 340 + 52 * k
        cv2.line(img, (80, y + 14), (width - 80, y + 14), (180, 180, 180), 1)
        cv2.putText(
            img,
            f"2023-{(seed % 12) + 1:02d}-{k + 1:02d}",
            (80, y),
            font,
            0.8,
            (0, 0, 0),
            2,
            cv2.LINE_AA,
        )
        cv2.putText(img, "Card payment", (360, y), font, 0.8, (0, 0, 0), 2, cv2.LINE_AA)
        amount = f"{rng.integers(1, 9999)}.{rng.integers(0, 100):02d}"
        cv2.putText(img, amount, (width - 300, y), font, 0.8, (0, 0, 0), 2, cv2.LINE_AA)
    return img


def logo(hue_shift: int, size: int = 800) -> np.ndarray:
    """One flat design on white; ``hue_shift`` turns its colours (blue, purple, ...)."""
    img = np.full((size, size, 3), 255, np.uint8)
    cv2.circle(img, (size // 2, size // 2), size // 3, (200, 90, 30), -1, cv2.LINE_AA)
    cv2.rectangle(
        img, (size // 4, size // 2 - 40), (3 * size // 4, size // 2 + 40), (40, 160, 240), -1
    )
    cv2.putText(
        img, "ACME", (size // 3, size // 5), cv2.FONT_HERSHEY_SIMPLEX, 2.5, (120, 40, 160), 6
    )
    hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV)
    hsv[:, :, 0] = (hsv[:, :, 0].astype(int) + hue_shift) % 180
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)


def burst(base: np.ndarray, frame: int) -> np.ndarray:
    """Frame ``frame`` of a burst: the camera moved a little and a subject crossed the scene."""
    h, w = base.shape[:2]
    dx, dy = 0.012 * w * frame, 0.006 * h * frame
    m = np.float32([[1, 0, -dx], [0, 1, -dy]])
    img = cv2.warpAffine(base, m, (w, h), borderMode=cv2.BORDER_REFLECT)
    cx = int(w * (0.3 + 0.1 * frame))
    cv2.circle(img, (cx, h // 2), h // 10, (20, 20, 220), -1, cv2.LINE_AA)
    return img


def with_caption(img: np.ndarray, text: str = "Summer 2021") -> np.ndarray:
    out = img.copy()
    h, w = out.shape[:2]
    cv2.putText(
        out,
        text,
        (w // 20, h - h // 14),
        cv2.FONT_HERSHEY_SIMPLEX,
        w / 700,
        (255, 255, 255),
        max(2, w // 300),
        cv2.LINE_AA,
    )
    return out


def pair_kinds(root: Path, **fields: object) -> dict[frozenset[str], str]:
    """{frozenset(the two names, relative to ``root``): kind word} of every pair a scan of
    ``root`` matches (different pictures dropped, as the pipeline drops them), with
    ``fields`` set on the run's settings (``threshold_arg="loose"``, ...)."""
    settings = RunSettings([str(root)], use_cache=False)
    for k, v in fields.items():
        setattr(settings, k, v)
    store = scan_library(settings).result.store
    pairs = match_library(store, settings, settings.method, settings.threshold())
    assert pairs.kind is not None
    name = [os.path.relpath(e.path, root) for e in store.entries]
    return {
        frozenset((name[i], name[j])): WORDS[Kind(k)]
        for i, j, k in zip(pairs.i.tolist(), pairs.j.tolist(), pairs.kind.tolist(), strict=True)
    }
