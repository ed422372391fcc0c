"""Build a realistic ``~/Pictures`` library with planted copies and look-alikes that are not.

    python benchmarks/library/build_library.py [--out DIR] [--cache DIR] [--force]

Writes ``<out>/Pictures/...`` (camera folders by year and event, a backup tree, messenger
recompressions, downloads, exports, thumbnails, edits, astrophotographs, scanned documents,
designs, paintings, wallpapers) and ``<out>/truth.json`` (every file's family, content kind,
copy kind, similar-shot group, look-alike set and half). Deterministic: every random choice has
its own seed, so two runs with the same Pillow / OpenCV / libheif write the same pixels.

Sources: photographs and artwork from the Debian packages ``mate-backgrounds``,
``sway-backgrounds`` (downloaded by ``benchmarks/accuracy/build_dataset.py`` into its cache)
and ``digikam-data`` (one 12 MP camera photograph); everything else is drawn here. See
``benchmarks/library/README.md`` for the labels and the split.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import shutil
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import piexif
from PIL import Image, ImageOps

HERE = Path(__file__).resolve().parent
ACCURACY = HERE.parent / "accuracy"
sys.path.insert(0, str(ACCURACY))
import build_dataset as acc  # noqa: E402  (fetch_packages, load_source, _backdrops, seed_for)

try:  # HEIC copies only when pillow-heif is there (it is a dependency of dedup-tui)
    import pillow_heif

    pillow_heif.register_heif_opener()
    HAVE_HEIC = True
except ImportError:  # pragma: no cover
    HAVE_HEIC = False

EXTRA_PACKAGES = {"digikam-data": "usr/share/digikam/about/images/body-background.jpg"}
BG = acc.BACKGROUNDS  # usr/share/backgrounds

# --------------------------------------------------------------------------------------------
# Small helpers


def seed_for(*parts: object) -> int:
    return acc.seed_for(*(str(p) for p in parts))


def rng_for(*parts: object) -> np.random.Generator:
    return np.random.default_rng(seed_for(*parts))


def _h(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def u8(a: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(a), 0, 255).astype(np.uint8)


def resize_long(a: np.ndarray, long_side: int) -> np.ndarray:
    h, w = a.shape[:2]
    f = long_side / max(h, w)
    size = (max(1, round(w * f)), max(1, round(h * f)))
    return cv2.resize(a, size, interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC)


# Stored pixels for an Orientation tag: a viewer applying the tag shows the upright picture.
_STORE_FOR_TAG = {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90}
_STORE_FOR_TAG[8] = Image.Transpose.ROTATE_270


def stored_for_orientation(upright: np.ndarray, tag: int) -> np.ndarray:
    return np.asarray(Image.fromarray(upright).transpose(_STORE_FOR_TAG[tag]))


def fetch_extra(cache: Path) -> Path:
    """Download and unpack the extra Debian packages (digikam-data) into the shared cache."""
    unpacked = cache / "unpacked"
    for pkg, probe in EXTRA_PACKAGES.items():
        if (unpacked / probe).is_file():
            continue
        debs = sorted(cache.glob(f"{pkg}_*.deb"))
        if not debs:
            if shutil.which("apt-get") is None:
                raise SystemExit(f"build_library: no apt-get; put the {pkg} .deb in {cache}")
            print(f"downloading {pkg} into {cache}", file=sys.stderr)
            r = subprocess.run(
                ["apt-get", "download", pkg], cwd=cache, capture_output=True, text=True
            )
            if r.returncode != 0:
                raise SystemExit(f"build_library: apt-get download {pkg} failed: {r.stderr}")
            debs = sorted(cache.glob(f"{pkg}_*.deb"))
        subprocess.run(["dpkg", "-x", str(debs[-1]), str(unpacked)], check=True)
    return unpacked


def package_versions(cache: Path) -> dict[str, str]:
    out = {}
    for pkg in (*acc.PACKAGES, *EXTRA_PACKAGES):
        debs = sorted(cache.glob(f"{pkg}_*.deb"))
        out[pkg] = debs[-1].name.split("_")[1].replace("%3a", ":") if debs else "?"
    return out


# --------------------------------------------------------------------------------------------
# EXIF (piexif)


@dataclass(frozen=True)
class Camera:
    key: str
    make: str
    model: str
    pattern: str  # file name: {n} counter or {t} datetime
    first: int


CAMERAS = {
    c.key: c
    for c in (
        Camera("nikon", "NIKON CORPORATION", "NIKON D7500", "DSC_{n:04d}.JPG", 1204),
        Camera("canon", "Canon", "Canon EOS 80D", "IMG_{n:04d}.JPG", 3310),
        Camera("samsung", "samsung", "SM-G991B", "{t:%Y%m%d_%H%M%S}.jpg", 0),
        Camera("iphone", "Apple", "iPhone 12", "IMG_{n:04d}.JPG", 1180),
        Camera("fuji3d", "FUJIFILM", "FinePix REAL 3D W3", "DSCF{n:04d}.JPG", 410),
    )
}


def exif_bytes(
    cam: Camera | None,
    when: datetime | None,
    *,
    subsec: str | None = None,
    unique_id: str | None = None,
    orientation: int | None = None,
    software: str | None = None,
    size: tuple[int, int] | None = None,
) -> bytes:
    zeroth: dict = {}
    exif: dict = {}
    if cam is not None:
        zeroth[piexif.ImageIFD.Make] = cam.make.encode()
        zeroth[piexif.ImageIFD.Model] = cam.model.encode()
        exif[piexif.ExifIFD.ExposureTime] = (1, 250)
        exif[piexif.ExifIFD.FNumber] = (56, 10)
        exif[piexif.ExifIFD.ISOSpeedRatings] = 200
        exif[piexif.ExifIFD.FocalLength] = (35, 1)
    if when is not None:
        stamp = when.strftime("%Y:%m:%d %H:%M:%S").encode()
        zeroth[piexif.ImageIFD.DateTime] = stamp
        exif[piexif.ExifIFD.DateTimeOriginal] = stamp
        exif[piexif.ExifIFD.DateTimeDigitized] = stamp
    if subsec is not None:
        exif[piexif.ExifIFD.SubSecTimeOriginal] = subsec.encode()
    if unique_id is not None:
        exif[piexif.ExifIFD.ImageUniqueID] = unique_id.encode()  # tag 0xA420
    if orientation is not None:
        zeroth[piexif.ImageIFD.Orientation] = orientation
    if software is not None:
        zeroth[piexif.ImageIFD.Software] = software.encode()
    if size is not None:
        exif[piexif.ExifIFD.PixelXDimension] = size[0]
        exif[piexif.ExifIFD.PixelYDimension] = size[1]
    return piexif.dump({"0th": zeroth, "Exif": exif})


# --------------------------------------------------------------------------------------------
# The library being written


@dataclass
class Rec:
    path: str  # relative to <out>, "Pictures/..."
    family: str
    kind: str
    copy_kind: str  # "original" or a copy kind
    unit: str  # split unit
    shot_group: str | None = None
    lookalike: str | None = None
    params: dict = field(default_factory=dict)
    split: str = ""
    width: int = 0
    height: int = 0


class Library:
    def __init__(self, out: Path):
        self.out = out
        self.recs: list[Rec] = []
        self.by_path: dict[str, Rec] = {}
        self.split: dict[str, str] = {}  # unit -> half
        self.wa_counter: dict[str, int] = defaultdict(int)

    def free(self, rel: str) -> str:
        """``rel`` or, if taken, ``stem-2.ext``, ``stem-3.ext`` …"""
        p = Path(rel)
        k = 2
        while rel in self.by_path:
            rel = (p.parent / f"{p.stem}-{k}{p.suffix}").as_posix()
            k += 1
        return rel

    def _record(self, rec: Rec) -> Rec:
        rec.split = self.split[rec.unit]
        with Image.open(self.out / rec.path) as im:
            rec.width, rec.height = im.size
        self.recs.append(rec)
        self.by_path[rec.path] = rec
        return rec

    def write(
        self, rel: str, arr: np.ndarray, fmt: str, rec: Rec, *, quality: int = 92, exif=None
    ) -> Rec:
        rel = self.free(rel)
        rec.path = rel
        path = self.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        im = Image.fromarray(arr)
        kw: dict = {}
        if fmt == "JPEG":
            kw["quality"] = quality
        elif fmt == "PNG":
            kw["compress_level"] = 6
        elif fmt == "WEBP":
            kw.update(quality=quality, method=4)
        elif fmt == "HEIF":
            kw["quality"] = quality
        if exif:
            kw["exif"] = exif
        im.save(path, fmt, **kw)
        return self._record(rec)

    def copy_bytes(self, src: Rec, rel: str, rec: Rec, data: bytes | None = None) -> Rec:
        rel = self.free(rel)
        rec.path = rel
        dst = self.out / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if data is None:
            shutil.copyfile(self.out / src.path, dst)
        else:
            dst.write_bytes(data)
        return self._record(rec)

    def shown(self, rec: Rec) -> np.ndarray:
        """The picture as a viewer shows it: decoded, EXIF orientation applied, RGB."""
        with Image.open(self.out / rec.path) as im:
            return np.asarray(ImageOps.exif_transpose(im).convert("RGB"))


# --------------------------------------------------------------------------------------------
# Photo sources: non-overlapping parts of real photographs


@dataclass(frozen=True)
class Source:
    key: str
    path: str  # below the unpacked cache
    grid: tuple[int, int]  # columns, rows
    event: str  # "2019/2019-07 Holiday"
    camera: str
    start: datetime


SOURCES = (
    Source(
        "lake",
        "usr/share/digikam/about/images/body-background.jpg",
        (5, 4),
        "2019/2019-07 Holiday",
        "nikon",
        datetime(2019, 7, 14, 9, 12, 5),
    ),
    Source(
        "garden",
        f"{BG}/mate/nature/Garden.jpg",
        (3, 3),
        "2019/2019-09 Garden",
        "canon",
        datetime(2019, 9, 1, 15, 40, 11),
    ),
    Source(
        "ladybird",
        f"{BG}/mate/nature/LadyBird.jpg",
        (3, 3),
        "2020/2020-05 Meadow walk",
        "nikon",
        datetime(2020, 5, 23, 10, 2, 44),
    ),
    Source(
        "twowings",
        f"{BG}/mate/nature/TwoWings.jpg",
        (3, 3),
        "2020/2020-08 Dandelions",
        "samsung",
        datetime(2020, 8, 9, 17, 20, 0),
    ),
    Source(
        "yellowflower",
        f"{BG}/mate/nature/YellowFlower.jpg",
        (3, 3),
        "2021/2021-06 Botanical garden",
        "canon",
        datetime(2021, 6, 5, 11, 31, 9),
    ),
    Source(
        "wood",
        f"{BG}/mate/nature/Wood.jpg",
        (3, 3),
        "2021/2021-09 Zoo",
        "iphone",
        datetime(2021, 9, 12, 13, 5, 55),
    ),
    Source(
        "aqua",
        f"{BG}/mate/nature/Aqua.jpg",
        (2, 2),
        "2022/2022-02 Kitchen",
        "iphone",
        datetime(2022, 2, 3, 19, 44, 2),
    ),
    Source(
        "blinds",
        f"{BG}/mate/nature/Blinds.jpg",
        (2, 2),
        "2022/2022-05 Greenhouse",
        "samsung",
        datetime(2022, 5, 14, 10, 15, 23),
    ),
    Source(
        "raindrops",
        f"{BG}/mate/nature/RainDrops.jpg",
        (2, 2),
        "2022/2022-07 Rain",
        "nikon",
        datetime(2022, 7, 2, 8, 0, 31),
    ),
    Source(
        "storm",
        f"{BG}/mate/nature/Storm.jpg",
        (2, 2),
        "2022/2022-10 Road trip",
        "canon",
        datetime(2022, 10, 21, 16, 50, 40),
    ),
    Source(
        "dune",
        f"{BG}/mate/nature/Dune.jpg",
        (2, 2),
        "2023/2023-06 Beach",
        "iphone",
        datetime(2023, 6, 17, 12, 12, 12),
    ),
    Source(
        "freshflower",
        f"{BG}/mate/nature/FreshFlower.jpg",
        (2, 2),
        "2023/2023-08 Flowers",
        "samsung",
        datetime(2023, 8, 26, 9, 30, 0),
    ),
    Source(
        "greenmeadow",
        f"{BG}/mate/nature/GreenMeadow.jpg",
        (2, 2),
        "2024/2024-04 Lawn",
        "nikon",
        datetime(2024, 4, 20, 14, 1, 2),
    ),
)

# Cells kept out of the photo originals: used for burst frames and stereo pairs.
BURST_CELLS = {
    ("lake", 4, 3): "burst-lake",
    ("ladybird", 2, 1): "burst-ladybird",
    ("storm", 1, 1): "burst-storm",
    ("garden", 2, 1): "burst-garden",
}
STEREO_CELLS = {("lake", 0, 2): "stereo-lake", ("raindrops", 0, 1): "stereo-raindrops"}
MIN_DETAIL = 4.0  # std of the Laplacian of the grey cell at 256 px; flatter cells are dropped


def cells(src: np.ndarray, grid: tuple[int, int]) -> dict[tuple[int, int], tuple[int, ...]]:
    h, w = src.shape[:2]
    cols, rows = grid
    out = {}
    for c in range(cols):
        for r in range(rows):
            out[(c, r)] = (w * c // cols, h * r // rows, w * (c + 1) // cols, h * (r + 1) // rows)
    return out


def detail(a: np.ndarray) -> float:
    g = cv2.cvtColor(resize_long(a, 256), cv2.COLOR_RGB2GRAY).astype(np.float32)
    return float(cv2.Laplacian(g, cv2.CV_32F).std())


def inner_box(box, aspect: float, rng: np.random.Generator) -> tuple[int, int, int, int]:
    """A box of ``aspect`` (w/h) inside ``box`` with a margin of >= 4 % on every side."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    mw, mh = round(w * 0.92), round(h * 0.92)
    if mw / mh > aspect:
        cw, ch = round(mh * aspect), mh
    else:
        cw, ch = mw, round(mw / aspect)
    ox = x0 + round(w * 0.04) + int(rng.integers(0, mw - cw + 1))
    oy = y0 + round(h * 0.04) + int(rng.integers(0, mh - ch + 1))
    return ox, oy, ox + cw, oy + ch


