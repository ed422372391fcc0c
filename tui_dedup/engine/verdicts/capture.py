"""What EXIF says about two files of a candidate pair: one shot, two shots, or nothing.

Why a module: the scan's verdicts (review/pipeline.py) and apply's second look
(engine/matching/recheck.py) must read the capture evidence the same way; the field rules
themselves are in engine/files/exif_evidence.py.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tui_dedup.engine.features.store import FeatureStore
from tui_dedup.engine.files.exif_evidence import SHOT_WINDOW_S, capture_evidence, software_kind
from tui_dedup.engine.model import ImageMeta


def capture_of(store: FeatureStore) -> Callable[[int, int], int]:
    """The EXIF capture evidence of two rows for the verdict stage: 1 one shot, -1 two shots,
    0 nothing (engine/files/exif_evidence.py). Rows without a capture instant or unique id
    are answered without building their metadata."""
    metas = store.metas
    taken = getattr(metas, "taken", None)
    uid = getattr(metas, "unique_id", None)

    def capture(i: int, j: int) -> int:
        if (
            isinstance(taken, np.ndarray)
            and isinstance(uid, np.ndarray)
            and (np.isnan(taken[i]) or np.isnan(taken[j]))
            and not (uid[i].any() and uid[j].any())
        ):
            return 0
        a, b = metas[i], metas[j]
        said = capture_evidence(a, b)
        if said == "none" and _two_originals(a, b):
            return -1
        return 1 if said == "same-shot" else -1 if said == "different-shots" else 0

    return capture


def _two_originals(a: ImageMeta, b: ImageMeta) -> bool:
    """Two camera originals of one moment: one camera, capture instants within a few minutes,
    and each its own ImageUniqueID, with no editor or messenger between (those write new ids
    or strip them). Burst frames often share the second and carry no sub-seconds, so only the
    ids tell them apart; a backup keeps its id, an export gets a Software tag."""
    if a.unique_id is None or b.unique_id is None or a.unique_id == b.unique_id:
        return False
    if a.camera is None or a.camera != b.camera or a.taken is None or b.taken is None:
        return False
    if software_kind(a.software) is not None or software_kind(b.software) is not None:
        return False
    return abs(a.taken - b.taken) < SHOT_WINDOW_S
