"""Issue #13's attacks: the world changes between scan, plan, apply and undo; paths are not
to be trusted; a plan file may be edited. One test per attack, on real files.

Each test states the attack in its docstring and checks the user-visible outcome: which files
are where, with which content, and what the report says.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import batch_dir, entry, files_under, snapshot, write

from tui_dedup.actions import Journal, apply_plan, build_plan, history, undo
from tui_dedup.actions.plan_file import read_plan
from tui_dedup.cli.commands import cmd_apply, cmd_history, cmd_undo
from tui_dedup.demo import make_photo, write_image, write_jpeg


def _same_size_other_content(path: str) -> None:
    """Rewrite ``path`` with other bytes of the same size and put its mtime back (touch -r)."""
    st = os.stat(path)
    data = Path(path).read_bytes()
    Path(path).write_bytes(bytes(b ^ 0x5A for b in data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


# -- 2. "the same" only if path, size and mtime match --------------------------------------


def test_keeper_replaced_by_same_size_file_with_old_mtime_is_refused(photos):
    """Attack: the keeper is replaced after planning by a same-size file with the old mtime;
    the marked copy used to be moved (or deleted: its last copy gone)."""
    root, group = photos
    plan = build_plan([group], {group[1].path}, "delete", allow_delete=True)
    _same_size_other_content(group[0].path)
    before = snapshot(root)
    report = apply_plan(plan, journal=Journal(), confirm="DELETE")
    assert report.done == []
    assert "copy that stays" in report.skipped[0][1]
    assert "content changed" in report.skipped[0][1]
    assert snapshot(root) == before


def test_marked_file_replaced_by_same_size_file_with_old_mtime_is_refused(photos):
    root, group = photos
    plan = build_plan([group], {group[1].path}, "move")
    _same_size_other_content(group[1].path)
    before = snapshot(root)
    report = apply_plan(plan, journal=Journal())
    assert report.done == [] and "content changed" in report.skipped[0][1]
    assert snapshot(root) == before


def test_keeper_folder_swapped_for_symlink_to_the_marked_folder_deletes_nothing(tmp_path):
    """Attack: the folder of keepers is replaced by a symlink to the folder of the marked
    files between plan and apply; apply followed it, the "keepers" were the marked files
    themselves: delete lost 3 of 3."""
    root = tmp_path / "r"
    pairs = []
    for n in range(3):
        data = f"picture {n}".encode() * 50
        k = write(root / "keep" / f"p{n}.jpg", data)
        d = write(root / "dup" / f"p{n}.jpg", data)
        pairs.append([entry(k, root), entry(d, root)])
    plan = build_plan(pairs, {g[1].path for g in pairs}, "delete", allow_delete=True)
    os.rename(root / "keep", tmp_path / "keep.moved-away")
    os.symlink(root / "dup", root / "keep")
    report = apply_plan(plan, journal=Journal(), confirm="DELETE")
    assert report.done == [] and len(report.skipped) == 3
    assert all("symlink" in why for _, why in report.skipped)
    assert sorted(os.listdir(root / "dup")) == ["p0.jpg", "p1.jpg", "p2.jpg"]


def test_keep_in_through_a_symlinked_spelling_still_protects(tmp_path):
    """Attack: --keep-in ~/Pictures/Originals, where ~/Pictures is a symlink to the scanned
    data/Pictures, compared path strings and protected nothing."""
    real = tmp_path / "data" / "Pictures"
    k = write(real / "Originals" / "a.jpg", "a" * 40)
    d = write(real / "Inbox" / "a.jpg", "a" * 40)
    os.symlink(real, tmp_path / "Pictures")
    group = [entry(d, real), entry(k, real)]
    keep = str(tmp_path / "Pictures" / "Originals")
    plan = build_plan([group], {k, d}, "move", keep_in=[keep])
    assert [s.entry.path for s in plan.steps] == [d]
    assert any("keep-in" in r for r in plan.refused)
    # Even an edited plan that lists the reference file again is refused at apply time.
    edited = json.loads(plan.to_json())
    step = json.loads(json.dumps(edited["steps"][0]))
    step["entry"], step["partner"] = step["partner"], step["entry"]
    step["real"], step["partner_real"] = step["partner_real"], step["real"]
    step["digest"], step["partner_digest"] = step["partner_digest"], step["digest"]
    step["sidecars"] = []
    edited["steps"] = [step]
    report = apply_plan(read_plan(json.dumps(edited)), journal=Journal())
    assert report.done == [] and "keep-in" in report.skipped[0][1]
    assert os.path.exists(k)


# -- 3. paths are trusted ---------------------------------------------------------------------


@pytest.mark.parametrize("planted", [".dedup-tui", ".dedup-tui/duplicates"])
def test_planted_quarantine_symlink_to_outside_is_refused(photos, tmp_path, planted):
    """Attack: `.dedup-tui` (or a folder inside the quarantine) planted as a symlink to a place
    outside the root: quarantined files landed outside the root."""
    root, group = photos
    outside = tmp_path / "outside"
    outside.mkdir()
    plan = build_plan([group], {group[1].path}, "move")
    link = root / planted
    link.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(outside, link)
    before = snapshot(root)
    report = apply_plan(plan, journal=Journal())
    assert report.done == [] and report.errors
    assert "symlink" in report.errors[0][1]
    assert files_under(outside) == []
    assert snapshot(root) == before


def _swap_for_symlink(folder: Path, outside: Path) -> None:
    """Replace ``folder`` by a symlink to ``outside`` (which gets the folder's old content)."""
    shutil.rmtree(outside, ignore_errors=True)
    os.rename(folder, outside)
    os.symlink(outside, folder)


def test_scanned_folder_swapped_for_outside_symlink_before_apply(photos, tmp_path):
    """Attack: a scanned sub-folder replaced by a symlink to an outside folder before apply:
    files outside the root were moved in."""
    root, group = photos
    plan = build_plan([group], {group[1].path, group[2].path}, "move")
    outside = tmp_path / "outside"
    _swap_for_symlink(root / "copies", outside)
    before_out = snapshot(outside)
    report = apply_plan(plan, journal=Journal())
    assert snapshot(outside) == before_out
    assert dict(report.skipped)[group[1].path].startswith("a folder on its way is now a symlink")
    assert report.done == [group[2].path]  # the untouched folder still works


def test_scanned_folder_swapped_for_outside_symlink_before_undo(photos, tmp_path):
    """Attack: ... or before undo: files were restored outside the root."""
    root, group = photos
    assert apply_plan(build_plan([group], {group[1].path}, "move"), journal=Journal()).ok
    outside = tmp_path / "outside"
    (root / "copies").mkdir(exist_ok=True)
    _swap_for_symlink(root / "copies", outside)
    report = undo()
    assert not report.ok and "symlink" in report.problems[0]
    assert not (outside / "IMG_1.jpg").exists()
    assert (batch_dir(root) / "copies" / "IMG_1.jpg").read_bytes() == b"copy-one" * 90


# -- an edited plan file is a request, not an order ----------------------------------------


@pytest.fixture
def library(tmp_path, monkeypatch):
    """Real pictures with copies, scanned and planned through the CLI; returns (root, plan)."""
    monkeypatch.setenv("DEDUP_TUI_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "Pictures"
    for n in range(3):
        img = make_photo(500 + n, 320, 240)
        (root / "orig").mkdir(parents=True, exist_ok=True)
        (root / "copies").mkdir(parents=True, exist_ok=True)
        write_jpeg(root / "orig" / f"p{n}.jpg", img, 95)
        write_jpeg(root / "copies" / f"p{n}.jpg", img[::2, ::2].copy(), 70)
    write_image(root / "other.png", make_photo(999, 320, 240))
    from tui_dedup.cli import main

    out = tmp_path / "plan.json"
    rc = main(["plan", str(root), "--auto-select", "-q", "-o", str(out)])
    assert rc == 0
    return root, json.loads(out.read_text())


def _apply_edited(tmp_path, plan: dict, capsys) -> tuple[int, str]:
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(plan))
    rc = cmd_apply(str(path), False, plan.get("confirm_word"))
    captured = capsys.readouterr()
    return rc, captured.out + captured.err


def test_edited_plan_naming_a_file_outside_every_root_is_refused(library, tmp_path, capsys):
    """Attack: an edited plan is obeyed: a file outside every root (a text file) was moved."""
    _root, plan = library
    victim = write(tmp_path / "notes.txt", "my notes")
    step = plan["steps"][0]
    step["entry"]["path"] = step["real"] = victim
    _rc, out = _apply_edited(tmp_path, plan, capsys)
    assert "not a step the planner would make" in out
    assert "edited" in out  # the signature no longer matches
    assert Path(victim).read_text() == "my notes"


def test_edited_plan_destination_is_ignored_and_recomputed(library, tmp_path, capsys):
    """Attack: a `dest` with ../../../ moved a file out of the root."""
    root, plan = library
    for step in plan["steps"]:
        step["dest"] = str(root / ".." / ".." / ".." / "escaped.jpg")
    rc, _out = _apply_edited(tmp_path, plan, capsys)
    assert rc == 0
    assert not (tmp_path.parent.parent / "escaped.jpg").exists()
    moved = files_under(batch_dir(root))
    assert sorted(moved) == sorted(os.path.relpath(s["real"], root) for s in plan["steps"])


def test_edited_plan_where_every_copy_is_removed_is_refused(library, tmp_path, capsys):
    """Attack: `marked: []` with each copy in its own group moved every copy. Here: a step
    that removes the copy another step keeps."""
    root, plan = library
    before = snapshot(root)
    first = plan["steps"][0]
    reverse = json.loads(json.dumps(first))
    for a, b in (("entry", "partner"), ("real", "partner_real"), ("digest", "partner_digest")):
        reverse[a], reverse[b] = reverse[b], reverse[a]
    reverse["sidecars"] = []
    plan["steps"] = [first, reverse]
    rc, out = _apply_edited(tmp_path, plan, capsys)
    assert "itself removed by this plan" in out or "keeps this file" in out
    now = snapshot(root)
    # Of the two copies of that picture at least one is still in place.
    kept = [p for p in (first["real"], first["partner_real"]) if os.path.exists(p)]
    assert kept, (rc, out)
    assert len(now) >= len(before) - 1


def test_edited_delete_plan_with_an_unrelated_keeper_is_refused(library, tmp_path, capsys):
    """Attack: a delete with an unrelated "keeper" deleted both copies of a picture."""
    root, plan = library
    other = str(root / "other.png")
    st = os.stat(other)
    from tui_dedup.actions.fsops import file_digest

    plan["action"] = "delete"
    plan["confirm_word"] = "DELETE"
    step = plan["steps"][0]
    step["action"] = "delete"
    step["irreversible"] = True
    step["partner"] = {
        "path": other,
        "root": str(root),
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "dev": st.st_dev,
        "ino": st.st_ino,
        "ctime_ns": st.st_ctime_ns,
    }
    step["partner_real"] = step["keeper"] = other
    step["partner_digest"] = file_digest(other)
    plan["steps"] = [step]
    rc, out = _apply_edited(tmp_path, plan, capsys)
    assert rc == 0 and "no longer a match" in out
    assert os.path.exists(step["real"])


def test_plan_of_an_older_release_is_refused_with_one_line(tmp_path, capsys):
    path = tmp_path / "old.json"
    path.write_text(json.dumps({"version": 1, "action": "move", "steps": []}))
    assert cmd_apply(str(path), False, None) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "older dedup-tui" in err[0]


@pytest.mark.parametrize(
    "mangle",
    [
        lambda p: p.pop("roots"),
        lambda p: p["steps"][0].pop("partner"),
        lambda p: p["steps"][0]["entry"].update(size="12"),
        lambda p: p.update(action="shred"),
        lambda p: p.update(spec={"method": "phash", "max_distance": -3}),
    ],
)
def test_malformed_plan_is_one_line_never_a_traceback(library, tmp_path, capsys, mangle):
    root, plan = library
    before = snapshot(root)
    mangle(plan)
    rc, out = _apply_edited(tmp_path, plan, capsys)
    assert rc in (1, 2) and "Traceback" not in out
    assert snapshot(root) == before


# -- 5. footguns ----------------------------------------------------------------------------


def test_move_to_inside_the_root_is_never_scanned_again(tmp_path, monkeypatch, capsys):
    """Attack: --move-to a folder inside the scanned root was scanned next time; after a
    second run with another rule every copy sat in the dups folder."""
    monkeypatch.setenv("DEDUP_TUI_CACHE_DIR", str(tmp_path / "cache"))
    from tui_dedup.cli import main

    root = tmp_path / "Pictures"
    img = make_photo(1, 320, 240)
    (root / "a").mkdir(parents=True)
    write_jpeg(root / "a" / "big.jpg", img, 95)
    write_jpeg(root / "a" / "small.jpg", img[::2, ::2].copy(), 70)
    dups = root / "dups"
    assert main(["scan", str(root), "--auto-select", "resolution", "--move-to", str(dups)]) == 0
    assert main(["scan", str(root), "--auto-select", "size", "--move-to", str(dups)]) == 0
    assert (root / "a" / "big.jpg").exists()  # the second run found nothing to pair it with
    capsys.readouterr()
    assert main(["scan", str(root), "--hidden", "--no-default-excludes", "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    names = [p[k] for p in result["pairs"] for k in ("a", "b")]
    assert all("dups" not in n for n in names)
    assert any("destination folder" in s["reason"] for s in result["skipped"])


def test_symlink_action_through_a_symlinked_root_makes_a_link_that_resolves(tmp_path):
    """Attack: a symlink action where the root is reached through a symlinked folder made a
    dangling link."""
    real = tmp_path / "disk" / "photos"
    k = write(real / "keep" / "a.jpg", b"same" * 30)
    d = write(real / "deep" / "er" / "a.jpg", b"same" * 30)
    os.symlink(real, tmp_path / "photos")
    via = tmp_path / "photos"
    group = [entry(via / "keep" / "a.jpg", via), entry(via / "deep" / "er" / "a.jpg", via)]
    assert apply_plan(build_plan([group], {group[1].path}, "symlink"), journal=Journal()).ok
    assert os.path.islink(d) and Path(d).read_bytes() == Path(k).read_bytes()
    assert undo().ok and not os.path.islink(d)


def test_a_later_batch_does_not_move_the_target_of_our_symlink(tmp_path):
    """Attack: a later move batch moved the target of a link we made earlier, leaving it
    dangling."""
    root = tmp_path / "r"
    k = write(root / "k.jpg", b"same" * 30)
    d = write(root / "d.jpg", b"same" * 30)
    group = [entry(k, root), entry(d, root)]
    assert apply_plan(build_plan([group], {d}, "symlink"), journal=Journal()).ok
    other = write(root / "x" / "k.jpg", b"same" * 30)
    later = [entry(other, root), entry(k, root)]
    report = apply_plan(build_plan([later], {k}, "move"), journal=Journal())
    assert report.done == [] and "symlink made by batch" in report.skipped[0][1]
    assert Path(d).read_bytes() == b"same" * 30


# -- 6. a journal line with missing keys or wrong types -------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        {"rec": "batch", "batch": "zz", "time": "yesterday", "action": "move", "steps": 1},
        {"rec": "intent", "batch": "zz", "op": 1, "kind": "move"},
        {"rec": "end", "batch": "zz", "done": "all"},
        {"rec": "undo", "batch": "zz"},
        ["not", "an", "object"],
    ],
)
def test_malformed_journal_lines_cost_only_themselves(photos, line, capsys):
    root, group = photos
    before = snapshot(root)
    assert apply_plan(build_plan([group], {group[1].path}, "move"), journal=Journal()).ok
    with open(Journal().path, "a") as f:
        f.write(json.dumps(line) + "\n")
    assert cmd_history() == 0
    captured = capsys.readouterr()
    assert "move" in captured.out and "not a valid record" in captured.err
    assert cmd_undo(None, False) == 0
    assert snapshot(root) == before
    assert [b.state for b in history()] == ["undone"]


def test_files_reached_through_follow_symlinks_outside_the_roots_are_review_only(tmp_path):
    """Files reached through --follow-symlinks whose real path lies outside every root are
    shown for review, never acted on."""
    root, outside = tmp_path / "r", tmp_path / "elsewhere"
    k = write(root / "k.jpg", b"x" * 40)
    write(outside / "b.jpg", b"x" * 40)
    os.symlink(outside, root / "linked")
    via = str(root / "linked" / "b.jpg")
    plan = build_plan([[entry(k, root), entry(via, root)]], {via}, "move")
    assert plan.steps == []
    assert "review only" in plan.refused[0]
    assert (outside / "b.jpg").exists()


def test_undo_does_not_follow_a_destination_swapped_for_a_symlink(photos, tmp_path):
    """Found by the chaos test: the --move-to folder replaced by a symlink to a folder outside;
    undo of the older batch wrote its lock file through the link before refusing."""
    _root, group = photos
    dest = tmp_path / "usb"
    assert apply_plan(
        build_plan([group], {group[1].path}, "move", move_to=str(dest)), journal=Journal()
    ).ok
    outside = tmp_path / "outside"
    _swap_for_symlink(dest, outside)
    before = snapshot(outside)
    outside_files = files_under(outside)
    report = undo()
    assert not report.ok and "symlink" in report.problems[0]
    assert snapshot(outside) == before and files_under(outside) == outside_files
    assert not (outside / ".dedup-tui").exists()
