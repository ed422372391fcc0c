"""Apple maker notes as iOS writes them, for the tests of what is read from them (the content
identifier that ties a Live Photo's still to its movie and copies to their capture)."""

from __future__ import annotations

import struct


def apple_note(content_id: str) -> bytes:
    """An Apple maker note as iOS writes it: header, one-entry IFD, the ASCII value."""
    value = content_id.encode() + b"\0"
    header = b"Apple iOS\x00\x00\x01MM"
    data_at = len(header) + 2 + 12 + 4
    entry = struct.pack(">HHII", 0x0011, 2, len(value), data_at)
    return header + struct.pack(">H", 1) + entry + b"\0\0\0\0" + value
