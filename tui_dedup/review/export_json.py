"""The JSON export (versioned): the same document built as a dict (:func:`to_dict`) or, fast
and in chunks, as text (:func:`iter_json`).

File names are POSIX bytes held as ``str`` decoded with surrogateescape; the text is UTF-8 and
a byte that is not valid UTF-8 appears as a lone-surrogate escape ``\\udcXX`` (Python's
surrogateescape), so ``os.fsencode(json.loads(...)["a"])`` gives back the exact bytes. Newlines
are escaped as usual.
"""

from __future__ import annotations

import json
import json.encoder as _json_encoder
from collections.abc import Callable, Iterator
from itertools import chain
from operator import attrgetter
from typing import Any

import numpy as np

from tui_dedup.engine.matching.pairs import pair_scores
from tui_dedup.engine.model import TRANSFORMS, Pairs
from tui_dedup.engine.verdicts.evidence import where
from tui_dedup.engine.verdicts.explain import CAPTURE_WORDS, FIELDS, evidence_dict, field_value
from tui_dedup.engine.verdicts.kinds import WORDS, Kind
from tui_dedup.engine.verdicts.twins import movies_beside
from tui_dedup.review.result import Result, pair_columns

#: 2: each pair carries its verdict ``kind`` and ``evidence``; similar shots are listed apart
#: in ``similar``; ``shots`` lists format twins (a RAW and the JPEG beside it) with their
#: members (and the movie of a Live Photo beside them). Every field of version 1 is still there.
JSON_VERSION = 2


def _pair_dicts(result: Result, pairs: Pairs) -> list[dict]:
    store = result.store
    paths = [e.path for e in store.entries]
    scores = pair_scores(store, pairs)
    names = list(scores)
    score_cols = [_rounded(scores[n]).tolist() for n in names]
    out_pairs = []
    for k, (i, j, d, s, t, ex) in enumerate(pair_columns(pairs)):
        item = {
            "a": paths[i],
            "b": paths[j],
            "similarity": round(s, 4),
            "distance": d if d >= 0 else None,
            "method": "exact" if ex else result.method,
            "exact": ex,
            "scores": {n: col[k] for n, col in zip(names, score_cols, strict=True)},
            "transform": TRANSFORMS[t],
        }
        if pairs.kind is not None and pairs.evidence is not None:
            item["kind"] = WORDS[Kind(int(pairs.kind[k]))]
            item["evidence"] = evidence_dict(pairs.evidence[k])
        out_pairs.append(item)
    return out_pairs


def to_dict(result: Result) -> dict:
    paths = [e.path for e in result.store.entries]
    return {
        **_head(result),
        "pairs": _pair_dicts(result, result.pairs),
        "groups": [[paths[m] for m in g.members] for g in result.groups],
        "similar": _pair_dicts(result, _similar(result)),
        **_tail(result),
    }


def _similar(result: Result) -> Pairs:
    return result.similar if result.similar is not None else Pairs.empty()


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
    paths = result.store.entries
    movie = movies_beside(result.store)
    return {
        # RAW+JPEG taken together: one shot, its members (not duplicates of each other),
        # with the movie of a Live Photo when one is beside them
        "shots": [
            {
                "primary": paths[s[0]].path,
                "members": [paths[m].path for m in s]
                + sorted({str(movie[m]) for m in s if movie[m] is not None}),
            }
            for s in result.shots or ()
        ],
        "errors": [{"path": e.path, "error": e.reason} for e in result.errors],
        "skipped": [{"path": e.path, "reason": e.reason} for e in result.skipped],
    }


def to_json(result: Result) -> bytes:
    """The whole JSON document at once (for tests and small exports; see :func:`iter_json`)."""
    return b"".join(iter_json(result))


def iter_json(result: Result) -> Iterator[bytes]:
    """The same document as :func:`to_dict`, one pair, group or error per line, in chunks.

    A scan of 100,000 files can have 100,000 pairs (a 44 MB document): ``json.dumps(...,
    indent=...)`` runs the pure-Python encoder (the C one has no indent), far too slow for
    that (benchmarks/RESULTS.md, "Why the code is as it is"). Here every distinct value is
    written once (paths with the C string encoder, numbers
    as ``json`` writes them: ``repr`` of the float), already joined to the constant text that
    follows it, into a table; the document is those texts picked by numpy indexing and laid out
    row by row, :data:`CHUNK_PAIRS` pairs at a time, each chunk joined and encoded on its own:
    no Python call per pair, and never the whole text in memory (built whole, the text, its
    pieces and its UTF-8 copy set a 100k-file scan's memory peak). ``json.loads`` of the
    chunks joined gives exactly what :func:`to_dict` holds.
    """
    pairs = result.pairs
    similar = _similar(result)
    scores = pair_scores(result.store, pairs)
    if not _all_finite([pairs.similarity, *scores.values()]):  # json writes NaN its own way
        yield _dumps(to_dict(result))
        return
    store = result.store
    enc = _encode_str
    # every group's rows, one group after another
    members = np.fromiter(chain.from_iterable(g.members for g in result.groups), np.int64)
    used = np.zeros(len(store), bool)
    used[pairs.i], used[pairs.j], used[members] = True, True, True
    used[similar.i], used[similar.j] = True, True
    rows = np.flatnonzero(used).tolist()
    lit = np.empty(len(store), object)  # the JSON string literal of each path written
    lit[rows] = list(map(enc, map(_PATH, map(store.entries.__getitem__, rows))))
    head, tail = _head(result), _tail(result)
    doc = ["{\n ", ",\n ".join(f"{enc(k)}: {_dumps_str(v)}" for k, v in head.items())]
    doc.append(',\n "pairs": ')
    for block in _pair_section(result, pairs, scores, lit):
        yield _utf8_chunk("".join(doc + block))
        doc = []
    del scores
    doc.append(',\n "groups": ')
    for block in _group_blocks([len(g.members) for g in result.groups], members, lit):
        yield _utf8_chunk("".join(doc + block))
        doc = []
    del members
    doc.append(',\n "similar": ')
    for block in _pair_section(result, similar, pair_scores(store, similar), lit):
        yield _utf8_chunk("".join(doc + block))
        doc = []
    del lit
    doc += [f",\n {enc(k)}: {_lines([_dumps_str(x) for x in v])}" for k, v in tail.items()]
    doc.append("\n}\n")
    yield _utf8_chunk("".join(doc))


