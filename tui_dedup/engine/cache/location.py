"""Where the feature cache file lives: the path the user gave (``--cache``: the file, or a folder
for :data:`CACHE_FILENAME`), else ``$DEDUP_TUI_CACHE_DIR``, else the platform's user cache dir."""

from __future__ import annotations

import os

APP_NAME = "dedup-tui"
ENV_CACHE_DIR = "DEDUP_TUI_CACHE_DIR"
CACHE_FILENAME = "features.sqlite"


def default_cache_path() -> str:
    """``$DEDUP_TUI_CACHE_DIR/features.sqlite``, else the platform's user cache dir."""
    env = os.environ.get(ENV_CACHE_DIR, "").strip()
    if env:
        base = os.path.expanduser(env)
    else:
        import platformdirs

        base = platformdirs.user_cache_dir(APP_NAME)
    return os.path.join(base, CACHE_FILENAME)


def resolve_cache_path(path: str | os.PathLike[str] | None) -> str:
    """An explicit path wins (a folder means ``folder/features.sqlite``), then env, then default."""
    if path is None:
        return default_cache_path()
    p = os.path.abspath(os.path.expanduser(os.fspath(path)))
    return os.path.join(p, CACHE_FILENAME) if os.path.isdir(p) else p
