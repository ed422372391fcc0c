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
import json.encoder as _json_encoder
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

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


def _pair_columns(p: Pairs) -> Iterator[tuple[int, int, int, float, int, bool]]:
    """(i, j, distance, similarity, transform, exact) per pair, as Python scalars."""
    return zip(
        p.i.tolist(),
        p.j.tolist(),
        p.distance.tolist(),
        p.similarity.tolist(),
        p.transform.tolist(),
        p.exact.tolist(),
        strict=True,
    )


def to_dict(result: Result) -> dict:
    store, pairs = result.store, result.pairs
    paths = [e.path for e in store.entries]
    scores = pair_scores(store, pairs)
    names = list(scores)
    score_cols = [scores[n].round(4).tolist() for n in names]
    out_pairs = []
    for k, (i, j, d, s, t, ex) in enumerate(_pair_columns(pairs)):
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
        **_head(result),
        "pairs": out_pairs,
        "groups": [[paths[m] for m in g.members] for g in result.groups],
        **_tail(result),
    }


def _head(result: Result) -> dict:
    """The document's fields before the pairs (both JSON writers share them)."""
    return {
        "version": JSON_VERSION,
        "roots": result.roots,
        "method": result.method,
        "threshold": round(result.threshold.similarity, 6),
        "max_distance": result.threshold.max_distance,
        "files": len(result.store),
        "cancelled": result.cancelled,
    }


def _tail(result: Result) -> dict:
    return {
        "errors": [{"path": e.path, "error": e.reason} for e in result.errors],
        "skipped": [{"path": e.path, "reason": e.reason} for e in result.skipped],
    }


def to_json(result: Result) -> bytes:
    """The same document as :func:`to_dict`, one pair, group or error per line.

    A scan of 100,000 files can have 100,000 pairs: ``json.dumps(..., indent=...)`` runs the
    pure-Python encoder (the C one has no indent), which took 15 s for that. Here each list
    item is one line, made with the C string encoder and a format string per pair (numbers are
    written as ``json`` writes them: ``repr`` of the float); ``json.loads`` gives exactly what
    :func:`to_dict` holds.
    """
    pairs = result.pairs
    scores = pair_scores(result.store, pairs)
    if not _all_finite([pairs.similarity, *scores.values()]):  # json writes NaN its own way
        return _dumps(to_dict(result))
    store = result.store
    enc = _encode_str
    # Each distinct value is written once (paths of the rows in pairs, similarities, ...),
    # then every line is one str.format of ready-made strings.
    epath: list[str] = [""] * len(store)
    for row in np.unique(np.concatenate([pairs.i, pairs.j])).tolist():
        epath[row] = enc(store.entries[row].path)
    names = list(scores)
    line = (
        '{"a": %s, "b": %s, %s, "scores": {'
        + ", ".join(f"{enc(n).replace('%', '%%')}: %s" for n in names)
        + '}, "transform": %s}'
    )
    sim, dist, exact = pairs.similarity.tolist(), pairs.distance.tolist(), pairs.exact.tolist()
    method = {True: '"exact"', False: enc(result.method)}
    boolean = {True: "true", False: "false"}

    def middle(k: int) -> str:  # the fields between "b" and "scores", for pair k
        d = dist[k]
        return (
            f'"similarity": {round(sim[k], 4)!r}, "distance": {d if d >= 0 else "null"}, '
            f'"method": {method[exact[k]]}, "exact": {boolean[exact[k]]}'
        )

    # (similarity, distance, exact) as one int64 key: a few hundred distinct values
    key = (
        (pairs.similarity.astype(np.float32).view(np.uint32).astype(np.int64) << 17)
        | ((pairs.distance.astype(np.int64) & 0xFFFF) << 1)
        | pairs.exact.astype(np.int64)
    )
    transform = [enc(t) if t else "null" for t in TRANSFORMS]
    columns = [
        [epath[i] for i in pairs.i.tolist()],
        [epath[j] for j in pairs.j.tolist()],
        _texts(key, middle, by_index=True),
        *(_texts(scores[n].round(4), repr) for n in names),
        _texts(pairs.transform, transform.__getitem__),
    ]
    del scores
    pair_lines = list(map(line.__mod__, zip(*columns, strict=True)))
    del columns
    group_lines = [
        "[" + ", ".join([_path_text(store, epath, m) for m in g.members]) + "]"
        for g in result.groups
    ]
    head, tail = _head(result), _tail(result)
    parts = [f"{enc(k)}: {_dumps_str(v)}" for k, v in head.items()]
    parts.append('"pairs": ' + _lines(pair_lines))
    del pair_lines
    parts.append('"groups": ' + _lines(group_lines))
    parts += [f"{enc(k)}: {_lines([_dumps_str(x) for x in v])}" for k, v in tail.items()]
    text = "{\n " + ",\n ".join(parts) + "\n}"
    del parts
    return _utf8(text)


def _texts(values: np.ndarray, text: Callable[[Any], str], *, by_index: bool = False) -> list[str]:
    """``text(value)`` for each element (``tolist`` form), made once per distinct value — a
    few hundred similarities among 100,000 pairs. ``by_index``: ``text`` gets the index of
    one element with that value instead (for a key standing for several columns)."""
    if values.size == 0:
        return []
    uniq, first, inverse = np.unique(values, return_index=True, return_inverse=True)
    made = [text(v) for v in (first if by_index else uniq).tolist()]
    return [made[u] for u in inverse.ravel().tolist()]


def _path_text(store: FeatureStore, epath: list[str], row: int) -> str:
    return epath[row] or _encode_str(store.entries[row].path)


def _lines(items: list[str]) -> str:
    return "[\n  " + ",\n  ".join(items) + "\n ]" if items else "[]"


def _brace(s: str) -> str:
    return s.replace("{", "{{").replace("}", "}}")


def _all_finite(columns: list[np.ndarray]) -> bool:
    return all(bool(np.isfinite(c).all()) for c in columns)


def _encode_str(s: str) -> str:
    """A JSON string literal, as ``json.dumps(s, ensure_ascii=False)`` writes it (C speed)."""
    return _json_encoder.encode_basestring(s)


def _dumps_str(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False)


def _dumps(doc: dict) -> bytes:
    return _utf8(json.dumps(doc, ensure_ascii=False, indent=1))


def _utf8(text: str) -> bytes:
    # Lone surrogates (non-UTF-8 bytes of a name) only occur inside strings: write them as
    # JSON \udcXX escapes, which json.loads turns back into the same surrogate.
    return text.encode("utf-8", "backslashreplace") + b"\n"


CSV_HEADER = ("similarity", "distance", "method", "transform", "a", "b", "a_size", "b_size")


def to_csv(result: Result) -> bytes:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(CSV_HEADER)
    store, p = result.store, result.pairs
    for i, j, d, s, t, ex in _pair_columns(p):
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
