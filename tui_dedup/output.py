"""Serialise a scan result: JSON (versioned), CSV and plain text, shared by CLI and TUI export.

File names are POSIX bytes; we hold them as ``str`` decoded with surrogateescape. So that every
name round-trips, including newlines and bytes that are not UTF-8:
- JSON: text is UTF-8; a byte that is not valid UTF-8 appears as a lone-surrogate escape
  ``\\udcXX`` (Python's surrogateescape), so ``os.fsencode(json.loads(...)["a"])`` gives back
  the exact bytes. Newlines are escaped as usual.
- CSV: RFC 4180 quoting (fields with commas, quotes or newlines are quoted); the file's bytes are
  the name's own bytes (written with surrogateescape).
- text: one pair per line, tab-separated; with ``--null`` fields end with NUL instead of tab and
  records with NUL NUL, so any name survives ``xargs -0``-style tools.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

import numpy as np

from tui_dedup.engine.match import pair_scores
from tui_dedup.engine.model import TRANSFORMS, Group, Pairs, ScanError
from tui_dedup.engine.registry import METHODS, Threshold
from tui_dedup.engine.store import FeatureStore

JSON_VERSION = 1


@dataclass(slots=True)
class Result:
    """Everything an export needs; the TUI builds the same object for its current view."""

    roots: list[str]
    method: str
    threshold: Threshold
    store: FeatureStore
    pairs: Pairs
    groups: list[Group]
    errors: list[ScanError]
    skipped: list[ScanError]
    cancelled: bool = False


def to_dict(result: Result) -> dict:
    store, pairs = result.store, result.pairs
    paths = [e.path for e in store.entries]
    scores = pair_scores(store, pairs)
    names = list(scores)
    score_cols = [scores[n].round(4).tolist() for n in names]
    out_pairs = []
    for k, (i, j, d, s, t, ex) in enumerate(
        zip(
            pairs.i.tolist(),
            pairs.j.tolist(),
            pairs.distance.tolist(),
            pairs.similarity.tolist(),
            pairs.transform.tolist(),
            pairs.exact.tolist(),
            strict=True,
        )
    ):
        out_pairs.append(
            {
                "a": paths[i],
                "b": paths[j],
                "similarity": round(s, 4),
                "distance": d if d >= 0 else None,
                "method": "exact" if ex else result.method,
                "exact": ex,
                "scores": {n: col[k] for n, col in zip(names, score_cols, strict=True)},
                "transform": TRANSFORMS[t],
            }
        )
    return {
        "version": JSON_VERSION,
        "roots": result.roots,
        "method": result.method,
        "threshold": round(result.threshold.similarity, 6),
        "max_distance": result.threshold.max_distance,
        "files": len(store),
        "cancelled": result.cancelled,
        "pairs": out_pairs,
        "groups": [[paths[m] for m in g.members] for g in result.groups],
        "errors": [{"path": e.path, "error": e.reason} for e in result.errors],
        "skipped": [{"path": e.path, "reason": e.reason} for e in result.skipped],
    }


def to_json(result: Result) -> bytes:
    text = json.dumps(to_dict(result), ensure_ascii=False, indent=1)
    # Lone surrogates (non-UTF-8 bytes of a name) only occur inside strings: write them as
    # JSON \udcXX escapes, which json.loads turns back into the same surrogate.
    return text.encode("utf-8", "backslashreplace") + b"\n"


CSV_HEADER = ("similarity", "distance", "method", "transform", "a", "b", "a_size", "b_size")


def to_csv(result: Result) -> bytes:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(CSV_HEADER)
    store, p = result.store, result.pairs
    for i, j, d, s, t, ex in zip(
        p.i.tolist(),
        p.j.tolist(),
        p.distance.tolist(),
        p.similarity.tolist(),
        p.transform.tolist(),
        p.exact.tolist(),
        strict=True,
    ):
        a, b = store.entries[i], store.entries[j]
        w.writerow(
            (
                f"{s:.4f}",
                d if d >= 0 else "",
                "exact" if ex else result.method,
                TRANSFORMS[t] or "",
                a.path,
                b.path,
                a.size,
                b.size,
            )
        )
    return buf.getvalue().encode("utf-8", "surrogateescape")


def to_text(result: Result, null: bool = False) -> bytes:
    sep, end = ("\0", "\0\0") if null else ("\t", "\n")
    store, p = result.store, result.pairs
    lines = []
    for i, j, s in zip(p.i.tolist(), p.j.tolist(), p.similarity.tolist(), strict=True):
        lines.append(f"{s * 100:.1f}%{sep}{store.entries[i].path}{sep}{store.entries[j].path}{end}")
    return "".join(lines).encode("utf-8", "surrogateescape")


def render(result: Result, fmt: str, null: bool = False) -> bytes:
    if fmt == "json":
        return to_json(result)
    if fmt == "csv":
        return to_csv(result)
    return to_text(result, null)


def summary_line(result: Result) -> str:
    """One line for stderr after a headless scan."""
    m = METHODS[result.method]
    th = result.threshold
    limit = f"distance ≤ {th.max_distance}" if th.max_distance is not None else f"≥ {th.similarity}"
    freeable = (
        int(np.sum([result.store.entries[x].size for g in result.groups for x in g.members[1:]]))
        if result.groups
        else 0
    )
    return (
        f"{len(result.store)} images, {len(result.pairs)} pairs in {len(result.groups)} groups "
        f"({m.title}, {limit}), {len(result.errors)} errors, "
        f"{freeable / 1e6:.1f} MB in non-keeper copies"
        + (" — scan interrupted, partial result" if result.cancelled else "")
    )
