"""Thresholds, usage errors and exit codes, as a user typing commands sees them."""

from __future__ import annotations

import os

import pytest
from cli_helpers import small_pair_library

from tui_dedup.cli import entry as cli_mod
from tui_dedup.demo import make_photo, write_jpeg

#: The crop stage finds copies beyond any threshold (a crop is 16–34 bits away, its pHash
#: distance is reported as it is): off where a test is about the threshold or another stage.
NO_CROPS = ("--no-crop-tolerant",)


def pair_set(result: dict) -> set[tuple[str, str]]:
    return {(p["a"], p["b"]) for p in result["pairs"]}


def one_error_line(r) -> str:
    """The run failed with exactly one line on stderr; returns it."""
    lines = r.err_lines
    assert len(lines) == 1, r.err
    assert lines[0].startswith("dedup-tui: error: ")
    assert "Traceback" not in r.err
    return lines[0]


# ---------------------------------------------------------------------------------------------
# Thresholds


def test_presets_nest_strict_within_balanced_within_loose(cli, demo_master):
    runs = {}
    for preset in ("strict", "balanced", "loose"):
        r = cli("scan", demo_master, "--format", "json", "-q", "--threshold", preset, *NO_CROPS)
        assert r.rc == 0
        runs[preset] = r.json()
    strict, balanced, loose = (runs[k] for k in ("strict", "balanced", "loose"))
    assert strict["max_distance"] < balanced["max_distance"] < loose["max_distance"]
    assert pair_set(strict) <= pair_set(balanced) <= pair_set(loose)
    assert len(pair_set(strict)) < len(pair_set(loose))
    default = cli("scan", demo_master, "--format", "json", "-q", *NO_CROPS).json()
    assert default["max_distance"] == balanced["max_distance"]
    assert pair_set(default) == pair_set(balanced)


def test_similarity_threshold_equals_the_matching_bit_distance(cli, demo_master):
    by_similarity = cli(
        "scan", demo_master, "--format", "json", "-q", "--threshold", "0.875", *NO_CROPS
    )
    by_distance = cli(
        "scan", demo_master, "--format", "json", "-q", "--max-distance", "8", *NO_CROPS
    )
    assert by_similarity.rc == by_distance.rc == 0
    s, d = by_similarity.json(), by_distance.json()
    assert s["max_distance"] == d["max_distance"] == 8
    assert s["threshold"] == d["threshold"] == 0.875
    assert pair_set(s) == pair_set(d)
    assert all(p["similarity"] >= 0.875 for p in s["pairs"])


