"""A copy is a copy of one capture: a messenger copy of one burst frame is never "a copy" of its
neighbour frame too, which would let auto-select delete a frame that has no copy."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import numpy as np
from burst_images import reencoded_copy, write_burst

from tui_dedup.engine.model import Pairs
from tui_dedup.engine.verdicts.evidence import blank
from tui_dedup.engine.verdicts.kinds import Kind, copies_only
from tui_dedup.engine.verdicts.one_capture import demote_cross_shots
from tui_dedup.review.pipeline import match_library, scan_library
from tui_dedup.review.settings import RunSettings


def _pairs(edges: list[tuple[int, int]]) -> Pairs:
    n = len(edges)
    i = np.array([a for a, _ in edges], np.int32)
    j = np.array([b for _, b in edges], np.int32)
    z = np.zeros(n)
    return Pairs(i, j, z.astype(np.int16), z.astype(np.float32), z.astype(np.int8), z.astype(bool))


def _kinds(capture: dict[frozenset[int], int], fine: list[float]) -> list[Kind]:
    """Rows 0 and 1 are two frames, row 2 a copy matched to both (fine: its two matches)."""
    pairs = _pairs([(0, 2), (1, 2)])
    kind = np.full(2, Kind.REENCODED, np.int8)
    ev = blank(2)
    ev["fine"] = fine
    demote_cross_shots(pairs, kind, ev, lambda a, b: capture.get(frozenset((a, b)), 0))
    return [Kind(k) for k in kind]


def test_the_weaker_match_to_another_shot_becomes_a_similar_shot() -> None:
    two_shots = {frozenset((0, 1)): -1}
    assert _kinds(two_shots, [0.95, 0.99]) == [Kind.SIMILAR, Kind.REENCODED]
    assert _kinds(two_shots, [0.99, 0.95]) == [Kind.REENCODED, Kind.SIMILAR]


def test_without_exif_saying_two_shots_both_copies_stay() -> None:
    # two crops of one picture are both copies of it, and not of each other: no EXIF, no change
    assert _kinds({}, [0.95, 0.99]) == [Kind.REENCODED, Kind.REENCODED]
    # a backup of the same shot
    assert _kinds({frozenset((0, 1)): 1}, [0.95, 0.99]) == [Kind.REENCODED, Kind.REENCODED]


def test_exact_copies_outrank_any_pixel_match() -> None:
    pairs = _pairs([(0, 2), (1, 2)])
    kind = np.array([Kind.EXACT, Kind.REENCODED], np.int8)
    ev = blank(2)
    ev["fine"] = [np.nan, 0.999]
    assert demote_cross_shots(pairs, kind, ev, lambda a, b: -1) == 1
    assert [Kind(k) for k in kind] == [Kind.EXACT, Kind.SIMILAR]


def test_a_messenger_copy_of_a_frame_is_a_copy_of_that_frame_only(tmp_path: Path) -> None:
    root = tmp_path / "Pictures"
    burst = write_burst(
        root / "2024", "IMG_", "landscape", 31, datetime(2024, 5, 1, 10, 0, 0, 370_000), n=3
    )
    middle = burst.paths[1]
    chat = reencoded_copy(middle, root / "WhatsApp" / "IMG-20240501-WA0001.jpg", scale=0.6)
    settings = RunSettings([str(root)], threshold_arg="loose", use_cache=False)
    scanned = scan_library(settings)
    store = scanned.result.store
    pairs = copies_only(match_library(store, settings, settings.method, settings.threshold()))
    name = [os.path.relpath(e.path, root) for e in store.entries]
    copies = {
        frozenset((name[a], name[b]))
        for a, b in zip(pairs.i.tolist(), pairs.j.tolist(), strict=True)
    }
    chat_name = os.path.relpath(chat, root)
    assert frozenset((chat_name, os.path.relpath(middle, root))) in copies
    for frame in (burst.paths[0], burst.paths[2]):
        assert frozenset((chat_name, os.path.relpath(frame, root))) not in copies
        assert (
            frozenset((os.path.relpath(middle, root), os.path.relpath(frame, root))) not in copies
        )