def camera_look(a: np.ndarray, long_side: int, rng: np.random.Generator, blur: float = 0.0):
    """Scale to a camera size, sharpen a little, add sensor grain."""
    img = resize_long(a, long_side).astype(np.float32)
    if blur > 0:
        img = cv2.GaussianBlur(img, (0, 0), blur)
    soft = cv2.GaussianBlur(img, (0, 0), 1.6)
    img = img * 1.35 - soft * 0.35
    grain = rng.normal(0.0, 1.8, img.shape[:2])[..., None] + rng.normal(0.0, 0.8, img.shape)
    return u8(img + grain)


# --------------------------------------------------------------------------------------------
# Synthetic content


def _fractal(rng: np.random.Generator, h: int, w: int, octaves: int = 6, base: int = 4):
    out = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    for k in range(octaves):
        n = base * 2**k
        g = rng.normal(size=(max(2, round(n * h / w)), n)).astype(np.float32)
        out += amp * cv2.resize(g, (w, h), interpolation=cv2.INTER_CUBIC)
        total += amp
        amp *= 0.55
    out /= total
    return (out - out.mean()) / (out.std() + 1e-6)


def _stars(rng: np.random.Generator, h: int, w: int, per_mpx: float, f0: float) -> np.ndarray:
    n = int(rng.poisson(per_mpx * h * w / 1e6))
    ys, xs = rng.integers(0, h, n), rng.integers(0, w, n)
    flux = f0 * (rng.pareto(1.4, n) + 1.0)  # a power law of brightness, as magnitudes give
    temp = rng.uniform(-1, 1, n)  # blue .. orange
    tint = np.stack([1 + 0.25 * temp, np.ones(n), 1 - 0.3 * temp], axis=1)
    img = np.zeros((h, w, 3), np.float32)
    for c in range(3):
        np.add.at(img[..., c], (ys, xs), flux * tint[:, c])
    sigma = float(rng.uniform(1.1, 1.8))
    core = cv2.GaussianBlur(img, (0, 0), sigma) * (2 * np.pi * sigma**2)
    halo = cv2.GaussianBlur(img, (0, 0), sigma * 5) * (2 * np.pi * sigma**2) * 0.04
    return core + halo


