"""Chaos: random scan / plan / apply / undo runs of the real CLI with random interference in
between (rewrites that keep size and mtime, folders swapped for symlinks, a second user's
apply at the same moment, kill -9, a full disk, an emptied quarantine, files deleted by hand);
after every step no picture may be lost and nothing outside our folders may change.

The harness is tests/actions/chaos.py (its docstring states the oracle). This file runs a fixed
list of seeds chosen to cover every world variant (one or two roots, the same root name twice,
a root or the --move-to folder on a small tmpfs, two users). Environment:

- ``CHAOS_SEEDS=17`` re-runs exactly seed 17's sequence; ``CHAOS_SEEDS=1-200`` or ``3,9,20-25``
  runs more seeds.
- ``CHAOS_STEPS=N`` steps per seed (default 30; a seed's first N steps do not depend on N).

A variant that needs a tmpfs skips with its reason where it cannot mount one, except under
``CI=true``, where it fails: CI must run them.
"""

from __future__ import annotations

import os

import chaos
import pytest

# Covers: two roots with the same name + --move-to on disk + two users (1), one root + disk
# dest (2), two same-name roots + --move-to on the tmpfs (3), a root on the tmpfs + disk dest +
# two users (6), everything on the tmpfs (8), two roots without a dest (10). ~5 s per seed.
DEFAULT_SEEDS = "1,2,3,6,8,10"
DEFAULT_STEPS = 30


def _seeds() -> list[int]:
    return chaos.parse_seeds(os.environ.get("CHAOS_SEEDS") or DEFAULT_SEEDS)


@pytest.mark.parametrize("seed", _seeds(), ids=lambda s: f"seed{s}-{chaos.variant_for(s).label()}")
def test_chaos_loses_nothing_and_touches_nothing_outside(seed, tmp_path):
    steps = int(os.environ.get("CHAOS_STEPS") or DEFAULT_STEPS)
    try:
        report = chaos.run_seed(seed, str(tmp_path / "world"), steps)
    except chaos.TmpfsUnavailable as e:
        if os.environ.get("CI") == "true":
            pytest.fail(f"seed {seed} needs a tmpfs and CI must run it: {e}")
        pytest.skip(f"seed {seed} ({chaos.variant_for(seed).label()}) needs a tmpfs: {e}")
    if report.failures:
        pytest.fail(report.message(), pytrace=False)
