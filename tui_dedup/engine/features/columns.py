"""The per-file feature columns, declared once: what a scan computes from each decoded image,
the store holds, the cache keeps and matching reads.

Adding a histogram-like feature touches three source files. Say ``hist_hsv``, an HSV
histogram compared by Bhattacharyya similarity: (1) ``engine/features/hashes.py`` gets the
function that computes it from the decoded image (``hist_hsv(image) -> float32 array``,
sqrt-normalised like the other histograms), and FEATURE_VERSION there goes up by one so that
``cache prune`` drops the rows cached without it; (2) this module gets one :class:`Column` in
:data:`COLUMNS` (name, dtype, shape, that function, its parameters for the cache's settings
key, e.g. ``key="hist=hsv16x3"``); (3) ``engine/registry.py`` gets one ``Method("hist_hsv",
"hist", ...)`` with its presets, if it is to be a matching method (a column that only helps
another stage needs no method). Nothing else changes: the scan computes it (:func:`extract`),
the store, its blocks and rows carry it in ``features["hist_hsv"]``, the cache blob grows a
field (``engine/cache/layout.py``), the snapshot an array (``engine/cache/snapshot.py``), the
settings key its parameters (``engine/cache/schema.py``: rows cached before the change are never
mixed in, so the first scan after it decodes every file once), the remembered-match key reads
it when it is the method (``engine/cache/matches.py``), and matching, the apply-time re-check
and the pair scores find it as ``store.features["hist_hsv"]`` (``hist_matrix`` in
``engine/matching/pairs.py``). A new hash method is smaller still: its bits in
``hash_features`` and its ``Method`` entry; the ``hashes`` column below holds one array per
hash method of the registry.

Why every column is cached: a column the cache lacked would have to be computed again, which
means decoding the file, on every warm rescan. Per-file data that is not a fixed-shape array
(ORB keypoints, the crop check's thumbnails) is not a column: engine/matching/verify.py makes
it on demand, beside the store.

Byte layout: the cache blob is the image metadata (engine/cache/layout.py) followed by the
columns in :data:`COLUMNS` order, each as its ``stored`` dtype (little-endian); the hashes
column is one field per hash method, in registry order. This order and these dtypes are what
caches written so far hold: reordering them, or changing a dtype, needs a new cache layout
(``SCHEMA_VERSION`` in engine/cache/schema.py), or at least a new settings key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from tui_dedup.engine.features import confirm_features as _confirm
from tui_dedup.engine.features import hashes as _hashes
from tui_dedup.engine.registry import HASH_METHODS

__all__ = [
    "COLUMNS",
    "FEATURES",
    "PARTS",
    "Column",
    "Part",
    "Source",
    "extract",
    "settings_part",
    "split",
    "stack",
    "zeros",
]


class Source:
    """One decoded image, as the column functions see it: the BGR pixels, their grey version
    (made once for every column that needs it) and the hash size of the scan."""

    __slots__ = ("_g64", "gray", "hash_size", "image")

    def __init__(self, image: np.ndarray, hash_size: int) -> None:
        self.image = image
        self.gray = _hashes.to_gray(image)
        self.hash_size = hash_size
        self._g64: np.ndarray | None = None

    @property
    def g64(self) -> np.ndarray:
        """The 64×64 grey image the verdict columns share (made on first use)."""
        if self._g64 is None:
            self._g64 = _confirm.grey64(self.gray)
        return self._g64


def _words(hash_size: int) -> int:
    return (hash_size * hash_size + 63) // 64


@dataclass(frozen=True, slots=True)
class Column:
    """One per-file feature column."""

    #: The key in ``features`` of a FeatureRow / FeatureBlock / FeatureStore, the cache blob's
    #: field and the snapshot's array (``hashes/<method>`` for the hashes column).
    name: str
    #: In memory and in the snapshot.
    dtype: np.dtype
    #: One file's shape, from the hash size (the store's column is (n, *shape)).
    shape: Callable[[int], tuple[int, ...]]
    #: Its value for one decoded image (for the hashes column: {method: array}).
    compute: Callable[[Source], object]
    #: Its parameters for the cache's settings key, as ``label=value`` parts joined by ``;``;
    #: parts with the same label across columns are joined by commas (``hist=32x3,64``). Empty
    #: only for columns whose parameters never change without a FEATURE_VERSION bump.
    key: str = ""
    #: Read by every match (the low-detail test, the local-edit stage, every hash method), so
    #: part of every remembered-match key; False: read only by a match by the method of the
    #: same name.
    always_matched: bool = False
    #: Its dtype in the cache blob when not ``dtype`` (detail was written as float64).
    stored: str | None = None
    #: One array per hash method of the registry (held in ``hashes``, not ``features``).
    per_method: bool = False

    def blob_dtype(self) -> np.dtype:
        return np.dtype(self.stored) if self.stored else self.dtype.newbyteorder("<")

    def zeros(self, n: int, hash_size: int) -> np.ndarray:
        """``n`` rows of nothing computed (a flat signature no stage accepts as a match)."""
        return np.zeros((n, *self.shape(hash_size)), self.dtype)


COLUMNS: tuple[Column, ...] = (
    Column(
        "detail",
        np.dtype(np.float32),
        lambda hs: (),
        lambda src: _hashes.detail_std(src.gray),
        always_matched=True,
        stored="<f8",
    ),
    Column(
        "hashes",
        np.dtype(np.uint64),
        lambda hs: (_hashes.VARIANTS, _words(hs)),
        lambda src: _hashes.hash_features(src.gray, src.hash_size, variants=True),
        key=f"variants={_hashes.VARIANTS};methods={','.join(HASH_METHODS)}",
        always_matched=True,
        per_method=True,
    ),
    Column(
        "hist3",
        np.dtype(np.float32),
        lambda hs: (3 * _hashes.HIST3_BINS,),
        lambda src: _hashes.hist_bgr(src.image),
        key=f"hist={_hashes.HIST3_BINS}x3",
    ),
    Column(
        "hist1",
        np.dtype(np.float32),
        lambda hs: (_hashes.HIST1_BINS,),
        lambda src: _hashes.hist_grey(src.gray),
        key=f"hist={_hashes.HIST1_BINS}",
    ),
    Column(
        "tiles",
        np.dtype(np.uint8),
        lambda hs: (_hashes.TILE_SIDE * _hashes.TILE_SIDE,),
        lambda src: _hashes.tile_cells(src.gray),
        always_matched=True,
    ),
    # The verdict stage's evidence (engine/features/confirm_features.py, engine/verdicts): read
    # after matching, never by it, so no match key needs them.
    Column(
        "pdq",
        np.dtype(np.uint64),
        lambda hs: (_hashes.VARIANTS, _confirm.PDQ_WORDS),
        lambda src: _confirm.pdq_variants(src.g64),
        key=f"pdq={_confirm.PDQ_BITS}",
    ),
    Column(
        "chroma",
        np.dtype(np.int8),
        lambda hs: (2 * _confirm.CHROMA_CELLS * _confirm.CHROMA_CELLS,),
        lambda src: _confirm.chroma_layout(src.image),
        key=f"chroma={_confirm.CHROMA_CELLS}",
    ),
    Column(
        "info",
        np.dtype(np.float32),
        lambda hs: (),
        lambda src: _confirm.information(src.g64),
    ),
)

#: The columns held in ``features`` (all but the per-method hashes).
FEATURES: tuple[Column, ...] = tuple(c for c in COLUMNS if not c.per_method)


class HasColumns(Protocol):
    hashes: dict[str, np.ndarray]
    features: dict[str, np.ndarray]


@dataclass(frozen=True, slots=True)
class Part:
    """One array of the declaration: a column, or one hash method's share of ``hashes``."""

    name: str  # "detail", "hashes/phash": the blob field and the snapshot array
    column: Column
    method: str | None = None

    def of(self, holder: HasColumns) -> np.ndarray | None:
        """Its array in a row, block or store; None where a row lacks it (not computed)."""
        if self.method is not None:
            return holder.hashes.get(self.method)
        return holder.features.get(self.column.name)


