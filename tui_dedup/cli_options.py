"""The options every scanning command shares, and their translation into RunSettings.

Why apart from cli.py: the TUI, ``scan`` and ``plan`` parse the same options and must
validate them the same way; cli.py keeps the commands themselves (dispatch, running, output).
Nothing heavy is imported here at module level: ``--help`` must stay instant on a server.
"""

from __future__ import annotations

import argparse
import os


class UsageError(Exception):
    """Bad arguments: one line on stderr, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not argparse's two
        raise UsageError(message)


def _size(text: str) -> int:
    """'500', '200k', '3M', '1G' → bytes."""
    t = text.strip().lower().removesuffix("b")
    mult = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}.get(t[-1:], 1)
    try:
        return int(float(t[:-1] if mult > 1 else t) * mult)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r}") from None


def _threshold(text: str) -> str | float:
    from tui_dedup.engine.registry import PRESETS

    if text in PRESETS:
        return text
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected {', '.join(PRESETS)} or a similarity in [0, 1], not {text!r}"
        ) from None
    if not 0.0 <= v <= 1.0:
        raise argparse.ArgumentTypeError(f"similarity must be within [0, 1], not {v}")
    return v


def add_scan_options(p: argparse.ArgumentParser, *, paths_required: bool = True) -> None:
    """Options shared by the TUI and every subcommand that scans."""
    from tui_dedup.engine.discover import DEFAULT_EXCLUDES
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
        type=int,
        default=None,
        metavar="BITS",
        help="for hash methods: the largest Hamming distance that still matches",
    )
    g.add_argument(
        "--hash-size",
        type=int,
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
        default=False,
        help="also pair copies cropped by 10-20 %%: check each file's nearest neighbours by "
        "colour with local keypoints (ORB + RANSAC) and a dense search of one picture inside "
        "the other; decodes candidates again, several times slower (default: off)",
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
        type=_size,
        default=1,
        metavar="BYTES",
        help="ignore files smaller than this (e.g. 20k)",
    )
    d.add_argument(
        "--max-file-size",
        type=_size,
        default=1 << 30,
        metavar="BYTES",
        help="refuse files larger than this without reading them (default 1G)",
    )
    d.add_argument(
        "--max-pixels",
        type=float,
        default=250.0,
        metavar="MP",
        help="refuse images above this many megapixels, checked from the header "
        "before decoding (default 250)",
    )
    d.add_argument(
        "--workers",
        type=int,
        default=0,
        metavar="N",
        help="reader/decoder threads (default: two per core)",
    )
    c = p.add_argument_group("cache")
    c.add_argument(
        "--cache",
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
    p.add_argument("--debug", action="store_true", help="show tracebacks for errors")


def settings_from_args(args: argparse.Namespace):
    """argparse namespace → RunSettings (validated; a bad combination is a UsageError)."""
    from tui_dedup.engine.decode import DecodeLimits
    from tui_dedup.engine.discover import DiscoverOptions
    from tui_dedup.engine.match import MatchOptions
    from tui_dedup.engine.registry import METHODS
    from tui_dedup.engine.scan import ScanConfig
    from tui_dedup.settings import RunSettings

    if not 4 <= args.hash_size <= 16:
        raise UsageError("--hash-size must be between 4 and 16")
    if args.max_distance is not None and METHODS[args.method].kind != "hash":
        raise UsageError(f"--max-distance applies to hash methods, not {args.method}")
    for path in args.paths:
        if not os.path.exists(path):
            raise UsageError(f"{path}: no such folder")
        if not os.path.isdir(path):
            raise UsageError(f"{path}: not a folder")
    scan_cfg = ScanConfig(
        discover=DiscoverOptions(
            excludes=tuple(args.exclude),
            default_excludes=not args.no_default_excludes,
            hidden=args.hidden,
            follow_symlinks=args.follow_symlinks,
            min_size=max(1, args.min_size),
        ),
        hash_size=args.hash_size,
        limits=DecodeLimits(
            max_file_bytes=args.max_file_size, max_pixels=int(args.max_pixels * 1e6)
        ),
        workers=max(0, args.workers),
    )
    settings = RunSettings(
        roots=[os.path.abspath(p) for p in args.paths],
        scan=scan_cfg,
        method=args.method,
        threshold_arg=args.threshold,
        max_distance_arg=args.max_distance,
        match=MatchOptions(
            rotations=not args.no_rotations,
            include_low_detail=args.include_low_detail,
            crop_tolerant=args.crop_tolerant,
            local_edits=args.local_edits,
        ),
        cache_path=args.cache,
        use_cache=not args.no_cache,
        show_skipped=args.show_skipped,
        debug=args.debug,
    )
    try:
        settings.threshold()
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return settings
