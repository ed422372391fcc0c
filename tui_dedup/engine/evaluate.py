"""Score predicted duplicate pairs against a labelled dataset.

The dataset (built by ``benchmarks/accuracy/build_dataset.py``) is a folder with a
``truth.json``::

    {"version": 1,
     "families": {"<family>": {"palette": str, "variant_group": str | null,
                               "source_family": str (parts only), "split": str, ...}, ...},
     "files": [{"path": "files/x/y.jpg", "family": str, "base": str, "transform": str,
                "split": "tune" | "test", "kind": "original" | "copy" | "negative" | ...}, ...]}

``families`` is optional: a family it does not describe has its own palette, no variant group
and no source. How two files relate:

- **duplicate** (a positive): same family. Counted for recall under the copy's transform when
  one file is the original of the other's base, ``"other-size"`` when both are originals (one
  artwork at several sizes), ``"copy-copy"`` otherwise.
- **variant**: different families of one ``variant_group`` (a recoloured design). Neither
  positive nor negative: reported apart, never in precision or recall.
- **partial**: a part cut from a source image against any file of that source's family.
  Reported apart like variants.
- **negative**, by kind: ``"same-source-crop"`` (two parts of one source image),
  ``"same-palette"`` (families with the same palette label), ``"other"``.

Pairs are unordered and counted once. Precision is 1.0 when nothing is predicted (no false
claim was made); F1 is 0.0 when nothing is found. Pure functions, numpy only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

NEGATIVE, DUPLICATE, VARIANT, PARTIAL = 0, 1, 2, 3
FP_KINDS = ("same-source-crop", "same-palette", "other")
COPY_COPY, OTHER_SIZE = "copy-copy", "other-size"

PairInput = Iterable[tuple[str, str] | tuple[str, str, float]]


@dataclass(frozen=True, eq=False)
class Truth:
    """A loaded truth file: one row per file, the labels as integer codes for numpy."""

    root: str
    paths: tuple[str, ...]
    split: np.ndarray  # str per file
    family: np.ndarray  # int code per file
    base: np.ndarray  # int code
    original: np.ndarray  # bool: kind == "original"
    transform: np.ndarray  # int code into ``labels``
    variant_group: np.ndarray  # int code, -1 for none
    palette: np.ndarray  # int code
    source: np.ndarray  # family code of the source image for parts, -1 otherwise
    labels: tuple[str, ...]  # transform names, then "copy-copy" and "other-size"
    index: Mapping[str, int] = field(repr=False)

    def __len__(self) -> int:
        return len(self.paths)

    def lookup(self, path: str) -> int:
        """Row of ``path`` (absolute, or relative to the dataset folder), or -1."""
        return self.index.get(os.path.realpath(os.path.join(self.root, path)), -1)

    def in_split(self, split: str | None) -> np.ndarray:
        if split is None:
            return np.ones(len(self), dtype=bool)
        return self.split == split


def _codes(values: Sequence[str | None]) -> tuple[np.ndarray, dict[str, int]]:
    table: dict[str, int] = {}
    out = np.array([-1 if v is None else table.setdefault(v, len(table)) for v in values])
    return out.astype(np.int64).reshape(len(values)), table


def load_truth(path: str | os.PathLike[str]) -> Truth:
    """Load ``truth.json`` (or the dataset folder holding it)."""
    p = Path(path)
    if p.is_dir():
        p = p / "truth.json"
    data = json.loads(p.read_text())
    return truth_from_dict(data, p.parent)


def truth_from_dict(data: Mapping, root: str | os.PathLike[str]) -> Truth:
    if data.get("version") != 1:
        raise ValueError(f"unsupported truth file version {data.get('version')!r} (expected 1)")
    root = os.path.realpath(root)
    files = data["files"]
    fams = data.get("families", {})

    def fam_attr(f: Mapping, key: str) -> str | None:
        return f.get(key, fams.get(f["family"], {}).get(key))

    paths = tuple(os.path.realpath(os.path.join(root, f["path"])) for f in files)
    family, fam_table = _codes([f["family"] for f in files])
    base, _ = _codes([f.get("base", f["path"]) for f in files])
    names = [f.get("transform", "original") for f in files]
    labels = tuple(dict.fromkeys([*names, COPY_COPY, OTHER_SIZE]))
    transform = np.array([labels.index(n) for n in names], dtype=np.int64)
    variant_group, _ = _codes([fam_attr(f, "variant_group") for f in files])
    palette, _ = _codes([fam_attr(f, "palette") or f"family:{f['family']}" for f in files])
    source = np.array(
        [fam_table.get(fam_attr(f, "source_family") or "", -1) for f in files], dtype=np.int64
    )
    index = {p: k for k, p in enumerate(paths)}
    if len(index) != len(paths):
        raise ValueError("truth file lists a path twice")
    return Truth(
        root=root,
        paths=paths,
        split=np.array([f.get("split", "") for f in files], dtype=object),
        family=family,
        base=base,
        original=np.array([f.get("kind") == "original" for f in files], dtype=bool),
        transform=transform,
        variant_group=variant_group,
        palette=palette,
        source=source,
        labels=labels,
        index=index,
    )


def relate(truth: Truth, i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(relation, detail) for row pairs ``i``/``j``.

    ``detail`` is an index into ``truth.labels`` for duplicates and into :data:`FP_KINDS` for
    negatives (-1 for variant and partial pairs).
    """
    i, j = np.asarray(i, dtype=np.int64), np.asarray(j, dtype=np.int64)
    fi, fj = truth.family[i], truth.family[j]
    same = fi == fj
    vgi = truth.variant_group[i]
    variant = ~same & (vgi >= 0) & (vgi == truth.variant_group[j])
    si, sj = truth.source[i], truth.source[j]
    partial = ~same & ~variant & (((si >= 0) & (si == fj)) | ((sj >= 0) & (sj == fi)))
    relation = np.full(i.shape, NEGATIVE, dtype=np.int8)
    relation[same], relation[variant], relation[partial] = DUPLICATE, VARIANT, PARTIAL

    oi, oj = truth.original[i], truth.original[j]
    same_base = truth.base[i] == truth.base[j]
    dup_label = np.full(i.shape, truth.labels.index(COPY_COPY), dtype=np.int64)
    dup_label[oi & oj] = truth.labels.index(OTHER_SIZE)
    pick_j, pick_i = oi & ~oj & same_base, oj & ~oi & same_base
    dup_label[pick_j] = truth.transform[j][pick_j]
    dup_label[pick_i] = truth.transform[i][pick_i]

    neg_kind = np.full(i.shape, FP_KINDS.index("other"), dtype=np.int64)
    neg_kind[truth.palette[i] == truth.palette[j]] = FP_KINDS.index("same-palette")
    neg_kind[(si >= 0) & (si == sj)] = FP_KINDS.index("same-source-crop")

    detail = np.where(same, dup_label, np.where(relation == NEGATIVE, neg_kind, -1))
    return relation, detail


