"""The feature columns are declared once (engine/features/columns.py): caches written before the
declaration still hit, and a column added to it reaches the store, the cache, the snapshot and
the remembered-match key with no other change."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tui_dedup.demo import make_photo, write_jpeg
from tui_dedup.engine.cache import snapshot as cache_snapshot
from tui_dedup.engine.cache.features import FeatureCache
from tui_dedup.engine.cache.layout import pack_records, record_dtype
from tui_dedup.engine.cache.matches import match_key
from tui_dedup.engine.cache.schema import settings_key
from tui_dedup.engine.features import columns
from tui_dedup.engine.features import hashes as features
from tui_dedup.engine.features.store import FeatureRow, StoreBuilder
from tui_dedup.engine.files import decode
from tui_dedup.engine.matching.pairs import MatchOptions
from tui_dedup.engine.model import ImageMeta
from tui_dedup.engine.registry import HASH_METHODS, HIST_METHODS, resolve_threshold
from tui_dedup.engine.scan import scan


def _rows(n: int, hash_size: int = 8) -> list[FeatureRow]:
    out = []
    for k in range(n):
        hashes, feats, sharp = columns.extract(make_photo(k, 160, 120), hash_size)
        out.append(FeatureRow(ImageMeta(160, 120, "JPEG", sharpness=sharp), hashes, features=feats))
    return out


@pytest.fixture
def files(tmp_path: Path) -> list:
    root = tmp_path / "lib"
    root.mkdir()
    for k in range(4):
        write_jpeg(root / f"{k}.jpg", make_photo(k, 160, 120))
    return scan([root]).store.entries


def test_the_settings_key_names_every_column_and_the_blob_holds_their_values(files) -> None:
    """FEATURE_VERSION 4 added the verdict columns (pdq, chroma, info) at the blob's end: rows
    cached by version 3 carry another settings key, so they are recomputed, never misread."""
    assert settings_key(8) == (
        f"v{features.FEATURE_VERSION};hash=8;decode={decode.MIN_DECODE_SIDE};"
        "variants=8;methods=phash,dhash,ahash;hist=32x3,64;pdq=256;chroma=4"
    )
    rows = _rows(len(files))
    blobs = pack_records(list(zip(files, rows, strict=True)), 8)
    for blob, e, r in zip(blobs, files, rows, strict=True):
        got = np.frombuffer(blob, record_dtype(8))[0]
        assert (got["size"], got["mtime_ns"]) == (e.size, e.mtime_ns)
        assert got["detail"] == r.features["detail"]  # the full float64
        for m in HASH_METHODS:
            np.testing.assert_array_equal(got[f"hashes/{m}"], r.hashes[m])
        for name in ("hist3", "hist1", "tiles", "pdq", "chroma", "info"):
            np.testing.assert_array_equal(got[name], r.features[name])


def test_every_histogram_method_is_a_declared_column() -> None:
    assert set(HIST_METHODS) <= {c.name for c in columns.FEATURES}


def _mean_rgb(src: columns.Source) -> np.ndarray:
    return src.image.reshape(-1, 3).mean(axis=0).astype(np.float32)


def test_a_new_column_travels_through_store_cache_snapshot_and_match_key(
    files, tmp_path, monkeypatch
) -> None:
    key_before = settings_key(8)
    extra = columns.Column(
        "mean_rgb", np.dtype(np.float32), lambda hs: (3,), _mean_rgb, key="mean=rgb"
    )
    declared = (*columns.COLUMNS, extra)
    monkeypatch.setattr(columns, "COLUMNS", declared)
    monkeypatch.setattr(columns, "FEATURES", (*columns.FEATURES, extra))
    monkeypatch.setattr(columns, "PARTS", (*columns.PARTS, columns.Part("mean_rgb", extra)))
    assert settings_key(8) == key_before + ";mean=rgb"  # rows cached without it never hit

    rows = _rows(len(files))
    want = np.stack([r.features["mean_rgb"] for r in rows])
    assert want.shape == (len(files), 3) and want.any()
    cp = tmp_path / "cache" / "features.sqlite"
    with FeatureCache.open(cp) as cache:
        cache.put_many(list(zip(files, rows, strict=True)), 8)
        got = cache.get_block(files, 8)
        assert cache.warnings == []
    assert got is not None
    index, block = got
    assert sorted(index.tolist()) == list(range(len(files)))
    np.testing.assert_array_equal(block.features["mean_rgb"], want[index])

    builder = StoreBuilder(8)
    builder.add(files[0], rows[0])  # a single row and a block, built into one store
    rest = np.flatnonzero(index != 0)
    builder.add_block([files[k] for k in index[rest].tolist()], block.take(rest))
    store = builder.build()
    np.testing.assert_array_equal(store.features["mean_rgb"], want)

    path = str(tmp_path / "s.snap")
    cache_snapshot.write_snapshot(path, "tok", "key", store)
    snap = cache_snapshot.read_snapshot(path, "tok", "key", 8)
    assert snap is not None
    np.testing.assert_array_equal(snap.block.features["mean_rgb"], want)

    th, opts = resolve_threshold("phash"), MatchOptions()
    before = {m: match_key(store, m, th, opts) for m in ("phash", "mean_rgb")}
    store.features["mean_rgb"][0] += 1
    assert match_key(store, "phash", th, opts) == before["phash"]  # phash never reads it
    assert match_key(store, "mean_rgb", th, opts) != before["mean_rgb"]
