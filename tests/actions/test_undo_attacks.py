"""Issue #13, "Undo destroys data": one regression test per attack, on real files and, for every
cross-device case, a real second filesystem (a small tmpfs; see ``other_fs`` / ``tiny_fs``).

Each attack once made ``dedup-tui undo`` remove the last copy of a picture, or leave the tree
in a state no later undo could finish. What every test here asserts is what a user would check
on disk: every picture's bytes still exist somewhere they can find them, and the report says
plainly what was not put back and why. (The sixth attack, two same-named roots moved into one
``--move-to`` in two batches, is test_move.py's
``test_two_batches_of_same_named_roots_into_one_destination_never_mix``.)
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import entry, exdev_for, files_under, snapshot, write

from tui_dedup.actions import Journal, apply_plan, build_plan, copying, safefs, undo
from tui_dedup.cli.commands import cmd_undo

PICTURE = b"\xff\xd8 the only photo of grandma " * 400
OTHER = b"\xff\xd8 a new photo saved later!! " * 400  # same size as PICTURE on purpose


class Killed(BaseException):
    """Not an Exception: nothing in undo may catch it, like ``kill -9``."""


def partials(*tops) -> list[str]:
    """Every temporary file of ours (``*.dedup-tui-partial``) under ``tops``, hidden folders
    included."""
    out = []
    for top in tops:
        for d, _dirs, files in os.walk(top):
            out += [os.path.join(d, f) for f in files if f.endswith(".dedup-tui-partial")]
    return out


def only_file(top) -> Path:
    """The one picture under ``top`` (a quarantine or a --move-to folder)."""
    found = files_under(top)
    assert len(found) == 1, found
    return Path(top, found[0])


def moved_across(tmp_path, dest, data=PICTURE):
    """A root on this filesystem whose marked copy was moved to ``dest`` on another one."""
    root = tmp_path / "photos"
    keeper = write(root / "keep" / "k.jpg", b"the keeper, a smaller copy" * 10)
    dup = write(root / "sub" / "d.jpg", data)
    plan = build_plan([[entry(keeper, root), entry(dup, root)]], {dup}, "move", move_to=str(dest))
    assert plan.steps[0].copy  # really another filesystem: a copy, not a rename
    was = os.stat(dup)
    report = apply_plan(plan, journal=Journal())
    assert report.ok, report.lines()
    assert not os.path.exists(dup)
    return root, dup, was


# -- 1. links: the quarantine emptied, then the keeper's folder removed -----------------------


@pytest.mark.parametrize("kind", ["hardlink", "symlink"])
@pytest.mark.parametrize("keeper_removed", [True, False], ids=["keeper-removed", "keeper-stays"])
def test_undo_of_links_after_the_quarantine_was_emptied_removes_nothing(
    tmp_path, kind, keeper_removed
):
    """Attack: a link batch; the user empties .dedup-tui/duplicates (that is when the space is
    freed) and later removes the keeper's folder; undo unlinked the links before it knew it
    could restore anything: both pictures gone, "restored 0"."""
    root = tmp_path / "photos"
    keeper = write(root / "keep" / "k.jpg", PICTURE)
    dup = write(root / "copies" / "d.jpg", PICTURE)
    group = [entry(keeper, root), entry(dup, root)]
    report = apply_plan(build_plan([group], {dup}, kind), journal=Journal())
    assert report.ok and report.done == [dup], report.lines()
    assert os.path.islink(dup) == (kind == "symlink")
    link_text = os.readlink(dup) if kind == "symlink" else None

    quarantine = root / ".dedup-tui" / "duplicates"
    for folder in os.listdir(quarantine):  # as a person freeing space would
        shutil.rmtree(quarantine / folder)
    if keeper_removed:
        shutil.rmtree(root / "keep")
    before = snapshot(root)

    for _ in range(2):  # and a second undo does no harm either
        report = undo()
        assert not report.ok and report.restored == []
        assert snapshot(root) == before  # nothing removed, nothing added
        (problem,) = report.problems
        assert dup in problem and "no longer at" in problem and "quarantine" in problem
        assert f"the {kind} stays" in problem
        dangles = kind == "symlink" and keeper_removed
        assert ("is gone too" in problem) == dangles
        assert ("still reachable" in problem) == (not dangles)

    if kind == "hardlink" or not keeper_removed:
        assert Path(dup).read_bytes() == PICTURE  # the picture is still there, at the link
    if kind == "symlink":
        assert os.readlink(dup) == link_text
        # With the keeper's folder removed the symlink dangles: the user removed the last copy
        # (the quarantine, then the keeper); undo removed nothing of what was left.
        assert os.path.exists(dup) == (not keeper_removed)


# -- 2. a new file at the original name, maybe with the freed inode number --------------------


def test_undo_never_deletes_the_moved_original_when_a_new_file_took_its_name(
    tmp_path, other_fs, capsys
):
    """Attack: move to another filesystem with --move-to; a new file is saved at the original
    name and ext4 hands it the freed inode number; undo took the (dev, ino) match as "our own
    copy", deleted the quarantined original and reported "restored 1 file(s)", exit 0.

    The inode number cannot be forced: the new file is made the way that usually gets the freed
    number back on ext4 (at once, in the same folder), with the same size and mtime as the
    original (on this machine's ext4 it got the freed number in 5 of 5 probes); whether it got
    the number or not, undo must leave both files alone."""
    dest = other_fs / "dups"
    root, dup, old = moved_across(tmp_path, dest)
    write(dup, OTHER, mtime_ns=old.st_mtime_ns)  # the user saves a new photo under that name
    new = os.stat(dup)
    quarantined = only_file(dest)
    assert quarantined.read_bytes() == PICTURE and new.st_size == len(PICTURE)

    assert cmd_undo(None, False) == 1  # exit not-ok
    err = capsys.readouterr().err
    assert dup in err and "something new is there" in err
    report = undo()  # asked again: the same answer, nothing removed
    assert not report.ok and report.restored == []
    assert any("something new is there" in p and str(quarantined) in p for p in report.problems)
    assert Path(dup).read_bytes() == OTHER
    assert (os.stat(dup).st_dev, os.stat(dup).st_ino) == (new.st_dev, new.st_ino)
    assert quarantined.read_bytes() == PICTURE
    assert snapshot(root)["sub/d.jpg"][0] == "file"


def test_old_journal_inode_match_is_never_taken_as_our_own_copy(tmp_path, other_fs):
    """The same attack made deterministic: a batch as the previous release journaled it,
    with (dev, ino) in the move's intent, where that very (dev, ino) now belongs to the new
    file at the original name. An inode number recorded earlier is never proof."""
    import json

    dest = other_fs / "dups"
    _root, dup, _old = moved_across(tmp_path, dest)
    write(dup, OTHER)
    new = os.stat(dup)
    journal = Journal()
    lines = Path(journal.path).read_text().splitlines()
    old = []
    for line in lines:
        d = json.loads(line)
        if d["rec"] == "batch":
            d.update(version=1)
            d.pop("folder", None)
            d.pop("roots", None)
        if d["rec"] == "intent" and d["kind"] == "move":
            d.update(dev=new.st_dev, ino=new.st_ino)
            d.pop("digest", None)
        old.append(json.dumps(d))
    Path(journal.path).write_text("\n".join(old) + "\n")
    quarantined = only_file(dest)

    report = undo()
    assert not report.ok and report.restored == []
    assert any("something new is there" in p for p in report.problems)
    assert Path(dup).read_bytes() == OTHER
    assert quarantined.read_bytes() == PICTURE


# -- 3. killed while copying back across filesystems -----------------------------------------


def _kill_at(point: str, monkeypatch, quarantined: str) -> Callable[[], None]:
    """Make the next undo die (raise :class:`Killed`) at ``point`` of its copy back, leaving
    the disk exactly as ``kill -9`` would: nothing of ours runs after the kill, so the
    temporary file's clean-up (an unlink of a ``*.dedup-tui-partial``) dies too."""
    real_unlink = os.unlink
    dead = False

    def unlink(path, *a, **kw):
        if dead and os.fspath(path).endswith(".dedup-tui-partial"):
            raise Killed("the clean-up never runs after kill -9")
        return real_unlink(path, *a, **kw)

    def die():
        nonlocal dead
        dead = True
        raise Killed(point)

    real_fill, real_publish, real_remove = copying._fill, safefs.publish, safefs.remove_name

    def fill(sfd, out, st, expected, src):
        if point == "writing":
            os.write(out, b"half a pict")
            die()
        notes = real_fill(sfd, out, st, expected, src)
        if point == "written":
            die()
        return notes

    def publish(tmp, dst):
        if point == "published" and tmp.endswith(".dedup-tui-partial"):
            safefs.add_name(tmp, dst)  # the copy has its name; its temporary one is not gone
            die()
        return real_publish(tmp, dst)

    def remove_name(path, expect=None):
        if point == "restored" and path == quarantined:
            die()
        return real_remove(path, expect)

    monkeypatch.setattr(os, "unlink", unlink)
    monkeypatch.setattr(copying, "_fill", fill)
    monkeypatch.setattr(safefs, "publish", publish)
    monkeypatch.setattr(safefs, "remove_name", remove_name)

    def restore() -> None:
        monkeypatch.setattr(os, "unlink", real_unlink)
        monkeypatch.setattr(copying, "_fill", real_fill)
        monkeypatch.setattr(safefs, "publish", real_publish)
        monkeypatch.setattr(safefs, "remove_name", real_remove)

    return restore


@pytest.mark.parametrize("point", ["writing", "written", "published", "restored"])
def test_undo_killed_while_copying_back_is_finished_by_the_next_undo(
    tmp_path, other_fs, monkeypatch, point
):
    """Attack: kill -9 during an undo that copies back across filesystems left a hidden
    .NAME.dedup-tui-partial in the user's folder, and every later undo failed with "File
    exists". Killed at each point of the copy back, the next undo must finish the job."""
    dest = other_fs / "dups"
    root, dup, was = moved_across(tmp_path, dest)
    quarantined = only_file(dest)

    revive = _kill_at(point, monkeypatch, str(quarantined))
    with pytest.raises(Killed):
        undo()
    revive()
    if point in ("writing", "written", "published"):
        assert partials(root), "the simulated kill should leave the temporary file behind"
    # Killed midway, the picture is at one place or both, never nowhere.
    assert quarantined.exists() or Path(dup).read_bytes() == PICTURE

    report = undo()
    assert report.ok, report.lines()
    assert report.restored == [dup]
    assert Path(dup).read_bytes() == PICTURE
    assert os.stat(dup).st_mtime_ns == was.st_mtime_ns
    assert partials(tmp_path, other_fs) == []
    assert files_under(dest) == []
    assert undo().batches == []  # nothing left to undo


CHILD = r"""
import os, signal, sys
from tui_dedup.actions import copying, undo
real_fill = copying._fill
def fill(sfd, out, st, expected, src):
    os.write(out, b"half a picture")
    os.fsync(out)
    os.kill(os.getpid(), signal.SIGKILL)  # a real kill -9, at a known point, no sleep
copying._fill = fill
undo()
sys.exit("undo finished: the kill did not happen")
"""


def test_real_kill_9_during_copy_back_then_undo(tmp_path, other_fs):
    dest = other_fs / "dups"
    root, dup, _was = moved_across(tmp_path, dest)
    quarantined = only_file(dest)
    child = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, check=False)
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()
    assert len(partials(root)) == 1 and quarantined.read_bytes() == PICTURE

    report = undo()
    assert report.ok, report.lines()
    assert any("interrupted run's temporary file" in n for n in report.notes)
    assert Path(dup).read_bytes() == PICTURE
    assert partials(tmp_path, other_fs) == [] and files_under(dest) == []


