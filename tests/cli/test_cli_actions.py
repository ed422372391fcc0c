"""plan → apply → history → undo from the command line, checked on the files on disk."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from cli_helpers import digests, in_batch, make_odd_library, small_pair_library

from tui_dedup.actions import SkipStore, file_digest


def relset(paths, root: Path) -> set[bytes]:
    return {os.path.relpath(os.fsencode(p), os.fsencode(root)) for p in paths}


def write_plan(cli, root: Path, plan_file: Path, *extra) -> dict:
    r = cli("plan", root, "-q", "-o", plan_file, *extra)
    assert r.rc == 0, r.err
    assert r.out == b""  # the plan went to the file
    return json.loads(plan_file.read_bytes())


def test_plan_apply_history_undo_round_trip(cli, demo, demo_json, demo_master, tmp_path):
    before = digests(demo)
    plan_file = tmp_path / "plan.json"
    plan = write_plan(cli, demo, plan_file)
    moved = relset((s["entry"]["path"] for s in plan["steps"]), demo)
    assert moved, "the demo library has copies to move"
    assert digests(demo) == before, "writing a plan changes nothing"

    r = cli("apply", plan_file)
    assert r.rc == 0, r.err
    batch = re.search(r"batch (\d{8}-\d{6}-[0-9a-f]+)", r.text).group(1)
    after = digests(demo)
    quarantine = in_batch(demo)
    assert batch in quarantine.name
    assert set(after) == set(before) - moved
    assert all(after[k] == before[k] for k in after), "files left in place are untouched"
    assert digests(quarantine) == {k: before[k] for k in moved}, "moved byte-for-byte"
    for group in demo_json["groups"]:
        assert relset(group, demo_master) - moved, f"a whole group was moved away: {group}"

    r = cli("history")
    assert r.rc == 0
    (line,) = [ln for ln in r.text.splitlines() if ln.startswith(batch)]
    assert "move" in line and f"done {len(moved)}" in line

    r = cli("undo")
    assert r.rc == 0, r.err
    assert digests(demo) == before
    assert digests(quarantine) == {}
    assert "undone" in cli("history").text


def test_apply_dry_run_changes_nothing(cli, demo, tmp_path):
    plan_file = tmp_path / "plan.json"
    plan = write_plan(cli, demo, plan_file)
    before = digests(demo, skip_quarantine=False)
    r = cli("apply", plan_file, "--dry-run")
    assert r.rc == 0, r.err
    assert str(len(plan["steps"])) in r.text
    assert digests(demo, skip_quarantine=False) == before
    assert cli("undo").text.strip() == "nothing to undo"


def test_apply_of_a_missing_plan_is_a_usage_error(cli, tmp_path):
    r = cli("apply", tmp_path / "nope.json")
    assert r.rc == 2
    assert "nope.json" in r.err and len(r.err_lines) == 1


def test_history_and_undo_with_nothing_done(cli):
    r = cli("history")
    assert (r.rc, r.text.strip()) == (0, "no actions recorded yet")
    r = cli("undo")
    assert (r.rc, r.text.strip()) == (0, "nothing to undo")


def test_one_shot_scan_moves_into_the_given_folder(cli, demo, tmp_path):
    other = tmp_path / "quarantine"
    before = digests(demo)
    r = cli("scan", demo, "--auto-select", "resolution,size", "--move-to", other)
    assert r.rc == 0, r.err
    assert "done:" in r.text
    after = digests(demo)
    moved = set(before) - set(after)
    assert moved
    # files keep OTHER/<date time move batch>/<root name>/<relative path>
    assert digests(in_batch(other)) == {os.path.join(b"Pictures", k): before[k] for k in moved}
    assert digests(demo / ".dedup-tui", skip_quarantine=False) == {}
    assert cli("undo").rc == 0
    assert digests(demo) == before


def test_one_shot_dry_run_changes_nothing(cli, demo, tmp_path):
    before = digests(demo, skip_quarantine=False)
    r = cli("scan", demo, "--auto-select", "resolution", "--dry-run")
    assert r.rc == 0, r.err
    assert digests(demo, skip_quarantine=False) == before


def test_keep_in_folder_is_never_touched(cli, demo, tmp_path):
    keep = demo / "phone" / "WhatsApp Images"
    kept_before = digests(keep)
    before = digests(demo)
    r = cli("scan", demo, "--auto-select", "resolution,size", "--keep-in", keep)
    assert r.rc == 0, r.err
    assert digests(keep) == kept_before
    moved = set(before) - set(digests(demo))
    assert moved, "copies outside the reference folder are still moved"
    assert not any(m.startswith(b"phone/WhatsApp Images/") for m in moved)


def test_unknown_rule_is_a_usage_error(cli, tmp_path):
    r = cli("scan", tmp_path, "--auto-select", "prettiest")
    assert r.rc == 2
    assert "prettiest" in r.err and len(r.err_lines) == 1


def test_odd_names_survive_plan_apply_undo(cli, tmp_path):
    root = tmp_path / "odd"
    made = make_odd_library(root)
    before = digests(root)
    plan_file = tmp_path / "plan.json"
    plan = write_plan(cli, root, plan_file)
    planned = {os.fsencode(s["entry"]["path"]) for s in plan["steps"]}
    assert planned and planned < made
    assert cli("apply", plan_file).rc == 0
    assert set(digests(root)) == set(before) - relset(planned, root)
    assert set(digests(in_batch(root))) == relset(planned, root)
    assert cli("undo").rc == 0
    assert digests(root) == before


def test_a_skipped_pair_is_not_reported_or_planned(cli, tmp_path):
    lib = tmp_path / "lib"
    fams = small_pair_library(lib, families=2)
    shown = cli("scan", lib, "--format", "json", "-q").json()
    assert len(shown["pairs"]) == 2

    a, b = fams["family0"]
    SkipStore().add(file_digest(str(a)), file_digest(str(b)))
    d = cli("scan", lib, "--format", "json", "-q").json()
    assert [(p["a"], p["b"]) for p in d["pairs"]] == [
        (str(p), str(q)) for p, q in [sorted(fams["family1"], key=str)]
    ]
    assert all(str(a) not in g for g in d["groups"])

    # keyed by content: renaming the files does not bring the pair back
    a.rename(a.with_name("renamed original.jpg"))
    d = cli("scan", lib, "--format", "json", "-q").json()
    assert len(d["pairs"]) == 1

    plan = write_plan(cli, lib, tmp_path / "plan.json")
    planned = [s["entry"]["path"] for s in plan["steps"]]
    assert len(planned) == 1 and "family1" in planned[0]


# ---------------------------------------------------------------------------------------------
# Permanent delete is never done by accident


def test_delete_needs_allow_delete(cli, tmp_path):
    lib = tmp_path / "lib"
    small_pair_library(lib, families=1)
    before = digests(lib)
    for argv in (("plan", lib), ("scan", lib, "--auto-select", "resolution")):
        r = cli(*argv, "--action", "delete")
        assert r.rc == 2
        assert len(r.err_lines) == 1 and "--allow-delete" in r.err
        assert "Traceback" not in r.err and "PlanError" not in r.err
    assert digests(lib) == before


def test_delete_plan_needs_the_confirmation_word(cli, tmp_path):
    lib = tmp_path / "lib"
    small_pair_library(lib, families=1)
    before = digests(lib)
    plan_file = tmp_path / "delete.json"
    plan = write_plan(cli, lib, plan_file, "--action", "delete", "--allow-delete")
    assert len(plan["steps"]) == 1
    for extra in ((), ("--confirm", "yes")):
        r = cli("apply", plan_file, *extra)
        assert r.rc == 2
        assert "--confirm DELETE" in r.err or "expected DELETE" in r.err
        assert digests(lib) == before
    r = cli("apply", plan_file, "--confirm", "DELETE")
    assert r.rc == 0, r.err
    assert set(digests(lib)) == set(before) - relset([plan["steps"][0]["entry"]["path"]], lib)


def test_one_shot_delete_without_a_terminal_refuses(cli, tmp_path):
    lib = tmp_path / "lib"
    small_pair_library(lib, families=1)
    before = digests(lib)
    r = cli("scan", lib, "--auto-select", "resolution", "--action", "delete", "--allow-delete")
    assert r.rc == 2
    assert "terminal" in r.err_lines[-1]
    assert digests(lib) == before


def test_undo_batch_and_all_together_is_a_usage_error(cli):
    r = cli("undo", "20240101-000000-0000", "--all")
    assert r.rc == 2 and len(r.err_lines) == 1


# ---------------------------------------------------------------------------------------------
# eval


def test_eval_scores_a_scan_against_ground_truth(cli, tmp_path):
    lib = tmp_path / "lib"
    small_pair_library(lib, families=2)
    files = []
    for k in range(2):
        files.append({"path": f"family{k}/original.jpg", "family": f"f{k}", "kind": "original"})
        files.append({"path": f"family{k}/copy small.jpg", "family": f"f{k}"})
    # truth paths are relative to the truth file's folder
    (lib / "truth.json").write_text(json.dumps({"version": 1, "files": files}))
    scan = tmp_path / "scan.json"
    assert cli("scan", lib, "--format", "json", "-q", "-o", scan).rc == 0
    r = cli("eval", scan, lib / "truth.json")
    assert r.rc == 0, r.err
    text = r.text.lower()
    assert re.search(r"precision\W+1(\.0+)?\b", text), text
    assert re.search(r"recall\W+1(\.0+)?\b", text), text
