"""Odd file names, and the errors a user's disk can throw (injected, or as an unprivileged user)."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from conftest import entry, exdev_for, files_under, snapshot, write

from tui_dedup.actions import Journal, apply_plan, build_plan, undo
from tui_dedup.actions.plan_file import read_plan

ODD_NAMES = [
    "with space.jpg",
    "ünïcødé 写真.jpg",
    "new\nline.jpg",
    os.fsdecode(b"latin1-\xe9t\xe9.jpg"),  # not UTF-8: surrogateescape
]


@pytest.mark.parametrize("action", ["move", "trash", "hardlink"])
def test_odd_names_survive_plan_json_apply_and_undo(tmp_path, action):
    root = tmp_path / "r"
    k = write(root / "keep.jpg", b"same" * 10)
    dups = [write(os.path.join(root, "d", n), b"same" * 10) for n in ODD_NAMES]
    write(os.path.join(root, "d", os.fsdecode(b"latin1-\xe9t\xe9.xmp")), "sidecar")
    group = [entry(p, root) for p in [k, *dups]]
    before = snapshot(root)
    text = build_plan([group], set(dups), action).to_json()
    json.loads(text)  # plain ASCII JSON
    plan = read_plan(text)
    assert [s.entry.path for s in plan.steps] == dups
    report = apply_plan(plan, journal=Journal())
    assert report.ok, report.errors
    assert undo().ok
    assert snapshot(root) == before
    assert os.fsencode(dups[-1]) in [
        os.path.join(os.fsencode(root / "d"), n) for n in os.listdir(os.fsencode(root / "d"))
    ]


REAL = {"link": os.link, "unlink": os.unlink}


def _full(name, dir_fd) -> str:
    """The full path an ``*at`` call acts on (our operations work relative to folders)."""
    name = os.fspath(name)
    if dir_fd is None or os.path.isabs(name):
        return os.path.abspath(name)
    return os.path.join(os.readlink(f"/proc/self/fd/{dir_fd}"), name)


def _fail(monkeypatch, name, err, when=lambda path: True):
    real = REAL[name]

    def fake(*a, **kw):
        fd = kw.get("src_dir_fd", kw.get("dir_fd"))
        path = _full(a[0], fd)
        if when(path):
            raise OSError(err, os.strerror(err), path)
        return real(*a, **kw)

    monkeypatch.setattr(os, name, fake)


@pytest.mark.parametrize(
    ("name", "err"),
    [
        ("link", errno.EACCES),
        ("link", errno.EROFS),
        ("unlink", errno.EROFS),
        ("unlink", errno.EACCES),
    ],
)
def test_permission_and_read_only_errors_leave_files_in_place(photos, monkeypatch, name, err):
    root, group = photos
    before = snapshot(root)
    plan = build_plan([group], {group[1].path, group[2].path}, "move")
    _fail(monkeypatch, name, err, when=lambda path: "photos" in path and "partial" not in path)
    report = apply_plan(plan, journal=Journal())
    assert report.done == [] and len(report.errors) == 2
    assert os.strerror(err) in report.errors[0][1]
    monkeypatch.setattr(os, name, REAL[name])
    assert snapshot(root) == before
    undo()  # clears a second name the failed rollback may have left in the quarantine
    assert files_under(root / ".dedup-tui") == []
    assert snapshot(root) == before


def test_disk_full_during_copy_leaves_source_and_no_partial_file(photos, monkeypatch, tmp_path):
    root, group = photos
    before = snapshot(root)
    dest = tmp_path / "usb"
    plan = build_plan([group], {group[1].path}, "move", move_to=str(dest))
    real_link, real_write = os.link, os.write
    exdev_for(str(dest), monkeypatch)

    def write_(fd, data):
        if os.readlink(f"/proc/self/fd/{fd}").endswith("dedup-tui-partial"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write_)
    report = apply_plan(plan, journal=Journal())
    assert report.done == [] and "No space left" in report.errors[0][1]
    monkeypatch.setattr(os, "link", real_link)
    monkeypatch.setattr(os, "write", real_write)
    assert snapshot(root) == before
    assert files_under(dest) == []  # no partial file left behind


def test_unprivileged_user_cannot_move_root_owned_files_and_is_told(tmp_path):
    """Run as nobody (setpriv), so the check does not pass merely because tests run as root."""
    from unprivileged import as_nobody

    base = tempfile.mkdtemp(prefix="dedup-tui-priv-")
    try:
        os.chmod(base, 0o755)
        root = os.path.join(base, "photos")
        k = write(os.path.join(root, "k.jpg"), "keeper")
        d = write(os.path.join(root, "sub", "d.jpg"), "duplicate")
        for p in (root, os.path.join(root, "sub")):
            os.chmod(p, 0o755)  # readable, not writable, by nobody
        state = os.path.join(base, "state")
        os.mkdir(state)
        os.chmod(state, 0o777)
        before = snapshot(root)
        plan = build_plan([[entry(k, root), entry(d, root)]], {d}, "move")
        plan_path = os.path.join(base, "plan.json")
        with open(plan_path, "w") as f:
            f.write(plan.to_json())
        os.chmod(plan_path, 0o644)
        code = (
            "import sys; from tui_dedup.cli.commands import cmd_apply;"
            "sys.exit(cmd_apply(sys.argv[1]))"
        )
        with as_nobody(Path(base)) as (python, env):
            env |= {"DEDUP_TUI_STATE_DIR": state, "HOME": base, "XDG_DATA_HOME": state}
            proc = subprocess.run(
                [*python, "-c", code, plan_path],
                capture_output=True,
                text=True,
                env=env,
                cwd=base,
                timeout=60,
            )
        assert proc.returncode == 1, proc.stderr
        assert "Permission denied" in proc.stdout
        assert snapshot(root) == before
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_journal_disk_full_stops_the_batch_and_undo_still_works(photos, monkeypatch, tmp_path):
    from tui_dedup.cli.commands import cmd_apply

    root, group = photos
    before = snapshot(root)
    plan_path = tmp_path / "plan.json"
    plan_path.write_text(build_plan([group], {group[1].path, group[2].path}, "move").to_json())
    real_fsync, calls = os.fsync, []

    def fsync(fd):
        if os.readlink(f"/proc/self/fd/{fd}").endswith("journal.jsonl"):
            calls.append(fd)
            if len(calls) > 3:  # batch, intent, done, then the disk is full
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    assert cmd_apply(str(plan_path), False, None) == 1
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert not os.path.exists(group[1].path)  # the first file was handled and recorded
    assert os.path.exists(group[2].path)  # nothing was done without a record
    assert undo().ok
    assert snapshot(root) == before
