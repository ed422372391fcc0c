"""Command palette (ctrl+p): rescan, method, threshold preset, export, preview mode, links,
auto-mark rules, theme.

Textual builds the provider and hands it a bare ``App``; :class:`PaletteHost` is what the
commands need of ours (the app module imports this one, so this one cannot import it).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from functools import partial
from typing import Any, Protocol, runtime_checkable

from textual.app import App
from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui_dedup.engine.registry import METHODS, PRESETS, Threshold
from tui_dedup.review.result import Result
from tui_dedup.review.session import ReviewSession
from tui_dedup.review.settings import PREVIEW_MODES

#: The link actions the palette offers (symlink has no key of its own): action → (title, help).
LINK_COMMANDS = {
    "hardlink": (
        "Hard link marked exact copies",
        "each marked file becomes a hard link to its byte-identical copy that stays, on the "
        "same filesystem (key L; u undoes)",
    ),
    "symlink": (
        "Symlink marked exact copies",
        "each marked file becomes a symbolic link to its byte-identical copy that stays, on "
        "the same filesystem (u undoes)",
    ),
}


class PreviewSwitch(Protocol):
    """The review screen's preview pane, as the palette switches it."""

    def available(self) -> bool: ...

    def set_mode(self, mode: str) -> None: ...


class ShownReview(Protocol):
    """The review screen, as the palette sees it."""

    @property
    def preview(self) -> PreviewSwitch: ...

    def action_apply(self, action: str) -> None:
        """Plan ``action`` for the marked files, then ask (review_files.FileBatches)."""
        ...

    def action_auto_menu(self) -> None: ...

    def action_bursts(self) -> None: ...


@runtime_checkable
class PaletteHost(Protocol):
    """The app, as the palette's commands use it."""

    session: ReviewSession | None

    def start_scan(self) -> None: ...

    def start_match(self, method: str, threshold: Threshold, *, first: bool = False) -> None: ...

    def review_screen(self) -> ShownReview | None: ...

    def action_show_errors(self) -> None: ...


class DedupCommands(Provider):
    """Every command is (title, help, callback); search and discovery use the same list."""

    def commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        app = self.app
        if not isinstance(app, PaletteHost):
            return []
        out: list[tuple[str, str, Callable[[], object]]] = [
            (
                "Rescan",
                "scan the folders again (unchanged files come from the cache)",
                app.start_scan,
            ),
        ]
        session, review = app.session, app.review_screen()
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
                        partial(export_result, app, session, fmt),
                    )
                )
            for action, (title, what) in LINK_COMMANDS.items():
                out.append((title, what, partial(review.action_apply, action)))
            out.append(
                (
                    "Choose auto-mark rules...",
                    "order the rules that choose which copy each group keeps (key A)",
                    review.action_auto_menu,
                )
            )
            out.append(
                (
                    "Bursts...",
                    "frames of one scene side by side, ranked: keep the best, move the rest (B)",
                    review.action_bursts,
                )
            )
            for mode in PREVIEW_MODES if review.preview.available() else ():
                out.append(
                    (
                        f"Preview: {mode}",
                        "how images are drawn in the preview pane",
                        partial(review.preview.set_mode, mode),
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
        if isinstance(app, PaletteHost) and app.session is not None:
            app.start_match(name, app.session.default_threshold(name))

    def _preset(self, preset: str) -> None:
        app = self.app
        if isinstance(app, PaletteHost) and (s := app.session) is not None:
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


def export_result(app: App[Any], session: ReviewSession, fmt: str) -> None:
    """Export what the review shows (current method, threshold, skips and moves applied)."""
    path = os.path.abspath(time.strftime(f"dedup-tui-%Y%m%d-%H%M%S.{fmt}"))
    _write_export(app, session.export_result(), fmt, path)


def _write_export(app: App[Any], result: Result, fmt: str, path: str) -> None:
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
