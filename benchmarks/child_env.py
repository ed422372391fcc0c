"""The environment benchmarks start our process in: what an installed copy runs with.

Why: some shells and sandboxes export ``PYTHONDONTWRITEBYTECODE=1``. An editable install then
compiles every one of our modules from source on every start (~0.07 CPU-s and as much wall
time per process, measured here), which a pip-installed copy never does: pip writes the
bytecode at install time. Benchmarks of a whole process compile once, then run with bytecode.
"""

from __future__ import annotations

import compileall
import functools
import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "tui_dedup"


@functools.cache
def child_env() -> dict[str, str]:
    """os.environ without PYTHONDONTWRITEBYTECODE, after compiling the package once."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    compileall.compile_dir(str(PACKAGE), quiet=1)
    return env