def _sky(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Faint background with a light-pollution gradient."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ang = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(ang) * xx / w + np.sin(ang) * yy / h + 1) / 2
    level = rng.uniform(0.004, 0.014) + rng.uniform(0.003, 0.012) * ramp
    tint = np.array([1.0, rng.uniform(0.9, 1.05), rng.uniform(0.8, 1.1)], np.float32)
    return level[..., None] * tint


def _finish_astro(lin: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Sensor noise, then an asinh stretch as astro software does, to 8 bits."""
    noisy = lin + rng.normal(0, 0.004, lin.shape[:2])[..., None] + rng.normal(0, 0.002, lin.shape)
    noisy = np.maximum(noisy, 0)
    stretched = np.arcsinh(noisy * 12) / np.arcsinh(12)
    return u8(stretched * 255)


def astro_starfield(rng, h, w):
    lin = _sky(rng, h, w) + _stars(rng, h, w, rng.uniform(150, 700), rng.uniform(0.01, 0.03))
    return _finish_astro(lin, rng)


def astro_nebula(rng, h, w):
    lin = _sky(rng, h, w)
    for _ in range(2):
        n = _fractal(rng, h, w, octaves=7, base=int(rng.integers(2, 5)))
        cloud = np.clip(n - rng.uniform(0.3, 1.0), 0, None) ** 1.5 * rng.uniform(0.03, 0.08)
        tint = np.array(
            rng.choice([[1.0, 0.25, 0.3], [0.3, 0.8, 0.9], [0.9, 0.5, 0.7], [0.6, 0.6, 1.0]])
        ).astype(np.float32)
        lin = lin + cloud[..., None] * tint
    lin = lin + _stars(rng, h, w, rng.uniform(150, 500), rng.uniform(0.01, 0.025))
    return _finish_astro(lin, rng)


def astro_galaxy(rng, h, w):
    lin = _sky(rng, h, w)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = w * rng.uniform(0.3, 0.7), h * rng.uniform(0.3, 0.7)
    theta, q = rng.uniform(0, np.pi), rng.uniform(0.25, 0.9)
    re, n = w * rng.uniform(0.03, 0.09), rng.uniform(1.0, 4.0)
    dx, dy = xx - cx, yy - cy
    u = dx * np.cos(theta) + dy * np.sin(theta)
    v = (-dx * np.sin(theta) + dy * np.cos(theta)) / q
    r = np.sqrt(u * u + v * v) + 1e-3
    b = 2 * n - 1 / 3
    sersic = np.exp(-b * ((r / re) ** (1 / n) - 1)).astype(np.float32)
    if rng.random() < 0.6:  # spiral arms
        phi = np.arctan2(v, u)
        arms = 1 + 0.6 * np.cos(2 * (phi - np.log(r / re) / np.tan(rng.uniform(0.25, 0.5))))
        sersic = sersic * np.where(r > 0.4 * re, arms, 1).astype(np.float32)
    peak = rng.uniform(0.05, 0.2)
    core = np.array([1.0, 0.85, 0.6], np.float32)
    disc = np.array([0.7, 0.8, 1.0], np.float32)
    mix = np.clip(r / (2 * re), 0, 1)[..., None]
    lin = lin + (sersic * peak)[..., None] * (core * (1 - mix) + disc * mix)
    lin = lin + _stars(rng, h, w, rng.uniform(100, 400), rng.uniform(0.01, 0.025))
    return _finish_astro(lin, rng)


# fmt: off
WORDS = (
    "account", "transfer", "payment", "card", "online", "grocery", "rent", "salary",
    "insurance", "fuel", "pharmacy", "restaurant", "subscription", "electricity", "water",
    "mobile", "refund", "cash", "withdrawal", "interest", "fee", "bookshop", "cinema",
    "railway", "parking", "hardware", "bakery", "garden", "supplies", "dentist", "gym",
    "charity",
)
# fmt: on
FONT = cv2.FONT_HERSHEY_SIMPLEX


def _text(img, s, x, y, scale=0.55, thick=1, colour=20, font=FONT):
    cv2.putText(img, s, (int(x), int(y)), font, scale, colour, thick, cv2.LINE_AA)


def _page(rng, h=1754, w=1240) -> np.ndarray:
    base = rng.uniform(244, 252)
    return u8(np.full((h, w), base) + rng.normal(0, 1.2, (h, w)))


def doc_statement(rng: np.random.Generator, month: int, bank: str = "nord") -> np.ndarray:
    """A bank statement: one fixed layout per bank, numbers and lines that change every month."""
    img = _page(rng)
    nord = bank == "nord"
    if nord:
        cv2.circle(img, (120, 120), 48, 60, -1)
        cv2.circle(img, (120, 120), 24, 245, -1)
        _text(img, "NORDBANK", 190, 140, 1.6, 3, 30, cv2.FONT_HERSHEY_DUPLEX)
        address = ("Nordbank AG", "Hafenstrasse 12", "20457 Hamburg")
        holder_y, title_y, y0, rows, cols = 260, 420, 520, 24, (100, 260, 800, 990)
    else:
        cv2.rectangle(img, (0, 0), (1240, 170), 70, -1)
        cv2.rectangle(img, (1000, 40), (1090, 130), 235, -1)
        _text(img, "CITY SAVINGS BANK", 80, 110, 1.3, 2, 240, cv2.FONT_HERSHEY_DUPLEX)
        address = ("City Savings Bank", "1 Market Street", "London EC2")
        holder_y, title_y, y0, rows, cols = 330, 250, 560, 20, (100, 300, 720, 960)
    for k, line in enumerate(address):
        _text(img, line, 900 if nord else 100, (90 if nord else 1640) + 28 * k, 0.6)
    for k, line in enumerate(("Jane Example", "Lindenweg 5", "12345 Musterstadt")):
        _text(img, line, 100 if nord else 780, holder_y + 30 * k, 0.7)
    _text(img, f"Account statement  {month:02d}/2023", 100, title_y, 1.0, 2)
    _text(img, "IBAN DE89 3704 0044 0532 0130 00", 100, title_y + 40, 0.6)
    cv2.rectangle(img, (90, y0), (1150, y0 + 40), 215, -1)
    heads = (
        ("Date", "Description", "Amount", "Balance")
        if nord
        else ("Booked", "Details", "Paid out / in", "Balance")
    )
    for x, head in zip(cols, heads, strict=True):
        _text(img, head, x, y0 + 28, 0.65, 2)
    balance = float(rng.uniform(800, 4000))
    days = np.sort(rng.integers(1, 29, rows))
    step = 40 if nord else 48
    for k, day in enumerate(days):
        y = y0 + 75 + step * k
        if not nord and k % 2 == 0:
            cv2.rectangle(img, (90, y - 30), (1150, y + 14), 236, -1)
        amount = float(rng.choice([-1, -1, -1, 1]) * rng.uniform(3, 900))
        balance += amount
        desc = " ".join(rng.choice(WORDS, 2)).title() + f" {int(rng.integers(100, 9999))}"
        _text(img, f"{day:02d}.{month:02d}.2023", cols[0], y)
        _text(img, desc, cols[1], y)
        _text(img, f"{amount:>10.2f}", cols[2], y)
        _text(img, f"{balance:>10.2f}", cols[3], y)
        if nord:
            cv2.line(img, (90, y + 12), (1150, y + 12), 225, 1)
    _text(img, f"New balance: {balance:.2f} EUR", 700, y0 + 75 + step * rows + 40, 0.8, 2)
    _text(img, "Page 1 of 1", 100, 1730 if not nord else 1700, 0.5)
    return img


def doc_invoice(rng: np.random.Generator, number: int) -> np.ndarray:
    img = _page(rng)
    _text(img, "INVOICE", 100, 160, 2.2, 4, 25, cv2.FONT_HERSHEY_DUPLEX)
    cv2.rectangle(img, (820, 80), (1140, 200), 40, 3)
    _text(img, "Studio Nord", 850, 130, 0.9, 2)
    _text(img, f"No. 2023-{number:04d}", 100, 240, 0.8, 2)
    _text(img, f"Date: {int(rng.integers(1, 28)):02d}.0{int(rng.integers(1, 9))}.2023", 100, 280)
    y = 380
    total = 0.0
    for _ in range(int(rng.integers(4, 9))):
        qty, price = int(rng.integers(1, 6)), float(rng.uniform(5, 400))
        total += qty * price
        _text(img, " ".join(rng.choice(WORDS, 3)).capitalize(), 100, y, 0.65)
        _text(img, f"{qty} x {price:.2f}", 760, y, 0.65)
        _text(img, f"{qty * price:.2f}", 1000, y, 0.65)
        y += 48
    cv2.line(img, (90, y), (1150, y), 60, 2)
    _text(img, f"Total {total:.2f} EUR", 820, y + 50, 0.9, 2)
    return img


def doc_letter(rng: np.random.Generator) -> np.ndarray:
    img = _page(rng)
    _text(img, "Dear " + str(rng.choice(["Sir or Madam", "Ms Smith", "Mr Novak"])) + ",", 120, 420)
    y = 480
    for _ in range(int(rng.integers(22, 34))):
        words = rng.choice(WORDS, int(rng.integers(8, 13)))
        _text(img, " ".join(words), 120, y, 0.62)
        y += 34 if rng.random() > 0.12 else 68
    for k, line in enumerate(("City Library", "Main Square 1", "Springfield")):
        _text(img, line, 120, 140 + 32 * k, 0.75, 2 if k == 0 else 1)
    _text(img, "Kind regards", 120, min(y + 60, 1650), 0.7)
    return img


def doc_receipt(rng: np.random.Generator) -> np.ndarray:
    img = _page(rng, 1500, 620)
    _text(img, "CORNER MARKET", 130, 100, 1.1, 2, 25, cv2.FONT_HERSHEY_DUPLEX)
    _text(img, "Market St 7 - Tel 555 0142", 120, 140, 0.55)
    y, total = 220, 0.0
    for _ in range(int(rng.integers(8, 18))):
        price = float(rng.uniform(0.5, 30))
        total += price
        _text(img, str(rng.choice(WORDS)).upper(), 60, y, 0.6)
        _text(img, f"{price:7.2f}", 440, y, 0.6)
        y += 36
    cv2.line(img, (50, y), (570, y), 40, 2)
    _text(img, f"TOTAL {total:8.2f}", 300, y + 50, 0.8, 2)
    _text(img, "THANK YOU", 230, y + 120, 0.7)
    return img


def doc_form(rng: np.random.Generator) -> np.ndarray:
    img = _page(rng)
    _text(img, "Application form", 100, 150, 1.4, 3)
    for k in range(10):
        y = 260 + 120 * k
        _text(img, str(rng.choice(WORDS)).capitalize() + ":", 100, y)
        cv2.rectangle(img, (100, y + 15), (1140, y + 75), 80, 2)
        if rng.random() < 0.7:
            _text(img, " ".join(rng.choice(WORDS, 3)), 120, y + 55, 0.7, 1, 40)
    return img


def rescan(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The page scanned again: a fraction of a degree of skew, a little blur and noise."""
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), float(rng.uniform(-0.4, 0.4)), 1.0)
    m[:, 2] += rng.uniform(-6, 6, 2)
    out = cv2.warpAffine(img, m, (w, h), borderValue=248).astype(np.float32)
    out = cv2.GaussianBlur(out, (0, 0), 0.8) + rng.normal(0, 2.0, out.shape)
    return u8(out)


