"""The options every scanning command shares, and their translation into RunSettings.

Why apart from cli.py: the TUI, ``scan`` and ``plan`` parse the same options and must
validate them the same way; cli.py keeps the commands themselves (dispatch, running, output).
Nothing heavy is imported here at module level: ``--help`` must stay instant on a server.
"""

from __future__ import annotations

import argparse
import math
import os
from typing import NoReturn

from tui_dedup.cli.exits import UsageError
from tui_dedup.cli.folder_options import check_move_to

__all__ = ["UsageError", "add_scan_options", "settings_from_args"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not argparse's two
        raise UsageError(message)


def _size(text: str, *, least: int = 0) -> int:
    """'500', '200k', '3M', '1G' → bytes; NaN, infinity and negatives are refused."""
    t = text.strip().lower().removesuffix("b")
    mult = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}.get(t[-1:], 1)
    try:
        v = float(t[:-1] if mult > 1 else t) * mult
    except ValueError:
        v = math.nan
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 500, 20k, 3M, 1G)")
    if v < least:
        need = "cannot be negative" if least == 0 else f"must be at least {least} byte(s)"
        raise argparse.ArgumentTypeError(f"{need}, not {text!r}")
    return int(v)


def _min_size(text: str) -> int:
    return _size(text, least=0)  # 0 and 1 mean the same: an empty file is never an image


def _max_file_size(text: str) -> int:
    return _size(text, least=1)  # 0 would refuse every file without saying why


