"""``dedup-tui bursts PATH...``: the bursts in folders, each frame ranked by sharpness and
exposure, as JSON or text (never a change to a file).

The work is review/bursts.py's (scan → match → verdicts → bursts, the same stages as
``scan``); here: the options, a progress bar and warnings on stderr, the output. Exit status as
every command: 0 done (per-file errors are in the output), 1 failure, 2 bad arguments, 130
interrupted.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from tui_dedup.cli.exits import EXIT_INTERRUPTED, EXIT_OK
from tui_dedup.cli.options import _Parser, add_scan_options, settings_from_args

if TYPE_CHECKING:
    from tui_dedup.engine.bursts.rank import RankedFrame
    from tui_dedup.review.bursts import Bursts


def bursts_parser() -> _Parser:
    p = _Parser(
        prog="dedup-tui bursts",
        description="Find bursts (frames of one scene a fraction of a second to a few seconds "
        "apart, from one camera, that the verdicts call similar shots) and rank each burst's "
        "frames by sharpness and exposure. Copies of a frame are duplicates, not frames: "
        "`dedup-tui scan` lists them (--kinds does not apply here). Nothing is marked or moved.",
    )
    add_scan_options(p)
    p.add_argument(
        "--format",
        choices=("json", "text"),
        default="text",
        help="output format (default text: one block per burst, best frame first)",
    )
    p.add_argument(
        "-o",
        "--output",
        default="-",
        metavar="FILE",
        help="write the result here instead of stdout",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress or summary on stderr")
    return p


def _clock(taken: float | None, subsec: int | None) -> str:
    if taken is None:
        return "?"
    text = datetime.fromtimestamp(taken).strftime("%Y-%m-%d %H:%M:%S")
    return text + (f".{subsec:03d}" if subsec is not None else "")


def _frame_line(b: Bursts, f: RankedFrame) -> str:
    meta = b.store.metas[f.row]
    path = b.store.entries[f.row].path
    when = _clock(meta.taken, meta.subsec_ms)
    if f.rank is None or f.exposure is None or f.sharpness is None:
        return f"   -  unreadable{' ' * 56}{when}  {path}"
    e = f.exposure
    return (
        f"  {f.rank:2d}  sharpness {f.sharpness:5.3f}  clipped {e.clipped * 100:4.1f}%  "
        f"crushed {e.crushed * 100:4.1f}%  level {e.level:+5.1f} EV  {when}  {path}"
    )


def text_lines(b: Bursts) -> Iterator[str]:
    """One block per burst: a heading, then its frames best first."""
    for n, burst in enumerate(b.bursts, 1):
        first = b.store.metas[burst.frames[0].row]
        best = burst.best
        yield (
            f"burst {n}: {len(burst.frames)} frames, {first.camera or 'unknown camera'}, "
            f"{_clock(first.taken, first.subsec_ms)}; best: "
            f"{b.store.entries[best.row].path if best is not None else '-'}\n"
        )
        for f in burst.by_rank():
            yield _frame_line(b, f) + "\n"
        yield "\n"


def render(b: Bursts, fmt: str) -> bytes:
    """The whole output (a burst document is small: a few lines per frame)."""
    if fmt == "json":
        from tui_dedup.review.bursts import to_dict

        text = json.dumps(to_dict(b), indent=1, ensure_ascii=False) + "\n"
        # a name that is not UTF-8 holds lone surrogates: written as \udcXX, which json.loads
        # turns back into the same surrogate (as the scan's JSON does)
        return text.encode("utf-8", "backslashreplace")
    return "".join(text_lines(b)).encode("utf-8", "surrogateescape")


def bursts_with_progress(settings, *, quiet: bool = False) -> Bursts:  # settings: RunSettings
    """find_bursts with the scan's progress bar and a ranking bar on stderr, and the cache's
    warnings printed (``bursts`` and ``plan --auto-select best-of-burst``)."""
    from tui_dedup.cli.scanning import _progress_printer
    from tui_dedup.review.bursts import find_bursts
    from tui_dedup.stdio import native_stderr_to

    progress, on_progress = _progress_printer(not quiet)
    on_rank: Callable[[int, int], None] | None = None
    if progress is not None:
        task = progress.add_task("ranking frames", total=None, rate="", visible=False)

        def rank_step(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total, visible=True)

        on_rank = rank_step

    with native_stderr_to(os.devnull):
        if progress is not None:
            progress.start()
        try:
            found = find_bursts(settings, on_progress=on_progress, on_rank=on_rank)
        finally:
            if progress is not None:
                progress.stop()
    for w in found.cache_warnings:
        print(f"dedup-tui: cache: {w}", file=sys.stderr)
    return found


def cmd_bursts(argv: Sequence[str]) -> int:
    args = bursts_parser().parse_args(argv)
    settings = settings_from_args(args)
    from tui_dedup.review.export_file import open_output

    found = bursts_with_progress(settings, quiet=args.quiet)
    with open_output(args.output) as out:
        out.write(render(found, args.format))
    if not args.quiet:
        for e in found.errors:
            print(f"dedup-tui: {e.path!r}: {e.reason}", file=sys.stderr)
        frames = sum(len(x.frames) for x in found.bursts)
        print(
            f"dedup-tui: {len(found.store)} images, {len(found.bursts)} bursts of {frames} "
            f"frames, {len(found.errors)} errors"
            + (" — interrupted, partial result" if found.cancelled else ""),
            file=sys.stderr,
        )
    return EXIT_INTERRUPTED if found.cancelled else EXIT_OK
