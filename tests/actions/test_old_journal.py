"""Batches written by the previous release (journal version 1) still list and undo.

The records below are exactly what release 0.x wrote (see git history of actions/apply.py
before the per-batch quarantine): a flat ``.dedup-tui/duplicates/<relpath>`` quarantine,
``dev``/``ino`` in move intents, no digests, no ``moved_by`` for links.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from conftest import write

from tui_dedup.actions import Journal, history, undo


def _write_journal(records: list[dict]) -> None:
    path = Journal().path
    with open(path, "a", encoding="ascii") as f:
        for r in records:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")


def test_a_move_batch_of_the_previous_release_lists_and_undoes(tmp_path):
    root = tmp_path / "photos"
    orig = str(root / "copies" / "IMG_1.jpg")
    q = write(root / ".dedup-tui" / "duplicates" / "copies" / "IMG_1.jpg", b"copy" * 50)
    st = os.stat(q)
    _write_journal(
        [
            {"rec": "batch", "batch": "b1", "time": 1.0, "action": "move", "steps": 1},
            {
                "batch": "b1",
                "rec": "intent",
                "op": 1,
                "kind": "move",
                "src": orig,
                "dst": q,
                "size": st.st_size,
                "dev": st.st_dev,
                "ino": st.st_ino,
            },
            {"batch": "b1", "rec": "done", "op": 1, "dst": q},
            {"batch": "b1", "rec": "end", "done": 1, "skipped": 0, "errors": 0, "bytes": 200},
        ]
    )
    assert [(b.id, b.state) for b in history()] == [("b1", "complete")]
    report = undo()
    assert report.ok and report.restored == [orig]
    assert Path(orig).read_bytes() == b"copy" * 50 and not os.path.exists(q)
    assert [b.state for b in history()] == ["undone"]


def test_a_hardlink_batch_of_the_previous_release_restores_the_original_first(tmp_path):
    root = tmp_path / "photos"
    keeper = write(root / "keep" / "a.jpg", b"same" * 40)
    dup = str(root / "dup" / "a.jpg")
    q = write(root / ".dedup-tui" / "duplicates" / "dup" / "a.jpg", b"same" * 40)
    os.makedirs(os.path.dirname(dup))
    os.link(keeper, dup)
    qs, ks = os.stat(q), os.stat(keeper)
    _write_journal(
        [
            {"rec": "batch", "batch": "b2", "time": 1.0, "action": "hardlink", "steps": 1},
            {"batch": "b2", "rec": "intent", "op": 1, "kind": "move", "src": dup, "dst": q}
            | {"size": qs.st_size, "dev": qs.st_dev, "ino": qs.st_ino},
            {"batch": "b2", "rec": "done", "op": 1, "dst": q},
            {"batch": "b2", "rec": "intent", "op": 2, "kind": "hardlink", "src": dup}
            | {"target": keeper, "dev": ks.st_dev, "ino": ks.st_ino},
            {"batch": "b2", "rec": "done", "op": 2},
            {"batch": "b2", "rec": "end", "done": 1, "skipped": 0, "errors": 0, "bytes": 160},
        ]
    )
    report = undo()
    assert report.ok, report.problems
    assert os.stat(dup).st_ino == qs.st_ino  # the original itself is back
    assert os.stat(keeper).st_nlink == 1 and not os.path.exists(q)


def test_an_old_batch_never_deletes_on_an_inode_match_alone(tmp_path):
    """A new file at the original path with the recorded inode number is not 'our copy'."""
    root = tmp_path / "photos"
    orig = write(root / "IMG_9.jpg", b"a new picture saved since")
    st = os.stat(orig)
    q = write(tmp_path / "usb" / "photos" / "IMG_9.jpg", b"the moved original")
    _write_journal(
        [
            {"rec": "batch", "batch": "b3", "time": 1.0, "action": "move", "steps": 1},
            {"batch": "b3", "rec": "intent", "op": 1, "kind": "move", "src": orig, "dst": q}
            | {"size": 18, "dev": st.st_dev, "ino": st.st_ino},  # the inode now at orig
            {"batch": "b3", "rec": "copying", "op": 1, "digest": "0" * 32},
            {"batch": "b3", "rec": "copied", "op": 1},
            {"batch": "b3", "rec": "done", "op": 1, "dst": q},
        ]
    )
    report = undo()
    assert not report.ok and "exists again" in report.problems[0]
    assert Path(q).read_bytes() == b"the moved original"
    assert Path(orig).read_bytes() == b"a new picture saved since"