def _whole(lo: int, hi: int | None, what: str = ""):
    """An argparse type: a whole number in [lo, hi] (no upper bound when ``hi`` is None)."""

    def parse(text: str) -> int:
        try:
            v = int(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
        if v < lo or (hi is not None and v > hi):
            span = f"between {lo} and {hi}" if hi is not None else f"{lo} or more"
            raise argparse.ArgumentTypeError(f"must be {span}{what}, not {v}")
        return v

    return parse


# Threads beyond this only queue more decoded images in memory; a typo such as 1000 should not
# start a thousand threads.
MAX_WORKERS = 256


def _megapixels(text: str) -> float:
    """A positive, finite number of megapixels (NaN and infinity have no pixel count)."""
    try:
        v = float(text)
    except ValueError:
        v = math.nan
    if not (math.isfinite(v) and v * 1e6 >= 1):
        raise argparse.ArgumentTypeError(f"expected a positive number of megapixels, not {text!r}")
    return v


def similarity(text: str) -> float:
    """A similarity in [0, 1]; NaN and infinity are refused (NaN compares false everywhere)."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a similarity in [0, 1], not {text!r}") from None
    if not 0.0 <= v <= 1.0:  # also false for NaN
        raise argparse.ArgumentTypeError(f"similarity must be within [0, 1], not {text}")
    return v


def _kinds(text: str):  # -> frozenset[Kind]
    from tui_dedup.engine.verdicts.kinds import parse_kinds

    try:
        return parse_kinds(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _threshold(text: str) -> str | float:
    from tui_dedup.engine.registry import PRESETS

    if text in PRESETS:
        return text
    try:
        float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected {', '.join(PRESETS)} or a similarity in [0, 1], not {text!r}"
        ) from None
    return similarity(text)


def _cache_file(text: str) -> str:
    """--cache: a file whose folder exists, or an existing folder (``features.sqlite`` in it).

    Only the default cache folder is created: a typo in an explicit path must not leave new
    folders behind."""
    if not text.strip():
        raise argparse.ArgumentTypeError("needs a file name")
    p = os.path.abspath(os.path.expanduser(text))
    if not os.path.isdir(p):
        _check_parent(p, text)
    return text


def _check_parent(path: str, given: str) -> None:
    parent = os.path.dirname(path)
    if not os.path.exists(parent):
        raise argparse.ArgumentTypeError(f"{given}: folder {parent} does not exist")
    if not os.path.isdir(parent):
        raise argparse.ArgumentTypeError(f"{given}: {parent} is not a folder")


def check_output(path: str | None, option: str = "-o/--output") -> None:
    """A result file must be creatable: checked before the scan, not after it (``-`` is stdout).

    Follows a symlink as ``output_file.open_output`` does: the folder that matters is the
    target's."""
    if path is None or path == "-":
        return
    if not path.strip():
        raise UsageError(f"{option} needs a file name (or - for stdout)")
    target = os.path.realpath(path)
    if os.path.isdir(target):
        raise UsageError(f"{option} {path}: is a folder, not a file")
    try:
        _check_parent(target, path)
    except argparse.ArgumentTypeError as exc:
        raise UsageError(f"{option} {exc}") from None


def add_scan_options(p: argparse.ArgumentParser, *, paths_required: bool = True) -> None:
    """Options shared by the TUI and every subcommand that scans."""
    from tui_dedup.engine.files.discover import DEFAULT_EXCLUDES
    from tui_dedup.engine.registry import DEFAULT_METHOD, METHODS, PRESETS

    p.add_argument(
        "paths",
        nargs="+" if paths_required else "*",
        metavar="PATH",
        help="folders to scan (several roots are compared with each other)",
    )
    g = p.add_argument_group("matching")
    g.add_argument(
        "--method",
        choices=list(METHODS),
        default=DEFAULT_METHOD,
        help="comparison method: "
        + "; ".join(f"{m.name}: {m.title}" for m in METHODS.values())
        + " (default: %(default)s)",
    )
    t = g.add_mutually_exclusive_group()
    t.add_argument(
        "--threshold",
        type=_threshold,
        default=None,
        metavar="PRESET|SIMILARITY",
        help=f"one of {', '.join(PRESETS)} (default: balanced) or a similarity such as "
        "0.9 (fraction of equal bits for hashes)",
    )
    t.add_argument(
        "--max-distance",
        type=_whole(0, None),
        default=None,
        metavar="BITS",
        help="for hash methods: the largest Hamming distance that still matches",
    )
    g.add_argument(
        "--hash-size",
        type=_whole(4, 16),
        default=8,
        metavar="N",
        help="hash side: N×N bits (default 8 → 64 bits; the original design used 10)",
    )
    g.add_argument(
        "--no-rotations",
        action="store_true",
        help="do not match copies rotated by 90/180/270° or mirrored",
    )
    g.add_argument(
        "--include-low-detail",
        action="store_true",
        help="also match near-flat images (black frames, blank scans) by their hashes; "
        "by default they pair only when byte-identical",
    )
    g.add_argument(
        "--crop-tolerant",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="pair copies cropped by 10-20 %%: each file's nearest neighbours by colour whose "
        "grey tiles fit a window of the other are checked with keypoints (ORB + RANSAC) and a "
        "dense search (default: on up to 20,000 pictures; --crop-tolerant also above, where it "
        "is far slower; --no-crop-tolerant: off)",
    )
    g.add_argument(
        "--local-edits",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also pair copies that differ in one small region (a logo, a caption, a stamp): "
        "near dHash candidates whose 12×12 grey cells agree (default: on)",
    )
    d = p.add_argument_group("files")
    d.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="GLOB",
        help="skip files/folders whose name (or path relative to the root, if the "
        "pattern has a '/') matches; repeatable",
    )
    d.add_argument(
        "--no-default-excludes",
        action="store_true",
        help="also scan the folders excluded by default: " + ", ".join(DEFAULT_EXCLUDES),
    )
    d.add_argument("--hidden", action="store_true", help="scan hidden files and folders too")
    d.add_argument(
        "--follow-symlinks",
        action="store_true",
        help="follow symbolic links (loop-safe); off by default",
    )
    d.add_argument(
        "--min-size",
        type=_min_size,
        default=1,
        metavar="BYTES",
        help="ignore files smaller than this (e.g. 20k)",
    )
    d.add_argument(
        "--max-file-size",
        type=_max_file_size,
        default=1 << 30,
        metavar="BYTES",
        help="refuse files larger than this without reading them (default 1G)",
    )
    d.add_argument(
        "--max-pixels",
        type=_megapixels,
        default=250.0,
        metavar="MP",
        help="refuse images above this many megapixels, checked from the header "
        "before decoding (default 250)",
    )
    d.add_argument(
        "--workers",
        type=_whole(0, MAX_WORKERS, " (0: two per core)"),
        default=0,
        metavar="N",
        help="reader/decoder threads (default: two per core)",
    )
    c = p.add_argument_group("cache")
    c.add_argument(
        "--cache",
        type=_cache_file,
        default=None,
        metavar="PATH",
        help="feature cache file (default: in the user cache dir)",
    )
    c.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    p.add_argument(
        "--show-skipped",
        action="store_true",
        help="show pairs you marked as 'not a duplicate' before",
    )
    p.add_argument(
        "--kinds",
        type=_kinds,
        default=None,
        metavar="KIND,...",
        help="which pairs to list, by what the verdict stage found them to be: exact, "
        "'same pixels', re-encoded, rotated, mirrored, edited, cropped, 'similar shot' "
        "(the same scene, another capture: not a copy), 'format twin' (a RAW and the "
        "camera's JPEG beside it: one shot), unconfirmed; or copies, all "
        "(default: copies and unconfirmed; the JSON lists similar shots apart in 'similar')",
    )
    p.add_argument("--debug", action="store_true", help="show tracebacks for errors")