def _pair_section(
    result: Result, pairs: Pairs, scores: dict[str, np.ndarray], lit: np.ndarray
) -> Iterator[list[str]]:
    """A list of pair objects (``[]`` when empty), as lists of pieces."""
    if not len(pairs):
        yield ["[]"]
        return
    first = True
    for block in _pair_blocks(result, pairs, scores, lit):
        yield (["[\n  "] if first else []) + block
        first = False
    yield ["}\n ]"]


_PATH = attrgetter("path")

#: Pairs per chunk of output: ~3.5 MB of JSON, so a chunk's pieces, text and bytes stay small
#: while the per-chunk numpy and join calls are still amortised over thousands of pairs.
CHUNK_PAIRS = 8192


def _utf8_chunk(text: str) -> bytes:
    # Lone surrogates (non-UTF-8 bytes of a name) only occur inside strings: write them as
    # JSON \\udcXX escapes, which json.loads turns back into the same surrogate.
    return text.encode("utf-8", "backslashreplace")


def _interleave(columns: list[np.ndarray | str]) -> list[str]:
    """Row k of every column, then row k+1, ...: a table of texts as pieces, row by row. A
    ``str`` column is the same text on every row."""
    rows = next(len(c) for c in columns if not isinstance(c, str))
    table = np.empty((rows, len(columns)), object)
    for c, col in enumerate(columns):
        table[:, c] = col
    return table.ravel().tolist()


def _pair_blocks(
    result: Result, pairs: Pairs, scores: dict[str, np.ndarray], lit: np.ndarray
) -> Iterator[list[str]]:
    """The pair objects, one per line, as lists of pieces to join, :data:`CHUNK_PAIRS` pairs
    a list (without the list's brackets and the last pair's closing brace).

    Each pair is a row of pieces, every piece a variable value or the constant text up to the
    next value: ``},\n  {"a": `` · ``A`` · ``, "b": `` · ``B`` · ``, "similarity": …,
    "scores": {"phash": `` · ``S1, "dhash": `` · … · ``Sk}, "transform": `` · ``T``, then
    the verdict (``, "kind": …, "evidence": {…}``) when the pairs carry one.
    """
    enc = _encode_str
    names = list(scores)
    # the text after each score: the next score's name, or the end of "scores"
    after = [f", {enc(n)}: " for n in names[1:]] + ['}, "transform": ']
    first = enc(names[0]) if names else ""
    method = {True: '"exact"', False: enc(result.method)}
    boolean = {True: "true", False: "false"}
    sim, dist, exact = pairs.similarity.tolist(), pairs.distance.tolist(), pairs.exact.tolist()

    def middle(k: int) -> str:  # "similarity" to the first score's name, for pair k
        d = dist[k]
        return (
            f', "similarity": {round(sim[k], 4)!r}, "distance": {d if d >= 0 else "null"}, '
            f'"method": {method[exact[k]]}, "exact": {boolean[exact[k]]}, "scores": {{'
            + (f"{first}: " if names else '}, "transform": ')
        )

    # (similarity, distance, exact) as one int64 key: a few hundred distinct values
    key = (
        (pairs.similarity.astype(np.float32).view(np.uint32).astype(np.int64) << 17)
        | ((pairs.distance.astype(np.int64) & 0xFFFF) << 1)
        | pairs.exact.astype(np.int64)
    )
    middles = _texts(key, middle, by_index=True)
    score_texts = [_score_texts(scores[n], t) for n, t in zip(names, after, strict=True)]
    transform = np.array([enc(t) if t else "null" for t in TRANSFORMS], object)
    verdict = _verdict_texts(pairs)
    for lo in range(0, len(pairs), CHUNK_PAIRS):
        sl = slice(lo, lo + CHUNK_PAIRS)
        pieces = _interleave(
            [
                '},\n  {"a": ',
                lit[pairs.i[sl]],
                ', "b": ',
                lit[pairs.j[sl]],
                middles[sl],
                *(col[sl] for col in score_texts),
                transform[pairs.transform[sl]],
                *(col[sl] for col in verdict),
            ]
        )
        if lo == 0:
            pieces[0] = '{"a": '  # the first pair has no "},\n  " before it
        yield pieces


