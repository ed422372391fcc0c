"""`dedup-tui scan`: what a script reading the JSON, CSV or text output gets."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path

import pytest
from cli_helpers import make_odd_library

from tui_dedup.demo import make_photo, write_jpeg

PAIR_KEYS = {"a", "b", "similarity", "distance", "method", "scores", "transform"}
TOP_KEYS = {"version", "roots", "method", "threshold", "max_distance", "files", "pairs"}
TOP_KEYS |= {"groups", "errors"}


def rel(path: str, root: Path) -> str:
    return os.path.relpath(path, root)


# ---------------------------------------------------------------------------------------------
# JSON on the demo library


def test_json_has_the_version_2_shape_with_every_version_1_field(demo_json, demo_master):
    d = demo_json
    assert d.keys() >= TOP_KEYS | {"similar"}
    assert d["version"] == 2
    assert d["roots"] == [str(demo_master)]
    assert d["method"] == "phash"
    assert 0.0 < d["threshold"] <= 1.0
    assert isinstance(d["max_distance"], int)
    on_disk = sum(len(files) for _, _, files in os.walk(demo_master))
    assert d["files"] == on_disk - 1  # everything but the corrupt file
    assert d["pairs"], "the demo library is full of copies"
    for p in d["pairs"]:
        assert p.keys() >= PAIR_KEYS
        assert 0.0 <= p["similarity"] <= 1.0
        assert p["distance"] is None or 0 <= p["distance"] <= d["max_distance"]
        assert p["method"] in ("phash", "exact")
        assert {"phash", "dhash", "ahash", "hist3", "hist1"} <= p["scores"].keys()
        assert all(0.0 <= v <= 1.0 for v in p["scores"].values())
        assert os.path.isfile(p["a"]) and os.path.isfile(p["b"])
        assert p["kind"] in ("exact", "same pixels", "re-encoded", "rotated", "mirrored", "cropped")
        assert p["kind"] != "exact" or p["exact"]
        assert {"hash256_bits", "detail_match", "kept", "capture"} <= p["evidence"].keys()


def test_json_lists_each_pair_once_in_canonical_order(demo_json):
    pairs = demo_json["pairs"]
    assert all(p["a"] < p["b"] for p in pairs)
    assert len({(p["a"], p["b"]) for p in pairs}) == len(pairs)


def test_json_groups_partition_the_paired_files(demo_json):
    groups = demo_json["groups"]
    members = [m for g in groups for m in g]
    assert len(members) == len(set(members)), "a file belongs to one group at most"
    paired = {p["a"] for p in demo_json["pairs"]} | {p["b"] for p in demo_json["pairs"]}
    assert set(members) <= paired
    assert all(len(g) >= 2 for g in groups)


def test_json_finds_every_demo_family_with_its_transform(demo_json, demo_master):
    by_name = {
        frozenset((rel(p["a"], demo_master), rel(p["b"], demo_master))): p
        for p in demo_json["pairs"]
    }
    for b in range(10):
        original = f"2023/holiday/IMG_{2040 + b:04d}.jpg"
        small = f"phone/WhatsApp Images/IMG-2024-WA{b:04d}.jpg"
        assert frozenset((original, small)) in by_name, f"resized copy of {original} missed"
        assert by_name[frozenset((original, small))]["transform"] is None
        if b % 3 == 0:
            mirrored = f"2024/family/IMG_{2040 + b:04d} (edited).jpg"
            pair = by_name.get(frozenset((original, mirrored)))
            assert pair is not None, f"mirrored copy of {original} missed"
            assert pair["transform"] == "mirror"


def test_corrupt_file_is_reported_with_a_one_line_reason(demo_json, demo_master):
    errors = demo_json["errors"]
    assert [rel(e["path"], demo_master) for e in errors] == ["2024/family/broken.jpg"]
    reason = errors[0]["error"]
    assert reason.strip() and "\n" not in reason and "Traceback" not in reason
    paired = {p["a"] for p in demo_json["pairs"]} | {p["b"] for p in demo_json["pairs"]}
    assert errors[0]["path"] not in paired


def test_scan_to_stdout_exits_0_and_reports_the_corrupt_file_on_stderr(cli, demo_master):
    r = cli("scan", demo_master, "--format", "json")
    assert r.rc == 0
    assert r.json()["files"] > 0
    assert any("broken.jpg" in line for line in r.err_lines)
    assert r.err_lines[-1].startswith("dedup-tui: ") and "pairs" in r.err_lines[-1]


def test_readme_json_fields_are_in_the_output(demo_json):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    para = readme[readme.index('JSON (`"version": 2`)') :].split("File names", 1)[0]
    named = set(re.findall(r"`([a-z_0-9]+)`", para))
    assert named, "README paragraph about the JSON format not found"
    pair = demo_json["pairs"][0]
    fields = demo_json.keys() | pair.keys() | pair["evidence"].keys()
    missing = {k for k in named if k not in fields}
    assert not missing, f"README documents JSON fields the output lacks: {missing}"


# ---------------------------------------------------------------------------------------------
# Names that are hard to pass around: spaces, unicode, newline, bytes that are not UTF-8, CSV
# punctuation. Each file is a recompressed copy of one photo, so every two of them pair.


@pytest.fixture
def odd_library(tmp_path) -> tuple[Path, set[bytes]]:
    root = tmp_path / "odd"
    return root, make_odd_library(root)


def _all_pairs(names: set[bytes]) -> set[frozenset[bytes]]:
    names = sorted(names)
    return {frozenset((a, b)) for i, a in enumerate(names) for b in names[i + 1 :]}


def test_odd_names_round_trip_through_json(cli, odd_library):
    root, made = odd_library
    r = cli("scan", root, "--format", "json")
    assert r.rc == 0, r.err
    d = r.json()
    assert d["errors"] == []
    got = set()
    for p in d["pairs"]:
        a, b = os.fsencode(p["a"]), os.fsencode(p["b"])
        assert a in made and b in made
        assert os.path.exists(a) and os.path.exists(b)
        got.add(frozenset((a, b)))
    assert got == _all_pairs(made)
    assert {os.fsencode(m) for g in d["groups"] for m in g} == made


def test_odd_names_round_trip_through_json_file(cli, odd_library, tmp_path):
    root, made = odd_library
    out = tmp_path / "result.json"
    assert cli("scan", root, "--format", "json", "-o", out, "-q").rc == 0
    d = json.loads(out.read_bytes())
    assert {os.fsencode(p[k]) for p in d["pairs"] for k in "ab"} == made


def test_odd_names_round_trip_through_csv(cli, odd_library):
    root, made = odd_library
    r = cli("scan", root, "--format", "csv")
    assert r.rc == 0, r.err
    rows = list(csv.reader(io.StringIO(r.out.decode("utf-8", "surrogateescape"), newline="")))
    header, body = rows[0], rows[1:]
    a_col, b_col = header.index("a"), header.index("b")
    assert "similarity" in header
    got = set()
    for row in body:
        assert len(row) == len(header)
        a, b = os.fsencode(row[a_col]), os.fsencode(row[b_col])
        assert os.path.exists(a) and os.path.exists(b)
        got.add(frozenset((a, b)))
    assert got == _all_pairs(made)


def test_odd_names_round_trip_through_null_separated_text(cli, odd_library):
    root, made = odd_library
    r = cli("scan", root, "--format", "text", "--null")
    assert r.rc == 0, r.err
    records = [rec for rec in r.out.split(b"\0\0") if rec]
    got = set()
    for rec in records:
        similarity, a, b = rec.split(b"\0")
        assert re.fullmatch(rb"\d+(\.\d+)?%", similarity)
        assert os.path.exists(a) and os.path.exists(b)
        got.add(frozenset((a, b)))
    assert got == _all_pairs(made)


def test_text_format_is_one_tab_separated_line_per_pair(cli, tmp_path):
    root = tmp_path / "lib"
    root.mkdir()
    img = make_photo(9, 320, 240)
    write_jpeg(root / "a.jpg", img, 95)
    write_jpeg(root / "b.jpg", img, 70)
    r = cli("scan", root)  # text is the default format
    assert r.rc == 0
    lines = r.text.splitlines()
    assert len(lines) == 1
    similarity, a, b = lines[0].split("\t")
    assert similarity.endswith("%")
    assert {a, b} == {str(root / "a.jpg"), str(root / "b.jpg")}


def test_kinds_picks_what_is_listed_and_groups_stay_copies(cli, demo_master, demo_json) -> None:
    r = cli("scan", demo_master, "-q", "--format", "json", "--kinds", "mirrored,exact")
    assert r.rc == 0
    d = r.json()
    assert d["pairs"] and {p["kind"] for p in d["pairs"]} <= {"mirrored", "exact"}
    want = {(p["a"], p["b"]) for p in demo_json["pairs"] if p["kind"] in ("mirrored", "exact")}
    assert {(p["a"], p["b"]) for p in d["pairs"]} == want
    bad = cli("scan", demo_master, "--kinds", "duplicates")
    assert bad.rc == 2 and "unknown kind 'duplicates'" in bad.err and len(bad.err_lines) <= 3


def test_csv_has_the_kind_last(cli, demo_master) -> None:
    r = cli("scan", demo_master, "-q", "--format", "csv")
    rows = list(csv.reader(io.StringIO(r.out.decode("utf-8", "surrogateescape"))))
    assert rows[0][-1] == "kind"
    assert {row[-1] for row in rows[1:]} <= {
        "exact",
        "same pixels",
        "re-encoded",
        "rotated",
        "mirrored",
        "cropped",
        "edited",
    }
