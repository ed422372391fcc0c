"""Bad arguments (issue #13, item 6): one clear line on stderr and exit 2, before anything runs.

Never a traceback, never a silent change of meaning: a bad number is not clamped, a missing
folder is not created, a missing reference folder does not quietly protect nothing. Every check
runs before the scan, so the tests also assert that nothing was created: no cache, no output,
no quarantine, no state.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cli_helpers import small_pair_library

from tui_dedup.cli.entry import _scan_parser
from tui_dedup.cli.options import settings_from_args


@pytest.fixture
def lib(tmp_path) -> Path:
    """A folder with one photo and its smaller copy: a scan would have work to do."""
    small_pair_library(tmp_path / "lib", families=1)
    return tmp_path / "lib"


def tree(top: Path) -> set[str]:
    return {os.path.relpath(os.path.join(d, n), top) for d, ds, fs in os.walk(top) for n in ds + fs}


def usage_error(r, mentions: str, tmp_path: Path) -> str:
    """Exit 2, exactly one ``dedup-tui: error:`` line naming ``mentions``, no traceback,
    nothing on stdout, and no per-user folder created (the scan never started)."""
    assert r.rc == 2, r.err
    assert len(r.err_lines) == 1, r.err
    line = r.err_lines[0]
    assert line.startswith("dedup-tui: error: "), line
    assert mentions in line, line
    assert "Traceback" not in r.err and "Error:" not in line, line
    assert r.out == b""
    for made in ("cache", "state", "xdg-cache", "xdg-state", "xdg-data"):
        assert not (tmp_path / made).exists(), f"{made} was created"
    return line


# ---------------------------------------------------------------------------------------------
# Numbers: the TUI, scan and plan share the options and their checks


BAD_NUMBERS = [
    ("--max-pixels", "nan"),
    ("--max-pixels", "inf"),
    ("--max-pixels", "-1"),
    ("--max-pixels", "0"),
    ("--workers", "-3"),
    ("--workers", "100000"),
    ("--workers", "two"),
    ("--min-size", "-5"),
    ("--min-size", "nan"),
    ("--max-file-size", "0"),
    ("--max-file-size", "inf"),
    ("--max-file-size", "-1k"),
    ("--hash-size", "3"),
    ("--hash-size", "17"),
    ("--hash-size", "-8"),
    ("--max-distance", "-1"),
    ("--max-distance", "65"),  # beyond the 64 bits of the default 8×8 hash
    ("--threshold", "nan"),
    ("--threshold", "inf"),
    ("--threshold", "-inf"),
]


@pytest.mark.parametrize("command", ["tui", "scan", "plan"])
@pytest.mark.parametrize(("option", "value"), BAD_NUMBERS)
def test_bad_number_is_a_usage_error(cli, lib, tmp_path, command, option, value):
    argv = [lib, option, value] if command == "tui" else [command, lib, option, value]
    usage_error(cli(*argv), option, tmp_path)


def test_max_distance_beyond_a_larger_hash_names_its_bits(cli, lib, tmp_path):
    line = usage_error(
        cli("scan", lib, "--hash-size", "16", "--max-distance", "257"), "--max-distance", tmp_path
    )
    assert "256" in line


def test_valid_edges_are_accepted_unchanged(lib):
    """0 workers (the default: two per core), --min-size 0, the whole hash, tiny limits."""
    argv = [str(lib), "--workers", "0", "--min-size", "0", "--max-pixels", "0.5"]
    s = settings_from_args(_scan_parser().parse_args([*argv, "--max-distance", "64"]))
    assert s.scan.workers == 0 and s.scan.limits.max_pixels == 500_000
    assert s.threshold().max_distance == 64
    s = settings_from_args(_scan_parser().parse_args([str(lib), "--workers", "256"]))
    assert s.scan.workers == 256


# ---------------------------------------------------------------------------------------------
# eval's two input files


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


TRUTH = '{"version": 1, "files": []}'


@pytest.mark.parametrize(
    ("scan_text", "truth_text", "named"),
    [
        ("{", "{", "scan"),  # not JSON: the handler itself used to raise AttributeError
        ("[1, 2]", TRUTH, "scan"),  # JSON, not an object
        ('{"version": 1}', TRUTH, "scan"),  # no pairs
        ('{"version": 1, "pairs": [{"a": "x"}]}', TRUTH, "scan"),  # a pair without b
        ('{"version": 1, "pairs": [{"a": 1, "b": 2}]}', TRUTH, "scan"),  # paths not strings
        ('{"version": 7, "pairs": []}', TRUTH, "scan"),
        ('{"version": 1, "pairs": []}', "[]", "truth"),
        ('{"version": 1, "pairs": []}', '{"version": 1}', "truth"),  # no files
        ('{"version": 1, "pairs": []}', '{"version": 1, "files": [{"x": 1}]}', "truth"),
        ('{"version": 1, "pairs": []}', '{"files": []}', "truth"),  # no version
        ('{"version": 1, "pairs": []}', "\udcff", "truth"),  # not UTF-8
    ],
)
def test_eval_of_a_bad_file_names_it(cli, tmp_path, scan_text, truth_text, named):
    scan = tmp_path / "scan.json"
    scan.write_bytes(scan_text.encode("utf-8", "surrogateescape"))
    truth = tmp_path / "truth.json"
    truth.write_bytes(truth_text.encode("utf-8", "surrogateescape"))
    usage_error(cli("eval", scan, truth), str(scan if named == "scan" else truth), tmp_path)


def test_eval_of_the_same_bad_file_twice(cli, tmp_path):
    bad = write(tmp_path / "bad.json", "not json at all")
    line = usage_error(cli("eval", bad, bad), str(bad), tmp_path)
    assert "JSON" in line


def test_eval_of_a_missing_file_names_it(cli, tmp_path):
    scan = write(tmp_path / "scan.json", '{"version": 1, "pairs": []}')
    missing = tmp_path / "nope.json"
    usage_error(cli("eval", missing, missing), str(missing), tmp_path)
    usage_error(cli("eval", scan, missing), str(missing), tmp_path)


def test_eval_threshold_nan_is_a_usage_error(cli, tmp_path):
    scan = write(tmp_path / "scan.json", '{"version": 1, "pairs": []}')
    truth = write(tmp_path / "truth.json", TRUTH)
    usage_error(cli("eval", scan, truth, "--threshold", "nan"), "--threshold", tmp_path)


def test_eval_of_well_formed_files_still_scores(cli, tmp_path):
    scan = write(tmp_path / "scan.json", '{"version": 1, "pairs": []}')
    truth = write(tmp_path / "truth.json", TRUTH)
    r = cli("eval", scan, truth)
    assert r.rc == 0, r.err
    assert r.text.startswith("pairs scored 0")


# ---------------------------------------------------------------------------------------------
# Output files: checked before the scan, not after it


@pytest.mark.parametrize("command", ["scan", "plan"])
def test_output_in_a_missing_folder_is_refused_before_the_scan(cli, lib, tmp_path, command):
    target = tmp_path / "no-such-dir" / "x"
    line = usage_error(cli(command, lib, "-q", "-o", target), "-o", tmp_path)
    assert "does not exist" in line and str(target.parent) in line
    assert not target.parent.exists()


@pytest.mark.parametrize("command", ["scan", "plan"])
def test_output_that_is_a_folder_or_empty_is_refused(cli, lib, tmp_path, command):
    usage_error(cli(command, lib, "-q", "-o", tmp_path), "-o", tmp_path)
    usage_error(cli(command, lib, "-q", "-o", ""), "-o", tmp_path)
    under_a_file = lib / "family0" / "original.jpg" / "x"
    usage_error(cli(command, lib, "-q", "-o", under_a_file), "not a folder", tmp_path)


# ---------------------------------------------------------------------------------------------
# The feature cache


def test_cache_in_a_missing_folder_is_refused_not_created(cli, lib, tmp_path):
    cache = tmp_path / "no-such-dir" / "c.sqlite"
    line = usage_error(cli("scan", lib, "-q", "--cache", cache), "--cache", tmp_path)
    assert "does not exist" in line
    assert not cache.parent.exists()
    usage_error(cli("scan", lib, "-q", "--cache", ""), "--cache", tmp_path)


def test_cache_in_an_existing_folder_is_used(cli, lib, tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    r = cli("scan", lib, "-q", "--cache", folder / "c.sqlite")
    assert r.rc == 0, r.err
    assert (folder / "c.sqlite").is_file()


# ---------------------------------------------------------------------------------------------
# --keep-in: a reference folder must exist, and is compared as a real path


@pytest.mark.parametrize("command", ["scan", "plan"])
def test_keep_in_a_missing_folder_is_a_usage_error(cli, lib, tmp_path, command):
    before = tree(lib)
    missing = tmp_path / "Originals"
    argv = [command, lib, "-q", "--auto-select", "--keep-in", missing]
    line = usage_error(cli(*argv), "--keep-in", tmp_path)
    assert str(missing) in line
    assert tree(lib) == before


def test_keep_in_a_file_is_a_usage_error(cli, lib, tmp_path):
    before = tree(lib)
    photo = lib / "family0" / "original.jpg"
    line = usage_error(
        cli("scan", lib, "-q", "--auto-select", "--keep-in", photo), "--keep-in", tmp_path
    )
    assert "not a folder" in line
    assert tree(lib) == before


@pytest.fixture
def linked_library(tmp_path) -> tuple[Path, Path, Path]:
    """data/Pictures holds Originals/ (the SMALLER copy, which rules alone would mark) and
    Phone/ (the larger one); home/Pictures is a symlink to data/Pictures."""
    real = tmp_path / "data" / "Pictures"
    fams = small_pair_library(tmp_path / "gen", families=1)
    big, small = fams["family0"]
    (real / "Originals").mkdir(parents=True)
    (real / "Phone").mkdir()
    small.rename(real / "Originals" / "scan.jpg")
    big.rename(real / "Phone" / "photo.jpg")
    link = tmp_path / "home" / "Pictures"
    link.parent.mkdir()
    link.symlink_to(real, target_is_directory=True)
    return real, link, real / "Originals" / "scan.jpg"


def planned(cli, tmp_path: Path, *argv) -> list[str]:
    out = tmp_path / "plan.json"
    r = cli("plan", *argv, "-q", "-o", out)
    assert r.rc == 0, r.err
    return [os.path.realpath(s["entry"]["path"]) for s in json.loads(out.read_bytes())["steps"]]


def test_without_keep_in_the_reference_copy_would_be_marked(cli, tmp_path, linked_library):
    real, _, reference = linked_library
    assert planned(cli, tmp_path, real) == [str(reference)], "the test needs this"


@pytest.mark.parametrize(
    ("scanned", "kept"),
    [("real", "link"), ("link", "link"), ("link", "real"), ("real", "real")],
)
def test_keep_in_protects_through_a_symlinked_parent(cli, tmp_path, linked_library, scanned, kept):
    """`--keep-in ~/Pictures/Originals` where ~/Pictures is a symlink to the scanned folder."""
    real, link, reference = linked_library
    root = real if scanned == "real" else link
    keep = (real if kept == "real" else link) / "Originals"
    steps = planned(cli, tmp_path, root, "--keep-in", keep)
    assert str(reference) not in steps
    assert steps == [str(real / "Phone" / "photo.jpg")], "the other copy is moved instead"


# ---------------------------------------------------------------------------------------------
# --move-to: a folder, or a path where one can be made


def test_move_to_empty_is_a_usage_error_not_the_quarantine(cli, lib, tmp_path):
    before = tree(lib)
    line = usage_error(
        cli("scan", lib, "-q", "--auto-select", "--move-to", ""), "--move-to", tmp_path
    )
    assert "needs a folder" in line
    assert tree(lib) == before  # no .dedup-tui/duplicates/ appeared


def test_move_to_an_existing_file_is_a_usage_error(cli, lib, tmp_path):
    before = tree(lib)
    photo = lib / "family0" / "original.jpg"
    for dest in (photo, photo / "dups"):  # the file itself, or a folder "inside" it
        line = usage_error(
            cli("scan", lib, "-q", "--auto-select", "--move-to", dest), "--move-to", tmp_path
        )
        assert "not a folder" in line
    assert tree(lib) == before


def test_move_to_plan_with_a_file_is_a_usage_error(cli, lib, tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("x")
    usage_error(cli("plan", lib, "-q", "--move-to", f / "a" / "b"), "--move-to", tmp_path)


def test_move_to_may_not_exist_yet_and_is_resolved(lib, tmp_path):
    real = tmp_path / "disk"
    real.mkdir()
    link = tmp_path / "dups-link"
    link.symlink_to(real, target_is_directory=True)
    args = _scan_parser().parse_args(
        [str(lib), "--auto-select", "--move-to", str(link / "new" / "deeper")]
    )
    assert args.move_to == str(real / "new" / "deeper")
    assert not (real / "new").exists()  # created by the action, not by parsing


def test_move_to_holding_a_scanned_folder_is_refused(tmp_path):
    """Issue #13: a destination that contains a scanned root is refused."""
    from tui_dedup.cli import main

    root = tmp_path / "Pictures"
    root.mkdir()
    assert main(["plan", str(root), "--auto-select", "--move-to", str(tmp_path)]) == 2