def logo_design() -> np.ndarray:
    """A flat logo-like design (shapes + text) in one colour scheme."""
    h, w = 1000, 1600
    img = np.full((h, w, 3), (238, 242, 250), np.uint8)
    cv2.circle(img, (480, 500), 300, (30, 90, 200), -1)
    cv2.circle(img, (480, 500), 170, (238, 242, 250), -1)
    pts = np.array([[760, 800], [1000, 260], [1240, 800]], np.int32)
    cv2.fillPoly(img, [pts], (240, 140, 30))
    cv2.rectangle(img, (1050, 560), (1450, 640), (30, 90, 200), -1)
    cv2.putText(
        img, "ACME STUDIO", (380, 940), cv2.FONT_HERSHEY_DUPLEX, 3.0, (25, 25, 40), 6, cv2.LINE_AA
    )
    return img


def hue_rotate(rgb: np.ndarray, degrees: float) -> np.ndarray:
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    hsv[..., 0] = ((hsv[..., 0].astype(np.int32) + round(degrees / 2)) % 180).astype(np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


PALETTE = np.array(
    [
        [38, 70, 83],
        [42, 157, 143],
        [233, 196, 106],
        [244, 162, 97],
        [231, 111, 81],
        [250, 240, 220],
    ],
    np.float32,
)


def procedural_painting(rng: np.random.Generator, h=1400, w=1800) -> np.ndarray:
    """Brush strokes in one shared palette over a wash: one 'series' of paintings."""
    top, bottom = PALETTE[rng.choice(6, 2, replace=False)]
    t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    img = (top * (1 - t) + bottom * t) * np.ones((1, w, 1), np.float32)
    img += _fractal(rng, h, w, 5, 3)[..., None] * 14
    img = img.astype(np.float32)
    for _ in range(int(rng.integers(60, 110))):
        colour = PALETTE[int(rng.integers(0, 6))] + rng.normal(0, 8, 3)
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        ang, length = rng.uniform(0, 2 * np.pi), rng.uniform(80, 500)
        pts = []
        for s in np.linspace(0, 1, 12):
            ang += rng.normal(0, 0.15)
            pts.append((x + np.cos(ang) * length * s, y + np.sin(ang) * length * s))
        layer = img.copy()
        cv2.polylines(
            layer,
            [np.array(pts, np.int32)],
            False,
            colour.tolist(),
            int(rng.integers(8, 45)),
            cv2.LINE_AA,
        )
        a = float(rng.uniform(0.5, 0.9))
        img = img * (1 - a) + layer * a
    img = cv2.GaussianBlur(img, (0, 0), 1.2)
    canvas = rng.normal(0, 4, (h, w))[..., None]
    return u8(img + canvas)


def hills_design(dark: bool) -> np.ndarray:
    """A flat landscape design; ``dark`` is the same drawing at night (a bright/dark pair)."""
    h, w = 1200, 1920
    t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    sky = np.array([120, 190, 240], np.float32) * (1 - t) + np.array([250, 230, 200]) * t
    img = (sky * np.ones((1, w, 1))).astype(np.float32)
    cv2.circle(img, (1450, 330), 120, (255, 240, 170), -1, cv2.LINE_AA)
    xs = np.arange(w)
    for k, (amp, base, colour) in enumerate(
        ((90, 700, (90, 160, 90)), (70, 820, (60, 130, 70)), (50, 960, (40, 100, 50)))
    ):
        ys = base + amp * np.sin(xs / (260 + 90 * k) + k) + 30 * np.sin(xs / 97 + 2 * k)
        poly = np.concatenate([np.stack([xs, ys], 1), [[w, h], [0, h]]]).astype(np.int32)
        cv2.fillPoly(img, [poly], colour, cv2.LINE_AA)
    if dark:
        img = img * np.array([0.22, 0.25, 0.4], np.float32) + np.array([4, 6, 18], np.float32)
    return u8(img)


def stereo_pair(region: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Left and right views: the scene warped by a smooth horizontal disparity field."""
    h, w = region.shape[:2]
    depth = _fractal(rng, h, w, 3, 2)
    depth = (depth - depth.min()) / (depth.max() - depth.min() + 1e-6)
    depth = 0.6 * depth + 0.4 * np.linspace(0, 1, h, dtype=np.float32)[:, None]  # near = bottom
    max_disp = w * rng.uniform(0.02, 0.05)
    disp = (depth * max_disp).astype(np.float32)
    xx, yy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    right = cv2.remap(region, xx + disp, yy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    m = int(np.ceil(max_disp)) + 2
    return region[:, m : w - m], right[:, m : w - m]


def paste_subject(img: np.ndarray, cx: float, cy: float, r: float, colour) -> np.ndarray:
    """A small moving subject (a ball with shading) drawn at ``cx, cy``."""
    out = img.astype(np.float32)
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    d = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2) / r
    shade = np.clip(
        1.15 - 0.6 * np.sqrt((xx - cx + r / 3) ** 2 + (yy - cy + r / 3) ** 2) / r, 0.3, 1.2
    )
    alpha = np.clip((1 - d) * r / 2, 0, 1)[..., None]
    ball = np.array(colour, np.float32) * shade[..., None]
    return u8(out * (1 - alpha) + ball * alpha)


# --------------------------------------------------------------------------------------------
# Copies


PHOTO_COPY_KINDS = (
    "messenger",
    "download",
    "metadata",
    "png",
    "webp",
    "heic",
    "thumbnail",
    "exif-rotation",
    "rotate-90",
    "rotate-180",
    "rotate-270",
    "mirror",
    "crop-small",
    "crop",
    "crop",
    "caption",
    "brightness",
    "contrast",
    "exact",
)
DARK_COPY_KINDS = (
    "messenger",
    "thumbnail",
    "png",
    "download",
    "exact",
    "crop-small",
    "rotate-180",
    "webp",
)
CAPTIONS = (
    "Happy birthday!",
    "Summer 2021",
    "(c) J. Example",
    "Best day ever",
    "Zoo trip",
    "Miss you",
    "Holiday",
)
EDITORS = ("GIMP 2.10.34", "Adobe Photoshop Lightroom 6.0", "Shotwell 0.30.17", "digiKam-7.9.0")


def make_copy(lib: Library, src: Rec, kind: str, *, tag: str = "") -> Rec | None:
    """Write one copy of ``src`` (an original) and record it in ``src``'s family."""
    rng = rng_for(src.path, kind, tag)
    rec = Rec("", src.family, src.kind, kind, src.unit, src.shot_group, src.lookalike)
    p = Path(src.path)
    stem, ext = p.stem, p.suffix
    rel_dir = p.parent.relative_to("Pictures").as_posix()
    cam_exif = src.params.get("exif")
    when = datetime.fromisoformat(cam_exif["when"]) if cam_exif else None
    cam = CAMERAS[cam_exif["camera"]] if cam_exif else None
    if kind == "backup":
        return lib.copy_bytes(src, f"Pictures/Backup/{rel_dir}/{p.name}", rec)
    if kind == "exact":
        return lib.copy_bytes(src, f"Pictures/{rel_dir}/{stem} copy{ext}", rec)
    if kind == "metadata":
        data = (lib.out / src.path).read_bytes()
        if src.path.lower().endswith((".jpg", ".jpeg")):
            buf = io.BytesIO()
            if cam_exif and cam_exif.get("orientation") is None and rng.random() < 0.5:
                piexif.remove(data, buf)  # EXIF stripped, JPEG data untouched
                rec.params = {"change": "exif stripped"}
            else:
                new = exif_bytes(
                    cam,
                    (when or datetime(2020, 1, 1)) + timedelta(hours=1),
                    orientation=(cam_exif or {}).get("orientation"),
                    software=EDITORS[3],
                )
                piexif.insert(new, data, buf)  # EXIF rewritten, JPEG data untouched
                rec.params = {"change": "exif rewritten (time +1 h, Software, no unique id)"}
            return lib.copy_bytes(src, f"Pictures/Edited/{stem}_tagged.jpg", rec, buf.getvalue())
        rec.params = {"change": "re-saved losslessly as PNG"}
        return lib.write(f"Pictures/Edited/{stem}_lossless.png", lib.shown(src), "PNG", rec)
    shown = lib.shown(src)
    h, w = shown.shape[:2]
    date = when or datetime(2023, 3, 1)
    if kind == "messenger":
        a = resize_long(shown, min(1600, max(h, w)))
        q = int(rng.integers(70, 81))
        lib.wa_counter[date.strftime("%Y%m%d")] += 1
        name = f"IMG-{date:%Y%m%d}-WA{lib.wa_counter[date.strftime('%Y%m%d')] - 1:04d}.jpg"
        rec.params = {"long_side": max(a.shape[:2]), "quality": q}
        return lib.write(f"Pictures/WhatsApp Images/{name}", a, "JPEG", rec, quality=q)
    if kind == "download":
        a = resize_long(shown, min(2048, max(h, w)))
        rec.params = {"long_side": max(a.shape[:2]), "quality": 85, "exif": "kept, upright"}
        ex = exif_bytes(cam, when) if cam else None
        return lib.write(f"Pictures/Downloads/{stem} (1).jpg", a, "JPEG", rec, quality=85, exif=ex)
    if kind in ("png", "webp", "heic"):
        if kind == "heic" and not HAVE_HEIC:
            return None
        fmt = {"png": "PNG", "webp": "WEBP", "heic": "HEIF"}[kind]
        a = shown
        rec.params = {"format": fmt}
        if kind == "heic":  # an iPhone-sized HEIC; libheif's encoder is slow on large frames
            a = resize_long(shown, min(2016, max(h, w)))
            rec.params["long_side"] = max(a.shape[:2])
        return lib.write(f"Pictures/Exports/{stem}.{kind}", a, fmt, rec, quality=80)
    if kind == "thumbnail":
        side = int(rng.integers(256, 401))
        rec.params = {"long_side": side}
        return lib.write(
            f"Pictures/Thumbnails/{stem}_thumb.jpg",
            resize_long(shown, side),
            "JPEG",
            rec,
            quality=85,
        )
    ex = None
    if kind == "exif-rotation":
        tag = int(rng.choice([3, 6, 8]))
        a = stored_for_orientation(shown, tag)
        rec.params = {"orientation": tag}
        ex = exif_bytes(cam, when, orientation=tag, software="Windows Photo Editor 10.0")
        suffix = "_r"
    elif kind.startswith("rotate-"):
        k = int(kind.split("-")[1]) // 90
        a = np.rot90(shown, -k).copy()  # clockwise
        rec.params = {"degrees_cw": 90 * k}
        suffix = f"_rot{90 * k}"
    elif kind == "mirror":
        a = shown[:, ::-1].copy()
        suffix = "_mirror"
    elif kind in ("crop", "crop-small"):
        lo, hi = (0.08, 0.15) if kind == "crop" else (0.03, 0.07)
        fx, fy = float(rng.uniform(lo, hi)), float(rng.uniform(lo, hi))
        cw, ch = round(w * (1 - fx)), round(h * (1 - fy))
        x0, y0 = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
        a = shown[y0 : y0 + ch, x0 : x0 + cw].copy()
        rec.params = {"removed_w": round(fx, 3), "removed_h": round(fy, 3)}
        suffix = "_crop"
    elif kind == "caption":
        a = shown.copy()
        text = str(rng.choice(CAPTIONS))
        scale = w / 1100
        thick = max(1, round(scale * 2))
        (tw, th), _ = cv2.getTextSize(text, FONT, scale, thick)
        corner = int(rng.integers(0, 4))
        x = round(w * 0.04) if corner % 2 == 0 else w - tw - round(w * 0.04)
        y = round(h * 0.06) + th if corner < 2 else h - round(h * 0.05)
        cv2.putText(a, text, (x, y), FONT, scale, (0, 0, 0), thick * 3, cv2.LINE_AA)
        cv2.putText(a, text, (x, y), FONT, scale, (255, 255, 255), thick, cv2.LINE_AA)
        rec.params = {
            "text": text,
            "corner": ["top-left", "top-right", "bottom-left", "bottom-right"][corner],
        }
        ex = exif_bytes(cam, when, software=EDITORS[0]) if cam else None
        suffix = "_caption"
    elif kind == "brightness":
        delta = int(rng.integers(10, 21)) * (1 if rng.random() < 0.5 else -1)
        a = u8(shown.astype(np.float32) + delta)
        rec.params = {"delta": delta}
        ex = exif_bytes(cam, when, software=EDITORS[2]) if cam else None
        suffix = "_edit"
    elif kind == "contrast":
        gain = float(rng.choice([rng.uniform(0.85, 0.92), rng.uniform(1.08, 1.18)]))
        mean = shown.mean()
        a = u8((shown.astype(np.float32) - mean) * gain + mean)
        rec.params = {"gain": round(gain, 3)}
        ex = exif_bytes(cam, when, software=EDITORS[1]) if cam else None
        suffix = "_edit"
    elif kind == "rescan":
        g = cv2.cvtColor(shown, cv2.COLOR_RGB2GRAY)
        rec.params = {"what": "skew < 0.4 deg, shift, blur 0.8, noise, JPEG q85"}
        return lib.write(
            f"Pictures/Scans/Rescans/{stem}_scan2.jpg", rescan(g, rng), "JPEG", rec, quality=85
        )
    elif kind == "to-jpeg":
        rec.params = {"quality": 90}
        return lib.write(f"Pictures/Downloads/{stem}.jpg", shown, "JPEG", rec, quality=90)
    elif kind == "resize":
        a = resize_long(shown, round(max(h, w) * float(rng.uniform(0.45, 0.75))))
        rec.params = {"long_side": max(a.shape[:2])}
        return lib.write(f"Pictures/Downloads/{stem}_small.jpg", a, "JPEG", rec, quality=88)
    else:
        raise ValueError(kind)
    return lib.write(f"Pictures/Edited/{stem}{suffix}.jpg", a, "JPEG", rec, quality=92, exif=ex)


# --------------------------------------------------------------------------------------------
# Split: units (a photo event, a similar-shot group, a look-alike set, an astro session, or a
# family outside all of these) go whole to one half.


def astro_unit(folder: str) -> str:
    return "astro-" + folder.split("/")[1].replace(" ", "-").lower()


def assign_split(units: dict[str, tuple[str, int]]) -> dict[str, str]:
    """unit -> "tune"/"report". ``units`` maps a unit to (content kind, originals in it).

    Per content kind, units in SHA-256 order of their names go to the half with fewer
    originals of that kind so far (ties: the hash's parity). Deterministic, listing-order free.
    """
    out: dict[str, str] = {}
    for kind in sorted({k for k, _ in units.values()}):
        totals = {"tune": 0, "report": 0}
        for name in sorted((u for u in units if units[u][0] == kind), key=_h):
            if totals["tune"] != totals["report"]:
                side = min(totals, key=lambda s: totals[s])
            else:
                side = "tune" if int(_h(name)[:8], 16) % 2 == 0 else "report"
            out[name] = side
            totals[side] += units[name][1]
    return out


# --------------------------------------------------------------------------------------------


@dataclass
class Planned:
    """An original to be drawn: ``draw()`` gives the upright picture."""

    unit: str
    kind: str
    family: str
    draw: object
    write: object  # (lib, arr, rec) -> Rec
    shot_group: str | None = None
    lookalike: str | None = None
    params: dict = field(default_factory=dict)


def build(out: Path, cache: Path) -> dict:
    unpacked = acc.fetch_packages(cache)
    fetch_extra(cache)
    backdrops = acc._backdrops(unpacked)
    lib = Library(out)
    plans: list[Planned] = []

    # ---- photos, bursts and stereo pairs from non-overlapping cells of real photographs
    counters = {k: c.first for k, c in CAMERAS.items()}

    def camera_writer(
        src: Source,
        when: datetime,
        *,
        subsec=None,
        portrait_tag=None,
        uid=True,
        cam_key=None,
        quality=None,
    ):
        cam = CAMERAS[cam_key or src.camera]

        def write(lib: Library, arr: np.ndarray, rec: Rec) -> Rec:
            n = counters[cam.key]
            counters[cam.key] += 1
            name = cam.pattern.format(n=n, t=when)
            q = quality or 90 + seed_for(rec.family, "q") % 6
            stored = arr if portrait_tag is None else stored_for_orientation(arr, portrait_tag)
            uid_s = _h(rec.family)[:32] if uid else None
            ex = exif_bytes(
                cam,
                when,
                subsec=subsec,
                unique_id=uid_s,
                orientation=portrait_tag,
                size=(stored.shape[1], stored.shape[0]),
            )
            rec.params.update(
                exif={
                    "camera": cam.key,
                    "when": when.isoformat(),
                    "subsec": subsec,
                    "unique_id": uid_s,
                    "orientation": portrait_tag,
                },
                quality=q,
            )
            return lib.write(
                f"Pictures/{src.event}/{name}", stored, "JPEG", rec, quality=q, exif=ex
            )

        return write

    for src in SOURCES:
        img = np.asarray(Image.open(unpacked / src.path).convert("RGB"))
        when = src.start
        for (c, r), box in sorted(cells(img, src.grid).items(), key=lambda kv: kv[0][::-1]):
            rng = rng_for(src.key, c, r)
            when = when + timedelta(minutes=int(rng.integers(1, 40)), seconds=int(rng.integers(60)))
            cell = img[box[1] : box[3], box[0] : box[2]]
            if (src.key, c, r) in BURST_CELLS:
                group = BURST_CELLS[(src.key, c, r)]
                x0, y0, x1, y1 = inner_box(box, 3 / 2, rng)
                region = img[y0:y1, x0:x1]
                frames = int(rng.integers(3, 6))
                rh, rw = region.shape[:2]
                fw, fh = round(rw * 0.88), round(rh * 0.88)  # room for the camera to move
                # camera shift between frames: 1-2 % of the width sideways, < 1 % up or down
                dx = float(rng.choice([-1, 1]) * rng.uniform(0.01, 0.02) * rw)
                dy = float(rng.uniform(-0.008, 0.008) * rh)
                colour = rng.uniform(40, 230, 3)
                bx, by, vx = rng.uniform(0.2, 0.5) * rw, rng.uniform(0.3, 0.7) * rh, rw * 0.04
                long_side = int(rng.integers(2000, 2601))
                fps = float(rng.choice([5.0, 8.0, 10.0]))
                for k in range(frames):
                    t = when + timedelta(seconds=k / fps)
                    step = k - (frames - 1) / 2
                    ox = int(
                        np.clip((rw - fw) / 2 + step * dx + rng.normal(0, rw * 0.002), 0, rw - fw)
                    )
                    oy = int(np.clip((rh - fh) / 2 + step * dy, 0, rh - fh))
                    sigma = float(rng.choice([0.0, 0.0, 0.7, 1.4]))

                    def draw(
                        region=region,
                        ox=ox,
                        oy=oy,
                        k=k,
                        sigma=sigma,
                        bx=bx,
                        by=by,
                        vx=vx,
                        colour=colour,
                        fw=fw,
                        fh=fh,
                        long_side=long_side,
                        rw=rw,
                        seed=(group, k),
                    ):
                        scene = paste_subject(
                            region, bx + k * vx, by - k * vx * 0.3, rw * 0.035, colour
                        )
                        frame = scene[oy : oy + fh, ox : ox + fw]
                        return camera_look(frame, long_side, rng_for(*seed), blur=sigma)

                    plans.append(
                        Planned(
                            group,
                            "burst",
                            f"{group}-frame{k + 1}",
                            draw,
                            camera_writer(
                                src,
                                t.replace(microsecond=0),
                                subsec=f"{round((t.microsecond / 1e6) * 100):02d}",
                            ),
                            shot_group=group,
                            params={
                                "frame": k + 1,
                                "offset": [ox, oy],
                                "focus_blur": sigma,
                                "source": src.path,
                                "cell": [c, r],
                            },
                        )
                    )
                continue
            if (src.key, c, r) in STEREO_CELLS:
                group = STEREO_CELLS[(src.key, c, r)]
                x0, y0, x1, y1 = inner_box(box, 4 / 3, rng)
                left, right = stereo_pair(img[y0:y1, x0:x1], rng)
                long_side = int(rng.integers(2000, 2401))
                for side, view in (("L", left), ("R", right)):
                    plans.append(
                        Planned(
                            group,
                            "stereo",
                            f"{group}-{side}",
                            lambda v=view, s=side, g=group, ls=long_side: camera_look(
                                v, ls, rng_for(g, s)
                            ),
                            camera_writer(src, when, subsec="00", cam_key="fuji3d"),
                            shot_group=group,
                            params={"view": side, "source": src.path},
                        )
                    )
                continue
            if detail(cell) < MIN_DETAIL:
                continue
            portrait = rng.random() < 0.18
            aspect = float(rng.choice([3 / 2, 4 / 3])) if not portrait else 2 / 3
            x0, y0, x1, y1 = inner_box(box, aspect, rng)
            long_side = int(rng.integers(2000, 2601))
            tag = int(rng.choice([6, 8])) if portrait and src.camera != "samsung" else None
            family = f"{src.key}-{c}{r}"
            plans.append(
                Planned(
                    f"event-{src.key}",
                    "photo",
                    family,
                    lambda a=img[y0:y1, x0:x1], ls=long_side, f=family: camera_look(
                        a, ls, rng_for(f, "look")
                    ),
                    camera_writer(
                        src,
                        when,
                        subsec=f"{int(rng.integers(0, 100)):02d}",
                        portrait_tag=tag,
                        uid=rng.random() < 0.6,
                    ),
                    params={"source": src.path, "box": [x0, y0, x1, y1], "portrait": portrait},
                )
            )

    # ---- dark sparse pictures: synthetic astrophotographs in session folders
    sessions = [
        ("Astro/2021-03 Orion", "starfield", 5),
        ("Astro/2021-08 Milky Way", "starfield", 6),
        ("Astro/2022-01 Nebulae", "nebula", 6),
        ("Astro/2022-09 Galaxies", "galaxy", 6),
        ("Astro/2023-02 Widefield", "starfield", 5),
        ("Astro/2023-05 Nebulae II", "nebula", 6),
        ("Astro/2024-01 Galaxies II", "galaxy", 6),
    ]
    draw_astro = {"starfield": astro_starfield, "nebula": astro_nebula, "galaxy": astro_galaxy}
    for folder, what, count in sessions:
        unit = astro_unit(folder)
        for k in range(count):
            family = f"{unit}-{k + 1}"
            rng = rng_for(family, "size")
            w = int(rng.choice([2400, 2048, 1800]))
            h = w * 2 // 3
            png = k % 3 == 2

            def write_astro(lib, arr, rec, folder=folder, what=what, k=k, png=png):
                stem = f"{what}_{k + 1:03d}"
                if png:  # stacking software output: no EXIF
                    return lib.write(f"Pictures/{folder}/{stem}.png", arr, "PNG", rec)
                when = datetime(2021, 1, 1) + timedelta(days=seed_for(rec.family) % 1200)
                ex = exif_bytes(CAMERAS["canon"], when)
                rec.params["exif"] = {"camera": "canon", "when": when.isoformat()}
                return lib.write(
                    f"Pictures/{folder}/{stem}.jpg", arr, "JPEG", rec, quality=95, exif=ex
                )

            plans.append(
                Planned(
                    unit,
                    "dark",
                    family,
                    lambda f=family, h=h, w=w, what=what: draw_astro[what](rng_for(f), h, w),
                    write_astro,
                    params={"type": what},
                )
            )

    # ---- documents
    def doc_writer(folder: str, stem: str, fmt: str = "PNG"):
        def write(lib, arr, rec):
            ext = ".png" if fmt == "PNG" else ".jpg"
            return lib.write(f"Pictures/Scans/{folder}/{stem}{ext}", arr, fmt, rec, quality=90)

        return write

    for bank, folder, prefix in (
        ("nord", "Bank/NordBank", "NordBank_statement"),
        ("city", "Bank/City Savings", "Statement"),
    ):
        for m in range(1, 7):
            fam = f"statement-{bank}-2023-{m:02d}"
            plans.append(
                Planned(
                    f"doc-statements-{bank}",
                    "document",
                    fam,
                    lambda m=m, f=fam, b=bank: doc_statement(rng_for(f), m, b),
                    doc_writer(folder, f"{prefix}_2023-{m:02d}"),
                    lookalike=f"statements-{bank}",
                )
            )
    for n in (17, 42):
        fam = f"invoice-{n}"
        plans.append(
            Planned(
                "doc-invoices",
                "document",
                fam,
                lambda f=fam, n=n: doc_invoice(rng_for(f), n),
                doc_writer("Invoices", f"invoice_2023-{n:04d}", "JPEG"),
                lookalike="invoices",
            )
        )
    for n in (1, 2):
        fam = f"receipt-{n}"
        plans.append(
            Planned(
                "doc-receipts",
                "document",
                fam,
                lambda f=fam: doc_receipt(rng_for(f)),
                doc_writer("Receipts", f"receipt_{n}", "JPEG"),
                lookalike="receipts",
            )
        )
    for n in (1, 2):
        fam = f"letter-{n}"
        plans.append(
            Planned(
                fam,
                "document",
                fam,
                lambda f=fam: doc_letter(rng_for(f)),
                doc_writer("Letters", f"letter_{n}"),
            )
        )
    plans.append(
        Planned(
            "form-1",
            "document",
            "form-1",
            lambda: doc_form(rng_for("form-1")),
            doc_writer("Forms", "application_form"),
        )
    )

    # ---- one design in several colours
    for deg, name in ((0, "blue"), (90, "green"), (180, "orange"), (270, "purple")):
        fam = f"acme-logo-{name}"

        def write_logo(lib, arr, rec, name=name):
            return lib.write(f"Pictures/Design/Logo/acme_logo_{name}.png", arr, "PNG", rec)

        plans.append(
            Planned(
                "acme-logo",
                "logo",
                fam,
                lambda d=deg: hue_rotate(logo_design(), d),
                write_logo,
                lookalike="acme-logo",
                params={"hue_degrees": deg},
            )
        )
    for colour in ("Cold", "Dark", "Radioactive", "Warm"):
        member = f"mate/desktop/Ubuntu-Mate-{colour}-no-logo.png"

        def write_um(lib, arr, rec, colour=colour):
            return lib.write(
                f"Pictures/Wallpapers/Ubuntu-MATE/Ubuntu-Mate-{colour}.png", arr, "PNG", rec
            )

        plans.append(
            Planned(
                "ubuntu-mate",
                "logo",
                f"ubuntu-mate-{colour.lower()}",
                lambda m=member: np.asarray(acc.load_source(unpacked / BG / m, None)),
                write_um,
                lookalike="ubuntu-mate",
                params={"source": member},
            )
        )

    # ---- painting-like series
    elephants = np.asarray(Image.open(unpacked / BG / "mate/abstract/Elephants_5640x3172.jpg"))
    for (c, r), box in sorted(cells(elephants, (3, 2)).items()):
        fam = f"elephants-part-{c}{r}"
        x0, y0, x1, y1 = inner_box(box, 5 / 4, rng_for(fam))

        def write_el(lib, arr, rec, c=c, r=r):
            return lib.write(
                f"Pictures/Art/Elephants details/detail_{r * 3 + c + 1}.jpg",
                arr,
                "JPEG",
                rec,
                quality=92,
            )

        plans.append(
            Planned(
                "elephants-series",
                "painting",
                fam,
                lambda a=elephants[y0:y1, x0:x1]: resize_long(a, 1600),
                write_el,
                lookalike="elephants-series",
                params={"source": "mate/abstract/Elephants_5640x3172.jpg", "box": [x0, y0, x1, y1]},
            )
        )
    for k in range(1, 7):
        fam = f"palette-painting-{k}"

        def write_pp(lib, arr, rec, k=k):
            return lib.write(
                f"Pictures/Art/Palette series/painting_{k:02d}.jpg", arr, "JPEG", rec, quality=92
            )

        plans.append(
            Planned(
                "palette-series",
                "painting",
                fam,
                lambda f=fam: procedural_painting(rng_for(f)),
                write_pp,
                lookalike="palette-series",
            )
        )

    # ---- bright vs dark variants
    for shade in ("Dark", "Light"):
        member = f"mate/desktop/MATE-Stripes-{shade}.png"

        def write_ms(lib, arr, rec, shade=shade):
            return lib.write(f"Pictures/Wallpapers/MATE-Stripes-{shade}.png", arr, "PNG", rec)

        plans.append(
            Planned(
                "mate-stripes",
                "variant",
                f"mate-stripes-{shade.lower()}",
                lambda m=member: np.asarray(
                    acc.load_source(unpacked / BG / m, backdrops.get(Path(m).name))
                ),
                write_ms,
                lookalike="mate-stripes",
                params={"source": member},
            )
        )
    for dark in (False, True):
        name = "night" if dark else "day"

        def write_hills(lib, arr, rec, name=name):
            return lib.write(f"Pictures/Design/Hills/hills_{name}.png", arr, "PNG", rec)

        plans.append(
            Planned(
                "hills-design",
                "variant",
                f"hills-{name}",
                lambda d=dark: hills_design(d),
                write_hills,
                lookalike="hills-design",
            )
        )

    # ---- wallpapers as-is (flattened as MATE shows them)
    walls = (
        ("arc", "mate/abstract/Arc-Colors-Transparent-Wallpaper.png"),
        ("flow", "mate/abstract/Flow.png"),
        ("silk", "mate/abstract/Silk.png"),
        ("float-into-mate", "mate/desktop/Float-into-MATE.png"),
        ("green-traditional", "mate/desktop/GreenTraditional.jpg"),
        ("sway-blue", "sway/Sway_Wallpaper_Blue_1920x1080.png"),
    )
    for fam, member in walls:

        def write_wall(lib, arr, rec, member=member):
            name = Path(member).name
            fmt = "JPEG" if name.endswith(".jpg") else "PNG"
            return lib.write(f"Pictures/Wallpapers/{name}", arr, fmt, rec, quality=92)

        plans.append(
            Planned(
                f"wall-{fam}",
                "wallpaper",
                f"wall-{fam}",
                lambda m=member: np.asarray(
                    acc.load_source(unpacked / BG / m, backdrops.get(Path(m).name))
                ),
                write_wall,
                params={"source": member},
            )
        )

    # ---- split, then draw and write every original
    units: dict[str, tuple[str, int]] = {}
    for p in plans:
        kind = "photo" if p.kind in ("burst", "stereo") else p.kind
        units[p.unit] = (kind, units.get(p.unit, (kind, 0))[1] + 1)
    lib.split = assign_split(units)
    originals: dict[str, Rec] = {}
    for p in plans:
        rec = Rec(
            "", p.family, p.kind, "original", p.unit, p.shot_group, p.lookalike, dict(p.params)
        )
        originals[p.family] = p.write(lib, p.draw(), rec)  # type: ignore[operator]
        if len(originals) % 25 == 0:
            print(f"  {len(originals)} originals", file=sys.stderr)

    # ---- planted copies
    def cycle(kinds: tuple[str, ...], fams: list[str], rounds: int, salt: str):
        """Deal ``rounds`` passes of ``kinds`` over ``fams`` (shuffled, per half)."""
        rng = rng_for(salt)
        deck = [k for _ in range(rounds) for k in kinds]
        rng.shuffle(deck)
        order = sorted(fams, key=lambda f: _h(salt + f))
        taken: dict[str, set] = defaultdict(set)
        for i, kind in enumerate(deck):
            for j in range(len(order)):  # the next family without this kind yet
                fam = order[(i + j) % len(order)]
                if kind not in taken[fam]:
                    taken[fam].add(kind)
                    make_copy(lib, originals[fam], kind, tag=str(i))
                    break

    for half in ("tune", "report"):
        photo = [f for f, r in originals.items() if r.kind == "photo" and r.split == half]
        cycle(PHOTO_COPY_KINDS, photo, 3, f"photo-{half}")
        dark = [f for f, r in originals.items() if r.kind == "dark" and r.split == half]
        cycle(DARK_COPY_KINDS, dark, 1, f"dark-{half}")
    for group in BURST_CELLS.values():  # one burst frame sent over a messenger
        make_copy(lib, originals[f"{group}-frame2"], "messenger")
    make_copy(lib, originals["stereo-lake-L"], "download")
    for fam, kinds in {
        "statement-nord-2023-03": ("rescan", "to-jpeg"),
        "statement-city-2023-02": ("rescan",),
        "statement-city-2023-05": ("messenger",),
        "invoice-42": ("rescan",),
        "letter-2": ("to-jpeg",),
        "receipt-1": ("messenger",),
        "acme-logo-orange": ("to-jpeg", "thumbnail"),
        "ubuntu-mate-warm": ("resize",),
        "elephants-part-10": ("download",),
        "palette-painting-3": ("webp", "thumbnail"),
        "mate-stripes-light": ("to-jpeg",),
        "hills-night": ("resize",),
        "wall-arc": ("resize",),
        "wall-flow": ("to-jpeg",),
        "wall-float-into-mate": ("webp",),
        "wall-green-traditional": ("thumbnail",),
    }.items():
        for kind in kinds:
            make_copy(lib, originals[fam], kind)
    # the package's own 1366x768 file of the Sway design (the same layout at another size)
    sway = acc.load_source(unpacked / BG / "sway/Sway_Wallpaper_Blue_1366x768.png", None)
    src = originals["wall-sway-blue"]
    lib.write(
        "Pictures/Wallpapers/laptop/Sway_Wallpaper_Blue_1366x768.png",
        np.asarray(sway),
        "PNG",
        Rec(
            "",
            src.family,
            src.kind,
            "other-size",
            src.unit,
            params={"source": "sway/Sway_Wallpaper_Blue_1366x768.png"},
        ),
    )

    # ---- the backup tree: whole folders copied byte for byte (with the copies inside them)
    backup_dirs = ["Pictures/Wallpapers/"]
    for half in ("tune", "report"):  # two camera events and one astro session from each half
        events = [s.event for s in SOURCES if lib.split[f"event-{s.key}"] == half]
        backup_dirs += [f"Pictures/{e}/" for e in sorted(events, key=_h)[:2]]
        astro = [f for f, _, _ in sessions if lib.split[astro_unit(f)] == half]
        backup_dirs += [f"Pictures/{a}/" for a in sorted(astro, key=_h)[:1]]
    for rec in list(lib.recs):
        if any(rec.path.startswith(d) for d in backup_dirs) and "/laptop/" not in rec.path:
            make_copy(lib, originals[rec.family] if rec.copy_kind == "original" else rec, "backup")

    # ---- truth
    files = []
    for r in lib.recs:
        files.append(
            {
                "path": r.path,
                "family": r.family,
                "kind": r.kind,
                "copy_kind": r.copy_kind,
                "split": r.split,
                "unit": r.unit,
                "shot_group": r.shot_group,
                "lookalike": r.lookalike,
                "width": r.width,
                "height": r.height,
                "params": r.params,
            }
        )
    truth = {
        "version": 1,
        "generator": "benchmarks/library/build_library.py",
        "packages": package_versions(cache),
        "libraries": {
            "pillow": Image.__version__,
            "opencv": cv2.__version__,
            "piexif": piexif.VERSION,
            "pillow_heif": pillow_heif.__version__ if HAVE_HEIC else None,
        },
        "heic": HAVE_HEIC,
        "splits": dict(sorted(lib.split.items())),
        "files": files,
    }
    (out / "truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    return truth


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=HERE / "data")
    ap.add_argument("--cache", type=Path, default=ACCURACY / "cache")
    ap.add_argument("--force", action="store_true", help="delete and rebuild an existing library")
    args = ap.parse_args(argv)
    if (args.out / "truth.json").exists() and not args.force:
        print(f"{args.out / 'truth.json'} exists; use --force to rebuild", file=sys.stderr)
        return 0
    shutil.rmtree(args.out / "Pictures", ignore_errors=True)
    (args.out / "truth.json").unlink(missing_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    truth = build(args.out, args.cache)
    files = truth["files"]
    by = defaultdict(lambda: [0, 0])
    for f in files:
        by[f["kind"]][f["copy_kind"] != "original"] += 1
    halves = {s: sum(f["split"] == s for f in files) for s in ("tune", "report")}
    print(f"wrote {len(files)} files {halves} and truth.json to {args.out}")
    for kind, (o, c) in sorted(by.items()):
        print(f"  {kind:10s} {o:4d} originals {c:4d} copies")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
