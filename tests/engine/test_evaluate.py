"""Evaluation arithmetic on a small hand-made truth file, with exact expected numbers."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest

from tui_dedup.engine.evaluate import (
    best_threshold,
    label_index_pairs,
    label_pairs,
    load_truth,
    score,
    score_scan_json,
    sweep,
    truth_from_dict,
)


def _f(path, family, *, base=None, transform="original", kind=None, split="tune", **extra):
    kind = kind or ("original" if transform == "original" else "copy")
    return {
        "path": path,
        "family": family,
        "base": base or family,
        "transform": transform,
        "kind": kind,
        "split": split,
        **extra,
    }


TRUTH = {
    "version": 1,
    "families": {
        "B": {"palette": "warm"},
        "C": {"palette": "warm"},
        "V1": {"variant_group": "G"},
        "V2": {"variant_group": "G"},
        "P1": {"source_family": "B"},
        "P2": {"source_family": "B"},
    },
    "files": [
        _f("a/orig.jpg", "A"),
        _f("a/r50.jpg", "A", transform="resize-50"),
        _f("a/rot.jpg", "A", transform="rotate-90"),
        _f("a/big.jpg", "A", base="A2"),  # the same artwork at another size
        _f("b.jpg", "B"),
        _f("c.jpg", "C"),
        _f("v1.jpg", "V1"),
        _f("v2.jpg", "V2"),
        _f("p1.jpg", "P1", transform="part", kind="negative"),
        _f("p2.jpg", "P2", transform="part", kind="negative"),
        _f("d/orig.jpg", "D", split="test"),
        _f("d/mirror.jpg", "D", transform="mirror", split="test"),
    ],
}

PREDICTED = [
    ("a/orig.jpg", "a/r50.jpg", 0.95),  # duplicate: resize-50
    ("a/r50.jpg", "a/orig.jpg", 0.90),  # the same pair again, reversed: counted once
    ("a/orig.jpg", "a/rot.jpg", 0.60),  # duplicate: rotate-90
    ("a/orig.jpg", "a/big.jpg", 0.99),  # duplicate: other-size
    ("b.jpg", "c.jpg", 0.92),  # false: same-palette
    ("p1.jpg", "p2.jpg", 0.85),  # false: same-source-crop
    ("v1.jpg", "v2.jpg", 0.97),  # variant: scored apart
    ("p1.jpg", "b.jpg", 0.80),  # partial: scored apart
    ("a/orig.jpg", "d/orig.jpg", 0.99),  # leaves the tune split: ignored
    ("/nonexistent.jpg", "a/orig.jpg", 0.99),  # unknown file: ignored
    ("a/orig.jpg", "./a/../a/orig.jpg", 1.0),  # one file twice: ignored
]


@pytest.fixture
def truth(tmp_path):
    (tmp_path / "truth.json").write_text(json.dumps(TRUTH))
    return load_truth(tmp_path)


def test_score_all_pairs_exact(truth):
    s = score(label_pairs(truth, PREDICTED, split="tune"))
    assert (s.tp, s.fp, s.positives, s.predicted) == (3, 2, 6, 5)
    assert s.precision == pytest.approx(3 / 5)
    assert s.recall == pytest.approx(3 / 6)
    assert s.f1 == pytest.approx(float(Fraction(6, 11)))
    assert s.recall_by_transform == {
        "resize-50": (1, 1),
        "rotate-90": (1, 1),
        "other-size": (1, 1),
        "copy-copy": (0, 3),
    }
    assert s.transform_recall("copy-copy") == 0.0
    assert s.fp_by_kind == {"same-source-crop": 1, "same-palette": 1, "other": 0}
    assert s.variant_pairs == (1, 1)
    assert s.partial_pairs == (1, 2)
    assert s.ignored == 3


def test_score_at_threshold(truth):
    s = score(label_pairs(truth, PREDICTED, split="tune"), threshold=0.9)
    # Kept: orig-r50 (0.95, the higher of its two entries), orig-big, b-c, and the variant.
    assert (s.tp, s.fp) == (2, 1)
    assert s.precision == pytest.approx(2 / 3)
    assert s.recall == pytest.approx(1 / 3)
    assert s.f1 == pytest.approx(4 / 9)
    assert s.fp_by_kind == {"same-source-crop": 0, "same-palette": 1, "other": 0}
    assert s.variant_pairs == (1, 1)
    assert s.partial_pairs == (0, 2)


def test_variants_do_not_change_precision_or_recall(truth):
    base = score(label_pairs(truth, PREDICTED[:6], split="tune"))
    with_variant = score(label_pairs(truth, [*PREDICTED[:6], PREDICTED[6]], split="tune"))
    assert (base.precision, base.recall) == (with_variant.precision, with_variant.recall)
    assert with_variant.variant_pairs == (1, 1)


def test_other_kind_and_all_splits(truth):
    s = score(label_pairs(truth, [("b.jpg", "a/orig.jpg"), ("d/orig.jpg", "d/mirror.jpg")]))
    assert s.fp_by_kind["other"] == 1
    assert s.positives == 7
    assert s.recall_by_transform["mirror"] == (1, 1)


def test_empty_prediction_conventions(truth):
    s = score(label_pairs(truth, [("a/orig.jpg", "d/orig.jpg", 0.99)], split="test"))
    assert (s.tp, s.fp, s.positives, s.ignored) == (0, 0, 1, 1)
    assert (s.precision, s.recall, s.f1) == (1.0, 0.0, 0.0)


def test_absolute_and_relative_paths_agree(truth, tmp_path):
    rel = score(label_pairs(truth, [("a/orig.jpg", "a/r50.jpg")]))
    absolute = score(
        label_pairs(truth, [(str(tmp_path / "a/orig.jpg"), str(tmp_path / "a/r50.jpg"))])
    )
    assert rel.tp == absolute.tp == 1


def test_sweep_exact_points(truth):
    points = sweep(label_pairs(truth, PREDICTED, split="tune"))
    table = [(p.threshold, p.tp, p.fp) for p in points]
    assert table == [(0.6, 3, 2), (0.85, 2, 2), (0.92, 2, 1), (0.95, 2, 0), (0.99, 1, 0)]
    at = {p.threshold: p for p in points}
    assert at[0.95].precision == 1.0
    assert at[0.95].recall == pytest.approx(1 / 3)
    assert at[0.99].f1 == pytest.approx(2 / 7)


def test_sweep_matches_score(truth):
    labelled = label_pairs(truth, PREDICTED, split="tune")
    for p in sweep(labelled, thresholds=[0.0, 0.5, 0.9, 0.95, 1.0]):
        s = score(labelled, p.threshold)
        assert (p.tp, p.fp, p.precision, p.recall, p.f1) == (
            s.tp,
            s.fp,
            s.precision,
            s.recall,
            s.f1,
        )


def test_best_threshold(truth):
    points = sweep(label_pairs(truth, PREDICTED, split="tune"))
    assert best_threshold(points).threshold == 0.95  # highest recall at precision >= 0.99
    assert best_threshold(points, min_precision=None).threshold == 0.6  # best F1 = 6/11
    assert best_threshold(points, min_precision=0.5).threshold == 0.6
    assert best_threshold(points, min_precision=1.01) is None
    assert best_threshold([]) is None


def test_sweep_monotone_on_random_pairs():
    rng = np.random.default_rng(7)
    n = 60
    families = rng.integers(0, 12, size=n)
    data = {
        "version": 1,
        "files": [
            _f(f"f{k}.jpg", f"F{fam}", transform="original" if k < 12 else "noise")
            for k, fam in enumerate(families)
        ],
    }
    truth = truth_from_dict(data, "/nonexistent-dataset")
    i, j = np.triu_indices(n, k=1)
    sim = rng.random(len(i))
    points = sweep(label_index_pairs(truth, i, j, sim))
    assert [p.threshold for p in points] == sorted(p.threshold for p in points)
    for a, b in itertools.pairwise(points):
        assert b.tp <= a.tp and b.fp <= a.fp and b.predicted <= a.predicted
        assert b.recall <= a.recall
    assert points[0].recall == 1.0  # every pair is predicted at the lowest similarity


def test_score_scan_json(truth, tmp_path):
    scan = {
        "version": 1,
        "roots": [str(tmp_path)],
        "method": "phash",
        "threshold": 0.5,
        "files": 12,
        "pairs": [
            {"a": str(tmp_path / a), "b": str(tmp_path / b), "similarity": s, "distance": 0}
            for a, b, s in PREDICTED[:8]
        ],
        "groups": [],
        "errors": [],
    }
    s = score_scan_json(scan, truth, split="tune")
    assert (s.tp, s.fp) == (3, 2)
    path = tmp_path / "scan.json"
    path.write_text(json.dumps(scan))
    assert score_scan_json(path, truth, split="tune", threshold=0.9).tp == 2


def test_rejects_unknown_versions(tmp_path):
    with pytest.raises(ValueError, match="version"):
        truth_from_dict({"version": 2, "files": []}, tmp_path)
    with pytest.raises(ValueError, match="version"):
        score_scan_json({"version": 9, "pairs": []}, truth_from_dict(TRUTH, tmp_path))


def test_evaluate_imports_no_ui():
    code = (
        "import sys, tui_dedup.engine.evaluate; "
        "assert 'textual' not in sys.modules and 'rich' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
