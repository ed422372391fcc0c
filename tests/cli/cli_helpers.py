"""Helpers shared by the CLI tests (imported by conftest.py and the test modules)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tui_dedup.demo import make_photo, write_jpeg

CONSOLE_SCRIPT = os.path.join(os.path.dirname(sys.executable), "dedup-tui")


def isolate(mp: pytest.MonkeyPatch, base: Path) -> None:
    """Point every per-user folder dedup-tui may touch into ``base``."""
    mp.setenv("DEDUP_TUI_STATE_DIR", str(base / "state"))
    mp.setenv("DEDUP_TUI_CACHE_DIR", str(base / "cache"))
    mp.setenv("XDG_DATA_HOME", str(base / "xdg-data"))  # the freedesktop trash
    mp.setenv("XDG_CACHE_HOME", str(base / "xdg-cache"))
    mp.setenv("XDG_STATE_HOME", str(base / "xdg-state"))
    mp.delenv("DEDUP_TUI_PREVIEW", raising=False)


@dataclass
class Run:
    rc: int
    out: bytes
    err: str

    def json(self) -> dict:
        return json.loads(self.out)

    @property
    def text(self) -> str:
        return self.out.decode("utf-8", "surrogateescape")

    @property
    def err_lines(self) -> list[str]:
        return self.err.splitlines()


def run_script(*args: str | os.PathLike[str], cwd=None, timeout: float = 120) -> Run:
    """The installed ``dedup-tui`` console script; stdin, stdout and stderr are not terminals."""
    if not os.path.exists(CONSOLE_SCRIPT):
        pytest.skip("dedup-tui console script is not installed in this environment")
    p = subprocess.run(
        [CONSOLE_SCRIPT, *(os.fspath(a) for a in args)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        cwd=cwd,
        env=os.environ.copy(),
        timeout=timeout,
        check=False,
    )
    return Run(p.returncode, p.stdout, p.stderr.decode("utf-8", "surrogateescape"))


def digests(top: str | os.PathLike[str], *, skip_quarantine: bool = True) -> dict[bytes, str]:
    """Every regular file under ``top`` (bytes relpath → BLAKE2b), the quarantine excluded.

    Our own bookkeeping is never listed: the tree lock (``.dedup-tui/lock``) and the marker
    that keeps scans out of a destination (``.dedup-tui-destination``)."""
    out = {}
    top_b = os.fsencode(top)
    for d, dirs, files in os.walk(top_b):
        if skip_quarantine:
            dirs[:] = [x for x in dirs if x != b".dedup-tui"]
        for name in files:
            if name == b".dedup-tui-destination" or (
                name == b"lock" and os.path.basename(d) == b".dedup-tui"
            ):
                continue
            p = os.path.join(d, name)
            with open(p, "rb") as f:
                out[os.path.relpath(p, top_b)] = hashlib.blake2b(f.read()).hexdigest()
    return out


def in_batch(top: str | os.PathLike[str]) -> Path:
    """The one batch folder in a quarantine (``top/.dedup-tui/duplicates``) or a --move-to
    folder ``top``, or a path that does not exist when there is none (all undone)."""
    top = Path(top)
    if (top / ".dedup-tui" / "duplicates").is_dir():
        top = top / ".dedup-tui" / "duplicates"
    found = [d for d in sorted(top.iterdir()) if d.is_dir()] if top.is_dir() else []
    assert len(found) <= 1, found
    return found[0] if found else top / "no batch folder"


def small_pair_library(root: Path, families: int = 2, seed: int = 100) -> dict[str, list[Path]]:
    """``families`` unrelated photos, each with one resized+recompressed copy (320×240 base)."""
    import cv2

    out = {}
    for k in range(families):
        img = make_photo(seed + k, 320, 240)
        a = root / f"family{k}" / "original.jpg"
        b = root / f"family{k}" / "copy small.jpg"
        a.parent.mkdir(parents=True, exist_ok=True)
        write_jpeg(a, img, 95)
        write_jpeg(b, cv2.resize(img, (160, 120), interpolation=cv2.INTER_AREA), 75)
        out[f"family{k}"] = [a, b]
    return out


# Names that are hard to pass around: spaces, unicode, a newline, bytes that are not UTF-8, CSV
# punctuation.
ODD_NAMES = [
    b"plain.jpg",
    b"with space.jpg",
    "ünïcødé 写真.jpg".encode(),
    b"new\nline.jpg",
    b"latin1 \xe9t\xe9 \xff.jpg",
    b'comma, "quoted".jpg',
]


def make_odd_library(root: Path) -> set[bytes]:
    """One photo saved under every ODD_NAME at a different JPEG quality, so every two pair.

    Returns the absolute bytes paths; skips the test if the file system refuses a name."""
    import cv2

    root.mkdir(parents=True, exist_ok=True)
    img = make_photo(5, 320, 240)
    made = set()
    for k, name in enumerate(ODD_NAMES):
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 80 + 3 * k])
        assert ok
        path = os.path.join(os.fsencode(root), name)
        try:
            with open(path, "wb") as f:
                f.write(buf.tobytes())
        except OSError:
            pytest.skip(f"this file system refuses the name {name!r}")
        made.add(path)
    return made
