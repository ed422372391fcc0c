"""Run a Python child as the unprivileged user ``nobody``, from wherever this checkout lives.

Why: the permission tests must see a real "Permission denied", so their child drops root with
``setpriv``. But a checkout (and its venv) may sit in a folder only root can enter — a root
home, ``mktemp -d`` — and then ``nobody`` cannot even import the package. Copying the venv is
too heavy (OpenCV alone is ~100 MB), so its import paths are bind-mounted read-only into a
world-readable temp folder for the child's lifetime (we are root, which the tests need anyway).
Where that is impossible the test skips with the reason — except under ``CI=true``, where a
skip fails the run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import tui_dedup

NOBODY = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")


def _give_up(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI must run this test")
    pytest.skip(reason)


@contextlib.contextmanager
def as_nobody(base: Path) -> Iterator[tuple[list[str], dict[str, str]]]:
    """(command prefix, environment) that run ``python`` as nobody with tui_dedup and the
    venv's packages importable; ``base`` must be a world-readable folder of the test's."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        _give_up("this test needs root and setpriv to drop privileges")
    python = os.path.realpath(sys.executable)
    probe = subprocess.run([*NOBODY, python, "-c", "pass"], capture_output=True)
    if probe.returncode != 0:
        _give_up(f"the user nobody cannot run {python}")
    sources = [str(Path(tui_dedup.__file__).resolve().parent.parent)]
    sources += [p for p in sys.path if p.endswith("site-packages") and os.path.isdir(p)]
    mounts: list[Path] = []
    try:
        for k, src in enumerate(dict.fromkeys(sources)):
            dst = base / f".import-path-{k}"
            dst.mkdir()
            done = subprocess.run(
                ["mount", "--bind", "-o", "ro", src, str(dst)], capture_output=True, text=True
            )
            if done.returncode != 0:
                _give_up(f"cannot bind-mount {src} for the user nobody: {done.stderr.strip()}")
            mounts.append(dst)
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(str(m) for m in mounts),
            "PYTHONNOUSERSITE": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        env.pop("VIRTUAL_ENV", None)
        yield [*NOBODY, python, "-s"], env
    finally:
        for m in reversed(mounts):
            subprocess.run(["umount", "-l", str(m)], capture_output=True)
