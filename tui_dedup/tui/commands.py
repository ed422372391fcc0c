"""Command palette (ctrl+p): rescan, method, threshold preset, export, preview mode, theme."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui_dedup.engine.registry import METHODS, PRESETS
from tui_dedup.review.settings import PREVIEW_MODES


class DedupCommands(Provider):
    """Every command is (title, help, callback); search and discovery use the same list."""

    def commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        app = self.app
        out: list[tuple[str, str, Callable[[], object]]] = [
            (
                "Rescan",
                "scan the folders again (unchanged files come from the cache)",
                app.start_scan,
            ),
        ]
        session = getattr(app, "session", None)
        review = app.review_screen() if hasattr(app, "review_screen") else None
        if session is not None and review is not None:
            for name, m in METHODS.items():
                out.append(
                    (f"Method: {name}", f"{m.title}: {m.description}", partial(self._method, name))
                )
            for preset in PRESETS:
                out.append(
                    (
                        f"Threshold: {preset}",
                        f"the {preset} preset for {session.method}",
                        partial(self._preset, preset),
                    )
                )
            for fmt in ("json", "csv"):
                out.append(
                    (
                        f"Export {fmt.upper()}",
                        "write the pairs and groups shown to a file here",
                        partial(export_result, app, fmt),
                    )
                )
            for mode in PREVIEW_MODES if review.preview_available() else ():
                out.append(
                    (
                        f"Preview: {mode}",
                        "how images are drawn in the preview pane",
                        partial(review.set_preview_mode, mode),
                    )
                )
        out.append(("Errors", "files the scan could not read", app.action_show_errors))
        for theme in sorted(app.available_themes):
            out.append(
                (f"Theme: {theme}", "change the colours", partial(setattr, app, "theme", theme))
            )
        return out

    def _method(self, name: str) -> None:
        app = self.app
        app.start_match(name, app.session.default_threshold(name))

    def _preset(self, preset: str) -> None:
        app = self.app
        s = app.session
        app.start_match(s.method, s.preset_threshold(s.method, preset))

    async def discover(self) -> Hits:
        for title, help_text, callback in self.commands():
            if not title.startswith("Theme: "):
                yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self.commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)


def export_result(app, fmt: str) -> None:
    """Export what the review shows (current method, threshold, skips and moves applied)."""
    from tui_dedup.review.export import Result

    s = app.session
    result = Result(
        roots=s.roots,
        method=s.method,
        threshold=s.threshold,
        store=s.store,
        pairs=s.pairs,
        groups=s.groups,
        errors=s.result.errors,
        skipped=s.result.skipped,
        cancelled=s.result.cancelled,
    )
    path = os.path.abspath(time.strftime(f"dedup-tui-%Y%m%d-%H%M%S.{fmt}"))
    _write_export(app, result, fmt, path)


def _write_export(app, result, fmt: str, path: str) -> None:
    from tui_dedup.review.export import write
    from tui_dedup.review.export_file import open_output

    def job() -> None:
        with open_output(path) as out:
            write(result, fmt, out)
        app.call_from_thread(
            app.notify, f"wrote {len(result.pairs)} pairs to {path}", title="export"
        )

    app.run_worker(
        job, thread=True, group="export", exit_on_error=False, description=f"export {fmt}"
    )
