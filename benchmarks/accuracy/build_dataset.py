"""Build the labelled near-duplicate dataset from Debian's wallpaper packages.

    python benchmarks/accuracy/build_dataset.py [--out DIR] [--cache DIR] [--force]

Sources: the Debian packages ``mate-backgrounds`` and ``sway-backgrounds`` (real photographs and
artwork under GPL-2+/Expat that nobody on this project made). The script downloads them with
``apt-get download`` into ``--cache`` (skipped when the .deb files are already there) and unpacks
them with ``dpkg -x``. Every copy is made by a deterministic transform with its own seed, so two
runs with the same Pillow/OpenCV produce the same pixels.

Output: ``<out>/files/<family>/<base>--<transform>.<ext>`` and ``<out>/truth.json``; see
``benchmarks/accuracy/README.md`` for the labelling decisions and the truth-file format.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps

HERE = Path(__file__).resolve().parent
PACKAGES = ("mate-backgrounds", "sway-backgrounds")
BACKGROUNDS = Path("usr/share/backgrounds")
PROPERTIES = Path("usr/share/mate-background-properties")
MAX_SIDE = 1600  # the largest member of a family is scaled down to this; others keep the ratio
COPY_QUALITY = 92  # JPEG quality for copies whose transform is not itself a format change


@dataclass(frozen=True)
class Family:
    """One artwork. ``members`` are package files that show it at different sizes."""

    name: str
    members: tuple[str, ...]
    palette: str
    variant_group: str | None = None
    note: str = ""


def _fam(name: str, *members: str, palette: str, variant: str | None = None, note: str = ""):
    return Family(name, tuple(members), palette, variant, note)


# Decisions made by looking at contact sheets and by pixel correlation after resizing to a common
# size (see README.md). Palette groups are what a person would call "the same colours".
FAMILIES: tuple[Family, ...] = (
    _fam(
        "elephants",
        "mate/abstract/Elephants_5640x3172.jpg",
        "mate/abstract/Elephants_3840x2160.jpg",
        "mate/abstract/Elephants.jpg",
        palette="elephants",
        note="one painting at three sizes (correlation 1.00 after resizing)",
    ),
    _fam("arc", "mate/abstract/Arc-Colors-Transparent-Wallpaper.png", palette="mate-gradient"),
    _fam("flow", "mate/abstract/Flow.png", palette="mate-gradient"),
    _fam("gulp", "mate/abstract/Gulp.png", palette="mate-gradient"),
    _fam("silk", "mate/abstract/Silk.png", palette="mate-gradient"),
    _fam("spring", "mate/abstract/Spring.png", palette="mate-gradient"),
    _fam("waves", "mate/abstract/Waves.png", palette="mate-gradient"),
    _fam("stripes", "mate/desktop/Stripes.png", palette="mate-gradient"),
    _fam("float-into-mate", "mate/desktop/Float-into-MATE.png", palette="float"),
    _fam("green-traditional", "mate/desktop/GreenTraditional.jpg", palette="pale"),
    _fam("wood", "mate/nature/Wood.jpg", palette="pale"),
    _fam(
        "mate-stripes-dark",
        "mate/desktop/MATE-Stripes-Dark.png",
        palette="dark",
        variant="mate-stripes",
    ),
    _fam(
        "mate-stripes-light",
        "mate/desktop/MATE-Stripes-Light.png",
        palette="green",
        variant="mate-stripes",
    ),
    *(
        _fam(
            f"ubuntu-mate-{c.lower()}",
            f"mate/desktop/Ubuntu-Mate-{c}-no-logo.png",
            palette="dark",
            variant="ubuntu-mate",
            note="one design recoloured four ways",
        )
        for c in ("Cold", "Dark", "Radioactive", "Warm")
    ),
    _fam("aqua", "mate/nature/Aqua.jpg", palette="grey-blue"),
    _fam("storm", "mate/nature/Storm.jpg", palette="grey-blue"),
    _fam("blinds", "mate/nature/Blinds.jpg", palette="green"),
    _fam("green-meadow", "mate/nature/GreenMeadow.jpg", palette="green"),
    _fam("rain-drops", "mate/nature/RainDrops.jpg", palette="green"),
    _fam("lady-bird", "mate/nature/LadyBird.jpg", palette="green"),
    _fam("fresh-flower", "mate/nature/FreshFlower.jpg", palette="orange-flower"),
    _fam("garden", "mate/nature/Garden.jpg", palette="orange-flower"),
    _fam("two-wings", "mate/nature/TwoWings.jpg", palette="orange-flower"),
    _fam("yellow-flower", "mate/nature/YellowFlower.jpg", palette="orange-flower"),
    _fam("dune", "mate/nature/Dune.jpg", palette="dune"),
    _fam(
        "sway-16x9",
        "sway/Sway_Wallpaper_Blue_1920x1080.png",
        "sway/Sway_Wallpaper_Blue_1366x768.png",
        palette="sway",
        variant="sway",
        note="same layout at two sizes (correlation 0.993)",
    ),
    _fam(
        "sway-16x9-large-logo",
        "sway/Sway_Wallpaper_Blue_1136x640.png",
        palette="sway",
        variant="sway",
        note="16:9 but the logo is drawn larger: another layout of the design",
    ),
    _fam(
        "sway-4x3",
        "sway/Sway_Wallpaper_Blue_2048x1536.png",
        "sway/Sway_Wallpaper_Blue_768x1024.png",
        palette="sway",
        variant="sway",
        note="same layout at two sizes, a few pixels apart (correlation 0.95); "
        "the 768x1024 file is really 1024x768",
    ),
    _fam(
        "sway-3x4-portrait-a",
        "sway/Sway_Wallpaper_Blue_2048x1536_Portrait.png",
        palette="sway",
        variant="sway",
    ),
    _fam(
        "sway-3x4-portrait-b",
        "sway/Sway_Wallpaper_Blue_768x1024_Portrait.png",
        palette="sway",
        variant="sway",
        note="same aspect as portrait-a but the logo is visibly smaller and moved: variant",
    ),
    _fam(
        "sway-9x16-portrait",
        "sway/Sway_Wallpaper_Blue_1136x640_Portrait.png",
        palette="sway",
        variant="sway",
    ),
)

# Non-overlapping parts of one large image, saved as separate files: must never be paired with
# each other. A part and a whole (or a copy of the whole) are scored as "partial", not as a
# duplicate nor as a negative.
PARTS: dict[str, str] = {
    "wood": "quadrants",
    "aqua": "quadrants",
    "storm": "halves",
    "garden": "halves",
}


# --------------------------------------------------------------------------------------------
# Fetching


def fetch_packages(cache: Path) -> Path:
    """Return the folder holding ``usr/share/backgrounds`` after download and unpack if needed."""
    unpacked = cache / "unpacked"
    if (unpacked / BACKGROUNDS / "sway").is_dir() and (unpacked / BACKGROUNDS / "mate").is_dir():
        return unpacked
    cache.mkdir(parents=True, exist_ok=True)
    debs = {p: sorted(cache.glob(f"{p}_*.deb")) for p in PACKAGES}
    missing = [p for p, found in debs.items() if not found]
    if missing:
        if shutil.which("apt-get") is None:
            raise SystemExit(
                "build_dataset: apt-get is not available, so the Debian packages "
                f"{', '.join(missing)} cannot be downloaded; put their .deb files in {cache} "
                "by hand and run again"
            )
        print(f"downloading {' '.join(missing)} into {cache}", file=sys.stderr)
        result = subprocess.run(
            ["apt-get", "download", *missing], cwd=cache, capture_output=True, text=True
        )
        if result.returncode != 0:
            raise SystemExit(
                f"build_dataset: apt-get download failed ({result.stderr.strip()}); "
                "try 'apt-get update' first"
            )
        debs = {p: sorted(cache.glob(f"{p}_*.deb")) for p in PACKAGES}
    if shutil.which("dpkg") is None:
        raise SystemExit("build_dataset: dpkg is not available to unpack the .deb files")
    for found in debs.values():
        subprocess.run(["dpkg", "-x", str(found[-1]), str(unpacked)], check=True)
    return unpacked


def package_versions(cache: Path) -> dict[str, str]:
    return {p: sorted(cache.glob(f"{p}_*.deb"))[-1].name.split("_")[1] for p in PACKAGES}


def _backdrops(unpacked: Path) -> dict[str, tuple[str, str, str]]:
    """File name → (shade_type, pcolor, scolor) from MATE's wallpaper list.

    Transparent MATE wallpapers are drawn over a gradient the desktop paints; we flatten them
    onto that gradient, which is how every user sees them.
    """
    out = {}
    for xml in sorted((unpacked / PROPERTIES).glob("*.xml")):
        for wp in ET.parse(xml).getroot():
            fn = wp.findtext("filename")
            if fn and wp.findtext("pcolor"):
                out[Path(fn).name] = (
                    wp.findtext("shade_type") or "solid",
                    wp.findtext("pcolor"),
                    wp.findtext("scolor") or wp.findtext("pcolor"),
                )
    return out


def _hex(c: str) -> np.ndarray:
    return np.array([int(c[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.float64)


def load_source(path: Path, backdrop: tuple[str, str, str] | None) -> Image.Image:
    im = Image.open(path)
    im.load()
    if im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info:
        im = im.convert("RGBA")
        w, h = im.size
        shade, c1, c2 = backdrop or ("solid", "#000000", "#000000")
        vertical = shade == "vertical-gradient"
        n = h if vertical else w
        t = np.linspace(0.0, 1.0, n)[:, None] if shade != "solid" else np.zeros((n, 1))
        ramp = _hex(c1) * (1 - t) + _hex(c2) * t
        ramp = np.rint(ramp).astype(np.uint8)
        bg = np.broadcast_to(ramp[:, None, :] if vertical else ramp[None, :, :], (h, w, 3))
        base = Image.fromarray(np.ascontiguousarray(bg)).convert("RGBA")
        base.alpha_composite(im)
        im = base
    return im.convert("RGB")


# --------------------------------------------------------------------------------------------
# Transforms: (image, rng) -> (image, params). Each returns an RGB or L image.

Transform = Callable[[Image.Image, np.random.Generator], tuple[Image.Image, dict]]


def _arr(im: Image.Image) -> np.ndarray:
    return np.asarray(im.convert("RGB"))


def _resize(f: float) -> Transform:
    def t(im, rng):
        w, h = im.size
        size = (max(1, round(w * f)), max(1, round(h * f)))
        interp = cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC
        return Image.fromarray(cv2.resize(_arr(im), size, interpolation=interp)), {"scale": f}

    return t


def _same(im, rng):
    return im, {}


def _rotate(k: int) -> Transform:
    # k quarter turns clockwise
    ops = {1: Image.Transpose.ROTATE_270, 2: Image.Transpose.ROTATE_180}
    ops[3] = Image.Transpose.ROTATE_90

    def t(im, rng):
        return im.transpose(ops[k]), {"degrees_cw": 90 * k}

    return t


def _mirror(im, rng):
    return im.transpose(Image.Transpose.FLIP_LEFT_RIGHT), {}


def _crop(lo: float, hi: float) -> Transform:
    def t(im, rng):
        w, h = im.size
        fx, fy = float(rng.uniform(lo, hi)), float(rng.uniform(lo, hi))
        cw, ch = round(w * (1 - fx)), round(h * (1 - fy))
        x0, y0 = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
        box = (x0, y0, x0 + cw, y0 + ch)
        return im.crop(box), {"removed_w": round(fx, 4), "removed_h": round(fy, 4), "box": box}

    return t


def _brightness(im, rng):
    delta = int(rng.integers(25, 41)) * (1 if rng.random() < 0.5 else -1)
    a = np.clip(_arr(im).astype(np.int16) + delta, 0, 255).astype(np.uint8)
    return Image.fromarray(a), {"delta": delta}


def _contrast(im, rng):
    gain = round(float(rng.uniform(1.25, 1.45)), 3)
    a = _arr(im).astype(np.float32)
    a = np.clip((a - a.mean()) * gain + a.mean(), 0, 255)
    return Image.fromarray(np.rint(a).astype(np.uint8)), {"gain": gain}


def _blur(im, rng):
    sigma = round(max(im.size) / 400, 2)
    return Image.fromarray(cv2.GaussianBlur(_arr(im), (0, 0), sigma)), {"sigma": sigma}


def _noise(im, rng):
    sigma = 10.0
    a = _arr(im).astype(np.float32) + rng.normal(0.0, sigma, size=(im.height, im.width, 3))
    return Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8)), {"sigma": sigma}


def _gray(im, rng):
    return im.convert("L"), {}


def _text(im, rng):
    a = _arr(im).copy()
    h, w = a.shape[:2]
    text = f"Holiday {int(rng.integers(2009, 2025))}"
    scale = w / 900
    thick = max(1, round(scale * 2))
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    org = (int(w * 0.04), int(h - h * 0.05))
    cv2.putText(a, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thick * 3, cv2.LINE_AA)
    cv2.putText(a, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thick, cv2.LINE_AA)
    return Image.fromarray(a), {"text": text, "box": [org[0], org[1] - th, tw, th]}


def _logo(im, rng):
    a = _arr(im).copy()
    h, w = a.shape[:2]
    s = round(w * 0.12)
    x0, y0 = w - s - round(w * 0.03), round(h * 0.04)
    colour = tuple(int(v) for v in rng.integers(0, 256, size=3))
    cv2.rectangle(a, (x0, y0), (x0 + s, y0 + s // 2), colour, thickness=-1)
    cv2.circle(a, (x0 + s // 4, y0 + s // 4), s // 6, (255, 255, 255), thickness=-1)
    return Image.fromarray(a), {"box": [x0, y0, s, s // 2], "colour": colour}


def _exif(orientation: int) -> Transform:
    # Stored pixels are the upright picture turned so that a viewer applying the tag shows it
    # upright again: ImageOps.exif_transpose(stored) == upright.
    undo = {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90}
    undo[8] = Image.Transpose.ROTATE_270

    def t(im, rng):
        return im.transpose(undo[orientation]), {"orientation": orientation}

    return t


# name → (function, save format, save options)
TRANSFORMS: dict[str, tuple[Transform, str, dict]] = {
    "resize-50": (_resize(0.5), "JPEG", {}),
    "resize-25": (_resize(0.25), "JPEG", {}),
    "resize-150": (_resize(1.5), "JPEG", {}),
    "jpeg-q30": (_same, "JPEG", {"quality": 30}),
    "jpeg-q70": (_same, "JPEG", {"quality": 70}),
    "png": (_same, "PNG", {}),
    "webp": (_same, "WEBP", {}),
    "exif-3": (_exif(3), "JPEG", {"orientation": 3}),
    "exif-6": (_exif(6), "JPEG", {"orientation": 6}),
    "exif-8": (_exif(8), "JPEG", {"orientation": 8}),
    "rotate-90": (_rotate(1), "JPEG", {}),
    "rotate-180": (_rotate(2), "JPEG", {}),
    "rotate-270": (_rotate(3), "JPEG", {}),
    "mirror": (_mirror, "JPEG", {}),
    "crop-small": (_crop(0.03, 0.05), "JPEG", {}),
    "crop-large": (_crop(0.10, 0.20), "JPEG", {}),
    "brightness": (_brightness, "JPEG", {}),
    "contrast": (_contrast, "JPEG", {}),
    "blur": (_blur, "JPEG", {}),
    "noise": (_noise, "JPEG", {}),
    "grayscale": (_gray, "JPEG", {}),
    "text-overlay": (_text, "JPEG", {}),
    "logo-overlay": (_logo, "JPEG", {}),
}
EXT = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}


def seed_for(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("/".join(parts).encode()).digest()[:4], "big")


def save(im: Image.Image, path: Path, fmt: str, opts: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    opts = dict(opts)
    kwargs: dict = {}
    if fmt == "JPEG":
        kwargs["quality"] = opts.pop("quality", COPY_QUALITY)
        if "orientation" in opts:
            exif = Image.Exif()
            exif[0x0112] = opts.pop("orientation")
            kwargs["exif"] = exif.tobytes()
    elif fmt == "PNG":
        kwargs["compress_level"] = 6
    elif fmt == "WEBP":
        kwargs["quality"] = 80
        kwargs["method"] = 4
    im.save(path, fmt, **kwargs)


# --------------------------------------------------------------------------------------------
# Split


def _h(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def assign_splits(units: dict[str, tuple[str, int]]) -> dict[str, str]:
    """Split units → "tune"/"test". ``units`` maps a unit name to (palette, file count).

    A unit is a variant group, or a family outside any (its parts go with it), so variants and
    parts never straddle the halves. Units are stratified by palette so both halves get their
    same-palette hard negatives: palettes in SHA-256 order, the units of each in SHA-256 order,
    alternating sides, starting with the half that has fewer files so far. Deterministic and
    independent of listing order.
    """
    totals = {"tune": 0, "test": 0}
    out: dict[str, str] = {}
    for palette in sorted({p for p, _ in units.values()}, key=_h):
        side = "tune" if totals["tune"] <= totals["test"] else "test"
        for name in sorted((u for u in units if units[u][0] == palette), key=_h):
            out[name] = side
            totals[side] += units[name][1]
            side = "test" if side == "tune" else "tune"
    return out


def _part_boxes(w: int, h: int, layout: str) -> dict[str, tuple[int, int, int, int]]:
    if layout == "halves":
        return {"left": (0, 0, w // 2, h), "right": (w // 2, 0, w, h)}
    return {
        "top-left": (0, 0, w // 2, h // 2),
        "top-right": (w // 2, 0, w, h // 2),
        "bottom-left": (0, h // 2, w // 2, h),
        "bottom-right": (w // 2, h // 2, w, h),
    }


# --------------------------------------------------------------------------------------------


def build(out: Path, cache: Path) -> dict:
    unpacked = fetch_packages(cache)
    root = unpacked / BACKGROUNDS
    backdrops = _backdrops(unpacked)
    unit_of = {f.name: f.variant_group or f.name for f in FAMILIES}
    files: list[dict] = []

    def add(im, family, base, transform, kind, fmt, opts, params, seed, **extra):
        rel = Path("files") / family / f"{base}--{transform}{EXT[fmt]}"
        save(im, out / rel, fmt, opts)
        files.append(
            {
                "path": rel.as_posix(),
                "family": family,
                "base": base,
                "transform": transform,
                "kind": kind,
                "seed": seed,
                "width": im.width,
                "height": im.height,
                "params": params,
                **extra,
            }
        )

    for fam in FAMILIES:
        sources = [load_source(root / m, backdrops.get(Path(m).name)) for m in fam.members]
        factor = min(1.0, MAX_SIDE / max(max(s.size) for s in sources))
        for k, (member, im) in enumerate(zip(fam.members, sources, strict=True)):
            if factor < 1.0:
                size = (round(im.width * factor), round(im.height * factor))
                im = Image.fromarray(cv2.resize(_arr(im), size, interpolation=cv2.INTER_AREA))
            base = Path(member).stem
            src_fmt = "PNG" if member.endswith(".png") else "JPEG"
            params = {"source": member, "scale": round(factor, 4)}
            add(im, fam.name, base, "original", "original", src_fmt, {}, params, 0)
            if k > 0:  # other sizes of the same artwork: originals only
                continue
            for tname, (fn, fmt, opts) in TRANSFORMS.items():
                seed = seed_for(base, tname)
                copy, tparams = fn(im, np.random.default_rng(seed))
                add(copy, fam.name, base, tname, "copy", fmt, opts, tparams, seed)
                if tname.startswith("exif-"):
                    shown = ImageOps.exif_transpose(Image.open(out / files[-1]["path"]))
                    diff = np.abs(_arr(shown).astype(np.int16) - _arr(im)).mean()
                    assert shown.size == im.size and diff < 8, (base, tname, diff)
            if fam.name in PARTS:
                for pname, box in _part_boxes(im.width, im.height, PARTS[fam.name]).items():
                    part_family = f"{fam.name}-part-{pname}"
                    add(
                        im.crop(box),
                        part_family,
                        f"{base}-{pname}",
                        "part",
                        "negative",
                        "JPEG",
                        {},
                        {"box": list(box)},
                        0,
                        source_family=fam.name,
                    )
                    unit_of[part_family] = unit_of[fam.name]

    palette_of = {f.name: f.palette for f in FAMILIES}
    units: dict[str, tuple[str, int]] = {}
    for f in files:
        unit = unit_of[f["family"]]
        palette = palette_of[f.get("source_family", f["family"])]
        units[unit] = (units.get(unit, (palette, 0))[0], units.get(unit, (palette, 0))[1] + 1)
    splits = assign_splits(units)
    for f in files:
        f["split"] = splits[unit_of[f["family"]]]

    families = {}
    for fam in FAMILIES:
        families[fam.name] = {
            "members": list(fam.members),
            "palette": fam.palette,
            "variant_group": fam.variant_group,
            "split": splits[unit_of[fam.name]],
            "note": fam.note,
        }
    for f in files:
        if f["kind"] == "negative":
            src = families[f["source_family"]]
            families[f["family"]] = {
                "members": [],
                "palette": src["palette"],
                "variant_group": None,
                "source_family": f["source_family"],
                "split": f["split"],
                "note": "non-overlapping part of the source image: a hard negative",
            }
    truth = {
        "version": 1,
        "generator": "benchmarks/accuracy/build_dataset.py",
        "packages": package_versions(cache),
        "libraries": {"pillow": Image.__version__, "opencv": cv2.__version__},
        "max_side": MAX_SIDE,
        "copy_jpeg_quality": COPY_QUALITY,
        "transforms": ["original", *TRANSFORMS, "part"],
        "families": families,
        "files": files,
    }
    (out / "truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    return truth


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=HERE / "data")
    ap.add_argument("--cache", type=Path, default=HERE / "cache")
    ap.add_argument("--force", action="store_true", help="delete and rebuild an existing dataset")
    args = ap.parse_args(argv)
    if (args.out / "truth.json").exists() and not args.force:
        print(f"{args.out / 'truth.json'} exists; use --force to rebuild", file=sys.stderr)
        return 0
    if args.out.exists() and args.force:
        shutil.rmtree(args.out / "files", ignore_errors=True)
    args.out.mkdir(parents=True, exist_ok=True)
    truth = build(args.out, args.cache)
    by_split = {s: sum(f["split"] == s for f in truth["files"]) for s in ("tune", "test")}
    print(f"wrote {len(truth['files'])} files ({by_split}) and truth.json to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
