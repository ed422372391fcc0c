"""CLI tests: run ``tui_dedup.cli.entry`` in-process (or the installed console script) on images
generated in temporary folders. The feature cache, the journal, skips and the trash all point
into the test's tmp_path, so nothing touches the real home."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from cli_helpers import Run, isolate

from tui_dedup.cli import main
from tui_dedup.demo import make_demo_library


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path, monkeypatch):
    isolate(monkeypatch, tmp_path)


@pytest.fixture
def cli(capsysbinary):
    """``cli("scan", path, ...)`` → Run(rc, stdout bytes, stderr text), in-process."""

    def run(*args: str | os.PathLike[str]) -> Run:
        capsysbinary.readouterr()
        try:
            rc = main([os.fspath(a) for a in args])
        except SystemExit as exc:  # argparse's --help / --version
            rc = exc.code if isinstance(exc.code, int) else 0
        out, err = capsysbinary.readouterr()
        return Run(rc, out, err.decode("utf-8", "surrogateescape"))

    return run


@pytest.fixture(scope="session")
def demo_master(tmp_path_factory) -> Path:
    """One generated demo library per session; tests copy it before changing anything."""
    return make_demo_library(tmp_path_factory.mktemp("demo") / "Pictures")


@pytest.fixture(scope="session")
def demo_json(demo_master, tmp_path_factory) -> dict:
    """`scan --format json` of the demo library at the default settings (computed once)."""
    base = tmp_path_factory.mktemp("demo-scan")
    out = base / "result.json"
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, base)
        rc = main(["scan", str(demo_master), "-q", "--format", "json", "-o", str(out)])
    assert rc == 0
    return json.loads(out.read_bytes())


@pytest.fixture
def demo(demo_master, tmp_path) -> Path:
    """A private, writable copy of the demo library."""
    dst = tmp_path / "Pictures"
    shutil.copytree(demo_master, dst)
    return dst
