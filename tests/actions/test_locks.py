"""One tree, one writer: real second processes on real folders (issue #13, section 4).

The rival is a separate Python process started with its own state dir (as two users, sudo and
the user, or cron and the app would be). It reports on its stdout once it holds the lock and
holds it until its stdin is closed: the pipe is the synchronisation, never a sleep.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import signal
import stat
import subprocess
import sys

import pytest

from tui_dedup.actions import locks
from tui_dedup.actions.locks import TreeBusy, tree_lock

RIVAL = r"""
import errno, fcntl, json, os, stat, sys
from tui_dedup.actions.locks import TreeBusy, tree_lock
roots, dest, command, no_folder_locks = json.loads(sys.argv[1])
if no_folder_locks:  # as on a mount whose folders cannot be flock'ed
    real = fcntl.flock
    def flock(fd, op):
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))
        return real(fd, op)
    fcntl.flock = flock
try:
    with tree_lock(roots, dest, command=command) as lock:
        print("locked", json.dumps(lock.notes), flush=True)
        sys.stdin.readline()
except TreeBusy as e:
    print("busy", e, flush=True)
"""

COMMAND = "dedup-tui apply plan.json"


class Rival:
    """Another dedup-tui process, with its own state dir."""

    def __init__(self, tmp_path, roots, dest=None, no_folder_locks=False, hold=True):
        env = dict(os.environ, DEDUP_TUI_STATE_DIR=str(tmp_path / "rival-state"))
        args = json.dumps([[os.fspath(r) for r in roots], dest and os.fspath(dest), COMMAND,
                           no_folder_locks])  # fmt: skip
        self.proc = subprocess.Popen(
            [sys.executable, "-c", RIVAL, args],
            stdin=subprocess.PIPE if hold else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.pid = self.proc.pid
        self.line = self.proc.stdout.readline().rstrip("\n")
        assert self.line, self.proc.stderr.read()

    @property
    def locked(self) -> bool:
        return self.line.startswith("locked")

    def release(self) -> None:
        if self.proc.stdin and not self.proc.stdin.closed:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.fixture
def rival(tmp_path):
    started: list[Rival] = []

    def start(roots, dest=None, **kw) -> Rival:
        r = Rival(tmp_path, roots, dest, **kw)
        started.append(r)
        return r

    yield start
    for r in started:
        with contextlib.suppress(Exception):
            r.release()
        if r.proc.poll() is None:
            r.proc.kill()
            r.proc.wait()


def tree(tmp_path, *names):
    out = []
    for name in names:
        p = tmp_path / name
        p.mkdir(parents=True, exist_ok=True)
        out.append(os.path.realpath(p))
    return out


def refused(roots, dest=None) -> TreeBusy:
    with pytest.raises(TreeBusy) as info, tree_lock(roots, dest, command="dedup-tui undo"):
        pytest.fail("the second run got the lock")
    message = str(info.value)
    assert "\n" not in message
    return info.value


def needs_mount(reason: str):
    """Outside CI a test that cannot mount skips; under CI that is a failure (issue #13)."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"cannot mount under CI: {reason}")
    pytest.skip(reason)


@contextlib.contextmanager
def mounted(args: list[str], where: str):
    proc = subprocess.run(["mount", *args, where], capture_output=True, text=True)
    if proc.returncode != 0:
        needs_mount(f"mount {' '.join(args)} failed: {proc.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", where], check=False)


# -- two processes, one tree -----------------------------------------------------------------
def test_same_root_second_process_is_refused_and_named(tmp_path, rival):
    (root,) = tree(tmp_path, "Pictures")
    holder = rival([root])
    assert holder.locked

    busy = refused([root])
    message = str(busy)
    assert f"pid {holder.pid}" in message
    assert f"`{COMMAND}`" in message
    assert repr(os.path.realpath(root)) in message
    assert "try again when it has finished" in message

    holder.release()
    with tree_lock([root]) as lock:  # once it has finished, the next run goes ahead
        assert lock.paths == [os.path.realpath(root)]


