"""Quarantine moves: layout, collisions, several roots, sidecars, other filesystems."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import REAL_LINK, batch_dir, entry, exdev_for, files_under, snapshot, write

from tui_dedup.actions import Journal, apply_plan, build_plan, undo
from tui_dedup.actions.plan_file import read_plan


def test_move_keeps_relative_path_in_hidden_quarantine_and_undo_restores(photos):
    root, group = photos
    before = snapshot(root)
    plan = build_plan([group], {group[1].path, group[2].path}, "move")
    report = apply_plan(read_plan(plan.to_json()), journal=Journal())
    assert report.ok and len(report.done) == 2
    q = batch_dir(root)
    assert report.batch in q.name and "move" in q.name
    assert files_under(q) == [
        "copies/IMG_1.XMP",
        "copies/IMG_1.jpg",
        "copies/IMG_1.jpg.aae",
        "whatsapp/IMG-1 small.jpg",
    ]
    assert snapshot(root) == {"2020/IMG_1.jpg": before["2020/IMG_1.jpg"]}
    assert undo().ok
    assert snapshot(root) == before
    # Undo removed the folders it emptied: the batch folder and the empty quarantine.
    assert not (root / ".dedup-tui" / "duplicates").exists()


def test_collision_in_the_batch_folder_picks_new_name_and_never_overwrites(photos, monkeypatch):
    root, group = photos
    from tui_dedup.actions import apply as apply_mod

    folder = "2020-01-01 00.00.00 move fixed"
    monkeypatch.setattr(apply_mod, "batch_folder", lambda *a: folder)
    q = root / ".dedup-tui" / "duplicates" / folder / "copies"
    write(q / "IMG_1.jpg", "a file already there")
    write(q / "IMG_1 (1).XMP", "and a sidecar name taken")
    assert apply_plan(build_plan([group], {group[1].path}, "move"), journal=Journal()).ok
    assert (q / "IMG_1.jpg").read_text() == "a file already there"
    assert (q / "IMG_1 (1).XMP").read_text() == "and a sidecar name taken"
    assert (q / "IMG_1 (2).jpg").read_bytes() == b"copy-one" * 90
    # Sidecars follow the new name so they stay paired with their image.
    assert (q / "IMG_1 (2).XMP").read_text() == "xmp edits"
    assert (q / "IMG_1 (2).jpg.aae").read_text() == "aae"


def test_several_roots_with_same_name_never_collide_under_move_to(tmp_path):
    a, b, dest = tmp_path / "a" / "photos", tmp_path / "b" / "photos", tmp_path / "dest"
    ka, da = write(a / "k.jpg", "ka"), write(a / "x" / "d.jpg", "da")
    kb, db = write(b / "k.jpg", "kb"), write(b / "x" / "d.jpg", "db")
    groups = [[entry(ka, a), entry(da, a)], [entry(kb, b), entry(db, b)]]
    plan = build_plan(groups, {da, db}, "move", move_to=str(dest))
    assert apply_plan(plan, journal=Journal()).ok
    assert (dest / ".dedup-tui-destination").is_file()  # no later scan lists these files
    moved = files_under(batch_dir(dest))
    assert len(moved) == 2 and len({m.split(os.sep)[0] for m in moved}) == 2
    assert all(m.endswith(os.path.join("x", "d.jpg")) for m in moved)
    assert sorted((batch_dir(dest) / m).read_text() for m in moved) == ["da", "db"]
    assert undo().ok
    assert os.path.exists(da) and os.path.exists(db) and files_under(dest) == []


def test_two_batches_of_same_named_roots_into_one_destination_never_mix(tmp_path):
    """Issue #13: two roots with the same name moved into one --move-to in two batches, the
    folder emptied in between: undo of the older batch must not put one user's picture at the
    other user's path."""
    a, b, dest = tmp_path / "alice" / "photos", tmp_path / "bob" / "photos", tmp_path / "dest"
    t = 1_600_000_000 * 10**9  # same size and mtime: only the batch folders tell them apart
    ka, da = write(a / "k.jpg", "ka"), write(a / "x" / "d.jpg", "alice's copy", mtime_ns=t)
    kb, db = write(b / "k.jpg", "kb"), write(b / "x" / "d.jpg", "bob's copy!!", mtime_ns=t)
    assert apply_plan(
        build_plan([[entry(ka, a), entry(da, a)]], {da}, "move", move_to=str(dest)),
        journal=Journal(),
    ).ok
    older = Journal().batches()[-1].id
    import shutil

    for d in os.listdir(dest):  # the user empties the destination
        if os.path.isdir(dest / d):
            shutil.rmtree(dest / d)
    assert apply_plan(
        build_plan([[entry(kb, b), entry(db, b)]], {db}, "move", move_to=str(dest)),
        journal=Journal(),
    ).ok
    report = undo(older)
    assert not report.ok and report.restored == []
    assert not os.path.exists(da)  # alice's copy was emptied away by her; nothing else appears
    assert undo().ok
    assert Path(db).read_text() == "bob's copy!!"


