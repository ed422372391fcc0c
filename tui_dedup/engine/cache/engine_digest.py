"""One digest of the code that decides what a pair is: the key remembered results must carry.

Why: a remembered match (engine/cache/matches.py) or a remembered verdict is only right for the
code that made it. The package version does not change between commits, and a tuning constant
moved in ``engine/matching`` or ``engine/verdicts`` would otherwise keep serving the old pairs
from a warm cache (each hit even refreshes the entry). Hashing the source of every module that
matching and the verdicts read makes any change to them a miss, without anyone having to
remember to bump a number. Read once a process (~150 KB of source, under a millisecond).
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import os

#: Packages and modules whose code decides candidate pairs and verdicts.
DECIDING = (
    "tui_dedup.engine.matching",
    "tui_dedup.engine.verdicts",
    "tui_dedup.engine.index",
    "tui_dedup.engine.features.hashes",
    "tui_dedup.engine.features.columns",
    "tui_dedup.engine.registry",
)


def _files(name: str) -> list[str]:
    mod = importlib.import_module(name)
    path = getattr(mod, "__file__", None)
    if path is None:
        return []
    if os.path.basename(path) == "__init__.py":  # a package: every module in it
        folder = os.path.dirname(path)
        return sorted(
            os.path.join(folder, f)
            for f in os.listdir(folder)
            if f.endswith((".py", ".pyc")) and not f.startswith(".")
        )
    return [path]


@functools.cache
def engine_digest() -> str:
    """Hex BLAKE2b of the deciding modules' files (their names and bytes)."""
    h = hashlib.blake2b(digest_size=16)
    for name in DECIDING:
        for path in _files(name):
            h.update(os.path.basename(path).encode())
            with open(path, "rb") as f:
                h.update(f.read())
    return h.hexdigest()