# -- 4. owner, mode, times and xattrs across filesystems, run as root -------------------------


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_copy_across_filesystems_and_back_keeps_owner_mode_times_and_xattrs(tmp_path, other_fs):
    """Attack: a cross-filesystem move + undo, run as root, of a file owned by another user with
    mode 0640 restored it as root:root: its owner could no longer read the photo."""
    root = tmp_path / "photos"
    keeper = write(root / "keep" / "k.jpg", b"the keeper" * 10)
    dup = write(root / "sub" / "d.jpg", PICTURE, mtime_ns=1_600_000_000_123_456_789)
    os.chown(dup, 4321, 4321)
    os.chmod(dup, 0o640)
    try:
        os.setxattr(dup, "user.test", b"edited in darktable")
        has_xattr = True
    except OSError as e:
        if e.errno not in (errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
        has_xattr = False  # this filesystem has no user xattrs: the rest still holds
    was = os.stat(dup)
    dest = other_fs / "dups"
    plan = build_plan([[entry(keeper, root), entry(dup, root)]], {dup}, "move", move_to=str(dest))
    assert plan.steps[0].copy
    report = apply_plan(plan, journal=Journal())
    assert report.ok, report.lines()
    assert not any("belongs to you" in n or "extended attribute" in n for n in report.notes)

    def same_as_before(path) -> None:
        st = os.stat(path)
        assert (st.st_uid, st.st_gid) == (4321, 4321)
        assert st.st_mode & 0o7777 == 0o640
        assert st.st_mtime_ns == was.st_mtime_ns
        assert Path(path).read_bytes() == PICTURE
        if has_xattr:
            try:
                assert os.getxattr(path, "user.test") == b"edited in darktable"
            except OSError as e:  # the other filesystem cannot hold it: only that is skipped
                if e.errno not in (errno.ENOTSUP, errno.EOPNOTSUPP):
                    raise

    same_as_before(only_file(dest))
    report = undo()
    assert report.ok, report.lines()
    assert not any("belongs to you" in n or "extended attribute" in n for n in report.notes)
    same_as_before(dup)
    assert has_xattr is False or os.getxattr(dup, "user.test") == b"edited in darktable"


# -- 5. the disk fills up -----------------------------------------------------------------


def test_move_onto_a_full_filesystem_leaves_the_source_and_no_partial_file(tmp_path, tiny_fs):
    """Disk full (ENOSPC) on the other filesystem while a move copies there."""
    root = tmp_path / "photos"
    keeper = write(root / "keep" / "k.jpg", b"the keeper" * 10)
    big = PICTURE * 40  # ~1.1 MB, far more than the 256 KiB filesystem holds
    dup = write(root / "sub" / "d.jpg", big)
    before = snapshot(root)
    dest = tiny_fs / "dups"
    plan = build_plan([[entry(keeper, root), entry(dup, root)]], {dup}, "move", move_to=str(dest))
    report = apply_plan(plan, journal=Journal())
    assert not report.ok and report.done == []
    assert any(p == dup and "No space left" in why for p, why in report.errors)
    assert any("No space left" in line for line in report.lines())
    assert snapshot(root) == before and Path(dup).read_bytes() == big
    assert partials(tiny_fs, tmp_path) == [] and files_under(dest) == []
    undo()  # the failed batch: nothing to put back, and nothing is removed
    assert snapshot(root) == before


def _fill_up(folder: Path) -> Path:
    """Fill the filesystem of ``folder`` to the last byte with another file, as other
    programs do; returns that file (remove it to free the space)."""
    filler = folder / "someone-elses-video.bin"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as e:
        assert e.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return filler


def test_undo_into_a_full_filesystem_keeps_the_copy_and_can_be_retried(tmp_path, tiny_fs):
    """Disk full while undo copies back: the quarantined copy stays, no partial file stays,
    the report says so, and once there is room a later undo restores the picture."""
    root = tiny_fs / "photos"
    keeper = write(root / "keep" / "k.jpg", b"the keeper" * 10)
    dup = write(root / "sub" / "d.jpg", PICTURE)
    dest = tmp_path / "usb"
    plan = build_plan([[entry(keeper, root), entry(dup, root)]], {dup}, "move", move_to=str(dest))
    assert plan.steps[0].copy
    assert apply_plan(plan, journal=Journal()).ok
    quarantined = only_file(dest)
    filler = _fill_up(tiny_fs)

    report = undo()
    assert not report.ok and report.restored == []
    assert any(dup in p and "No space left" in p for p in report.problems)
    assert quarantined.read_bytes() == PICTURE
    assert not os.path.exists(dup)
    assert partials(tiny_fs, tmp_path) == []

    os.unlink(filler)  # the user frees some space
    report = undo()
    assert report.ok, report.lines()
    assert Path(dup).read_bytes() == PICTURE
    assert files_under(dest) == [] and partials(tiny_fs, tmp_path) == []


def test_copy_to_a_filesystem_without_hard_links_publishes_by_rename(photos, tmp_path, monkeypatch):
    """A --move-to on vFAT/exFAT (most USB disks) has no hard links: the verified copy takes
    its name with a no-replace rename instead, and undo brings it back."""

    root, group = photos
    before = snapshot(root)
    dest = tmp_path / "usb"
    exdev_for(str(dest), monkeypatch)  # another filesystem...
    across = os.link

    def full(name, fd):
        return os.path.join(os.readlink(f"/proc/self/fd/{fd}"), name) if fd is not None else name

    def link(src, dst, *a, src_dir_fd=None, dst_dir_fd=None, **kw):
        inside = [
            full(p, fd).startswith(str(dest)) for p, fd in ((src, src_dir_fd), (dst, dst_dir_fd))
        ]
        if all(inside):  # ...without hard links, like vfat
            raise OSError(errno.EPERM, "Operation not permitted")
        return across(src, dst, *a, src_dir_fd=src_dir_fd, dst_dir_fd=dst_dir_fd, **kw)

    monkeypatch.setattr(os, "link", link)
    plan = build_plan([group], {group[1].path}, "move", move_to=str(dest))
    report = apply_plan(plan, journal=Journal())
    assert report.ok, report.errors
    assert any("copied" in n for n in report.notes)
    assert not os.path.exists(group[1].path)
    moved = [p for p in files_under(dest) if p.endswith("IMG_1.jpg")]
    assert moved and not [p for p in files_under(dest) if "partial" in p]
    assert undo().ok
    assert snapshot(root) == before
