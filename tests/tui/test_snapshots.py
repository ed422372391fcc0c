"""SVG snapshots of the main screens at a fixed size, on the generated demo library.

Textual is pinned to a narrow range because its SVG output changes between releases. When a
change to the UI is intended, regenerate with ``DEDUP_TUI_UPDATE_SNAPSHOTS=1 pytest
tests/tui/test_snapshots.py`` and look at the new files before committing them. On a mismatch
the actual SVG is written next to the expected one (``*.actual.svg``) for a side-by-side look.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest
from conftest import wait_for_review

from tui_dedup.review.settings import RunSettings
from tui_dedup.tui.app import create_app

SNAPSHOTS = Path(__file__).parent / "snapshots"
SIZE = (100, 30)


@pytest.fixture
def settings(demo_dir):
    """The demo library behind a path of fixed length: the header shows the root, and a
    longer pytest-N temp path would shift the title's position in the SVG."""
    holder = tempfile.mkdtemp(prefix="dedup-snap-")
    link = os.path.join(holder, "Pictures")
    os.symlink(demo_dir, link)
    yield RunSettings(roots=[link], use_cache=False, preview="none")
    os.unlink(link)
    os.rmdir(holder)


def _normalise(svg: str, root: str) -> str:
    """Rich names its CSS classes and clip paths after a hash of the content, and the demo
    folder lives in a fresh temp dir: take both out, so the comparison is about what is drawn."""
    return re.sub(r"terminal-\d+", "terminal", svg.replace(root, "/demo/Pictures"))


def _check(name: str, svg: str, root: str) -> None:
    expected = SNAPSHOTS / f"{name}.svg"
    svg = _normalise(svg, root)
    if os.environ.get("DEDUP_TUI_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOTS.mkdir(exist_ok=True)
        expected.write_text(svg)
        return
    if not expected.exists():  # a missing reference is a failure, never a silent pass
        pytest.fail(
            f"snapshot {expected.name} is missing; run with DEDUP_TUI_UPDATE_SNAPSHOTS=1 to make it"
        )
    if expected.read_text() != svg:
        actual = expected.with_suffix(".actual.svg")
        actual.write_text(svg)
        pytest.fail(f"{name} screen differs from {expected} (actual: {actual})")


async def test_review_screen_snapshot(settings):
    app = create_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_review(app, pilot)
        await pilot.press("j", "j", "l", "space")
        await pilot.pause()
        _check("review", app.export_screenshot(), settings.roots[0])


async def test_group_view_snapshot(settings):
    app = create_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_review(app, pilot)
        await pilot.press("g")
        await pilot.pause()
        _check("groups", app.export_screenshot(), settings.roots[0])


async def test_help_screen_snapshot(settings):
    app = create_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_review(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        _check("help", app.export_screenshot(), settings.roots[0])
