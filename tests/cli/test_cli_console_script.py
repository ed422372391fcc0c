"""The installed `dedup-tui` console script, run as a script would run it (no terminal), and what
stderr shows when it is not a terminal."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from cli_helpers import make_odd_library, run_script, small_pair_library


def test_headless_scan_never_imports_textual(tmp_path):
    lib = tmp_path / "lib"
    small_pair_library(lib, families=1)
    code = (
        "import sys; from tui_dedup.cli import main; "
        f"rc = main(['scan', {str(lib)!r}, '-q', '--no-cache', '--format', 'json', "
        "'-o', '/dev/null']); "
        "assert rc == 0, rc; "
        "assert 'textual' not in sys.modules, sorted(m for m in sys.modules if 'textual' in m)"
    )
    p = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=120,
        check=False,
    )
    assert p.returncode == 0, p.stderr


def test_script_scan_json_to_a_pipe(tmp_path):
    root = tmp_path / "odd"
    made = make_odd_library(root)
    r = run_script("scan", root, "--format", "json")
    assert r.rc == 0, r.err
    d = json.loads(r.out)
    assert {os.fsencode(p[k]) for p in d["pairs"] for k in "ab"} == made
    # stderr is a pipe: no progress bar, no escape codes, just the summary line
    assert len(r.err_lines) == 1, r.err
    assert r.err_lines[0].startswith("dedup-tui: 6 images, 15 pairs in 1 groups")
    assert "\x1b" not in r.err and "\r" not in r.err


def test_script_usage_errors_exit_2(tmp_path):
    r = run_script()
    assert r.rc == 2
    assert len(r.err_lines) == 1 and "--demo" in r.err
    r = run_script("scan", tmp_path / "missing")
    assert r.rc == 2
    assert r.err_lines == [f"dedup-tui: error: {tmp_path / 'missing'}: no such folder"]


def test_script_dot_slash_scan_is_a_folder(tmp_path):
    small_pair_library(tmp_path / "scan", families=1)
    r = run_script("./scan", cwd=tmp_path)
    assert r.rc == 2  # a folder: accepted, but the review app needs a terminal
    assert len(r.err_lines) == 1 and "terminal" in r.err
    r = run_script("scan", "scan", "--format", "json", cwd=tmp_path)
    assert r.rc == 0, r.err
    assert len(json.loads(r.out)["pairs"]) == 1


# ---------------------------------------------------------------------------------------------
# stderr when it is not a terminal (in-process: pytest's capture is not a tty either)


def test_no_progress_only_the_summary_line(cli, tmp_path):
    lib = tmp_path / "lib"
    small_pair_library(lib, families=2)
    r = cli("scan", lib, "--format", "json")
    assert r.rc == 0
    assert len(r.err_lines) == 1, r.err
    assert re.fullmatch(
        r"dedup-tui: 4 images, 2 pairs in 2 groups \(.*distance ≤ \d+\), 0 errors, "
        r"[\d.]+ MB in non-keeper copies",
        r.err_lines[0],
    ), r.err_lines[0]


def test_quiet_prints_nothing_on_stderr(cli, tmp_path):
    lib = tmp_path / "lib"
    small_pair_library(lib, families=2)
    lib.joinpath("broken.jpg").write_bytes(b"\xff\xd8\xff not a photo")
    r = cli("scan", lib, "--format", "json", "-q")
    assert r.rc == 0
    assert r.err == ""
    assert len(r.json()["errors"]) == 1  # the error is still in the output
