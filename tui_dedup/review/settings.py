"""What one run of dedup-tui was asked to do, built once by the CLI and read by every front end.

Why a separate module: the headless commands and the TUI must agree on defaults and meaning,
and neither may import the other (the headless path must never import Textual).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from tui_dedup.engine.matching.pairs import MatchOptions
from tui_dedup.engine.registry import DEFAULT_METHOD, Threshold, resolve_threshold
from tui_dedup.engine.scan import ScanConfig
from tui_dedup.engine.verdicts.kinds import SHOWN_BY_DEFAULT, Kind

PREVIEW_MODES = ("auto", "kitty", "sixel", "halfblock", "none")


@dataclass(slots=True)
class RunSettings:
    roots: list[str]
    scan: ScanConfig = field(default_factory=ScanConfig)
    method: str = DEFAULT_METHOD
    threshold_arg: str | float | None = None  # preset name or similarity, as given
    max_distance_arg: int | None = None
    match: MatchOptions = field(default_factory=MatchOptions)
    cache_path: str | None = None
    use_cache: bool = True
    preview: str = "auto"
    show_skipped: bool = False
    debug: bool = False
    #: Which verdict kinds are listed (``--kinds``): copies and unconfirmed candidates by
    #: default; similar shots are always listed apart (the JSON's ``similar``).
    kinds: frozenset[Kind] = SHOWN_BY_DEFAULT
    #: ``--move-to``: where moved files go instead of each root's quarantine (a real path,
    #: checked once by the CLI: never a folder holding a scanned one). Both front ends plan
    #: with it, so the app and ``plan``/``apply`` send files to the same place.
    move_to: str | None = None
    #: ``--keep-in``: reference folders (real paths). Their files are preferred as keepers and
    #: never marked, moved or linked, by the app or the headless commands.
    keep_in: tuple[str, ...] = ()

    def threshold(self, method: str | None = None) -> Threshold:
        """Resolve for ``method`` (the current one by default): presets mean per-method values."""
        m = method or self.method
        md = self.max_distance_arg if m == self.method else None
        return resolve_threshold(
            m,
            self.scan.hash_size,
            threshold=self.threshold_arg if md is None else None,
            max_distance=md,
        )


def preview_mode_from_env(cli_value: str | None) -> str:
    """``DEDUP_TUI_PREVIEW`` overrides the default; an explicit --preview overrides both."""
    if cli_value:
        return cli_value
    env = os.environ.get("DEDUP_TUI_PREVIEW", "").strip().lower()
    return env if env in PREVIEW_MODES else "auto"


def open_cache(settings: RunSettings):  # -> FeatureCache | None
    """The feature cache, or None with --no-cache; problems become warnings, never crashes."""
    if not settings.use_cache:
        return None
    from tui_dedup.engine.cache.features import FeatureCache

    return FeatureCache.open(settings.cache_path)


def match_cache_dir(settings: RunSettings) -> str | None:
    """Where remembered match results live: ``matches/`` beside the feature cache file."""
    if not settings.use_cache:
        return None
    from tui_dedup.engine.cache.location import resolve_cache_path

    return os.path.join(os.path.dirname(resolve_cache_path(settings.cache_path)), "matches")
