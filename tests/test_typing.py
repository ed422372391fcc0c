"""The type checker is part of the suite: mypy, as configured in pyproject.toml, finds nothing.

Why a test and not only a CI step: whoever runs ``pytest`` sees a type error the moment they make
it, with mypy's own report, and CI cannot drift from what a developer runs. The settings
(``check_untyped_defs``, the per-module overrides for libraries without stubs, the files) live in
``[tool.mypy]`` so that a plain ``mypy`` in the checkout gives the same answer.

mypy comes with the ``test`` extra. Without it the test is skipped, except under ``CI=true``,
where a missing checker would let errors through silently, so it fails instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

try:
    from mypy import api as mypy_api
except ImportError:  # the test extra is not installed
    mypy_api = None

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_finds_no_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    if mypy_api is None:
        why = "mypy is not installed (it comes with the test extra: pip install '.[test]')"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{why}; under CI=true the type check must run")
        pytest.skip(why)
    # pyproject's `files` are relative to the working directory, as with a plain `mypy`.
    monkeypatch.chdir(ROOT)
    stdout, stderr, status = mypy_api.run(["--config-file", str(ROOT / "pyproject.toml")])
    report = "\n".join(part for part in (stdout.strip(), stderr.strip()) if part)
    assert status == 0, f"mypy found problems (exit {status}):\n{report}"
