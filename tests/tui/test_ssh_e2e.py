"""End to end, for real: the app over a real SSH session, inside tmux, driven by keys.

A private sshd on 127.0.0.1 (own host key, own authorized_keys, own port) and a private tmux
server; the pane runs ``ssh -t root@127.0.0.1 'dedup-tui ... DEMO_DIR'``. The test only types
keys (``tmux send-keys``) and reads the screen (``tmux capture-pane``), like a person would, and
checks the user's files on disk after each destructive step.

Never skipped in CI: when sshd/tmux are missing and ``CI`` is set, the test fails (see
:func:`ssh_harness.require_tools`). ``.ci/run`` installs them.
"""

from __future__ import annotations

import re
import shlex
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ssh_harness import SshServer, Tmux, log_tails, require_tools, tree_digests, wait_until

pytestmark = pytest.mark.ssh

QUARANTINE = ".dedup-tui/duplicates"
# The first scan + match of the demo library takes a few seconds; a slow CI box gets more.
REVIEW_TIMEOUT = 40.0
STEP_TIMEOUT = 15.0
FIRST_DRAW_TIMEOUT = 20.0  # ssh login + Python/Textual start-up, until the header is drawn

# The pair table's fixed header line and the review status bar ("45 pairs · 10 groups · 0
# marked (0 B) · ..."; " | " instead of " · " when the locale is not UTF-8).
HEADER = re.compile(r"Sim\b.*File A.*File B")
STATUS = re.compile(r"(\d[\d,]*)(?:/\d[\d,]*)? pairs (·|\|) (\d[\d,]*) groups \2 (\d[\d,]*) marked")
CONFIRM_MOVE = re.compile(r"1 file\(s\), [^\n]*\?")


def dedup_tui_executable() -> str:
    """The venv's ``dedup-tui`` (the remote is this machine, so an absolute path works)."""
    sibling = Path(sys.executable).with_name("dedup-tui")
    if sibling.is_file():
        return str(sibling)
    found = shutil.which("dedup-tui")
    if found is None:
        pytest.fail("dedup-tui is not installed next to the test's Python nor on PATH")
    return found


def remote_command(cwd: Path, env: dict[str, str], args: list[str]) -> str:
    """``cd CWD && VAR=... /abs/dedup-tui ARGS`` for the remote shell."""
    assigns = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    return f"cd {shlex.quote(str(cwd))} && {assigns} {shlex.join([dedup_tui_executable(), *args])}"


def wait_status(tmux: Tmux, want, what: str, timeout: float = STEP_TIMEOUT) -> tuple[int, ...]:
    """Until the status bar's (pairs, groups, marked) satisfies ``want``."""

    def probe():
        tmux.check_alive(what)
        m = STATUS.search(tmux.screen())
        if not m:
            return None
        counts = tuple(int(m[i].replace(",", "")) for i in (1, 3, 4))
        return counts if want(*counts) else None

    return wait_until(probe, timeout, f"status bar: {what}", tmux.framed)


def quit_app(tmux: Tmux) -> int:
    """Press q (confirming if the app asks) and return the ssh session's exit status."""
    tmux.send("q")

    def probe():
        status = tmux.dead()
        if status is not None:
            return ("exited", status)
        if "Quit with" in tmux.screen():
            return ("asked", None)
        return None

    kind, status = wait_until(probe, STEP_TIMEOUT, "the app to quit", tmux.framed)
    if kind == "asked":
        tmux.send("y")
        status = tmux.wait_exit(STEP_TIMEOUT)
    return status


# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ssh_server(tmp_path_factory) -> Iterator[SshServer]:
    tools = require_tools()
    server = SshServer(tools, tmp_path_factory.mktemp("sshd"))
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture
def tmux(tmp_path) -> Iterator[Tmux]:
    tools = require_tools()
    t = Tmux(tools["tmux"], tmp_path / "tmux")
    t.diagnostics.append(lambda: log_tails(tmp_path / "state"))
    try:
        yield t
    finally:
        t.close()


def app_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "DEDUP_TUI_STATE_DIR": str(tmp_path / "state"),
        "DEDUP_TUI_CACHE_DIR": str(tmp_path / "cache"),
        **extra,
    }


# -- tests --------------------------------------------------------------------------------------


