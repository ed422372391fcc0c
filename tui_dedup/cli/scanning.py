"""The review pipeline as the headless commands run it: a progress bar and the feature
cache's warnings on stderr (never stdout, which holds the result)."""

from __future__ import annotations

import os
import sys


def _progress_printer(enabled: bool):
    """A rich progress bar on stderr when it is a terminal; nothing otherwise."""
    if not enabled or not sys.stderr.isatty():
        return None, None
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = progress.add_task("discovering", total=None, rate="")

    def on_progress(p) -> None:
        desc = f"{p.stage_number}/3 {p.stage}"
        if p.stage == "discovering":
            progress.update(task, description=desc, completed=p.done, total=None, rate="")
        else:
            rate = f"{p.rate:.0f} img/s" if p.rate else ""
            progress.update(task, description=desc, completed=p.done, total=p.total, rate=rate)

    return progress, on_progress


def run_scan(settings, *, show_progress: bool):
    """The review pipeline for `scan` and `plan`, with a progress bar and the cache's
    warnings on stderr."""
    import gc

    from tui_dedup.engine.matching.pairs import HIST_ALL_PAIRS_LIMIT
    from tui_dedup.engine.registry import METHODS
    from tui_dedup.review import pipeline
    from tui_dedup.stdio import native_stderr_to

    progress, on_progress = _progress_printer(show_progress)
    with native_stderr_to(os.devnull):
        if progress is not None:
            progress.start()
        try:
            scanned = pipeline.scan_library(settings, on_progress=on_progress)
        finally:
            if progress is not None:
                progress.stop()
    # A one-shot process: the 10^5 entries just made live until exit, and every later
    # cyclic collection would walk them again.
    gc.freeze()
    for w in scanned.cache_warnings:
        print(f"dedup-tui: cache: {w}", file=sys.stderr)
    n = len(scanned.result.store)
    if show_progress and METHODS[settings.method].kind == "hist" and n > HIST_ALL_PAIRS_LIMIT:
        print(
            f"dedup-tui: {n} images is more than {HIST_ALL_PAIRS_LIMIT} for "
            f"all-pairs {settings.method}: candidates come from a loose pHash shortlist",
            file=sys.stderr,
        )
    return pipeline.result_of(settings, scanned.result)