def _all_pairs(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.triu_indices(len(rows), k=1)
    return rows[a], rows[b]


@dataclass(frozen=True, eq=False)
class _Totals:
    positives: int
    by_label: np.ndarray  # positives per truth label
    variant: int
    partial: int


def _totals(truth: Truth, split: str | None) -> _Totals:
    mask = truth.in_split(split)
    by_label = np.zeros(len(truth.labels), dtype=np.int64)
    for fam in np.unique(truth.family[mask]):
        i, j = _all_pairs(np.flatnonzero(mask & (truth.family == fam)))
        _, detail = relate(truth, i, j)
        by_label += np.bincount(detail, minlength=len(truth.labels))
    variant = partial = 0
    for vg in np.unique(truth.variant_group[mask & (truth.variant_group >= 0)]):
        in_group = mask & (truth.variant_group == vg)
        sizes = np.bincount(truth.family[in_group])
        variant += (sizes.sum() ** 2 - (sizes**2).sum()) // 2
    for src in truth.source[mask & (truth.source >= 0)]:
        partial += int((mask & (truth.family == src)).sum())
    return _Totals(int(by_label.sum()), by_label, int(variant), partial)


@dataclass(frozen=True, eq=False)
class LabelledPairs:
    """Predicted pairs inside one split, each once (``i < j``), with their relation."""

    truth: Truth
    split: str | None
    i: np.ndarray
    j: np.ndarray
    similarity: np.ndarray
    relation: np.ndarray
    detail: np.ndarray
    ignored: int  # pairs naming a file outside the truth or the split, or one file twice
    totals: _Totals = field(repr=False)


def label_index_pairs(
    truth: Truth,
    i: Sequence[int] | np.ndarray,
    j: Sequence[int] | np.ndarray,
    similarity: Sequence[float] | np.ndarray | None = None,
    *,
    split: str | None = None,
) -> LabelledPairs:
    """Label predicted pairs given as truth rows (-1 for an unknown file)."""
    i, j = np.asarray(i, dtype=np.int64).ravel(), np.asarray(j, dtype=np.int64).ravel()
    sim = (
        np.ones(i.shape, dtype=np.float64)
        if similarity is None
        else np.asarray(similarity, dtype=np.float64).ravel()
    )
    in_split = truth.in_split(split)
    ok = (i >= 0) & (j >= 0) & (i != j)
    ok[ok] &= in_split[i[ok]] & in_split[j[ok]]
    ignored = int((~ok).sum())
    lo, hi, sim = np.minimum(i, j)[ok], np.maximum(i, j)[ok], sim[ok]
    # One row per pair, keeping its highest similarity.
    order = np.lexsort((-sim, hi, lo))
    lo, hi, sim = lo[order], hi[order], sim[order]
    first = np.ones(lo.shape, dtype=bool)
    first[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])
    lo, hi, sim = lo[first], hi[first], sim[first]
    relation, detail = relate(truth, lo, hi)
    return LabelledPairs(
        truth, split, lo, hi, sim, relation, detail, ignored, _totals(truth, split)
    )


