"""Folders a batch empties: removed after it (only those, never anything else), journaled, and
recreated by undo with their mode and times before the files go back."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from conftest import entry, exdev_for, snapshot, write

from tui_dedup.actions import Journal, apply_plan, build_plan, history, interrupted_batches, undo
from tui_dedup.actions import records as R
from tui_dedup.actions.plan_file import read_plan


class Crash(BaseException):
    """Not an Exception: nothing in apply may catch it, like a kill."""


def _mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def _library(tmp_path, *, umask: int | None = None):
    """root/keep/k.jpg stays; root/2019/trip/a.jpg (+ sidecar) and root/b/b.jpg are copies.

    ``2019`` holds only ``trip``; both have modes other than the default, and old times."""
    root = tmp_path / "photos"
    k = write(root / "keep" / "k.jpg", b"K" * 300)
    a = write(root / "2019" / "trip" / "a.jpg", b"A" * 200)
    write(root / "2019" / "trip" / "a.jpg.xmp", "edits")
    b = write(root / "b" / "b.jpg", b"B" * 100)
    os.chmod(root / "2019", 0o711)
    os.chmod(root / "2019" / "trip", 0o750)
    os.chmod(root / "b", 0o700)
    for d, t in ((root / "2019", 1_500_000_000), (root / "2019" / "trip", 1_600_000_000)):
        os.utime(d, ns=(t * 10**9, t * 10**9))
    group = [entry(p, root) for p in (k, a, b)]
    return root, group


def _plan(group, action="move", **kw):
    return build_plan([group], {group[1].path, group[2].path}, action, **kw)


@pytest.mark.parametrize("action", ["move", "trash"])
def test_emptied_folders_go_and_undo_brings_them_back_as_they_were(tmp_path, action):
    root, group = _library(tmp_path)
    before = snapshot(root)
    trip_mtime = os.stat(root / "2019" / "trip").st_mtime_ns
    top_mtime = os.stat(root / "2019").st_mtime_ns
    old = os.umask(0o077)  # the recreated modes must not depend on the umask
    try:
        report = apply_plan(_plan(group, action), journal=Journal())
        assert report.ok, report.errors
        assert len(report.done) == 2
        # trip was emptied, then 2019 by trip's removal, b by its one file; the root stays.
        for gone in ("2019/trip", "2019", "b"):
            assert not os.path.lexists(root / gone), gone
        assert os.path.isdir(root) and os.path.isdir(root / "keep")
        assert sorted(report.folders_removed) == sorted(
            str(root / p) for p in ("2019/trip", "2019", "b")
        )
        assert "removed 3 emptied folder(s)" in report.lines()[0]

        u = undo()
    finally:
        os.umask(old)
    assert u.ok, u.problems
    assert snapshot(root) == before
    assert (_mode(root / "2019"), _mode(root / "2019" / "trip"), _mode(root / "b")) == (
        0o711,
        0o750,
        0o700,
    )
    assert os.stat(root / "2019" / "trip").st_mtime_ns == trip_mtime
    assert os.stat(root / "2019").st_mtime_ns == top_mtime
    assert sorted(u.folders) == sorted(str(root / p) for p in ("2019", "2019/trip", "b"))
    assert "recreated 3 folder(s)" in u.lines()[0]
    assert any("2019/trip" in n for n in u.notes)
    assert [b.state for b in history()] == ["undone"]
    # Nothing of the batch is left in the quarantine, nor the quarantine itself.
    assert not os.path.exists(root / ".dedup-tui" / "duplicates")


def test_each_removal_is_journaled_with_mode_and_times(tmp_path):
    root, group = _library(tmp_path)
    apply_plan(_plan(group), journal=Journal())
    recs = [r for r in Journal().records() if isinstance(r, R.RemoveFolder)]
    by_path = {r.path: r for r in recs}
    trip = by_path[str(root / "2019" / "trip")]
    assert trip.mode == 0o750 and trip.mtime_ns == 1_600_000_000 * 10**9
    assert trip.uid == os.getuid()
    # Deepest first: trip goes before its parent.
    assert [r.path for r in recs].index(str(root / "2019" / "trip")) < [r.path for r in recs].index(
        str(root / "2019")
    )
    done = {r.op for r in Journal().records() if isinstance(r, R.Done)}
    assert all(r.op in done for r in recs)
    lines = Path(Journal().path).read_text().splitlines()
    assert any(json.loads(line)["rec"] == "rmdir" for line in lines)


def test_only_folders_this_batch_emptied(tmp_path):
    """An already-empty sibling, a folder with a hidden file, a folder with an empty subfolder,
    a folder that got a new file after the plan, and the scanned folder itself all stay."""
    root = tmp_path / "photos"
    k = write(root / "k.jpg", b"K" * 300)
    already = root / "p" / "already empty"
    already.mkdir(parents=True)
    alone = root / "alone"
    alone.mkdir()
    in_p = write(root / "p" / "c" / "x.jpg", b"X" * 50)
    hidden = write(root / "h" / "y.jpg", b"Y" * 50)
    write(root / "h" / ".DS_Store", b"finder")
    nested = write(root / "n" / "z.jpg", b"Z" * 50)
    (root / "n" / "empty child").mkdir()
    late = write(root / "late" / "w.jpg", b"W" * 50)
    group = [entry(p, root) for p in (k, in_p, hidden, nested, late)]
    plan = build_plan([group], {in_p, hidden, nested, late}, "move")
    write(root / "late" / "new since the plan.jpg", b"new")

    report = apply_plan(plan, journal=Journal())
    assert report.ok and len(report.done) == 4
    assert report.folders_removed == [str(root / "p" / "c")]
    assert not os.path.exists(root / "p" / "c")
    assert already.is_dir() and alone.is_dir()  # never touched
    assert (root / "p").is_dir()  # it holds the already-empty folder
    assert (root / "h" / ".DS_Store").read_bytes() == b"finder"
    assert any("hidden files only" in n and "'" + str(root / "h") + "'" in n for n in report.notes)
    assert (root / "n" / "empty child").is_dir()
    assert (root / "late" / "new since the plan.jpg").read_bytes() == b"new"
    assert root.is_dir()


def test_the_scanned_folder_and_our_folders_are_never_candidates(tmp_path):
    root = tmp_path / "photos"
    other = tmp_path / "other"
    k = write(other / "k.jpg", b"K" * 300)
    d = write(root / "sub" / "d.jpg", b"D" * 30)
    group = [entry(k, other), entry(d, root)]
    plan = build_plan([group], {d}, "move", move_to=str(tmp_path / "usb"))
    # root holds nothing else but it is a scanned folder: only sub is predicted.
    assert plan.emptied_folders == [str(root / "sub")]
    report = apply_plan(plan, journal=Journal())
    assert report.folders_removed == [str(root / "sub")]
    assert root.is_dir() and (tmp_path / "usb").is_dir()


def test_a_folder_that_gets_a_file_at_the_last_moment_stays(tmp_path, monkeypatch):
    """Emptiness is checked at removal: a file arriving between the look and the rmdir keeps
    the folder (rmdir fails safely), the record says so and undo has nothing to recreate."""
    root, group = _library(tmp_path)

    def checkpoint(label):
        if label == "rmdir-intent" and not os.path.exists(root / "b" / "late.jpg"):
            write(root / "b" / "late.jpg", b"late")  # whichever folder comes first
            write(root / "2019" / "trip" / "late.jpg", b"late")

    report = apply_plan(_plan(group), journal=Journal(), checkpoint=checkpoint)
    assert report.ok
    assert report.folders_removed == []
    assert (root / "b" / "late.jpg").read_bytes() == b"late"
    failed = [r for r in Journal().records() if isinstance(r, R.Failed)]
    assert failed and failed[0].error == "not empty any more"
    u = undo()
    assert u.ok and u.folders == []


def test_keep_empty_folders_leaves_them_and_the_plan_file_carries_it(tmp_path):
    root, group = _library(tmp_path)
    plan = _plan(group, remove_emptied_folders=False)
    assert any("stay in place" in line for line in plan.describe())
    again = read_plan(plan.to_json())
    assert again.remove_emptied_folders is False and not again.edited
    report = apply_plan(again, journal=Journal())
    assert report.ok and report.folders_removed == []
    assert (root / "2019" / "trip").is_dir() and (root / "b").is_dir()


def test_the_plan_says_which_folders_go_and_a_plan_file_keeps_it(tmp_path):
    root, group = _library(tmp_path)
    plan = _plan(group)
    text = "\n".join(plan.describe())
    assert "3 folder(s) left empty by this will be removed (undo recreates them):" in text
    assert f"remove folder {str(root / '2019')!r}" in text
    again = read_plan(plan.to_json())
    assert again.remove_emptied_folders and again.emptied_folders == plan.emptied_folders
    # A plan file written before the setting existed: its batch leaves folders in place.
    d = json.loads(plan.to_json())
    del d["remove_emptied_folders"], d["emptied_folders"]
    old = read_plan(json.dumps(d))
    assert old.remove_emptied_folders is False and old.emptied_folders == []


def test_a_dry_run_says_which_folders_would_go_and_changes_nothing(tmp_path):
    root, group = _library(tmp_path)
    report = apply_plan(_plan(group), journal=Journal(), dry_run=True)
    assert "would remove 3 emptied folder(s)" in report.lines()[0]
    assert (root / "2019" / "trip" / "a.jpg").exists() and (root / "b").is_dir()
    assert history() == []


def test_a_link_batch_empties_no_folder(tmp_path):
    root = tmp_path / "photos"
    k = write(root / "keep" / "k.jpg", b"same" * 40)
    d = write(root / "dup" / "d.jpg", b"same" * 40)
    group = [entry(k, root), entry(d, root)]
    plan = build_plan([group], {d}, "symlink")
    assert plan.emptied_folders == []
    report = apply_plan(plan, journal=Journal())
    assert report.ok and report.folders_removed == []
    assert os.path.islink(d)


def test_a_permanent_delete_removes_the_folders_it_empties(tmp_path):
    root, group = _library(tmp_path)
    plan = _plan(group, "delete", allow_delete=True)
    assert "undo recreates" not in "\n".join(plan.describe())
    report = apply_plan(plan, journal=Journal(), confirm="DELETE")
    assert report.ok and not (root / "2019").exists() and not (root / "b").exists()


# -- crashes ------------------------------------------------------------------------------


def _rmdir_points(tmp_path) -> list[int]:
    """The checkpoint indexes of the folder removals (counted on a scratch copy)."""
    _root, group = _library(tmp_path / "count")
    labels: list[str] = []
    apply_plan(
        _plan(group), journal=Journal(str(tmp_path / "count.jsonl")), checkpoint=labels.append
    )
    return [n for n, label in enumerate(labels) if label.startswith("rmdir")]


@pytest.mark.parametrize("nth", range(6))  # 3 folders × (intent, done)
def test_a_crash_while_removing_folders_leaves_everything_undoable(tmp_path, nth):
    points = _rmdir_points(tmp_path)
    assert len(points) == 6
    root, group = _library(tmp_path)
    before = snapshot(root)
    seen: list[str] = []

    def checkpoint(label):
        seen.append(label)
        if len(seen) - 1 == points[nth]:
            raise Crash(label)

    with pytest.raises(Crash):
        apply_plan(_plan(group), journal=Journal(), checkpoint=checkpoint)
    assert [b.state for b in interrupted_batches()] == ["interrupted"]
    u = undo()
    assert u.ok, u.problems
    assert snapshot(root) == before
    assert (_mode(root / "2019"), _mode(root / "2019" / "trip"), _mode(root / "b")) == (
        0o711,
        0o750,
        0o700,
    )
    assert interrupted_batches() == []


# -- undo in a changed world ---------------------------------------------------------------


def test_undo_into_a_folder_the_user_made_again_keeps_their_new_file(tmp_path):
    root, group = _library(tmp_path)
    apply_plan(_plan(group), journal=Journal())
    write(root / "b" / "new.jpg", b"new")
    os.chmod(root / "b", 0o755)
    u = undo()
    assert u.ok, u.problems
    assert str(root / "b") not in u.folders
    assert (root / "b" / "new.jpg").read_bytes() == b"new" and (root / "b" / "b.jpg").exists()
    assert _mode(root / "b") == 0o755  # their folder, left as they made it


def test_undo_never_replaces_a_file_that_took_a_removed_folders_name(tmp_path):
    root, group = _library(tmp_path)
    apply_plan(_plan(group), journal=Journal())
    write(root / "b", b"a file named like the folder")
    u = undo()
    assert not u.ok
    assert (root / "b").read_bytes() == b"a file named like the folder"
    assert any("something else is there" in n for n in u.notes)
    assert (root / "2019" / "trip" / "a.jpg").exists()  # the rest came back
    # The file that could not go back is still in the quarantine.
    q = root / ".dedup-tui" / "duplicates"
    assert [p.name for p in q.rglob("b.jpg")] == ["b.jpg"]


def test_a_journal_without_folder_records_undoes_as_before(tmp_path):
    """A batch of the release before this one (journal version 2): no rmdir records; its
    folder was never removed, and undo neither recreates nor reports folders."""
    root = tmp_path / "photos"
    (root / "copies").mkdir(parents=True)
    folder = "2026-01-01 10.00.00 move 20260101-100000-abcd"
    q = write(root / ".dedup-tui" / "duplicates" / folder / "copies" / "IMG.jpg", b"c" * 40)
    orig = str(root / "copies" / "IMG.jpg")
    st = os.stat(q)
    recs = [
        {"rec": "batch", "batch": "b2", "time": 1.0, "action": "move", "steps": 1}
        | {"version": 2, "roots": [str(root)], "folder": folder},
        {"rec": "intent", "batch": "b2", "op": 1, "kind": "move", "src": orig, "dst": q}
        | {"size": st.st_size, "mtime_ns": st.st_mtime_ns},
        {"rec": "done", "batch": "b2", "op": 1, "dst": q},
        {"rec": "end", "batch": "b2", "done": 1, "skipped": 0, "errors": 0, "bytes": 40},
    ]
    os.makedirs(os.path.dirname(Journal().path), exist_ok=True)
    with open(Journal().path, "a", encoding="ascii") as f:
        f.writelines(json.dumps(r) + "\n" for r in recs)
    u = undo()
    assert u.ok and u.restored == [orig] and u.folders == []
    assert u.lines()[0] == "restored 1 file(s) from batch(es) b2"
    assert Path(orig).read_bytes() == b"c" * 40
    assert not os.path.exists(root / ".dedup-tui" / "duplicates")


def test_a_failed_move_leaves_no_empty_quarantine_folder(tmp_path, monkeypatch):
    """The quarantine turns out to be on another filesystem: the move fails, the folders made
    for it go again, at apply and (had any stayed) at undo: no empty .dedup-tui/duplicates."""
    root, group = _library(tmp_path)
    exdev_for(str(root / ".dedup-tui"), monkeypatch)
    report = apply_plan(_plan(group), journal=Journal())
    assert not report.ok and report.folders_removed == []
    assert not os.path.exists(root / ".dedup-tui" / "duplicates")
    assert (root / "2019" / "trip" / "a.jpg").exists()
    u = undo()
    assert u.ok and not os.path.exists(root / ".dedup-tui" / "duplicates")


# -- the headless commands -----------------------------------------------------------------


def _images(root: Path) -> tuple[Path, Path]:
    import cv2
    import numpy as np

    y, x = np.mgrid[0:96, 0:128]
    img = np.dstack([(x * 2) % 256, (y * 3) % 256, ((x + y) * 5) % 256]).astype(np.uint8)
    keep, dup = root / "library" / "a.jpg", root / "phone" / "2020" / "a.jpg"
    for p in (keep, dup):
        p.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(keep), img)
    dup.write_bytes(keep.read_bytes())
    os.utime(keep, (1_000_000_000, 1_000_000_000))  # earliest-mtime keeps this one
    return keep, dup


@pytest.mark.parametrize("keep", [False, True])
def test_plan_and_apply_from_the_command_line(tmp_path, monkeypatch, capsys, keep):
    from tui_dedup.cli import main

    monkeypatch.setenv("DEDUP_TUI_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "photos"
    _keep, _dup = _images(root)
    plan_file = tmp_path / "plan.json"
    extra = ["--keep-empty-folders"] if keep else []
    assert (
        main(
            [
                "plan",
                str(root),
                "-q",
                "--auto-select",
                "earliest-mtime",
                "-o",
                str(plan_file),
                *extra,
            ]
        )
        == 0
    )
    err = capsys.readouterr().err
    assert ("stay in place" if keep else "will be removed (undo recreates them)") in err
    steps = json.loads(plan_file.read_text())["steps"]
    moved = Path(steps[0]["real"])
    assert main(["apply", str(plan_file)]) == 0
    out = capsys.readouterr().out
    assert not moved.exists()
    assert (root / "phone").is_dir() is keep
    assert ("emptied folder" in out) is not keep
    assert main(["undo"]) == 0
    assert moved.exists() and (root / "phone" / "2020").is_dir()


def test_scan_auto_select_one_shot_removes_the_emptied_folders(tmp_path, monkeypatch, capsys):
    from tui_dedup.cli import main

    monkeypatch.setenv("DEDUP_TUI_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "photos"
    _images(root)
    assert main(["scan", str(root), "-q", "--auto-select", "earliest-mtime"]) == 0
    out = capsys.readouterr().out
    assert "removed 2 emptied folder(s)" in out
    assert not (root / "phone").exists() and (root / "library" / "a.jpg").exists()