def test_a_symlinked_root_is_the_same_tree(tmp_path, rival):
    (root,) = tree(tmp_path, "data/Pictures")
    os.symlink(root, tmp_path / "Pictures")
    holder = rival([tmp_path / "Pictures"])
    assert f"pid {holder.pid}" in str(refused([root]))


@pytest.mark.parametrize("holder_has", ["parent", "child"])
def test_nested_roots_exclude_each_other(tmp_path, rival, holder_has):
    parent, child = tree(tmp_path, "x/a", "x/a/b")
    mine, theirs = (child, parent) if holder_has == "parent" else (parent, child)
    holder = rival([theirs])
    assert holder.locked

    message = str(refused([mine]))
    if holder_has == "parent":
        assert f"pid {holder.pid}" in message and repr(parent) in message
    else:  # the rival's root is inside ours: we say where, even though we cannot name it
        assert repr(parent) in message and "or a folder inside it" in message


def test_a_root_above_the_mount_point_overlaps_a_root_below_it(tmp_path, rival):
    """Discovery crosses mount points, so the shared locks go past them too."""
    if os.geteuid() != 0:
        needs_mount("mounting a tmpfs needs root")
    top, usb = tree(tmp_path, "mnt", "mnt/usb")
    with mounted(["-t", "tmpfs", "-o", "size=1m", "tmpfs"], usb):
        (photos,) = tree(tmp_path, "mnt/usb/photos")
        holder = rival([top])
        assert holder.locked
        assert f"pid {holder.pid}" in str(refused([photos]))
        holder.release()
        holder = rival([photos])
        assert "or a folder inside it" in str(refused([top]))
        holder.release()


def test_sibling_roots_both_go_ahead(tmp_path, rival):
    a, c = tree(tmp_path, "x/a", "x/c")
    holder = rival([a])
    assert holder.locked
    with tree_lock([c]) as lock:
        assert lock.paths == [c]
        assert str(tmp_path / "x") in lock.shared  # both hold their common parent, shared


def test_one_process_may_pass_a_root_and_its_subfolder(tmp_path, rival):
    root, sub = tree(tmp_path, "Pictures", "Pictures/2020")
    with tree_lock([sub, root, root + "/"]) as lock:
        assert sorted(lock.paths) == sorted([root, sub])
        assert root not in lock.shared
        other = rival([sub], hold=False)  # and both stay locked against anyone else
        assert other.line.startswith("busy") and repr(root) in other.line
    assert rival([sub], hold=False).locked


def test_destination_equal_to_another_process_root_is_refused(tmp_path, rival):
    root, other_root = tree(tmp_path, "alice/Pictures", "bob/Pictures")
    holder = rival([other_root])
    assert f"pid {holder.pid}" in str(refused([root], dest=other_root))
    holder.release()

    holder = rival([other_root], dest=root)  # and the other way round
    assert f"pid {holder.pid}" in str(refused([root]))


def test_destination_not_created_yet_locks_its_nearest_parent_without_a_lock_file(tmp_path, rival):
    root, backup = tree(tmp_path, "Pictures", "backup")
    with tree_lock([root], dest=os.path.join(backup, "dups", "2024")) as lock:
        assert backup in lock.paths
        assert not os.path.exists(os.path.join(backup, ".dedup-tui"))
        assert not rival([backup], hold=False).locked


