"""The review session and the verdicts: what `+`/`-` shows at once, what auto-select may mark.

Statements of one layout are grey pictures, which only the pixel check may call copies: the
quick answer (stored evidence only) shows them as unconfirmed, auto-select leaves them alone,
and the full answer drops them as different pictures while keeping the real copy.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import pytest

from tui_dedup.demo import write_jpeg
from tui_dedup.engine.verdicts.kinds import Kind
from tui_dedup.review.keepers import DEFAULT_RULES
from tui_dedup.review.pipeline import scan_library
from tui_dedup.review.session import ReviewSession
from tui_dedup.review.settings import RunSettings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from verdict_images import statement


@pytest.fixture
def session(tmp_path) -> ReviewSession:
    root = tmp_path / "Scans"
    root.mkdir()
    for month in range(3):
        cv2.imwrite(str(root / f"statement_{month}.png"), statement(month))
    write_jpeg(root / "statement_0 (1).jpg", statement(0), 90)
    settings = RunSettings([str(root)], threshold_arg="loose", use_cache=False)
    return ReviewSession(settings, scan_library(settings).result)


def names(s: ReviewSession, rows) -> set[str]:
    return {Path(s.entries[int(r)].path).name for r in rows}


def test_the_quick_answer_leaves_uncertain_pairs_unconfirmed_and_unmarked(session) -> None:
    s = session
    quick = s.compute(s.method, s.threshold, quick=True)
    assert quick.quick and quick.unconfirmed() == len(quick.pairs) > 0
    s.install(quick)
    assert s.auto_marks(DEFAULT_RULES) == set()  # never auto-selected
    assert s.groups == []  # groups are made of copies only


def test_the_full_answer_keeps_the_copy_and_drops_the_other_statements(session) -> None:
    s = session
    full = s.compute(s.method, s.threshold)
    assert not full.quick and full.unconfirmed() == 0
    s.install(full)
    shown = {frozenset(names(s, (i, j))) for i, j in zip(s.pairs.i, s.pairs.j, strict=True)}
    assert shown == {frozenset(("statement_0.png", "statement_0 (1).jpg"))}
    assert s.pairs.kind is not None and set(s.pairs.kind.tolist()) == {Kind.REENCODED}
    # the library's PNG is kept, its download goes
    assert names(s, s.auto_marks(DEFAULT_RULES)) == {"statement_0 (1).jpg"}
