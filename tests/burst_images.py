"""Burst frames made here (no sample files, no network): a scene rendered once at twice the
frame size, then shot several times a fraction of a second apart with what a real burst has:

- camera shake: each frame samples the scene shifted and turned a little (a fresh sampling,
  so no frame is an interpolated copy of another);
- a moving subject: a striped disc crossing the scene, drawn before the shake;
- focus: a Gaussian blur per frame, in steps as small as σ 0.7 px (the ground truth: the frame
  with the least blur is the sharpest);
- exposure: a gain per frame (auto-exposure jitter; now and then a frame over or under);
- sensor noise added *after* the blur, its strength varying per frame, so that a plain
  Laplacian variance often prefers a blurrier, noisier frame;
- EXIF: DateTimeOriginal + SubSecTimeOriginal (the Exif IFD) and Make/Model (IFD0), written
  with Pillow's ``Image.Exif`` as tests/engine/test_exif_evidence.py does.

Scene kinds: ``landscape`` (sky, foliage, houses), ``portrait`` (a face with hair before a
soft background), ``night`` (dark, a few lights that clip, high noise), ``document``
(black text on white). Used by tests/engine/test_bursts.py, tests/cli/test_cli_bursts.py and
benchmarks/bench_bursts.py.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from tui_dedup.demo import make_photo

SCENES = ("landscape", "portrait", "night", "document")
#: Extra blur (σ px) a frame of a burst may have over the sharpest one.
BLUR_STEPS = (0.7, 1.0, 1.4, 2.0, 2.8)
#: Sensor noise σ (grey levels) at the burst's base ISO, per scene kind.
BASE_NOISE = {"landscape": 3.0, "portrait": 3.0, "night": 7.0, "document": 3.0}
CAMERA = ("Canon", "Canon EOS R6")


@dataclass(frozen=True, slots=True)
class FrameSpec:
    """How one frame is shot: the ground truth a ranking is checked against."""

    blur: float  # focus: Gaussian σ in px of the frame
    noise: float  # sensor noise σ in grey levels, added after the blur
    gain: float = 1.0  # exposure: 1 well exposed, > 1 over, < 1 under
    dx: float = 0.0  # camera shake: shift in px of the frame
    dy: float = 0.0
    angle: float = 0.0  # ... and turn, in degrees
    subject: float = 0.5  # where the moving subject is, 0..1 across the frame


# ----------------------------------------------------------------------------- scenes


def _texture(rng: np.random.Generator, h: int, w: int, sigma: float, amp: float) -> np.ndarray:
    t = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), sigma)
    return t * (amp / max(float(t.std()), 1e-6))


def scene(kind: str, seed: int, width: int, height: int) -> np.ndarray:
    """A float32 BGR scene at twice ``width`` × ``height`` (a margin for the shake included)."""
    rng = np.random.default_rng(seed)
    w, h = 2 * width, 2 * height
    if kind == "landscape":
        img = make_photo(seed, w, h).astype(np.float32)
        sky = np.linspace(235, 150, h // 3, dtype=np.float32)[:, None, None]
        img[: h // 3] = 0.3 * img[: h // 3] + 0.7 * sky * np.array([1.0, 0.85, 0.6], np.float32)
        leaves = _texture(rng, h - h // 3, w, 1.0, 28)
        img[h // 3 :] += leaves[:, :, None] * np.array([0.6, 1.0, 0.7], np.float32)
        for _ in range(14):  # houses with windows: edges at every scale
            x, y = int(rng.integers(0, w - 200)), int(rng.integers(h // 3, h - 160))
            bw, bh = int(rng.integers(80, 200)), int(rng.integers(60, 160))
            colour = tuple(float(c) for c in rng.integers(60, 230, 3))
            cv2.rectangle(img, (x, y), (x + bw, y + bh), colour, -1, cv2.LINE_AA)
            for wx in range(x + 10, x + bw - 16, 22):
                cv2.rectangle(img, (wx, y + 12), (wx + 10, y + 26), (40, 40, 40), -1)
    elif kind == "portrait":
        img = cv2.GaussianBlur(make_photo(seed, w, h).astype(np.float32), (0, 0), 10)
        cx, cy, ax, ay = w // 2, h // 2, w // 6, h // 3
        skin = np.array([120, 150, 205], np.float32) + rng.normal(0, 8, 3).astype(np.float32)
        cv2.ellipse(img, (cx, cy), (ax, ay), 0, 0, 360, tuple(float(c) for c in skin), -1)
        img += _texture(rng, h, w, 1.5, 4)[:, :, None]  # skin pores, fabric
        for _ in range(900):  # hair: fine dark strokes over the top of the head
            a = float(rng.uniform(np.pi * 1.05, np.pi * 1.95))
            r = float(rng.uniform(0.75, 1.08))
            x0, y0 = cx + r * ax * np.cos(a), cy + r * ay * np.sin(a)
            x1 = x0 + rng.normal(0, 30)
            y1 = y0 + rng.uniform(20, 90)
            shade = float(rng.uniform(15, 70))
            cv2.line(img, (int(x0), int(y0)), (int(x1), int(y1)), (shade,) * 3, 1, cv2.LINE_AA)
        for ex in (cx - ax // 2, cx + ax // 2):  # eyes and lashes
            cv2.ellipse(img, (ex, cy - ay // 5), (ax // 5, ay // 12), 0, 0, 360, (245,) * 3, -1)
            cv2.circle(img, (ex, cy - ay // 5), ay // 14, (60, 40, 20), -1, cv2.LINE_AA)
            cv2.circle(img, (ex, cy - ay // 5), ay // 30, (10, 10, 10), -1, cv2.LINE_AA)
        cv2.ellipse(img, (cx, cy + ay // 2), (ax // 3, ay // 14), 0, 0, 180, (60, 60, 150), 3)
    elif kind == "night":
        img = np.full((h, w, 3), 12, np.float32)
        img += _texture(rng, h, w, 30, 8)[:, :, None]
        for _ in range(int(rng.integers(8, 14))):  # buildings with lit windows
            x, bw = int(rng.integers(0, w - 300)), int(rng.integers(120, 300))
            y = int(rng.integers(h // 4, h // 2))
            cv2.rectangle(img, (x, y), (x + bw, h), (28, 26, 30), -1)
            for wy in range(y + 14, h - 20, 34):
                for wx in range(x + 10, x + bw - 20, 26):
                    if rng.random() < 0.45:
                        lit = tuple(float(c) for c in rng.uniform([60, 120, 150], [140, 200, 250]))
                        cv2.rectangle(img, (wx, wy), (wx + 12, wy + 16), lit, -1)
        glow = np.zeros((h, w), np.float32)
        for _ in range(int(rng.integers(6, 12))):  # street lights that clip
            c = (int(rng.integers(0, w)), int(rng.integers(h // 2, h)))
            cv2.circle(img, c, int(rng.integers(4, 10)), (255, 255, 255), -1, cv2.LINE_AA)
            cv2.circle(glow, c, 40, 1.0, -1)
        img += cv2.GaussianBlur(glow, (0, 0), 25)[:, :, None] * np.array([40, 90, 140], np.float32)
        ys, xs = rng.integers(0, h // 4, 300), rng.integers(0, w, 300)  # stars
        img[ys, xs] += rng.uniform(40, 200, (300, 1)).astype(np.float32)
    elif kind == "document":
        paper = np.full((h, w, 3), 226, np.uint8)
        font = cv2.FONT_HERSHEY_SIMPLEX
        line = max(24, h // 40)
        cv2.putText(
            paper,
            f"INVOICE 2023-{seed:04d}",
            (w // 10, 3 * line),
            font,
            line / 14,
            (20, 20, 20),
            max(2, line // 10),
            cv2.LINE_AA,
        )
        for k in range(5, int(h / line) - 3):
            words = " ".join(
                "".join(chr(int(c)) for c in rng.integers(97, 123, int(rng.integers(2, 9))))
                for _ in range(int(rng.integers(4, 9)))
            )
            cv2.putText(
                paper,
                words,
                (w // 10, k * line),
                font,
                line / 40,
                (25, 25, 25),
                max(1, line // 18),
                cv2.LINE_AA,
            )
        cv2.rectangle(paper, (w // 12, 4 * line), (w - w // 12, h - 2 * line), (40, 40, 40), 2)
        img = paper.astype(np.float32) + _texture(rng, h, w, 40, 6)[:, :, None]
    else:
        raise ValueError(f"unknown scene kind {kind!r}")
    return np.clip(img, 0, 255)


def _draw_subject(img: np.ndarray, where: float, seed: int) -> None:
    """A striped disc (a ball, a bird) at ``where`` (0..1) across the lower middle."""
    h, w = img.shape[:2]
    r = h // 9
    cx, cy = int(w * (0.15 + 0.7 * where)), int(h * 0.62)
    rng = np.random.default_rng(seed)
    colour = tuple(float(c) for c in rng.integers(40, 220, 3))
    cv2.circle(img, (cx, cy), r, colour, -1, cv2.LINE_AA)
    for k in range(-r, r, max(4, r // 6)):
        cv2.line(img, (cx + k, cy - r), (cx + k + r // 3, cy + r), (20, 20, 20), 2, cv2.LINE_AA)


def render(big: np.ndarray, spec: FrameSpec, seed: int) -> np.ndarray:
    """One frame (uint8 BGR, half the scene's size) as :class:`FrameSpec` says."""
    img = big.copy()
    _draw_subject(img, spec.subject, seed)
    h2, w2 = img.shape[:2]
    m = cv2.getRotationMatrix2D((w2 / 2, h2 / 2), spec.angle, 1.0)
    m[:, 2] += (2 * spec.dx, 2 * spec.dy)
    img = cv2.warpAffine(img, m, (w2, h2), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    img = cv2.resize(img, (w2 // 2, h2 // 2), interpolation=cv2.INTER_AREA)
    if spec.blur > 0:
        img = cv2.GaussianBlur(img, (0, 0), spec.blur)
    img = img * spec.gain
    rng = np.random.default_rng(seed + 7919)
    noise = rng.normal(0, spec.noise, img.shape[:2]).astype(np.float32)[:, :, None]
    noise = noise + rng.normal(0, spec.noise * 0.5, img.shape).astype(np.float32)  # chroma
    return np.clip(img + noise, 0, 255).astype(np.uint8)


# ----------------------------------------------------------------------------- bursts


def plan_burst(
    rng: np.random.Generator,
    n: int,
    kind: str = "landscape",
    *,
    width: int = 960,
    exposure_faults: bool = True,
) -> tuple[list[FrameSpec], int]:
    """``n`` frame specs and the index of the sharpest frame (the ground truth).

    The sharpest frame has no extra blur and is well exposed; another frame is only σ 0.7
    blurrier; the rest take steps from :data:`BLUR_STEPS`. Noise varies per frame (×0.6–2.2
    of the scene's base), so a noisy blurred frame often fools a plain Laplacian variance.
    With ``exposure_faults``, one frame other than the sharpest may be over or under exposed.
    """
    best = int(rng.integers(0, n))
    near = (best + 1) % n if rng.random() < 0.5 or best == 0 else best - 1
    lens = float(rng.uniform(0.0, 0.5))  # the lens' own softness, the same on every frame
    base = BASE_NOISE[kind]
    fault = int(rng.integers(0, n)) if exposure_faults and rng.random() < 0.5 else -1
    specs = []
    for k in range(n):
        extra = 0.0 if k == best else 0.7 if k == near else float(rng.choice(BLUR_STEPS))
        gain = float(rng.normal(1.0, 0.015))
        if k == fault and k != best:
            gain = float(rng.choice([1.6, 0.55]))
        specs.append(
            FrameSpec(
                blur=float(np.hypot(lens, extra)),
                noise=base * float(rng.uniform(0.6, 2.2)),
                gain=gain,
                dx=float(rng.normal(0, 0.006 * width)),
                dy=float(rng.normal(0, 0.006 * width)),
                angle=float(rng.normal(0, 0.3)),
                subject=(k + 0.5) / n * 0.5 + 0.25,
            )
        )
    return specs, best


def exif_bytes(
    taken: datetime, subsec_ms: int | None, camera: tuple[str, str] | None = CAMERA
) -> bytes:
    """An EXIF block: Make/Model in IFD0, DateTimeOriginal and SubSecTimeOriginal in the
    Exif IFD (0x8769)."""
    ex = Image.Exif()
    if camera is not None:
        ex[0x010F], ex[0x0110] = camera
    sub = ex.get_ifd(0x8769)
    sub[0x9003] = taken.strftime("%Y:%m:%d %H:%M:%S")
    if subsec_ms is not None:
        sub[0x9291] = f"{subsec_ms:03d}"
    return ex.tobytes()


def write_frame(
    path: Path,
    img: np.ndarray,
    taken: datetime | None,
    *,
    camera: tuple[str, str] | None = CAMERA,
    quality: int = 92,
    subsec: bool = True,
) -> Path:
    """A JPEG of ``img`` (BGR) with the capture instant ``taken`` (to the millisecond)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pil = Image.fromarray(np.ascontiguousarray(img[:, :, ::-1]))
    buf = io.BytesIO()
    if taken is None:
        pil.save(buf, "JPEG", quality=quality)
    else:
        ms = taken.microsecond // 1000 if subsec else None
        pil.save(buf, "JPEG", quality=quality, exif=exif_bytes(taken, ms, camera))
    path.write_bytes(buf.getvalue())
    return path


@dataclass(frozen=True, slots=True)
class Burst:
    """A burst written to disk: its frames in time order and which one is the sharpest."""

    paths: list[Path]
    specs: list[FrameSpec]
    best: int
    kind: str

    @property
    def best_path(self) -> Path:
        return self.paths[self.best]


def write_burst(
    folder: Path,
    stem: str,
    kind: str,
    seed: int,
    start: datetime,
    *,
    n: int = 5,
    size: tuple[int, int] = (960, 640),
    specs: list[FrameSpec] | None = None,
    interval: float = 0.15,
    camera: tuple[str, str] = CAMERA,
    first_number: int = 1,
    exposure_faults: bool = True,
) -> Burst:
    """``n`` frames of one scene, ``interval`` s apart (± a little), named ``stem`` + number."""
    rng = np.random.default_rng(seed)
    best = -1
    if specs is None:
        specs, best = plan_burst(rng, n, kind, width=size[0], exposure_faults=exposure_faults)
    else:
        best = int(np.argmin([s.blur for s in specs]))
    big = scene(kind, seed, *size)
    paths, t = [], start
    for k, spec in enumerate(specs):
        img = render(big, spec, seed * 100 + k)
        path = folder / f"{stem}{first_number + k:04d}.jpg"
        paths.append(write_frame(path, img, t, camera=camera))
        t += timedelta(seconds=interval * float(rng.uniform(0.8, 1.2)))
    return Burst(paths, list(specs), best, kind)


def reencoded_copy(src: Path, dest: Path, *, quality: int = 75, scale: float = 1.0) -> Path:
    """A copy of a frame as a copy tool or messenger makes it: recompressed (and resized when
    ``scale`` < 1); EXIF kept at full size, dropped when resized (a messenger strips it)."""
    with Image.open(src) as im:
        exif = im.info.get("exif")
        out = im.convert("RGB")
        if scale != 1.0:
            out = out.resize((round(im.width * scale), round(im.height * scale)), Image.LANCZOS)
    buf = io.BytesIO()
    if exif and scale == 1.0:
        out.save(buf, "JPEG", quality=quality, exif=exif)
    else:
        out.save(buf, "JPEG", quality=quality)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(buf.getvalue())
    return dest


def unrelated(
    folder: Path, seed: int, taken: datetime, *, size: tuple[int, int] = (960, 640)
) -> Path:
    """A photo of something else, by the same camera, at ``taken``."""
    return write_frame(folder / f"DSC_{seed:05d}.jpg", make_photo(seed, *size), taken)


def laplacian_variance(img: np.ndarray) -> float:
    """The plain sharpness measure the noise is meant to fool (the peer)."""
    grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if img.ndim == 3 else img
    return float(cv2.Laplacian(grey.astype(np.float32), cv2.CV_32F).var())


@dataclass(frozen=True, slots=True)
class Library:
    """A small folder of bursts and what else a camera folder holds (see :func:`small_library`)."""

    root: Path
    bursts: list[Burst]  # a: the first burst; b: a minute later; c: a second camera with a
    copy: Path  # a re-encoded copy of a frame of burst a (EXIF kept), in another folder
    copied: Path  # ... the frame it copies
    unrelated: list[Path]
    broken: Path


SECOND_CAMERA = ("Nikon", "NIKON Z 6")
T0 = datetime(2024, 5, 1, 10, 0, 0, 120000)


def small_library(root: Path, size: tuple[int, int] = (720, 480)) -> Library:
    """Burst a (landscape, 5 frames), burst b (portrait, 4 frames) a minute later, burst c:
    a second camera shooting burst a's scene at the same instants (its own burst); a
    re-encoded copy of a frame of a; three unrelated photos; one file that is no image."""
    dcim = root / "DCIM"
    a = write_burst(dcim, "IMG_", "landscape", 11, T0, n=5, size=size)
    b = write_burst(
        dcim, "IMG_", "portrait", 12, T0 + timedelta(minutes=1), n=4, size=size, first_number=20
    )
    specs = [replace(s, dx=s.dx + 3, dy=s.dy - 2) for s in a.specs]  # another place, shake
    c = write_burst(
        root / "NIKON",
        "DSC_",
        "landscape",
        11,
        T0 + timedelta(milliseconds=40),
        specs=specs,
        size=size,
        camera=SECOND_CAMERA,
        first_number=40,
    )
    copied = a.paths[2]
    copy = reencoded_copy(copied, root / "backup" / copied.name, quality=80)
    others = [unrelated(dcim, 300 + k, T0 + timedelta(minutes=5 + k), size=size) for k in range(3)]
    broken = dcim / "IMG_0099.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 this is not a photo")
    return Library(root, [a, b, c], copy, copied, others, broken)
