"""Engine fixtures: FeatureStores built from synthetic rows (no decoding involved), and copies
of demo libraries generated once per session."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tui_dedup.demo import make_demo_library
from tui_dedup.engine.features.hashes import HIST1_BINS, HIST3_BINS, VARIANTS, pack_bits
from tui_dedup.engine.features.store import FeatureRow, FeatureStore, build_store
from tui_dedup.engine.model import FileEntry, ImageMeta
from tui_dedup.engine.registry import HASH_METHODS

StoreFactory = Callable[..., FeatureStore]


def random_sqrt_hist(rng: np.random.Generator, n: int, bins: int, groups: int = 1) -> np.ndarray:
    """sqrt of normalised histograms, as features.histograms stores them."""
    h = rng.gamma(0.5, size=(n, groups, bins // groups))
    h /= h.sum(axis=2, keepdims=True) * groups
    return np.sqrt(h.reshape(n, bins)).astype(np.float32)


@pytest.fixture(scope="session")
def make_store() -> StoreFactory:
    """Build a FeatureStore from arrays.

    ``bits``: {method: (n, VARIANTS, nbits) bool} (methods not given get random bits);
    ``detail``: per-row flatness (default 50, well above the low-detail limit);
    ``digests``: per-row bytes or None.
    """

    def build(
        n: int,
        hash_size: int = 8,
        *,
        bits: dict[str, np.ndarray] | None = None,
        hist3: np.ndarray | None = None,
        hist1: np.ndarray | None = None,
        detail: np.ndarray | None = None,
        digests: list[bytes | None] | None = None,
        seed: int = 0,
    ) -> FeatureStore:
        rng = np.random.default_rng(seed)
        nbits = hash_size * hash_size
        bits = dict(bits or {})
        for m in HASH_METHODS:
            if m not in bits:
                bits[m] = rng.random((n, VARIANTS, nbits)) < 0.5
        h3 = hist3 if hist3 is not None else random_sqrt_hist(rng, n, 3 * HIST3_BINS, 3)
        h1 = hist1 if hist1 is not None else random_sqrt_hist(rng, n, HIST1_BINS)
        det = detail if detail is not None else np.full(n, 50.0)
        dig = digests if digests is not None else [None] * n
        entries, rows = [], []
        for k in range(n):
            entries.append(FileEntry(f"/lib/{k:05d}.jpg", "/lib", 1000 + k, 0, 1, k + 1))
            rows.append(
                FeatureRow(
                    ImageMeta(640, 480, "JPEG"),
                    {m: pack_bits(bits[m][k]) for m in HASH_METHODS},
                    h3[k],
                    h1[k],
                    float(det[k]),
                    dig[k],
                )
            )
        return build_store(hash_size, entries, rows)

    return build


@pytest.fixture(scope="session")
def demo_library(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path, int], Path]:
    """``demo_library(dest, bases)``: a private copy at ``dest`` of a demo library with
    ``bases`` base photos. Each library is generated once per session (encoding its JPEGs and
    PNGs was most of a cache test's setup); the copy keeps the files' mtimes, and its inodes
    and ctimes are new, as for a library written afresh."""
    made: dict[int, Path] = {}

    def copy(dest: Path, bases: int) -> Path:
        if bases not in made:
            made[bases] = make_demo_library(tmp_path_factory.mktemp("demo") / "lib", bases=bases)
        return Path(shutil.copytree(made[bases], dest))

    return copy


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Paths passed to compute_row (the read + decode of one file), in call order: how the
    cache tests tell a cache hit from a decode."""
    from tui_dedup.engine import scan as scan_mod

    calls: list[str] = []
    real = scan_mod.compute_row

    def counting(entry, config, want_digest):
        calls.append(entry.path)
        return real(entry, config, want_digest)

    monkeypatch.setattr(scan_mod, "compute_row", counting)
    return calls
