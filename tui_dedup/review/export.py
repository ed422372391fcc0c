"""Serialise a scan result (review/result.py) as JSON, CSV or plain text, in chunks: what the
CLI's ``-o`` and stdout and the TUI's export both call.

Every file name round-trips, newlines and bytes that are not UTF-8 included; how each format
manages that: review/export_json.py (JSON, versioned) and review/export_rows.py (CSV, text).
Where the chunks go, replaced whole: review/export_file.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from tui_dedup.review.export_json import iter_json
from tui_dedup.review.export_rows import iter_csv, iter_text
from tui_dedup.review.result import Result


def chunks(result: Result, fmt: str, null: bool = False) -> Iterator[bytes]:
    """The output in pieces of a few MB: written as they come, a million pairs never sit in
    memory as one text."""
    if fmt == "json":
        return iter_json(result)
    if fmt == "csv":
        return iter_csv(result)
    return iter_text(result, null)


def write(result: Result, fmt: str, out: BinaryIO, null: bool = False) -> None:
    for chunk in chunks(result, fmt, null):
        out.write(chunk)


def render(result: Result, fmt: str, null: bool = False) -> bytes:
    return b"".join(chunks(result, fmt, null))
