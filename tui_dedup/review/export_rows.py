"""The CSV and plain-text exports: one row per pair.

File names are POSIX bytes held as ``str`` decoded with surrogateescape; both formats write a
name's own bytes back (surrogateescape), so any name round-trips:
- CSV: RFC 4180 quoting (fields with commas, quotes or newlines are quoted);
- text: one pair per line, tab-separated; with ``--null`` fields end with NUL instead of tab and
  records with NUL NUL, so any name survives ``xargs -0``-style tools.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from tui_dedup.engine.model import TRANSFORMS
from tui_dedup.engine.verdicts.kinds import WORDS, Kind
from tui_dedup.review.result import Result, pair_columns

#: Rows per chunk of output, as many as the JSON writer's pairs (export_json.CHUNK_PAIRS).
CHUNK_ROWS = 8192


#: ``kind`` came last (JSON version 2): scripts that read the first eight columns still work.
CSV_HEADER = (
    "similarity",
    "distance",
    "method",
    "transform",
    "a",
    "b",
    "a_size",
    "b_size",
    "kind",
)


def iter_csv(result: Result) -> Iterator[bytes]:
    """RFC 4180 rows, :data:`CHUNK_ROWS` a chunk; names keep their own bytes (surrogateescape)."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(CSV_HEADER)
    store, p = result.store, result.pairs
    kinds = [""] * len(p) if p.kind is None else [WORDS[Kind(k)] for k in p.kind.tolist()]
    for n, (i, j, d, s, t, ex) in enumerate(pair_columns(p), 1):
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
                kinds[n - 1],
            )
        )
        if n % CHUNK_ROWS == 0:
            yield _take(buf).encode("utf-8", "surrogateescape")
    yield _take(buf).encode("utf-8", "surrogateescape")


def _take(buf: io.StringIO) -> str:
    text = buf.getvalue()
    buf.seek(0)
    buf.truncate()
    return text


def iter_text(result: Result, null: bool = False) -> Iterator[bytes]:
    sep, end = ("\0", "\0\0") if null else ("\t", "\n")
    store, p = result.store, result.pairs
    lines = []
    for i, j, s in zip(p.i.tolist(), p.j.tolist(), p.similarity.tolist(), strict=True):
        lines.append(f"{s * 100:.1f}%{sep}{store.entries[i].path}{sep}{store.entries[j].path}{end}")
        if len(lines) == CHUNK_ROWS:
            yield "".join(lines).encode("utf-8", "surrogateescape")
            lines = []
    yield "".join(lines).encode("utf-8", "surrogateescape")
