"""History, interrupted batches, the CLI handlers, and the headless guarantee."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import batch_dir, snapshot

from tui_dedup.actions import Journal, apply_plan, build_plan, history, undo, undo_all
from tui_dedup.cli.commands import cmd_apply, cmd_history, cmd_undo


def test_history_states(photos):
    _root, group = photos
    apply_plan(build_plan([group], {group[1].path}, "move"), journal=Journal())
    apply_plan(build_plan([group], {group[2].path}, "trash"), journal=Journal())
    assert [(b.action, b.state, b.done) for b in history()] == [
        ("move", "complete", 1),
        ("trash", "complete", 1),
    ]
    undo()
    assert [b.state for b in history()] == ["complete", "undone"]


def test_undo_all_and_refusal_to_overwrite_something_new(photos):
    root, group = photos
    before = snapshot(root)
    apply_plan(build_plan([group], {group[1].path}, "move"), journal=Journal())
    apply_plan(build_plan([group], {group[2].path}, "move"), journal=Journal())
    os.makedirs(os.path.dirname(group[2].path), exist_ok=True)  # the batch removed it, emptied
    with open(group[2].path, "w") as f:
        f.write("a new file the user saved here since")
    report = undo_all()
    assert not report.ok
    assert any(group[2].path in p and "exists again" in p for p in report.problems)
    assert Path(group[2].path).read_text() == "a new file the user saved here since"
    assert os.path.exists(batch_dir(root) / "whatsapp" / "IMG-1 small.jpg")
    assert snapshot(root)["copies/IMG_1.jpg"] == before["copies/IMG_1.jpg"]


def test_cmd_apply_undo_history(photos, tmp_path, capsys):
    root, group = photos
    before = snapshot(root)
    plan_path = tmp_path / "plan.json"
    plan_path.write_text(build_plan([group], {group[1].path}, "move").to_json())
    assert cmd_apply(str(plan_path), True, None) == 0
    assert snapshot(root) == before and "would act on: 1 file" in capsys.readouterr().out
    assert cmd_apply(str(plan_path), False, None) == 0
    assert not os.path.exists(group[1].path)
    assert cmd_history() == 0
    assert "move" in capsys.readouterr().out
    assert cmd_undo(None, False) == 0
    assert snapshot(root) == before
    assert cmd_undo("nope", False) == 1
    assert "no batch 'nope'" in capsys.readouterr().err
    assert cmd_undo("x", True) == 2
    assert cmd_apply(str(tmp_path / "missing.json"), False, None) == 2


def test_cmd_apply_delete_needs_confirm_word(photos, tmp_path, capsys):
    _root, group = photos
    plan_path = tmp_path / "plan.json"
    plan_path.write_text(
        build_plan([group], {group[1].path}, "delete", allow_delete=True).to_json()
    )
    assert cmd_apply(str(plan_path), False, None) == 2
    assert "--confirm DELETE" in capsys.readouterr().err
    assert cmd_apply(str(plan_path), False, "delete") == 2
    assert os.path.exists(group[1].path)
    assert cmd_apply(str(plan_path), False, "DELETE") == 0
    assert not os.path.exists(group[1].path)
    assert "cannot be undone" in capsys.readouterr().out.lower()


def test_interrupted_batch_is_reported_by_the_cli(tmp_path, capsys):
    j = Journal()
    from tui_dedup.actions.records import BatchStart

    j.append(BatchStart("b1", 1.0, "move", 1))
    plan_path = tmp_path / "plan.json"
    plan_path.write_text(build_plan([], set(), "move").to_json())
    cmd_apply(str(plan_path), True, None)
    assert "batch b1 (move) was interrupted" in capsys.readouterr().err


def test_actions_package_is_headless():
    code = (
        "import sys, tui_dedup.actions, tui_dedup.cli.commands;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_no_other_package_trashes_links_or_moves_user_files():
    """Only tui_dedup/actions may call the file-changing APIs we rely on for safety."""
    import tui_dedup

    pkg = os.path.dirname(tui_dedup.__file__)
    needles = ("send2trash", "shutil.move", "os.link(", "os.symlink(")
    offenders = []
    for d, _dirs, files in os.walk(pkg):
        if os.path.join(pkg, "actions") in d + os.sep and d.startswith(
            os.path.join(pkg, "actions")
        ):
            continue
        for f in files:
            if f.endswith(".py"):
                text = Path(d, f).read_text(encoding="utf-8")
                offenders += [f"{f}: {n}" for n in needles if n in text]
    assert offenders == []
