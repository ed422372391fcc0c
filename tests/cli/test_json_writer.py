"""The fast JSON writer (export_json.to_json) against the plain one (json.dumps of to_dict): the
same document for any result — odd names, every kind of pair, groups, errors, nothing."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tui_dedup.engine.features.hashes import HIST1_BINS, HIST3_BINS, VARIANTS
from tui_dedup.engine.features.store import FeatureRow, build_store
from tui_dedup.engine.model import FileEntry, Group, ImageMeta, Pairs, ScanError
from tui_dedup.engine.registry import HASH_METHODS, Threshold
from tui_dedup.review.export_json import to_dict, to_json
from tui_dedup.review.result import Result

NAMES = ["plain.jpg", 'quote".jpg', "back\\slash.jpg", "new\nline.jpg", "tab\t.jpg"]
NAMES += ["caf\u00e9.jpg", "emoji\U0001f600.jpg", "bad\udcff\udcfe.jpg", "%s {x}.jpg", "}],.jpg"]


def _store(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    entries, rows = [], []
    for k in range(n):
        name = NAMES[k % len(NAMES)]
        entries.append(FileEntry(f"/lib/{k:03d}/{name}", "/lib", 100 + k, 0, 1, k + 1))
        rows.append(
            FeatureRow(
                ImageMeta(64, 48, "JPEG"),
                {m: rng.integers(0, 2**63, (VARIANTS, 1), dtype=np.uint64) for m in HASH_METHODS},
                rng.random(3 * HIST3_BINS).astype(np.float32),
                rng.random(HIST1_BINS).astype(np.float32),
                50.0,
            )
        )
    return build_store(8, entries, rows)


def _result(n: int, m: int, method: str = "phash", groups=None, seed: int = 0) -> Result:
    rng = np.random.default_rng(seed)
    store = _store(n, seed)
    i = rng.integers(0, n - 1, m).astype(np.int32)
    j = (i + 1 + rng.integers(0, n - 1 - i)).astype(np.int32)
    hist = method.startswith("hist")
    pairs = Pairs(
        i,
        j,
        np.full(m, -1, np.int16) if hist else rng.integers(0, 20, m).astype(np.int16),
        rng.random(m).astype(np.float32),
        rng.integers(0, 8, m).astype(np.int8),
        rng.random(m) < 0.2,
    )
    if groups is None:
        groups = [Group(int(a), [int(a), int(b)]) for a, b in zip(i[:3], j[:3], strict=True)]
    errors = [ScanError("/lib/x\udcff.jpg", 'cannot "read"\n')]
    skipped = [ScanError("/lib/raw.cr2", "skipped: RAW")]
    return Result(["/lib"], method, Threshold(0.8, 12), store, pairs, groups, errors, skipped)


def _plain(result: Result) -> object:
    return json.loads(json.dumps(to_dict(result), ensure_ascii=False))


@pytest.mark.parametrize(
    "n,m,method",
    [(40, 200, "phash"), (40, 1, "dhash"), (30, 50, "hist3"), (12, 0, "phash"), (25, 300, "hist1")],
)
def test_fast_json_equals_the_plain_document(n, m, method) -> None:
    result = _result(n, m, method)
    data = to_json(result)
    assert json.loads(data) == _plain(result)
    text = data.decode("utf-8")
    assert text.endswith("}\n")
    lines = text.splitlines()
    assert sum(1 for x in lines if x.startswith('  {"a": ')) == m  # one pair per line
    if m == 0:
        assert '"pairs": []' in text


def test_groups_with_rows_outside_the_pairs_and_no_groups() -> None:
    result = _result(20, 5, groups=[Group(17, [17, 18, 19]), Group(2, [2])])
    assert json.loads(to_json(result)) == _plain(result)
    result = _result(20, 5, groups=[])
    assert json.loads(to_json(result))["groups"] == []


def test_lone_surrogates_round_trip_as_escapes() -> None:
    result = _result(10, 30)
    doc = json.loads(to_json(result))
    names = {p["a"] for p in doc["pairs"]} | {p["b"] for p in doc["pairs"]}
    assert any("\udcff" in x for x in names)
    assert b"\\udcff" in to_json(result)


def test_scores_outside_the_unit_range_take_the_general_path(monkeypatch) -> None:
    import tui_dedup.review.export_json as out

    result = _result(20, 40)
    real = out.pair_scores

    def odd(store, pairs):
        s = real(store, pairs)
        s["phash"] = s["phash"] * 3 - 1  # below 0 and above 1
        return s

    monkeypatch.setattr(out, "pair_scores", odd)
    doc = json.loads(to_json(result))
    assert doc == _plain(result)


def test_a_document_written_in_many_chunks_is_the_same_document(monkeypatch) -> None:
    import tui_dedup.review.export as out
    import tui_dedup.review.export_json as json_out
    import tui_dedup.review.export_rows as rows_out

    result = _result(30, 100, groups=[Group(k, [k, k + 1, k + 2]) for k in range(0, 27, 3)])
    whole = to_json(result)
    monkeypatch.setattr(json_out, "CHUNK_PAIRS", 7)  # pairs and group members cross chunk edges
    chunks = list(json_out.iter_json(result))
    assert len(chunks) > 15
    assert b"".join(chunks) == whole
    assert json.loads(whole) == _plain(result)
    for fmt in ("csv", "text"):
        monkeypatch.setattr(rows_out, "CHUNK_ROWS", 10**6)
        one = out.render(result, fmt)
        monkeypatch.setattr(rows_out, "CHUNK_ROWS", 7)
        assert out.render(result, fmt) == one and len(list(out.chunks(result, fmt))) > 10


def test_scores_are_written_with_four_decimals() -> None:
    """float32 scores must not leak as 0.7811999917030334 into a script's JSON."""
    text = to_json(_result(20, 60)).decode()
    doc = json.loads(text)
    for p in doc["pairs"]:
        for v in p["scores"].values():
            assert v == round(v, 4) and len(repr(v)) <= 6
    assert doc == _plain(_result(20, 60))