def test_lock_dies_with_a_killed_holder_even_though_its_line_stays(tmp_path, rival):
    (root,) = tree(tmp_path, "Pictures")
    holder = rival([root])
    lock_file = os.path.join(root, ".dedup-tui", "lock")
    with open(lock_file) as f:
        assert json.loads(f.readline())["pid"] == holder.pid

    os.kill(holder.pid, signal.SIGKILL)
    holder.proc.wait(timeout=30)
    with open(lock_file) as f:
        assert json.loads(f.readline())["pid"] == holder.pid  # stale, and must not block

    with tree_lock([root], command="dedup-tui undo") as lock:
        assert lock.notes == []
        with open(lock_file) as f:
            info = json.loads(f.readline())
        assert info["pid"] == os.getpid() and info["command"] == "dedup-tui undo"
        assert {"user", "host", "since"} <= info.keys()
        assert stat.S_IMODE(os.stat(lock_file).st_mode) == 0o644  # others can read who holds it
    assert os.path.exists(lock_file) and os.path.getsize(lock_file) == 0


def test_lock_released_when_the_work_fails(tmp_path, rival):
    (root,) = tree(tmp_path, "Pictures")
    with pytest.raises(ValueError), tree_lock([root]):
        raise ValueError("disk full")
    assert rival([root], hold=False).locked


def test_read_only_root_is_still_locked_through_the_folder(tmp_path, rival):
    (root,) = tree(tmp_path, "Pictures")
    if os.geteuid() == 0:  # permission bits do not stop root: use a read-only bind mount
        (ro,) = tree(tmp_path, "ro")
        ctx = mounted(["--bind", "-o", "ro", root], ro)
    else:
        os.chmod(root, 0o555)
        ro = root
        ctx = contextlib.nullcontext(ro)
    try:
        with ctx:
            if os.access(ro, os.W_OK) and os.geteuid() == 0:
                needs_mount("the bind mount is not read-only")
            with tree_lock([ro]) as lock:
                assert lock.paths == [os.path.realpath(ro)]
                assert any("no lock file" in n for n in lock.notes)
                assert not os.path.exists(os.path.join(ro, ".dedup-tui"))
                for path in (ro, root):  # the same folder, whichever path the rival takes
                    assert rival([path], hold=False).line.startswith("busy")
    finally:
        os.chmod(root, 0o755)


def test_without_folder_locks_the_lock_file_still_refuses_and_names(tmp_path, rival, monkeypatch):
    """Network and FUSE mounts: flock on a folder fails, the lock file is the lock."""
    (root,) = tree(tmp_path, "Pictures")
    holder = rival([root], no_folder_locks=True)
    assert holder.locked and "cannot lock folders" in holder.line

    real = fcntl.flock

    def flock(fd, op):
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))
        return real(fd, op)

    monkeypatch.setattr(fcntl, "flock", flock)
    assert f"pid {holder.pid}" in str(refused([root]))
    holder.release()
    with tree_lock([root]) as lock:
        assert any("only as good as the mount's locking" in n for n in lock.notes)


def test_a_planted_symlink_never_puts_the_lock_file_outside_the_root(tmp_path, rival):
    root, outside = tree(tmp_path, "Pictures", "elsewhere")
    os.symlink(outside, os.path.join(root, ".dedup-tui"))
    with tree_lock([root]) as lock:
        assert os.listdir(outside) == []
        assert any("not a plain folder" in n for n in lock.notes)
        assert not rival([root], hold=False).locked  # the folder lock still holds


def test_message_stays_one_line_whatever_the_lock_file_says(tmp_path, rival):
    (root,) = tree(tmp_path, "Pictures")
    assert rival([root]).locked
    lock_file = os.path.join(root, ".dedup-tui", "lock")
    with open(lock_file, "w") as f:  # anyone who can write there can put anything in it
        f.write(json.dumps({"pid": "x", "user": "eve\n\x1b[2J", "command": "rm -rf /\nyes"}))
    message = str(refused([root]))
    assert "\x1b" not in message and "\n" not in message
    assert repr(os.path.realpath(root)) in message


def test_module_is_headless():
    code = (
        "import sys, tui_dedup.actions.locks;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')];"
        "sys.exit(1 if bad else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
    assert locks.LOCK_DIR == ".dedup-tui"