def test_review_move_undo_quit_over_ssh(ssh_server, tmux, demo_dir, tmp_path):
    before = tree_digests(demo_dir)
    env = app_env(tmp_path, TERM="xterm-256color", LANG="C.UTF-8")
    cmd = remote_command(tmp_path, env, ["--preview", "halfblock", "--no-cache", str(demo_dir)])
    tmux.start([*ssh_server.ssh_argv(), cmd], 100, 30)

    # Something drawn at all (the app's header), then the review screen: the pair table's
    # header and the status bar's counts.
    tmux.wait_for("dedup-tui", FIRST_DRAW_TIMEOUT)
    tmux.wait_for(HEADER, REVIEW_TIMEOUT)
    n_pairs, _, marked = wait_status(tmux, lambda p, g, m: p > 1, "some pairs", REVIEW_TIMEOUT)
    assert marked == 0

    # Second pair (j), side B (l), mark it (space).
    tmux.send("j")
    tmux.send("l")
    tmux.send("Space")
    wait_status(tmux, lambda p, g, m: m == 1, "1 marked")
    lines = tmux.lines()
    h = next(i for i, line in enumerate(lines) if HEADER.search(line))
    row = lines[h + 2]  # the second pair
    assert "✓" in row, f"the mark is not on the second pair\n{tmux.framed()}"
    tick = row.index("✓")
    assert tick >= lines[h].index("File B") - 1, f"marked side A, not B\n{tmux.framed()}"
    shown = re.search(r"✓ (.+?\.(?:jpe?g|png|webp|bmp|tiff?|gif|heic))", row[tick:], re.I)
    assert shown, f"no file name in the marked cell: {row!r}"
    shown_path = shown[1]

    # Move: the plan is shown in a dialog; y confirms (ConfirmScreen binds y / n,escape).
    tmux.send("m")
    tmux.wait_for(CONFIRM_MOVE, STEP_TIMEOUT)
    assert list(demo_dir.joinpath(QUARANTINE).rglob("*.*")) == [], "moved before confirming"
    tmux.send("y")
    tmux.wait_for("done: 1 file(s)", STEP_TIMEOUT)
    wait_status(tmux, lambda p, g, m: p < n_pairs and m == 0, f"fewer than {n_pairs} pairs")

    # On disk: exactly the marked file left its place, into the quarantine, intact.
    now = tree_digests(demo_dir, skip=".dedup-tui")
    gone = sorted(set(before) - set(now))
    assert len(gone) == 1, f"expected one file moved, got {gone}"
    rel = gone[0]
    head, _, tail = shown_path.rpartition("…") if "…" in shown_path else ("", "", shown_path)
    assert rel.endswith(tail) and rel.startswith(head), f"moved {rel!r}, marked {shown_path!r}"
    # It went into this batch's own folder: QUARANTINE/<date time move batch-id>/<rel>.
    (qrel, digest), *more = tree_digests(demo_dir / QUARANTINE).items()
    assert not more and digest == before[rel], f"quarantine holds {qrel!r} and {more}"
    batch, _, inner = qrel.partition("/")
    assert inner == rel and " move " in batch, f"{qrel!r} is not {rel!r} in a batch folder"
    moved = demo_dir / QUARANTINE / qrel
    assert not (demo_dir / rel).exists()
    assert {k: v for k, v in before.items() if k != rel} == now

    # Undo: the file is back, the quarantine copy gone, the pairs are back.
    tmux.send("u")  # files move again: the app asks first
    tmux.wait_for("Undo the last batch", STEP_TIMEOUT)
    tmux.send("y")
    tmux.wait_for("restored 1 file(s)", STEP_TIMEOUT)
    wait_status(tmux, lambda p, g, m: p == n_pairs, f"{n_pairs} pairs again")
    assert (demo_dir / rel).is_file()
    assert not moved.exists()

    # Quit: the ssh session ends with the app's exit status.
    assert quit_app(tmux) == 0, tmux.framed()

    assert tree_digests(demo_dir, skip=".dedup-tui") == before
    assert tree_digests(demo_dir / QUARANTINE) == {}


def test_odd_terminal_over_ssh(ssh_server, tmux, demo_dir, tmp_path):
    """TERM=screen, LANG=C, NO_COLOR at 80×24: opens, shows the table, quits cleanly."""
    before = tree_digests(demo_dir)
    env = app_env(tmp_path, TERM="screen", LANG="C", NO_COLOR="1")
    cmd = remote_command(tmp_path, env, ["--preview", "halfblock", "--no-cache", str(demo_dir)])
    tmux.start([*ssh_server.ssh_argv(), cmd], 80, 24)

    tmux.wait_for("dedup-tui", FIRST_DRAW_TIMEOUT)
    tmux.wait_for(HEADER, REVIEW_TIMEOUT)
    _, _, marked = wait_status(tmux, lambda p, g, m: p > 1, "some pairs")
    assert marked == 0
    # LANG=C: every glyph on screen is ASCII but the pictures' half-blocks, in the review, the
    # full-screen compare and a dialog (the demo's file names are ASCII)
    for keys, shown in (((), "pairs"), (("Enter",), "Flip A/B"), (("Escape", "?"), "Keys")):
        tmux.send(*keys)
        tmux.wait_for(shown, 10)
        time.sleep(0.5)  # the pictures follow once keys pause
        foreign = {ch for ch in tmux.screen() if not ch.isascii() and ch != "▀"}
        assert not foreign, (keys, sorted(foreign), tmux.framed())
    tmux.send("Escape")  # the help
    tmux.wait_for("Flip A/B", 10)
    tmux.send("Escape")  # the compare
    tmux.wait_for(HEADER, 10)

    assert quit_app(tmux) == 0, tmux.framed()
    assert tree_digests(demo_dir) == before