#: Every array, in blob order.
PARTS: tuple[Part, ...] = tuple(
    p
    for c in COLUMNS
    for p in (
        [Part(f"{c.name}/{m}", c, m) for m in HASH_METHODS] if c.per_method else [Part(c.name, c)]
    )
)


def split(
    arrays: Mapping[str, np.ndarray],
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Arrays by part name (a blob's fields, a snapshot's arrays) → (hashes, features)."""
    hashes = {p.method: arrays[p.name] for p in PARTS if p.method is not None}
    features = {p.name: arrays[p.name] for p in PARTS if p.method is None}
    return hashes, features


def stack(
    rows: Sequence[HasColumns], hash_size: int
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Single rows' values as columns (hashes, features) of (n, *shape): zeros where a row
    lacks a column (not computed)."""
    n = len(rows)
    arrays: dict[str, np.ndarray] = {}
    for p in PARTS:
        values = [p.of(r) for r in rows]
        if n and all(v is not None for v in values):
            arrays[p.name] = np.array(values, dtype=p.column.dtype)
        else:
            col = arrays[p.name] = p.column.zeros(n, hash_size)
            for k, v in enumerate(values):
                if v is not None:
                    col[k] = v
    return split(arrays)


def zeros(n: int, hash_size: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(hashes, features) of ``n`` rows with nothing computed: an empty or placeholder block."""
    return split({p.name: p.column.zeros(n, hash_size) for p in PARTS})


def extract(
    image: np.ndarray, hash_size: int
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], float]:
    """Every column of one decoded image: (hashes, features, sharpness).

    Sharpness is image metadata (ImageMeta.sharpness), not a column, but it comes from the
    same grey image. Values keep the precision their function gives (detail is a float64 the
    cache blob stores as such; the store holds it as float32).
    """
    src = Source(image, hash_size)
    hashes: dict[str, np.ndarray] = {}
    features: dict[str, np.ndarray] = {}
    for col in COLUMNS:
        value = col.compute(src)
        if col.per_method:
            assert isinstance(value, dict)
            hashes = value
        else:
            features[col.name] = np.asarray(value)
    return hashes, features, _hashes.sharpness(src.gray)


def settings_part() -> str:
    """The columns' parameters for the settings key (engine/cache/schema.py), e.g.
    ``variants=8;methods=phash,dhash,ahash;hist=32x3,64``."""
    labels: dict[str, list[str]] = {}
    for col in COLUMNS:
        for part in filter(None, col.key.split(";")):
            label, _, value = part.partition("=")
            labels.setdefault(label, []).append(value)
    return ";".join(f"{label}={','.join(values)}" for label, values in labels.items())
