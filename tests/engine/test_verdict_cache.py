"""Remembered verdicts: a pixel check is paid once per pair, not once per scan.

Statements of one layout always need the pixel check (grey pictures). The second run must not
decode them again — also after a ``chmod -R`` (every ctime moves, no content changes) — while
a rewritten file is checked again.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import pytest
from verdict_images import statement

import tui_dedup.engine.verdicts.pixels as pixels
from tui_dedup.demo import write_jpeg
from tui_dedup.engine.verdicts.kinds import Kind
from tui_dedup.review.pipeline import match_library, scan_library
from tui_dedup.review.settings import RunSettings


@pytest.fixture
def decoded(monkeypatch) -> list[str]:
    seen: list[str] = []
    real = pixels.working_image

    def counting(entry, limits=None):
        seen.append(os.path.basename(entry.path))
        return real(entry, limits)

    monkeypatch.setattr(pixels, "working_image", counting)
    return seen


def run(root: Path, cache: Path) -> dict[frozenset[str], int]:
    settings = RunSettings([str(root)], threshold_arg="loose", cache_path=str(cache))
    store = scan_library(settings).result.store
    pairs = match_library(store, settings, settings.method, settings.threshold())
    assert pairs.kind is not None
    names = [os.path.basename(e.path) for e in store.entries]
    return {
        frozenset((names[i], names[j])): k
        for i, j, k in zip(pairs.i.tolist(), pairs.j.tolist(), pairs.kind.tolist(), strict=True)
    }


def test_pixel_checks_are_remembered_across_runs_and_a_chmod(tmp_path, decoded) -> None:
    root, cache = tmp_path / "Scans", tmp_path / "cache" / "features.sqlite"
    root.mkdir()
    for month in range(3):
        cv2.imwrite(str(root / f"statement_{month}.png"), statement(month))
    write_jpeg(root / "statement_0 (1).jpg", statement(0), 90)
    first = run(root, cache)
    assert first[frozenset(("statement_0.png", "statement_0 (1).jpg"))] == Kind.REENCODED
    assert decoded, "the first run checks the pixels"
    decoded.clear()
    assert run(root, cache) == first and decoded == []
    for f in root.iterdir():
        f.chmod(0o640)  # every ctime moves; no content does
    assert run(root, cache) == first and decoded == []


def test_a_rewritten_file_is_checked_again(tmp_path, decoded) -> None:
    root, cache = tmp_path / "Scans", tmp_path / "cache" / "features.sqlite"
    root.mkdir()
    cv2.imwrite(str(root / "statement_0.png"), statement(0))
    write_jpeg(root / "statement_0 (1).jpg", statement(0), 90)
    assert run(root, cache)[frozenset(("statement_0.png", "statement_0 (1).jpg"))] == Kind.REENCODED
    decoded.clear()
    write_jpeg(root / "statement_0 (1).jpg", statement(7), 90)  # another month, same name
    after = run(root, cache)
    assert "statement_0 (1).jpg" in decoded
    assert after.get(frozenset(("statement_0.png", "statement_0 (1).jpg"))) != Kind.REENCODED