# The group view's lines: "Group 1: 4 files, copies take 1.5 MB", then "    keep PATH ..." and
# "  ✓ copy PATH ..." (✓: marked). Names end at the first image extension (sizes follow).
IMAGE_NAME = r"(.+?\.(?:jpe?g|png|webp|bmp|tiff?|gif|heic))"
MEMBER = re.compile(rf"^\s*(✓)?\s*(keep|copy) {IMAGE_NAME}", re.I)


def moved_files(dest: Path) -> dict[str, str]:
    """The files in a --move-to folder, without ours (its lock, its destination marker)."""
    return {k: v for k, v in tree_digests(dest).items() if not k.startswith(".dedup-tui")}


def shown_name(text: str) -> tuple[str, str]:
    """A path the way a cell shows it, as (head, tail) around a shortening "…"."""
    head, _, tail = text.rpartition("…") if "…" in text else ("", "", text)
    return head, tail


def test_move_to_from_the_group_view_over_ssh(ssh_server, tmux, demo_dir, tmp_path):
    """Issue #16's proof for item 9: launched with ``--move-to DEST``, a copy marked in the
    group view goes to DEST (the dialog says so), with the preview naming the row's two files
    all along; undo brings it back."""
    dest = tmp_path / "other disk"
    before = tree_digests(demo_dir)
    env = app_env(tmp_path, TERM="xterm-256color", LANG="C.UTF-8")
    args = ["--preview", "halfblock", "--no-cache", "--move-to", str(dest), str(demo_dir)]
    tmux.start([*ssh_server.ssh_argv(), remote_command(tmp_path, env, args)], 100, 30)
    tmux.wait_for("dedup-tui", FIRST_DRAW_TIMEOUT)
    tmux.wait_for(HEADER, REVIEW_TIMEOUT)
    n_pairs, _, _ = wait_status(tmux, lambda p, g, m: p > 1, "some pairs", REVIEW_TIMEOUT)

    # Group view (g), the first copy under the first keeper (j), mark it (space).
    tmux.send("g")
    tmux.wait_for(re.compile(r"Group 1: \d+ files"), STEP_TIMEOUT)
    tmux.send("j")
    tmux.send("Space")
    wait_status(tmux, lambda p, g, m: m == 1, "1 marked")
    lines = tmux.lines()
    at = next((k for k, line in enumerate(lines) if (m := MEMBER.match(line)) and m[1]), None)
    assert at is not None, f"no marked line in the group view\n{tmux.framed()}"
    marked = MEMBER.match(lines[at])
    assert marked is not None and marked[2] == "copy", f"marked a keeper\n{tmux.framed()}"
    keeper = next(
        m for line in reversed(lines[:at]) if (m := MEMBER.match(line)) and m[2] == "keep"
    )
    marked_path, keeper_path = marked[3].strip(), keeper[3].strip()

    # The preview names the row's two files: the keeper as A, the marked copy as B.
    screen = tmux.screen()
    for side, path in (("A", keeper_path), ("B", marked_path)):
        _, tail = shown_name(path)
        name = tail.rsplit("/", 1)[-1]
        assert re.search(rf"\b{side} {re.escape(name)}", screen), (
            f"the preview does not show {side} {name!r}\n{tmux.framed()}"
        )

    # Move: the dialog says where the file goes; nothing moves before y.
    tmux.send("m")
    tmux.wait_for(CONFIRM_MOVE, STEP_TIMEOUT)
    assert "(--move-to)" in tmux.screen(), f"the dialog does not say where\n{tmux.framed()}"
    assert not dest.exists() or moved_files(dest) == {}, "moved before confirming"
    tmux.send("y")
    tmux.wait_for("done: 1 file(s)", STEP_TIMEOUT)
    wait_status(tmux, lambda p, g, m: p < n_pairs and m == 0, f"fewer than {n_pairs} pairs")

    # On disk: the marked file, intact, in DEST/<batch>/<library name>/<its path>.
    now = tree_digests(demo_dir, skip=".dedup-tui")
    (rel,) = sorted(set(before) - set(now))
    head, tail = shown_name(marked_path)
    assert rel.endswith(tail) and rel.startswith(head), f"moved {rel!r}, marked {marked_path!r}"
    (moved, digest), *more = moved_files(dest).items()
    assert not more and digest == before[rel], f"{dest} holds {moved!r} and {more}"
    batch, root_name, inside = moved.split("/", 2)
    assert " move " in batch and root_name == demo_dir.name and inside == rel
    assert not (demo_dir / QUARANTINE).exists(), "the library's own quarantine was used"

    # Undo: back in its place, gone from DEST, the pairs back.
    tmux.send("u")
    tmux.wait_for("Undo the last batch", STEP_TIMEOUT)
    tmux.send("y")
    tmux.wait_for("restored 1 file(s)", STEP_TIMEOUT)
    wait_status(tmux, lambda p, g, m: p == n_pairs, f"{n_pairs} pairs again")
    assert tree_digests(demo_dir, skip=".dedup-tui") == before
    assert moved_files(dest) == {}
    assert quit_app(tmux) == 0, tmux.framed()
