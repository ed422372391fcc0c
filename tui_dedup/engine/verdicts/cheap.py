"""Evidence from the stored columns alone, for every pair at once (no file is read).

The 256-bit hash distance under the pair's own transform, the colour-layout difference and the
information score (engine/features/confirm_features.py). Vectorised: ~1 µs a pair.
"""

from __future__ import annotations

import numpy as np

from tui_dedup.engine.features.confirm_features import CHROMA_CELLS
from tui_dedup.engine.features.hashes import dihedral
from tui_dedup.engine.features.store import FeatureStore
from tui_dedup.engine.model import Pairs

#: A picture whose colour cells all sit within this many a*b* units of grey has no colour to
#: compare (a greyscale copy of a colour picture is still a copy).
GREY_CHROMA = 4.0
#: Saturation gains a copy may carry (a contrast or vibrance edit).
GAIN_RANGE = (0.5, 2.0)
#: The colour change must hold for this share of the cells (a local edit changes one or two).
RECOLOUR_SHARE = 0.85

_CELLS = CHROMA_CELLS * CHROMA_CELLS
#: Cell permutation of each dihedral variant (model.TRANSFORMS order) for one channel.
_PERMS = np.stack(
    [v.ravel() for v in dihedral(np.arange(_CELLS).reshape(CHROMA_CELLS, CHROMA_CELLS))]
)


def has_verdict_columns(store: FeatureStore) -> bool:
    return all(store.features.get(c) is not None for c in ("pdq", "chroma", "info"))


def pdq_distance(store: FeatureStore, pairs: Pairs) -> np.ndarray:
    """int16 distance of a's plain hash to the variant of b the pair matched under."""
    pdq = store.features["pdq"]
    a = pdq[pairs.i, 0]
    b = pdq[pairs.j, pairs.transform.astype(np.intp)]
    return np.bitwise_count(a ^ b).sum(axis=1).astype(np.int16)


def chroma_difference(store: FeatureStore, pairs: Pairs) -> np.ndarray:
    """float32 per pair: the colour change no saturation change explains, as the
    :data:`RECOLOUR_SHARE` quantile over cells of the a*b* distance left after the best gain
    (b turned by the pair's transform). NaN where either picture is grey.

    A contrast or saturation edit scales every cell's a*b* vector by one factor; a recoloured
    design turns them (blue to purple); a logo stamped in one corner changes one or two cells,
    which the quantile ignores.
    """
    ch = store.features["chroma"].astype(np.float32).reshape(len(store), 2, _CELLS)
    a = ch[pairs.i]
    perm = _PERMS[pairs.transform.astype(np.intp)]  # (m, 16): cell of b for each cell of a
    b = np.take_along_axis(ch[pairs.j], perm[:, None, :], axis=2)
    aa = (a * a).sum(axis=(1, 2))
    gain = np.clip((a * b).sum(axis=(1, 2)) / np.maximum(aa, 1e-6), *GAIN_RANGE)
    resid = np.sqrt(((a * gain[:, None, None] - b) ** 2).sum(axis=1))
    diff = np.quantile(resid, RECOLOUR_SHARE, axis=1)
    grey = (np.abs(a).max(axis=(1, 2)) <= GREY_CHROMA) | (np.abs(b).max(axis=(1, 2)) <= GREY_CHROMA)
    diff[grey] = np.nan
    return diff.astype(np.float32)


def information(store: FeatureStore, pairs: Pairs) -> np.ndarray:
    info = store.features["info"]
    return np.minimum(info[pairs.i], info[pairs.j]).astype(np.float32)
