"""``dedup-tui bursts``: the JSON document's shape, the text blocks, ``-o``, and exit codes.

The library (tests/burst_images.py: two bursts of one camera a minute apart, a second camera
at the same instants, a copy of a frame, unrelated photos, a file that is no image) is made
once per module; each test runs the command in-process with its state and cache in tmp_path.
"""

from __future__ import annotations

import json
import os

import pytest
from burst_images import Library, small_library

from tui_dedup.cli.exits import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE

FRAME_KEYS = {"path", "taken", "subsec", "sharpness", "exposure", "score", "rank"}


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Library:
    return small_library(tmp_path_factory.mktemp("cli-bursts") / "Pictures", size=(640, 427))


@pytest.fixture(scope="module")
def doc(library, tmp_path_factory) -> dict:
    """``bursts --format json`` of the library, run once."""
    from cli_helpers import isolate

    from tui_dedup.cli import main

    base = tmp_path_factory.mktemp("cli-bursts-run")
    out = base / "bursts.json"
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, base)
        rc = main(["bursts", str(library.root), "-q", "--format", "json", "-o", str(out)])
    assert rc == EXIT_OK
    return json.loads(out.read_bytes())


def test_the_json_document(doc, library):
    assert doc["version"] == 1
    assert doc["roots"] == [str(library.root)]
    assert doc["cancelled"] is False
    assert len(doc["bursts"]) == 3
    for burst in doc["bursts"]:
        frames = burst["frames"]
        assert all(set(f) == FRAME_KEYS for f in frames)
        assert sorted(f["rank"] for f in frames) == list(range(1, len(frames) + 1))
        assert burst["best"] == next(f["path"] for f in frames if f["rank"] == 1)
        instants = [(f["taken"], f["subsec"]) for f in frames]
        assert instants == sorted(instants)  # time order
        for f in frames:
            assert 0 < f["sharpness"] <= 1.0
            assert set(f["exposure"]) == {"clipped", "crushed", "level"}
            assert f["taken"].startswith("2024-05-01T10:0") and isinstance(f["subsec"], int)
    first = doc["bursts"][0]
    assert [f["path"] for f in first["frames"]] == [str(p) for p in library.bursts[0].paths]
    assert first["best"] == str(library.bursts[0].best_path)
    assert first["copies"] == {str(library.copied): [str(library.copy)]}
    [error] = doc["errors"]
    assert error["path"] == str(library.broken) and error["error"]


def test_text_is_one_block_per_burst_best_first(cli, library):
    run = cli("bursts", library.root, "-q")
    assert run.rc == EXIT_OK and run.err == ""
    blocks = [b for b in run.text.split("\n\n") if b.strip()]
    assert len(blocks) == 3
    head, *lines = blocks[0].splitlines()
    assert head.startswith("burst 1: 5 frames, Canon EOS R6, 2024-05-01 10:00:00.120; best: ")
    assert head.endswith(str(library.bursts[0].best_path))
    assert lines[0].split()[0] == "1" and lines[0].endswith(str(library.bursts[0].best_path))
    assert [int(x.split()[0]) for x in lines] == [1, 2, 3, 4, 5]


def test_errors_and_a_summary_go_to_stderr(cli, library):
    run = cli("bursts", library.root, "--format", "json")
    assert run.rc == EXIT_OK
    assert str(library.broken) in run.err
    assert "3 bursts of 14 frames, 1 errors" in run.err_lines[-1]
    assert json.loads(run.out)["version"] == 1


def test_output_file(cli, library, tmp_path):
    out = tmp_path / "b.json"
    run = cli("bursts", library.root, "-q", "--format", "json", "-o", out)
    assert run.rc == EXIT_OK and run.out == b""
    assert len(json.loads(out.read_bytes())["bursts"]) == 3


@pytest.mark.parametrize(
    "args",
    [
        ("bursts",),
        ("bursts", "/no/such/folder"),
        ("bursts", ".", "--format", "csv"),
        ("bursts", ".", "-o", "/no/such/folder/out.json"),
    ],
)
def test_bad_arguments_exit_2(cli, args):
    run = cli(*args)
    assert run.rc == EXIT_USAGE
    assert run.err.startswith("dedup-tui: error: ")


def test_help(cli):
    run = cli("bursts", "--help")
    assert run.rc == EXIT_OK and b"--format {json,text}" in run.out


def test_an_interrupted_run_exits_130(cli, library, monkeypatch):
    from tui_dedup.review import bursts

    real = bursts.find_bursts

    def stopped(settings, **kw):
        return real(settings, **kw, should_stop=lambda: True)

    monkeypatch.setattr(bursts, "find_bursts", stopped)
    run = cli("bursts", library.root, "--format", "json")
    assert run.rc == EXIT_INTERRUPTED
    assert json.loads(run.out)["cancelled"] is True
    assert "interrupted" in run.err


def test_an_empty_folder_has_no_bursts(cli, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    run = cli("bursts", empty, "--format", "json", "-q")
    assert run.rc == EXIT_OK
    doc = run.json()
    assert doc["bursts"] == [] and doc["errors"] == [] and doc["files"] == 0
    assert os.listdir(empty) == []  # nothing written into a scanned folder