def label_pairs(truth: Truth, pairs: PairInput, *, split: str | None = None) -> LabelledPairs:
    """Label predicted pairs of paths, each ``(a, b)`` or ``(a, b, similarity)``."""
    rows: dict[str, int] = {}
    i, j, sim = [], [], []
    for pair in pairs:
        a, b = pair[0], pair[1]
        for p in (a, b):
            if p not in rows:
                rows[p] = truth.lookup(p)
        i.append(rows[a])
        j.append(rows[b])
        sim.append(float(pair[2]) if len(pair) > 2 and pair[2] is not None else 1.0)
    return label_index_pairs(truth, i, j, sim, split=split)


@dataclass(frozen=True)
class Score:
    """Pairwise scores at one threshold. Recall counts are ``(found, total)``."""

    threshold: float | None
    predicted: int
    tp: int
    fp: int
    positives: int
    precision: float
    recall: float
    f1: float
    recall_by_transform: dict[str, tuple[int, int]]
    fp_by_kind: dict[str, int]
    variant_pairs: tuple[int, int]
    partial_pairs: tuple[int, int]
    ignored: int

    def transform_recall(self, name: str) -> float:
        found, total = self.recall_by_transform[name]
        return found / total if total else float("nan")

    def to_dict(self) -> dict:
        from dataclasses import asdict

        return asdict(self)


