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


def test_the_key_does_not_depend_on_the_order_of_rows(tmp_path) -> None:
    """A store loaded from the cache lists files in another order than the scan that made it:
    the same two files under the same transform (seen from the other side) keep their key."""
    import numpy as np

    from tui_dedup.engine.cache.verdicts import VerdictCache
    from tui_dedup.engine.index.hamming import DIHEDRAL_INVERSE
    from tui_dedup.engine.model import Pairs

    root = tmp_path / "Scans"
    root.mkdir()
    cv2.imwrite(str(root / "a.png"), statement(1))
    cv2.imwrite(str(root / "b.png"), statement(2))
    store = scan_library(RunSettings([str(root)], use_cache=False)).result.store
    vc = VerdictCache(str(tmp_path / "v.sqlite"))

    def key(i: int, j: int, t: int) -> bytes:
        p = Pairs(
            *(np.array([x]) for x in (i, j, 0, 1.0)), np.array([t], np.int8), np.array([False])
        )
        return vc.keys(store, p, np.array([0]))[0]

    for t in range(8):
        assert key(0, 1, t) == key(1, 0, DIHEDRAL_INVERSE[t])
    assert key(0, 1, 1) != key(0, 1, 3)
