"""The plan says which copy each group keeps and why, before the files it would move."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tui_dedup.demo import make_photo, write_jpeg

ZOO = "2021/2021-09 Zoo/IMG_1203.jpg"
DOWNLOADED = "Downloads/IMG_1203 (1).jpg"
KEEP_LINE = f"  keep  {ZOO}  (keep: library folder, original name)"


@pytest.fixture
def library(tmp_path, monkeypatch) -> Path:
    """The camera original in the library, its byte copy in Downloads, one unrelated photo."""
    home = tmp_path / "home"  # the machine's own download folder never takes part
    (home / ".config").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    root = tmp_path / "Pictures"
    for rel in (ZOO, DOWNLOADED):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
    write_jpeg(root / ZOO, make_photo(3, 640, 480), 92)
    shutil.copyfile(root / ZOO, root / DOWNLOADED)
    write_jpeg(root / "other.jpg", make_photo(9, 480, 360), 90)
    return root


def test_plan_prints_the_keeper_and_its_reason(cli, library, tmp_path):
    plan_file = tmp_path / "plan.json"
    r = cli("plan", library, "-q", "-o", plan_file)
    assert r.rc == 0, r.err
    lines = r.err_lines
    assert lines[:2] == ["Keepers: 1 group(s), the copy each keeps and why:", KEEP_LINE]
    assert lines[2].startswith("Plan: move")  # the keepers come first, then the plan
    assert any(DOWNLOADED in line for line in lines[3:])

    plan = json.loads(plan_file.read_bytes())  # the plan file itself is as before
    [step] = plan["steps"]
    assert step["entry"]["path"] == str(library / DOWNLOADED)


def test_one_shot_scan_prints_it_too(cli, library):
    r = cli("scan", library, "--auto-select", "--dry-run", "-q")
    assert r.rc == 0, r.err
    assert KEEP_LINE in r.text.splitlines()


def test_nothing_to_move_prints_no_keepers(cli, library):
    (library / DOWNLOADED).unlink()
    r = cli("plan", library, "-q", "-o", "-")
    assert r.rc == 0, r.err
    assert not any(line.startswith("Keepers") for line in r.err_lines)