def _verdict_texts(pairs: Pairs) -> list[np.ndarray]:
    """Columns of texts for ``, "kind": K, "evidence": {"hash256_bits": …, …}`` per pair,
    each made once per distinct value (as the scores are): no Python call per pair."""
    if pairs.kind is None or pairs.evidence is None:
        return []
    ev = pairs.evidence
    kinds = np.array([', "kind": ' + _dumps_str(WORDS[k]) for k in Kind], object)
    cols = [kinds[pairs.kind.astype(np.intp)]]
    for k, (name, col, dec) in enumerate(FIELDS):
        prefix = (', "evidence": {' if k == 0 else ", ") + _encode_str(name) + ": "

        def text(v: Any, col: str = col, dec: int = dec, prefix: str = prefix) -> str:
            value = field_value(col, float(v), dec)
            return prefix + ("null" if value is None else repr(value))

        cols.append(_texts(ev[col], text))
    cols.append(
        _texts(ev["cells"], lambda c: ', "changed_at": ' + (_dumps_str(where(c)) if c else "null"))
    )
    cols.append(
        _texts(
            ev["capture"],
            lambda c: ', "capture": ' + _dumps_str(CAPTURE_WORDS.get(int(c))) + "}",
        )
    )
    return cols


def _group_blocks(sizes: list[int], members: np.ndarray, lit: np.ndarray) -> Iterator[list[str]]:
    """``[\n  [A, B],\n  [C, D, E]\n ]`` as lists of pieces: each member's path, then ", " or
    the end of its group (``],\n  [``, or ``]\n ]`` after the last)."""
    if not sizes:
        yield ["[]"]
        return
    sep = np.full(len(members), ", ", object)
    ends = np.cumsum(sizes) - 1
    sep[ends] = "],\n  ["
    sep[ends[-1]] = "]\n ]"
    step = 4 * CHUNK_PAIRS
    for lo in range(0, len(members), step):
        block = _interleave([lit[members[lo : lo + step]], sep[lo : lo + step]])
        yield ["[\n  [", *block] if lo == 0 else block


def _score_texts(values: np.ndarray, tail: str) -> np.ndarray:
    """``repr`` of each score rounded to 4 decimals (as ``tolist`` gives it) + ``tail``.

    Scores lie in [0, 1], so a rounded one is k / 10^4 for an integer k: the text comes from a
    table by k, made once per k present, instead of sorting 10^5 values to find the distinct
    ones. The table is checked against the values themselves; anything else (out of range)
    takes the general path.
    """
    rounded = _rounded(values)
    k = np.rint(rounded * 1e4)
    if len(k) and not (k.min() >= 0 and k.max() <= 1e4):
        return _texts(rounded, lambda v: repr(v) + tail)
    k = k.astype(np.int64)
    grid = np.arange(10001, dtype=rounded.dtype) / rounded.dtype.type(1e4)  # as round() does
    if rounded.dtype.kind != "f" or not bool((grid[k] == rounded).all()):
        return _texts(rounded, lambda v: repr(v) + tail)
    table = np.empty(10001, object)
    present = np.flatnonzero(np.bincount(k, minlength=10001))
    table[present] = [repr(v) + tail for v in grid[present].tolist()]
    return table[k]


def _rounded(values: np.ndarray) -> np.ndarray:
    """Scores to 4 decimals, as float64: rounded in float32 they would print as
    0.7811999917030334 instead of 0.7812."""
    return values.astype(np.float64).round(4)


def _texts(values: np.ndarray, text: Callable[[Any], str], *, by_index: bool = False) -> np.ndarray:
    """``text(value)`` for each element (``tolist`` form) as an object array, made once per
    distinct value — a few hundred similarities among 100,000 pairs. ``by_index``: ``text``
    gets the index of one element with that value instead (for a key standing for several
    columns)."""
    if values.size == 0:
        return np.empty(0, object)
    uniq, first, inverse = np.unique(values, return_index=True, return_inverse=True)
    made = np.empty(len(uniq), object)
    made[:] = [text(v) for v in (first if by_index else uniq).tolist()]
    return made[inverse.ravel()]


def _lines(items: list[str]) -> str:
    return "[\n  " + ",\n  ".join(items) + "\n ]" if items else "[]"


def _all_finite(columns: list[np.ndarray]) -> bool:
    return all(bool(np.isfinite(c).all()) for c in columns)


def _encode_str(s: str) -> str:
    """A JSON string literal, as ``json.dumps(s, ensure_ascii=False)`` writes it (C speed)."""
    return _json_encoder.encode_basestring(s)


def _dumps_str(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False)


def _dumps(doc: dict) -> bytes:
    return _utf8_chunk(json.dumps(doc, ensure_ascii=False, indent=1)) + b"\n"
