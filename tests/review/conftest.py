"""Every review test keeps its saved state (marks, skips, journals) in its own tmp folder."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def state_dir(tmp_path, monkeypatch) -> Path:
    d = tmp_path / "state"
    monkeypatch.setenv("DEDUP_TUI_STATE_DIR", str(d))
    return d
