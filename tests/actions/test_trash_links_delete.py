"""Trash (with the freedesktop trash under XDG_DATA_HOME), links and permanent delete."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import batch_dir, entry, files_under, snapshot, write

from tui_dedup.actions import Journal, PlanError, apply_plan, build_plan, history, undo


def test_trash_and_undo_restores_from_xdg_trash(photos, tmp_path):
    root, group = photos
    before = snapshot(root)
    plan = build_plan([group], {group[1].path}, "trash")
    assert apply_plan(plan, journal=Journal()).ok
    trashed = files_under(tmp_path / "xdg" / "Trash")
    assert "files/IMG_1.jpg" in trashed and "info/IMG_1.jpg.trashinfo" in trashed
    assert "files/IMG_1.XMP" in trashed  # sidecars go with their image
    assert not os.path.exists(group[1].path)
    assert undo().ok
    assert snapshot(root) == before
    assert files_under(tmp_path / "xdg" / "Trash") == []


def test_undo_finds_the_right_file_among_same_named_trash_entries(photos, tmp_path):
    _root, group = photos
    other = write(tmp_path / "elsewhere" / "IMG_1.jpg", "unrelated file, same name")
    from tui_dedup.actions import trash

    trash.send(other)  # someone trashed another IMG_1.jpg first
    plan = build_plan([group], {group[1].path}, "trash")
    assert apply_plan(plan, journal=Journal()).ok
    assert undo().ok
    assert Path(group[1].path).read_bytes() == b"copy-one" * 90
    assert files_under(tmp_path / "xdg" / "Trash" / "files") == ["IMG_1.jpg"]


def test_undo_says_plainly_when_the_trash_was_emptied(photos, tmp_path):
    _root, group = photos
    apply_plan(build_plan([group], {group[2].path}, "trash"), journal=Journal())
    shutil.rmtree(tmp_path / "xdg" / "Trash")
    report = undo()
    assert not report.ok
    assert "not in the trash any more" in report.problems[0]


def test_send2trash_failure_falls_back_to_quarantine_never_deletion(photos, monkeypatch):
    root, group = photos
    before = snapshot(root)
    from send2trash import plat_other

    def broken(path):
        raise OSError("Couldn't find mount point")

    monkeypatch.setattr(plat_other, "send2trash", broken)
    report = apply_plan(build_plan([group], {group[2].path}, "trash"), journal=Journal())
    assert report.ok
    assert any("quarantine" in n for n in report.notes)
    assert os.path.exists(batch_dir(root) / "whatsapp" / "IMG-1 small.jpg")
    assert undo().ok
    assert snapshot(root) == before


def test_network_mount_has_no_usable_trash_plan_says_quarantine(photos, monkeypatch):
    root, group = photos
    from tui_dedup.actions import trash

    monkeypatch.setattr(trash, "fs_type", lambda path: "nfs4")  # as if root were an NFS mount
    plan = build_plan([group], {group[1].path}, "trash")
    assert plan.steps[0].trash_fallback
    assert "no usable trash" in "\n".join(plan.describe())
    assert apply_plan(plan, journal=Journal()).ok
    assert os.path.exists(batch_dir(root) / "copies" / "IMG_1.jpg")
    assert os.path.exists(batch_dir(root) / "copies" / "IMG_1.XMP")


@pytest.fixture
def identical(tmp_path):
    root = tmp_path / "r"
    k = write(root / "keep" / "a.jpg", b"same bytes" * 100)
    d = write(root / "dup" / "b.jpg", b"same bytes" * 100)
    write(root / "dup" / "b.xmp", "sidecar stays: the image path still exists, as a link")
    return root, [entry(k, root), entry(d, root)]


@pytest.mark.parametrize("kind", ["hardlink", "symlink"])
def test_link_replaces_identical_duplicate_and_undo_restores(identical, kind):
    root, group = identical
    before = snapshot(root)
    report = apply_plan(build_plan([group], {group[1].path}, kind), journal=Journal())
    assert report.ok
    dup = group[1].path
    if kind == "hardlink":
        assert os.stat(dup).st_ino == os.stat(group[0].path).st_ino
    else:
        assert os.path.islink(dup) and os.path.samefile(dup, group[0].path)
    assert os.path.exists(batch_dir(root) / "dup" / "b.jpg")
    assert os.path.exists(root / "dup" / "b.xmp")
    assert undo().ok
    assert snapshot(root) == before
    assert os.stat(dup).st_ino == group[1].ino and not os.path.islink(dup)


@pytest.mark.parametrize("kind", ["hardlink", "symlink"])
def test_link_refused_when_bytes_differ_at_apply_time(tmp_path, kind):
    root = tmp_path / "r"
    k, d = write(root / "a.jpg", b"A" * 50), write(root / "b.jpg", b"B" * 50)  # same size
    before = snapshot(root)
    report = apply_plan(
        build_plan([[entry(k, root), entry(d, root)]], {d}, kind), journal=Journal()
    )
    assert report.done == [] and "not byte-identical" in report.skipped[0][1]
    assert snapshot(root) == before


def test_undo_leaves_alone_a_link_the_user_replaced_since(identical):
    root, group = identical
    apply_plan(build_plan([group], {group[1].path}, "hardlink"), journal=Journal())
    os.unlink(group[1].path)
    write(group[1].path, "the user put a new file here")
    report = undo()
    assert not report.ok and "changed after it became a hardlink" in report.problems[0]
    assert Path(group[1].path).read_text() == "the user put a new file here"
    assert os.path.exists(batch_dir(root) / "dup" / "b.jpg")


def test_delete_needs_allow_delete_and_the_typed_word(photos):
    root, group = photos
    before = snapshot(root)
    with pytest.raises(PlanError, match="allow_delete"):
        build_plan([group], {group[1].path}, "delete")
    plan = build_plan([group], {group[1].path}, "delete", allow_delete=True)
    assert plan.irreversible and plan.confirm_word
    assert any("CANNOT be undone" in line for line in plan.describe())
    for word in (None, "delete", "yes"):
        report = apply_plan(plan, journal=Journal(), confirm=word)
        assert not report.ok and "not confirmed" in report.errors[0][1]
        assert snapshot(root) == before
    report = apply_plan(plan, journal=Journal(), confirm=plan.confirm_word)
    assert report.ok
    assert not os.path.exists(group[1].path)
    assert not os.path.exists(root / "copies" / "IMG_1.XMP")
    assert history()[-1].irreversible


def test_undo_of_delete_says_it_cannot(photos):
    _root, group = photos
    apply_plan(build_plan([group], {group[1].path}, "move"), journal=Journal())
    plan = build_plan([group], {group[2].path}, "delete", allow_delete=True)
    apply_plan(plan, journal=Journal(), confirm=plan.confirm_word)
    report = undo(history()[-1].id)
    assert not report.ok and "cannot be undone" in report.problems[0]
    # Plain `undo` goes on to the last reversible batch and says why it skipped the delete.
    report = undo()
    assert report.ok and any("cannot be undone" in n for n in report.notes)
    assert os.path.exists(group[1].path) and not os.path.exists(group[2].path)