def test_move_to_unique_root_name(tmp_path):
    root, dest = tmp_path / "Pictures", tmp_path / "elsewhere"
    k, d = write(root / "k.jpg", "k"), write(root / "sub" / "d.jpg", "d")
    plan = build_plan([[entry(k, root), entry(d, root)]], {d}, "move", move_to=str(dest))
    assert plan.steps[0].dest == str(dest / "<batch>" / "Pictures" / "sub" / "d.jpg")


def test_ambiguous_stem_sidecar_stays_with_the_file_that_stays(tmp_path):
    root = tmp_path / "r"
    k = write(root / "keep" / "a.jpg", "k")
    d = write(root / "p" / "shot.jpg", "d")
    write(root / "p" / "shot.png", "another picture with the same stem")
    write(root / "p" / "shot.xmp", "whose edits?")
    write(root / "p" / "shot.jpg.xmp", "certainly shot.jpg's")
    plan = build_plan([[entry(k, root), entry(d, root)]], {d}, "move")
    assert [os.path.basename(s.path) for s in plan.steps[0].sidecars] == ["shot.jpg.xmp"]
    apply_plan(plan, journal=Journal())
    assert (root / "p" / "shot.xmp").exists() and not (root / "p" / "shot.jpg.xmp").exists()


def test_other_filesystem_copies_verifies_then_removes_and_undo_copies_back(
    photos, monkeypatch, tmp_path
):
    root, group = photos
    before = snapshot(root)
    dest = tmp_path / "usb"
    plan = build_plan([group], {group[1].path}, "move", move_to=str(dest))
    exdev_for(str(dest), monkeypatch)
    report = apply_plan(plan, journal=Journal())
    assert report.ok
    assert any("copied" in n and "verified" in n for n in report.notes)
    assert not os.path.exists(group[1].path)
    q = batch_dir(dest)
    assert (q / "photos" / "copies" / "IMG_1.jpg").read_bytes() == b"copy-one" * 90
    assert (q / "photos" / "copies" / "IMG_1.XMP").read_text() == "xmp edits"
    monkeypatch.setattr(os, "link", REAL_LINK)
    exdev_for(str(root), monkeypatch)  # the way back crosses filesystems too
    assert undo().ok
    assert snapshot(root) == before
    assert os.stat(group[1].path).st_mtime_ns == group[1].mtime_ns
    assert files_under(dest) == []


def test_plan_says_it_will_copy_when_destination_is_another_device(photos, tmp_path):
    shm = "/dev/shm"
    root, group = photos
    if os.stat(shm).st_dev == os.stat(root).st_dev:
        pytest.skip("no second real filesystem here; the EXDEV-injection test covers the copy")
    dest = os.path.join(shm, f"dedup-tui-test-{os.getpid()}")
    try:
        plan = build_plan([group], {group[1].path}, "move", move_to=dest)
        assert plan.steps[0].copy
        assert any("copied, verified" in line for line in plan.describe())
        assert apply_plan(plan, journal=Journal()).ok
        assert not os.path.exists(group[1].path)
        assert undo().ok
        assert os.path.exists(group[1].path)
    finally:
        import shutil

        shutil.rmtree(dest, ignore_errors=True)


def test_default_quarantine_never_copies_across_filesystems(photos, monkeypatch):
    root, group = photos
    before = snapshot(root)
    plan = build_plan([group], {group[1].path}, "move")
    exdev_for(str(root / ".dedup-tui"), monkeypatch)
    report = apply_plan(plan, journal=Journal())
    assert not report.ok
    assert "another filesystem" in report.errors[0][1]
    assert snapshot(root) == before


def test_changed_and_vanished_files_are_skipped_and_reported(photos):
    root, group = photos
    plan = build_plan([group], {group[1].path, group[2].path}, "move")
    write(group[1].path, "edited after the scan")
    os.unlink(group[2].path)
    report = apply_plan(plan, journal=Journal())
    assert report.done == []
    reasons = dict(report.skipped)
    assert "changed since the scan" in reasons[group[1].path]
    assert "vanished" in reasons[group[2].path]
    assert (root / "copies" / "IMG_1.jpg").read_text() == "edited after the scan"


@pytest.mark.parametrize("what", ["vanished", "changed"])
def test_keeper_invariant_checked_at_apply_time(photos, what):
    root, group = photos
    plan = build_plan([group], {group[1].path, group[2].path}, "move")
    if what == "vanished":
        os.unlink(group[0].path)
    else:
        write(group[0].path, "the keeper was edited")
    before = snapshot(root)
    report = apply_plan(plan, journal=Journal())
    assert report.done == [] and len(report.skipped) == 2
    assert all("refusing to remove what may be the last copy" in r for _, r in report.skipped)
    assert snapshot(root) == before