def _prf(tp: int, fp: int, positives: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / positives if positives else 0.0
    f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
    return precision, recall, f1


def score(labelled: LabelledPairs, threshold: float | None = None) -> Score:
    """Score the pairs whose similarity is at least ``threshold`` (all when None)."""
    lp, t = labelled, labelled.totals
    keep = np.ones(lp.i.shape, dtype=bool) if threshold is None else lp.similarity >= threshold
    rel, det = lp.relation[keep], lp.detail[keep]
    found = np.bincount(det[rel == DUPLICATE], minlength=len(lp.truth.labels))
    fps = np.bincount(det[rel == NEGATIVE], minlength=len(FP_KINDS))
    tp, fp = int(found.sum()), int(fps.sum())
    precision, recall, f1 = _prf(tp, fp, t.positives)
    return Score(
        threshold=threshold,
        predicted=tp + fp,
        tp=tp,
        fp=fp,
        positives=t.positives,
        precision=precision,
        recall=recall,
        f1=f1,
        recall_by_transform={
            name: (int(found[k]), int(t.by_label[k]))
            for k, name in enumerate(lp.truth.labels)
            if t.by_label[k]
        },
        fp_by_kind={kind: int(fps[k]) for k, kind in enumerate(FP_KINDS)},
        variant_pairs=(int((rel == VARIANT).sum()), t.variant),
        partial_pairs=(int((rel == PARTIAL).sum()), t.partial),
        ignored=lp.ignored,
    )


@dataclass(frozen=True)
class SweepPoint:
    threshold: float
    predicted: int
    tp: int
    fp: int
    precision: float
    recall: float
    f1: float


def sweep(
    labelled: LabelledPairs, thresholds: Sequence[float] | np.ndarray | None = None
) -> list[SweepPoint]:
    """P/R/F1 for each threshold (pairs with similarity >= threshold), ascending thresholds.

    By default the thresholds are the distinct similarities seen (at most 1,001 of them, by
    quantile), so every operating point a user can reach is on the curve.
    """
    lp = labelled
    scored = (lp.relation == DUPLICATE) | (lp.relation == NEGATIVE)
    sim = lp.similarity[scored]
    is_tp = lp.relation[scored] == DUPLICATE
    if thresholds is None:
        uniq = np.unique(sim)
        if len(uniq) > 1001:
            uniq = np.unique(np.quantile(uniq, np.linspace(0.0, 1.0, 1001)))
        thresholds = uniq
    ts = np.sort(np.asarray(thresholds, dtype=np.float64))
    order = np.argsort(sim, kind="stable")
    sim, is_tp = sim[order], is_tp[order]
    # Pairs at or above t are the suffix starting at searchsorted(sim, t, "left").
    tp_suffix = np.concatenate([np.cumsum(is_tp[::-1])[::-1], [0]])
    start = np.searchsorted(sim, ts, side="left")
    out = []
    for t, s in zip(ts, start, strict=True):
        tp, n = int(tp_suffix[s]), len(sim) - int(s)
        precision, recall, f1 = _prf(tp, n - tp, lp.totals.positives)
        out.append(SweepPoint(float(t), n, tp, n - tp, precision, recall, f1))
    return out


def best_threshold(
    points: Sequence[SweepPoint], min_precision: float | None = 0.99
) -> SweepPoint | None:
    """The most useful operating point of a sweep.

    With ``min_precision``: the highest recall among points whose precision reaches it (ties go
    to the higher threshold), or None when no point does. With ``min_precision=None``: the
    highest F1 (ties to the higher threshold).
    """
    candidates = [p for p in points if p.predicted > 0]
    if min_precision is None:
        return max(candidates, key=lambda p: (p.f1, p.threshold), default=None)
    candidates = [p for p in candidates if p.precision >= min_precision]
    return max(candidates, key=lambda p: (p.recall, p.threshold), default=None)


def scan_json_pairs(scan_json: Mapping | str | os.PathLike[str]) -> list[tuple[str, str, float]]:
    """The ``(a, b, similarity)`` pairs of a ``dedup-tui scan --format json`` document."""
    doc: Mapping[str, Any] = (
        scan_json if isinstance(scan_json, Mapping) else json.loads(Path(scan_json).read_text())
    )
    if doc.get("version") not in (1, 2):  # 2 added kinds; pairs are the same
        raise ValueError(f"unsupported scan JSON version {doc.get('version')!r}")
    return [(p["a"], p["b"], float(p.get("similarity", 1.0))) for p in doc["pairs"]]


def label_scan_json(
    scan_json: Mapping | str | os.PathLike[str], truth: Truth, *, split: str | None = None
) -> LabelledPairs:
    return label_pairs(truth, scan_json_pairs(scan_json), split=split)


def score_scan_json(
    scan_json: Mapping | str | os.PathLike[str],
    truth: Truth,
    *,
    split: str | None = None,
    threshold: float | None = None,
) -> Score:
    """Score a scan's JSON output (a dict, or the path of the file) against ``truth``."""
    return score(label_scan_json(scan_json, truth, split=split), threshold)