def test_max_distance_is_inclusive(cli, demo_master):
    loose = cli(
        "scan", demo_master, "--format", "json", "-q", "--threshold", "loose", *NO_CROPS
    ).json()
    distances = sorted({p["distance"] for p in loose["pairs"] if p["distance"]})
    assert len(distances) >= 2
    limit = distances[len(distances) // 2]
    r = cli("scan", demo_master, "--format", "json", "-q", "--max-distance", str(limit), *NO_CROPS)
    assert r.rc == 0
    got = r.json()
    assert got["max_distance"] == limit
    assert any(p["distance"] == limit for p in got["pairs"]), "distance == N must match"
    assert all(p["distance"] is None or p["distance"] <= limit for p in got["pairs"])
    expected = {
        (p["a"], p["b"]) for p in loose["pairs"] if p["distance"] is None or p["distance"] <= limit
    }
    assert pair_set(got) == expected


def test_histogram_method_takes_a_similarity(cli, demo_master):
    r = cli(
        "scan", demo_master, "--format", "json", "-q", "--method", "hist3", "--threshold", "0.9"
    )
    assert r.rc == 0
    d = r.json()
    assert d["method"] == "hist3" and d["max_distance"] is None
    assert all(p["similarity"] >= 0.9 for p in d["pairs"])


def test_max_distance_with_a_histogram_method_is_a_usage_error(cli, demo_master):
    r = cli("scan", demo_master, "--method", "hist3", "--max-distance", "4")
    assert r.rc == 2
    line = one_error_line(r)
    assert "--max-distance" in line and "hist3" in line
    assert r.out == b""


@pytest.mark.parametrize("value", ["2", "-0.1", "high"])
def test_threshold_out_of_range_is_a_usage_error(cli, tmp_path, value):
    r = cli("scan", tmp_path, "--threshold", value)
    assert r.rc == 2
    assert value in one_error_line(r)


def test_threshold_and_max_distance_together_is_a_usage_error(cli, tmp_path):
    r = cli("scan", tmp_path, "--threshold", "0.9", "--max-distance", "3")
    assert r.rc == 2
    one_error_line(r)


# ---------------------------------------------------------------------------------------------
# Paths


def test_nonexistent_path_is_a_usage_error_naming_it(cli, tmp_path):
    missing = tmp_path / "no such folder"
    r = cli("scan", missing)
    assert r.rc == 2
    assert str(missing) in one_error_line(r)


def test_a_file_instead_of_a_folder_is_a_usage_error_naming_it(cli, tmp_path):
    f = tmp_path / "photo.jpg"
    write_jpeg(f, make_photo(1, 64, 48))
    r = cli("scan", f)
    assert r.rc == 2
    line = one_error_line(r)
    assert str(f) in line and "folder" in line


def test_tui_with_a_missing_path_is_a_usage_error_too(cli, tmp_path):
    r = cli(tmp_path / "gone")
    assert r.rc == 2
    assert str(tmp_path / "gone") in one_error_line(r)


def test_no_arguments_hints_at_the_demo(cli):
    r = cli()
    assert r.rc == 2
    assert "--demo" in one_error_line(r)


def test_dot_slash_scan_is_a_folder_not_the_subcommand(cli, tmp_path, monkeypatch):
    folder = tmp_path / "scan"
    small_pair_library(folder, families=1)
    monkeypatch.chdir(tmp_path)
    assert cli_mod._tui_parser().parse_args(["./scan"]).paths == ["./scan"]
    # The TUI path accepts the folder and then needs a terminal, which pytest does not give.
    r = cli("./scan")
    assert r.rc == 2
    line = one_error_line(r)
    assert "terminal" in line
    assert "invalid choice" not in line and "unrecognized" not in line


def test_bare_scan_is_the_subcommand(cli, tmp_path, monkeypatch):
    small_pair_library(tmp_path / "scan", families=1)
    monkeypatch.chdir(tmp_path)
    r = cli("scan")  # the subcommand, which needs a PATH
    assert r.rc == 2
    assert "PATH" in one_error_line(r)
    r = cli("scan", "scan", "--format", "json", "-q")  # subcommand + folder named scan
    assert r.rc == 0
    assert r.json()["roots"] == [str(tmp_path / "scan")]
    assert len(r.json()["pairs"]) == 1


def test_unknown_option_is_a_usage_error(cli, tmp_path):
    r = cli("scan", tmp_path, "--no-such-option")
    assert r.rc == 2
    assert "--no-such-option" in one_error_line(r)


# ---------------------------------------------------------------------------------------------
# Exit status


def test_empty_folder_is_a_successful_scan(cli, tmp_path):
    r = cli("scan", tmp_path, "--format", "json")
    assert r.rc == 0
    d = r.json()
    assert d["files"] == 0 and d["pairs"] == [] and d["groups"] == []


def test_output_in_a_missing_folder_is_a_usage_error(cli, tmp_path):
    small_pair_library(tmp_path / "lib", families=1)
    target = tmp_path / "missing" / "out.json"
    r = cli("scan", tmp_path / "lib", "-q", "--format", "json", "-o", target)
    assert r.rc == 2  # checked before the scan (tests/cli/test_bad_arguments.py)
    assert str(target) in one_error_line(r)
    assert not target.exists()


def test_unexpected_exception_is_exit_1_one_line_and_debug_shows_it(cli, tmp_path, monkeypatch):
    import tui_dedup.review.export

    def boom(*_a, **_k):
        raise RuntimeError("disk on fire")

    small_pair_library(tmp_path / "lib", families=1)
    monkeypatch.setattr(tui_dedup.review.export, "write", boom)
    r = cli("scan", tmp_path / "lib", "-q")
    assert r.rc == 1
    line = one_error_line(r)
    assert "disk on fire" in line and "--debug" in line
    with pytest.raises(RuntimeError, match="disk on fire"):
        cli_mod.main(["scan", os.fspath(tmp_path / "lib"), "-q", "--debug"])


def test_keyboard_interrupt_exits_130(cli, tmp_path, monkeypatch):
    import tui_dedup.review.pipeline

    def interrupted(*_a, **_k):
        raise KeyboardInterrupt

    small_pair_library(tmp_path / "lib", families=1)
    monkeypatch.setattr(tui_dedup.review.pipeline, "scan", interrupted)
    r = cli("scan", tmp_path / "lib", "--format", "json")
    assert r.rc == 130
    assert r.err_lines == ["dedup-tui: interrupted"]
    assert r.out == b""


# ---------------------------------------------------------------------------------------------
# Matching stages a user can switch


def test_logo_copy_is_found_by_default_and_not_with_no_local_edits(cli, tmp_path):
    """A logo stamped on a smooth wallpaper: only the local-edit stage pairs it."""
    import cv2
    from local_edit_images import symmetric_design, with_logo

    base = symmetric_design(3)
    cv2.imwrite(str(tmp_path / "wallpaper.jpg"), base, [cv2.IMWRITE_JPEG_QUALITY, 92])
    cv2.imwrite(str(tmp_path / "with logo.jpg"), with_logo(base), [cv2.IMWRITE_JPEG_QUALITY, 92])
    found = {}
    for flag in ("--local-edits", "--no-local-edits"):
        r = cli("scan", str(tmp_path), "--format", "json", "-q", "--no-cache", flag, *NO_CROPS)
        assert r.rc == 0, r.err
        found[flag] = {frozenset(os.path.basename(x) for x in p) for p in pair_set(r.json())}
    assert found["--local-edits"] == {frozenset({"wallpaper.jpg", "with logo.jpg"})}
    assert found["--no-local-edits"] == set()
