"""FeatureStore: one row per file, one numpy column per feature.

Why columnar: 100,000 files must match in seconds and fit in a few tens of MB, which rules out
an object per file on the hot path. Matching reads whole columns; the TUI turns only the visible
rows into text. Rows are appended by the scan (from the decoder or from the cache) and frozen
into arrays once by :meth:`StoreBuilder.build`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from tui_dedup.engine.digest import DIGEST_SIZE
from tui_dedup.engine.features import HIST1_BINS, HIST3_BINS, VARIANTS
from tui_dedup.engine.model import FileEntry, ImageMeta
from tui_dedup.engine.registry import HASH_METHODS


@dataclass(slots=True)
class FeatureRow:
    """Features of one file, as produced by one decode (or read back from the cache)."""

    meta: ImageMeta
    hashes: dict[str, np.ndarray]  # method -> (VARIANTS, words) uint64
    hist3: np.ndarray  # (3*HIST3_BINS,) float32, sqrt-normalised
    hist1: np.ndarray  # (HIST1_BINS,) float32, sqrt-normalised
    detail: float  # grey std of a 64×64 thumbnail
    digest: bytes | None = None
    # ORB keypoints, (k, LOCAL_ROW_BYTES) uint8 (features.local_features); None = not computed
    local: np.ndarray | None = None


@dataclass(slots=True)
class FeatureStore:
    """Columns for n files. ``hashes[m]`` is (n, VARIANTS, words); variant 0 is the image."""

    hash_size: int
    entries: list[FileEntry]
    metas: list[ImageMeta]
    hashes: dict[str, np.ndarray]
    hist3: np.ndarray
    hist1: np.ndarray
    detail: np.ndarray  # float32
    digests: np.ndarray  # (n, DIGEST_SIZE) uint8
    has_digest: np.ndarray  # bool
    _cols: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    # Per-row ORB keypoints for engine.verify ((k, 36) uint8 each, ~2 KB); None where a row has
    # none yet (verify computes those on demand). A list, not a column: k varies per file.
    local: list[np.ndarray | None] = field(default_factory=list, repr=False)

    def __len__(self) -> int:
        return len(self.entries)

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
            elif name == "width":
                col = np.fromiter((m.width for m in self.metas), np.int32, len(self))
            elif name == "height":
                col = np.fromiter((m.height for m in self.metas), np.int32, len(self))
            elif name == "pixels":
                col = self.column("width").astype(np.int64) * self.column("height")
            else:
                raise KeyError(name)
            self._cols[name] = col
        return col

    def ensure_digests(self, rows: np.ndarray) -> None:
        """Digest files that lack one (only shared-size files get one during the scan); a file
        that cannot be read keeps none. Used for skips, which are keyed by content."""
        from tui_dedup.engine.digest import digest_path

        for r in (int(x) for x in rows if not self.has_digest[x]):
            try:
                self.digests[r] = np.frombuffer(digest_path(self.entries[r].path), np.uint8)
                self.has_digest[r] = True
            except OSError:
                continue

    def digest_hex(self, row: int) -> str | None:
        return self.digests[row].tobytes().hex() if self.has_digest[row] else None


class StoreBuilder:
    """Append rows in any order (cache hits first, decodes as they finish), then build once."""

    def __init__(self, hash_size: int) -> None:
        self.hash_size = hash_size
        self.entries: list[FileEntry] = []
        self.rows: list[FeatureRow] = []

    def add(self, entry: FileEntry, row: FeatureRow) -> None:
        self.entries.append(entry)
        self.rows.append(row)

    def __len__(self) -> int:
        return len(self.entries)

    def build(self, *, sort: bool = True) -> FeatureStore:
        """Freeze into columns; rows sorted by path so results are deterministic."""
        order = (
            sorted(range(len(self.entries)), key=lambda k: self.entries[k].path)
            if sort
            else list(range(len(self.entries)))
        )
        entries = [self.entries[k] for k in order]
        rows = [self.rows[k] for k in order]
        return build_store(self.hash_size, entries, rows)


def build_store(hash_size: int, entries: list[FileEntry], rows: list[FeatureRow]) -> FeatureStore:
    n = len(rows)
    words = (hash_size * hash_size + 63) // 64
    hashes = {
        m: (
            np.stack([r.hashes[m] for r in rows])
            if n
            else np.zeros((0, VARIANTS, words), np.uint64)
        )
        for m in HASH_METHODS
    }
    hist3 = np.stack([r.hist3 for r in rows]) if n else np.zeros((0, 3 * HIST3_BINS), np.float32)
    hist1 = np.stack([r.hist1 for r in rows]) if n else np.zeros((0, HIST1_BINS), np.float32)
    digests = np.zeros((n, DIGEST_SIZE), np.uint8)
    has_digest = np.zeros(n, bool)
    for k, r in enumerate(rows):
        if r.digest is not None:
            digests[k] = np.frombuffer(r.digest, np.uint8)
            has_digest[k] = True
    return FeatureStore(
        hash_size=hash_size,
        entries=entries,
        metas=[r.meta for r in rows],
        hashes=hashes,
        hist3=hist3.astype(np.float32, copy=False),
        hist1=hist1.astype(np.float32, copy=False),
        detail=np.array([r.detail for r in rows], np.float32),
        digests=digests,
        has_digest=has_digest,
        local=[r.local for r in rows],
    )


def with_sharpness(meta: ImageMeta, sharpness: float) -> ImageMeta:
    return replace(meta, sharpness=sharpness)
