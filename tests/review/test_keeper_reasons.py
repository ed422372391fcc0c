"""Why auto-select keeps the copy it keeps, per group: the reason the CLI plan and the app show.

A real library is scanned: a photo in the library with a byte copy in Downloads, and a photo
with a half-size copy in the same folder. HOME and XDG_CONFIG_HOME point into tmp_path, so the
machine's own download folder never takes part.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import pytest

from tui_dedup.demo import make_photo, write_jpeg
from tui_dedup.engine.verdicts.kinds import Kind
from tui_dedup.review.decisions import auto_mark, keeper_reasons, rules_first
from tui_dedup.review.keepers import DEFAULT_RULES
from tui_dedup.review.pipeline import scan_library
from tui_dedup.review.session import ReviewSession
from tui_dedup.review.settings import RunSettings

ZOO = "2021/2021-09 Zoo/IMG_1203.jpg"
DOWNLOADED = "Downloads/IMG_1203 (1).jpg"


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch) -> None:
    home = tmp_path / "home"
    (home / ".config").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("DEDUP_TUI_STATE_DIR", str(tmp_path / "state"))


@pytest.fixture
def library(tmp_path) -> Path:
    root = tmp_path / "lib"
    for rel in (ZOO, DOWNLOADED, "beach/beach.jpg"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
    write_jpeg(root / ZOO, make_photo(3, 640, 480), 92)
    shutil.copyfile(root / ZOO, root / DOWNLOADED)
    beach = make_photo(40, 640, 480)
    write_jpeg(root / "beach/beach.jpg", beach, 92)
    small = cv2.resize(beach, (320, 240), interpolation=cv2.INTER_AREA)
    write_jpeg(root / "beach/beach small.jpg", small, 80)
    write_jpeg(root / "other.jpg", make_photo(999, 480, 360), 90)
    return root


def review_of(root: Path) -> ReviewSession:
    settings = RunSettings(roots=[str(root)], use_cache=False, preview="none")
    session = ReviewSession(settings, scan_library(settings).result)
    session.install(session.compute(session.method, session.threshold))
    return session


def test_each_group_keeper_has_the_reason_its_rules_give(library):
    s = review_of(library)
    rows = s.row_of_path
    zoo, beach = rows[str(library / ZOO)], rows[str(library / "beach/beach.jpg")]
    assert len(s.groups) == 2

    reasons = keeper_reasons(s.store, s.groups, DEFAULT_RULES)

    assert reasons == {
        zoo: "keep: library folder, original name",
        beach: reasons[beach],
    }
    assert reasons[beach].startswith("keep: larger")
    # the same keepers auto-select keeps: everything else in the groups is marked
    marked = auto_mark(s.store, s.pairs, s.groups, DEFAULT_RULES)
    members = {int(m) for g in s.groups for m in g.members}
    assert marked == members - set(reasons)


def test_a_picked_rule_decides_first_and_is_named(library):
    s = review_of(library)
    rows = s.row_of_path
    reasons = keeper_reasons(s.store, s.groups, rules_first("shortest-path"))
    downloaded = rows[str(library / DOWNLOADED)]
    assert reasons[downloaded] == "keep: shorter path"  # fewer folders deep, as asked


def test_keep_in_folder_wins_and_says_so(library):
    s = review_of(library)
    downloaded = s.row_of_path[str(library / DOWNLOADED)]
    reasons = keeper_reasons(s.store, s.groups, DEFAULT_RULES, [str(library / "Downloads")])
    assert reasons[downloaded] == "keep: in a --keep-in folder, shorter path"


def test_the_session_answers_for_the_group_of_a_row(library):
    s = review_of(library)
    rows = s.row_of_path
    zoo, downloaded = rows[str(library / ZOO)], rows[str(library / DOWNLOADED)]
    expected = (zoo, "keep: library folder, original name")
    assert s.keeper_of(downloaded, DEFAULT_RULES) == expected
    assert s.keeper_of(zoo, DEFAULT_RULES) == expected
    assert s.keeper_of(rows[str(library / "other.jpg")], DEFAULT_RULES) is None


def test_the_session_gives_a_pairs_kind_and_evidence(library):
    s = review_of(library)
    rows = s.row_of_path
    zoo, downloaded = rows[str(library / ZOO)], rows[str(library / DOWNLOADED)]
    beach = rows[str(library / "beach/beach.jpg")]
    small = rows[str(library / "beach/beach small.jpg")]

    found = s.verdict_of(downloaded, zoo)  # either order
    assert found is not None and found[0] == Kind.EXACT
    found = s.verdict_of(beach, small)
    assert found is not None and found[0] == Kind.REENCODED
    assert int(found[1]["pdq"]) >= 0  # the 256-bit hash was measured
    assert s.verdict_of(zoo, beach) is None  # no pair
