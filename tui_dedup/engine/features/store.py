"""FeatureStore: one row per file, one numpy column per feature.

Why columnar: 100,000 files must match in seconds and fit in a few tens of MB, which rules out
an object per file on the hot path. Matching reads whole columns; the TUI turns only the visible
rows into text. Which feature columns there are is declared once, in
:mod:`tui_dedup.engine.features.columns`: rows, blocks and the store hold the hashes in
``hashes`` (one array per hash method) and every other column in ``features`` (by column name),
and nothing here names a column except the read-only shortcuts (``store.hist3``, ...) for code
that reads those by name. Rows are appended by the scan — one :class:`FeatureRow` per decoded
file, or a whole :class:`FeatureBlock` of columns from the cache — and frozen into arrays once
by :meth:`StoreBuilder.build`. Image metadata is columnar too (:class:`MetaColumns`, in
:mod:`tui_dedup.engine.features.meta_columns`, re-exported here): ``store.metas[row]`` makes the
:class:`ImageMeta` when asked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from tui_dedup.engine.features import columns as _columns
from tui_dedup.engine.features.hashes import TILE_SIDE
from tui_dedup.engine.features.meta_columns import MetaColumns
from tui_dedup.engine.files.digest import DIGEST_SIZE
from tui_dedup.engine.model import FileEntry, ImageMeta

__all__ = [
    "FeatureBlock",
    "FeatureRow",
    "FeatureStore",
    "MetaColumns",
    "StoreBuilder",
    "build_store",
    "with_sharpness",
]


@dataclass(slots=True, init=False)
class FeatureRow:
    """Features of one file, as produced by one decode (or read back from the cache).

    ``FeatureRow(meta, hashes, features={...}, digest=...)``; the positional ``hist3, hist1,
    detail`` and the ``tiles`` argument are the older spelling of ``features`` for the columns
    that existed before the declaration (engine/scan.py, tests and scripts still use it).
    """

    meta: ImageMeta
    hashes: dict[str, np.ndarray]  # method -> (VARIANTS, words) uint64
    # column name -> this file's value (columns.FEATURES); a column not computed is absent
    # (zeros in the store: e.g. a flat tile signature that the local-edit check never accepts)
    features: dict[str, np.ndarray]
    digest: bytes | None
    # ORB keypoints, (k, LOCAL_ROW_BYTES) uint8 (features.local_features); None = not computed
    local: np.ndarray | None
    # the crop check's dense thumbnail (features.hashes.dense_thumb), made with ``local``
    thumb: np.ndarray | None
    # The file's edge digest (engine.digest.edge_digest_bytes) when it was read for these
    # features: the feature cache stores it to re-check the file cheaply after its ctime moved
    # (rename, chmod). Not a store column; None = unknown (such a cache row is never re-checked).
    edge: bytes | None

    def __init__(
        self,
        meta: ImageMeta,
        hashes: dict[str, np.ndarray],
        hist3: np.ndarray | None = None,
        hist1: np.ndarray | None = None,
        detail: float | None = None,
        digest: bytes | None = None,
        local: np.ndarray | None = None,
        tiles: np.ndarray | None = None,
        edge: bytes | None = None,
        *,
        features: dict[str, np.ndarray] | None = None,
        thumb: np.ndarray | None = None,
    ) -> None:
        self.meta = meta
        self.hashes = hashes
        named = {"hist3": hist3, "hist1": hist1, "detail": detail, "tiles": tiles}
        self.features = dict(features or {})
        self.features.update((k, np.asarray(v)) for k, v in named.items() if v is not None)
        self.digest = digest
        self.local = local
        self.thumb = thumb
        self.edge = edge

    @property
    def hist3(self) -> np.ndarray:
        return self.features["hist3"]

    @property
    def hist1(self) -> np.ndarray:
        return self.features["hist1"]

    @property
    def detail(self) -> float:
        return float(self.features["detail"])

    @property
    def tiles(self) -> np.ndarray | None:
        return self.features.get("tiles")


@dataclass(slots=True)
class FeatureBlock:
    """Features of many files as columns, e.g. a bulk read from the cache (row k: file k).

    Goes into the store without a :class:`FeatureRow` per file; :meth:`row` makes one when a
    single file needs to travel alone (a cached file that now needs its digest). A block holds
    every declared column (:func:`tui_dedup.engine.features.columns.zeros` makes placeholders).
    """

    metas: MetaColumns
    hashes: dict[str, np.ndarray]  # method -> (n, VARIANTS, words) uint64
    features: dict[str, np.ndarray]  # column name -> (n, *shape), every columns.FEATURES
    digests: np.ndarray  # (n, DIGEST_SIZE) uint8
    has_digest: np.ndarray  # (n,) bool

    def __len__(self) -> int:
        return int(self.has_digest.shape[0])

    def row(self, k: int) -> FeatureRow:
        return FeatureRow(
            self.metas[k],
            {m: h[k] for m, h in self.hashes.items()},
            digest=self.digests[k].tobytes() if self.has_digest[k] else None,
            features={name: a[k] for name, a in self.features.items()},
        )

    def take(self, rows: np.ndarray) -> FeatureBlock:
        return FeatureBlock(
            MetaColumns.concat([self.metas], rows),
            {m: h[rows] for m, h in self.hashes.items()},
            {name: a[rows] for name, a in self.features.items()},
            self.digests[rows],
            self.has_digest[rows],
        )

    @classmethod
    def concat(cls, blocks: list[FeatureBlock]) -> FeatureBlock:
        """The rows of ``blocks`` one after another (a snapshot's hits, then SQLite's)."""
        return cls(
            MetaColumns.concat([b.metas for b in blocks]),
            {m: np.concatenate([b.hashes[m] for b in blocks]) for m in blocks[0].hashes},
            {k: np.concatenate([b.features[k] for b in blocks]) for k in blocks[0].features},
            np.concatenate([b.digests for b in blocks]),
            np.concatenate([b.has_digest for b in blocks]),
        )

    @classmethod
    def from_rows(cls, hash_size: int, rows: list[FeatureRow]) -> FeatureBlock:
        n = len(rows)
        hashes, features = _columns.stack(rows, hash_size)
        digests = np.zeros((n, DIGEST_SIZE), np.uint8)
        has_digest = np.zeros(n, bool)
        for k, r in enumerate(rows):
            if r.digest is not None:
                digests[k] = np.frombuffer(r.digest, np.uint8)
                has_digest[k] = True
        return cls(
            MetaColumns.from_metas(r.meta for r in rows), hashes, features, digests, has_digest
        )


_NO_TILES = np.zeros((0, TILE_SIDE * TILE_SIDE), np.uint8)
_NO_TILES.flags.writeable = False


@dataclass(slots=True)
class FeatureStore:
    """Columns for n files. ``hashes[m]`` is (n, VARIANTS, words); variant 0 is the image.

    ``features`` holds every other declared column by name (columns.FEATURES), (n, *shape).
    """

    hash_size: int
    entries: list[FileEntry]
    metas: MetaColumns  # a sequence of ImageMeta, one per row (made on access)
    hashes: dict[str, np.ndarray]
    features: dict[str, np.ndarray]
    digests: np.ndarray  # (n, DIGEST_SIZE) uint8
    has_digest: np.ndarray  # bool
    _cols: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    # Per-row ORB keypoints for engine.verify ((k, 36) uint8 each, ~2 KB); None where a row has
    # none yet (verify computes those on demand). A list, not a column: k varies per file.
    local: list[np.ndarray | None] = field(default_factory=list, repr=False)
    # Per-row small grey images (long side 64, uint8) for engine.verify's dense crop check,
    # filled with ``local`` (by a cold scan, or when a file is decoded for verification).
    crop_thumbs: list[np.ndarray | None] = field(default_factory=list, repr=False)

    def drop_crop_scratch(self) -> None:
        """Forget the crop check's keypoints and thumbnails (~5 KB a file): scratch for one
        match, which a review must not carry for its whole life (a later match decodes the
        few files it needs again)."""
        self.local, self.crop_thumbs = [], []

    def __len__(self) -> int:
        return len(self.entries)

    # Shortcuts for the columns that code reads by name (a new column needs none).

    @property
    def hist3(self) -> np.ndarray:  # (n, 3*HIST3_BINS) float32, sqrt-normalised
        return self.features["hist3"]

    @property
    def hist1(self) -> np.ndarray:  # (n, HIST1_BINS) float32, sqrt-normalised
        return self.features["hist1"]

    @property
    def detail(self) -> np.ndarray:  # (n,) float32, grey std of a 64×64 thumbnail
        return self.features["detail"]

    @property
    def tiles(self) -> np.ndarray:
        """(n, TILE_SIDE²) uint8 grey cells for the local-edit check (engine.tiles); all-zero
        rows have none. Empty (0 rows) in a store made without them: the check is skipped."""
        return self.features.get("tiles", _NO_TILES)

    @property
    def words(self) -> int:
        return (self.hash_size * self.hash_size + 63) // 64

    def codes(self, method: str) -> np.ndarray:
        """(n, words) uint64: the untransformed hash of each file."""
        return np.ascontiguousarray(self.hashes[method][:, 0, :])

    def column(self, name: str) -> np.ndarray:
        """Cached per-file numeric columns for sorting and display: size, mtime, width, ..."""
        col = self._cols.get(name)
        if col is None:
            if name == "size":
                col = np.fromiter((e.size for e in self.entries), np.int64, len(self))
            elif name == "mtime":
                col = np.fromiter((e.mtime_ns for e in self.entries), np.int64, len(self)) / 1e9
            elif name in ("width", "height"):
                metas = self.metas
                if not isinstance(metas, MetaColumns):  # a store made by hand from a list
                    metas = MetaColumns.from_metas(metas)
                col = getattr(metas, name).astype(np.int32)
            elif name == "pixels":
                col = self.column("width").astype(np.int64) * self.column("height")
            else:
                raise KeyError(name)
            self._cols[name] = col
        return col

    def derived(self, name: str, make: Callable[[], np.ndarray]) -> np.ndarray:
        """A per-file column another module derives from this store (``make``), computed
        once and kept with the cached columns (never in the cache files)."""
        col = self._cols.get(name)
        if col is None:
            col = self._cols[name] = make()
        return col

    def ensure_digests(self, rows: np.ndarray) -> None:
        """Digest files that lack one (only shared-size files get one during the scan); a file
        that cannot be read keeps none. Used for skips, which are keyed by content."""
        from tui_dedup.engine.files.digest import digest_path

        for r in (int(x) for x in rows if not self.has_digest[x]):
            try:
                self.digests[r] = np.frombuffer(digest_path(self.entries[r].path), np.uint8)
                self.has_digest[r] = True
            except OSError:
                continue

    def digest_hex(self, row: int) -> str | None:
        return self.digests[row].tobytes().hex() if self.has_digest[row] else None


class StoreBuilder:
    """Append rows in any order (cache hits first, decodes as they finish), then build once.

    Rows come one at a time (:meth:`add`, a decoded file) or as a block of columns
    (:meth:`add_block`, a bulk cache read). Single rows are packed into a block every
    :data:`SEAL_ROWS` rows: a :class:`FeatureRow` holds its features in seven small numpy
    arrays (~5 KB a file with their headers and dicts), and keeping 10^5 of them until the build
    was most of a cold scan's memory peak; as columns they take ~1 KB. The build scatters each
    block straight into its sorted place; the builder is spent afterwards.
    """

    SEAL_ROWS = 1024

    def __init__(self, hash_size: int) -> None:
        self.hash_size = hash_size
        self.entries: list[FileEntry] = []
        # runs in entry order: (index of the first entry, a block of columns)
        self._parts: list[tuple[int, FeatureBlock]] = []
        self._open: list[FeatureRow] = []  # single rows not yet packed, ending the entries
        # entry index -> (ORB keypoints, dense thumbnail), where a scan computed them
        self._local: dict[int, tuple[np.ndarray, np.ndarray | None]] = {}

    def add(self, entry: FileEntry, row: FeatureRow) -> None:
        if row.local is not None:
            self._local[len(self.entries)] = (row.local, row.thumb)
        self._open.append(row)
        self.entries.append(entry)
        if len(self._open) >= self.SEAL_ROWS:
            self._seal()

    def add_block(self, entries: list[FileEntry], block: FeatureBlock) -> None:
        """``entries[k]`` is the file of ``block`` row k."""
        if len(entries) != len(block):
            raise ValueError(f"{len(entries)} entries for a block of {len(block)} rows")
        if entries:
            self._seal()
            self._parts.append((len(self.entries), block))
            self.entries.extend(entries)

    def _seal(self) -> None:
        """Pack the open single rows into one block (they end the entry list)."""
        if self._open:
            start = len(self.entries) - len(self._open)
            self._parts.append((start, FeatureBlock.from_rows(self.hash_size, self._open)))
            self._open = []

    def __len__(self) -> int:
        return len(self.entries)

    def build(self, *, sort: bool = True) -> FeatureStore:
        """Freeze into columns; rows sorted by path so results are deterministic."""
        self._seal()
        n = len(self.entries)
        if sort:
            paths = [e.path for e in self.entries]
            order = np.array(sorted(range(n), key=paths.__getitem__), np.int64)
            del paths
        else:
            order = np.arange(n, dtype=np.int64)
        rank = np.empty(n, np.int64)
        rank[order] = np.arange(n)
        local: list[np.ndarray | None] = [None] * n
        thumbs: list[np.ndarray | None] = [None] * n
        for k, (keypoints, thumb) in self._local.items():
            local[rank[k]], thumbs[rank[k]] = keypoints, thumb
        blocks, self._parts, self._local = self._parts, [], {}
        entries = [self.entries[k] for k in order.tolist()]
        store = _scatter(self.hash_size, entries, order, rank, blocks, local)
        store.crop_thumbs = thumbs
        return store


def _scatter(
    hash_size: int,
    entries: list[FileEntry],
    order: np.ndarray,
    rank: np.ndarray,
    blocks: list[tuple[int, FeatureBlock]],
    local: list[np.ndarray | None],
) -> FeatureStore:
    """One store from blocks that hold entry rows ``start:start+len``, sorted by ``rank``.

    Each block column is dropped once copied, so the peak is the store plus one column.
    """
    n = len(entries)
    if len(blocks) == 1 and blocks[0][0] == 0 and bool((order == np.arange(n)).all()):
        # one block already in path order (a whole snapshot): its columns are the store's
        b = blocks[0][1]
        return FeatureStore(
            hash_size=hash_size,
            entries=entries,
            metas=b.metas,
            hashes={p.method: b.hashes[p.method] for p in _columns.PARTS if p.method},
            features=b.features,
            digests=b.digests,
            has_digest=b.has_digest,
            local=local,
        )
    places = [rank[start : start + len(b)] for start, b in blocks]

    def gather(
        shape: tuple[int, ...], dtype: np.dtype, take: Callable[[FeatureBlock], np.ndarray | None]
    ) -> np.ndarray:
        out: np.ndarray = np.empty((n, *shape), dtype)
        for (_, b), at in zip(blocks, places, strict=True):
            part = take(b)
            out[at] = 0 if part is None else part  # None: a block made without this column
            del part
        return out

    arrays: dict[str, np.ndarray] = {}
    for p in _columns.PARTS:
        held, key = ("hashes", p.method) if p.method else ("features", p.name)

        def take(b: FeatureBlock, held: str = held, key: str = key) -> np.ndarray | None:
            return getattr(b, held).pop(key, None)

        arrays[p.name] = gather(p.column.shape(hash_size), p.column.dtype, take)
    hashes, features = _columns.split(arrays)
    del arrays

    def drop_digests(b: FeatureBlock) -> np.ndarray:
        part, b.digests = b.digests, np.empty((0, DIGEST_SIZE), np.uint8)
        return part

    digests = gather((DIGEST_SIZE,), np.dtype(np.uint8), drop_digests)
    has_digest = gather((), np.dtype(bool), lambda b: b.has_digest)
    metas = MetaColumns.concat([b.metas for _, b in blocks], order)
    return FeatureStore(
        hash_size=hash_size,
        entries=entries,
        metas=metas,
        hashes=hashes,
        features=features,
        digests=digests,
        has_digest=has_digest,
        local=local,
    )


def build_store(hash_size: int, entries: list[FileEntry], rows: list[FeatureRow]) -> FeatureStore:
    builder = StoreBuilder(hash_size)
    for e, r in zip(entries, rows, strict=True):
        builder.add(e, r)
    return builder.build(sort=False)


def with_sharpness(meta: ImageMeta, sharpness: float) -> ImageMeta:
    return replace(meta, sharpness=sharpness)
