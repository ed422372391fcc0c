"""Fixtures for the app tests: a fresh demo library per test and a private state dir."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from tui_dedup.demo import make_demo_library
from tui_dedup.review.settings import RunSettings


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> Path:
    return make_demo_library(tmp_path_factory.mktemp("template") / "Pictures")


@pytest.fixture
def demo_dir(demo_template, tmp_path) -> Path:
    """A copy of the demo library the test may change (moves, undo)."""
    dest = tmp_path / "Pictures"
    shutil.copytree(demo_template, dest)
    return dest


@pytest.fixture(autouse=True)
def state_dir(tmp_path, monkeypatch) -> Path:
    d = tmp_path / "state"
    monkeypatch.setenv("DEDUP_TUI_STATE_DIR", str(d))
    return d


@pytest.fixture
def settings(demo_dir) -> RunSettings:
    return RunSettings(roots=[str(demo_dir)], use_cache=False, preview="none")


def tree_digests(root: Path) -> dict[str, str]:
    """Relative path -> BLAKE2b of every file under ``root`` (our tree lock file left out:
    an apply or undo leaves it in ``.dedup-tui/``, with nothing of the user's in it)."""
    return {
        str(p.relative_to(root)): hashlib.blake2b(p.read_bytes(), digest_size=16).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.relative_to(root).parts != (".dedup-tui", "lock")
    }


async def wait_for_review(app, pilot) -> None:
    """Until the scan and the first match are done and the review screen is up."""
    from tui_dedup.tui.screens.review import ReviewScreen

    for _ in range(200):
        await app.workers.wait_for_complete()
        await pilot.pause()
        review = [s for s in app.screen_stack if isinstance(s, ReviewScreen)]
        if review and not review[0].matching:
            return
    raise AssertionError(f"review screen never came up (screen: {app.screen!r})")


def screen_text(app) -> str:
    """The screen as the SVG screenshot has it, with entities and non-breaking spaces undone."""
    import html

    return html.unescape(app.export_screenshot()).replace("\xa0", " ")


def record_notifications(app) -> list[str]:
    """Every message the app shows as a notification, as text (appended as they come)."""
    shown: list[str] = []
    notify = app.notify

    def record(message, *a, **kw):
        shown.append(str(message))
        return notify(message, *a, **kw)

    app.notify = record
    return shown