def test_plan_refuses_group_with_everything_marked(photos):
    _root, group = photos
    plan = build_plan([group], {e.path for e in group}, "move")
    assert plan.steps == []
    assert any("group 1" in r and "keep at least one" in r for r in plan.refused)
    assert any(line.startswith("REFUSED group 1") for line in plan.describe())


def test_keep_in_folders_are_never_touched(photos):
    root, group = photos
    before = snapshot(root)
    plan = build_plan([group], {group[0].path, group[1].path}, "move", keep_in=[str(root / "2020")])
    assert [s.entry.path for s in plan.steps] == [group[1].path]
    assert any("keep-in folder" in r for r in plan.refused)
    apply_plan(plan, journal=Journal())
    assert snapshot(root)["2020/IMG_1.jpg"] == before["2020/IMG_1.jpg"]


def test_dry_run_touches_nothing_and_writes_no_journal(photos):
    root, group = photos
    before = snapshot(root)
    plan = build_plan([group], {group[1].path}, "move")
    report = apply_plan(plan, journal=Journal(), dry_run=True)
    assert report.done == [group[1].path]
    assert snapshot(root) == before and not (root / ".dedup-tui").exists()
    assert Journal().batches() == []


def test_progress_callback_sees_every_step(photos):
    _root, group = photos
    seen = []
    plan = build_plan([group], {group[1].path, group[2].path}, "move")
    apply_plan(plan, journal=Journal(), on_progress=lambda i, n, p: seen.append((i, n)))
    assert seen == [(0, 2), (1, 2), (2, 2)]


def test_a_live_photos_movie_moves_with_its_still_when_the_copy_that_stays_has_one(tmp_path):
    """A still and its movie (IMG_0001.JPG + IMG_0001.MOV) are one shot: the movie travels with
    the still it belongs to, and undo brings both back."""
    root = tmp_path / "r"
    k = write(root / "DCIM" / "IMG_0001.JPG", "still")
    write(root / "DCIM" / "IMG_0001.MOV", "motion")
    d = write(root / "Backup" / "IMG_0001.JPG", "still")
    write(root / "Backup" / "IMG_0001.MOV", "motion")
    before = snapshot(root)
    plan = build_plan([[entry(k, root), entry(d, root)]], {d}, "move")
    assert [os.path.basename(s.path) for s in plan.steps[0].sidecars] == ["IMG_0001.MOV"]
    assert apply_plan(plan, journal=Journal()).ok
    assert not (root / "Backup" / "IMG_0001.MOV").exists()
    assert (root / "DCIM" / "IMG_0001.MOV").read_text() == "motion"
    assert undo().ok
    assert snapshot(root) == before


@pytest.mark.parametrize("action", ["move", "trash"])
def test_a_still_whose_movie_has_no_copy_that_stays_is_refused(tmp_path, action):
    root = tmp_path / "r"
    k = write(root / "Downloads" / "IMG_0001.JPG", "still")  # a download: no movie
    d = write(root / "DCIM" / "IMG_0001.JPG", "still")
    write(root / "DCIM" / "IMG_0001.MOV", "motion")
    plan = build_plan([[entry(k, root), entry(d, root)]], {d}, action)
    assert plan.steps == []
    (why,) = plan.refused
    assert "Live Photo" in why and "IMG_0001.MOV" in why and "has no copy" in why
    # the other way round the download goes and the shot stays whole
    plan = build_plan([[entry(d, root), entry(k, root)]], {k}, action)
    assert len(plan.steps) == 1 and plan.steps[0].sidecars == ()


def test_apply_leaves_the_still_when_the_movie_that_stays_went_since_the_plan(tmp_path):
    root = tmp_path / "r"
    k = write(root / "DCIM" / "IMG_0001.JPG", "still")
    kept_movie = write(root / "DCIM" / "IMG_0001.MOV", "motion")
    d = write(root / "Backup" / "IMG_0001.JPG", "still")
    write(root / "Backup" / "IMG_0001.MOV", "motion")
    plan = build_plan([[entry(k, root), entry(d, root)]], {d}, "move")
    assert len(plan.steps) == 1
    os.unlink(kept_movie)  # the world changes between plan and apply
    report = apply_plan(plan, journal=Journal())
    assert not report.done
    assert (root / "Backup" / "IMG_0001.JPG").exists() and (
        root / "Backup" / "IMG_0001.MOV"
    ).exists()
    assert any("Live Photo movie" in why for _, why in report.errors) or any(
        "Live Photo movie" in line for line in report.lines()
    )