def settings_from_args(args: argparse.Namespace):
    """argparse namespace → RunSettings (validated; a bad combination is a UsageError)."""
    from tui_dedup.engine.files.decode import DecodeLimits
    from tui_dedup.engine.files.discover import DiscoverOptions
    from tui_dedup.engine.matching.pairs import MatchOptions
    from tui_dedup.engine.registry import METHODS
    from tui_dedup.engine.scan import ScanConfig
    from tui_dedup.review.settings import RunSettings

    if args.max_distance is not None and METHODS[args.method].kind != "hash":
        raise UsageError(f"--max-distance applies to hash methods, not {args.method}")
    for path in args.paths:
        if not os.path.exists(path):
            raise UsageError(f"{path}: no such folder")
        if not os.path.isdir(path):
            raise UsageError(f"{path}: not a folder")
    check_output(getattr(args, "output", None))
    scan_cfg = ScanConfig(
        discover=DiscoverOptions(
            excludes=tuple(args.exclude),
            default_excludes=not args.no_default_excludes,
            hidden=args.hidden,
            follow_symlinks=args.follow_symlinks,
            min_size=max(1, args.min_size),  # 0 and 1 both mean "not empty"
        ),
        hash_size=args.hash_size,
        limits=DecodeLimits(
            max_file_bytes=args.max_file_size, max_pixels=int(args.max_pixels * 1e6)
        ),
        workers=args.workers,
        crop_features=args.crop_tolerant is not False,
    )
    settings = RunSettings(
        # As given (absolute): a symlinked ~/Pictures is shown as ~/Pictures. The actions
        # package resolves roots to real paths itself and compares --keep-in as real paths.
        roots=[os.path.abspath(p) for p in args.paths],
        scan=scan_cfg,
        method=args.method,
        threshold_arg=args.threshold,
        max_distance_arg=args.max_distance,
        match=MatchOptions(
            rotations=not args.no_rotations,
            include_low_detail=args.include_low_detail,
            crop_tolerant=args.crop_tolerant is not False,
            crop_any_size=args.crop_tolerant is True,
            local_edits=args.local_edits,
        ),
        cache_path=args.cache,
        use_cache=not args.no_cache,
        show_skipped=args.show_skipped,
        debug=args.debug,
    )
    if getattr(args, "kinds", None):
        settings.kinds = args.kinds
    if getattr(args, "move_to", None):
        check_move_to(args.move_to, settings.roots)
        settings.move_to = args.move_to
    settings.keep_in = tuple(dict.fromkeys(getattr(args, "keep_in", None) or ()))
    try:
        settings.threshold()
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return settings
