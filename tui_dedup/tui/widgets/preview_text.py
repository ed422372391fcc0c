"""What the preview says about each file of a pair: name, folder, facts, date, camera, badges.

Plain Python over a :class:`~tui_dedup.engine.features.store.FeatureStore` (no Textual),
shared by the
preview pane and the details screen.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime

from tui_dedup.engine.features.store import FeatureStore
from tui_dedup.engine.matching.compare import sharper_side
from tui_dedup.engine.verdicts.twins import with_movie_beside, with_raw_beside
from tui_dedup.tui.widgets.cells import format_resolution, human_size, printable
from tui_dedup.tui.widgets.glyphs import ascii_only


def _dot() -> str:
    """The separator between facts: a middle dot, or a bar when the terminal is ASCII only."""
    return " | " if ascii_only() else " · "


def format_when(ts: float | None) -> str:
    if ts is None:
        return ""
    try:
        return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")
    except (OverflowError, OSError, ValueError):
        return ""


def date_line(store: FeatureStore, row: int) -> str:
    """EXIF date taken when present, else the file's modification time, labelled as such."""
    meta = store.metas[row]
    if meta.taken is not None:
        return f"taken {format_when(meta.taken)}"
    return f"modified {format_when(store.entries[row].mtime_ns / 1e9)}"


def camera_line(store: FeatureStore, row: int) -> str:
    meta = store.metas[row]
    bits = [printable(meta.camera)] if meta.camera else []
    if meta.has_gps:
        bits.append("GPS")
    return _dot().join(bits) if bits else "no camera metadata"


def badges(store: FeatureStore, i: int, j: int) -> tuple[str, str]:
    """("larger · sharper"-style badges for side A, for side B); empty when neither wins.
    ``+RAW`` first on a picture with its RAW beside it (a RAW+JPEG shot's primary), ``+MOV``
    on a Live Photo's still with its movie beside it."""
    ma, mb = store.metas[i], store.metas[j]
    pa, pb = ma.width * ma.height, mb.width * mb.height
    raw, movie = with_raw_beside(store), with_movie_beside(store)
    a = [x for x, has in (("+RAW", raw[i]), ("+MOV", movie[i])) if has]
    b = [x for x, has in (("+RAW", raw[j]), ("+MOV", movie[j])) if has]
    if pa != pb:
        (a if pa > pb else b).append("larger")
    sharper = sharper_side(ma.sharpness, mb.sharpness)
    if sharper == "a":
        a.append("sharper")
    elif sharper == "b":
        b.append("sharper")
    return _dot().join(a), _dot().join(b)


@dataclass(frozen=True, slots=True)
class SideText:
    name: str
    folder: str
    facts: str  # resolution · size · format
    when: str
    camera: str


def home_short(path: str) -> str:
    """``~/…`` for paths under the home directory, as a shell prompt shows them."""
    home = os.path.expanduser("~")
    if home not in ("", "/") and (path == home or path.startswith(home + os.sep)):
        return "~" + path[len(home) :]
    return path


def side_text(store: FeatureStore, row: int) -> SideText:
    entry, meta = store.entries[row], store.metas[row]
    return SideText(
        name=printable(os.path.basename(entry.path)),
        folder=printable(home_short(os.path.dirname(entry.path)) + os.sep),
        facts=_dot().join(
            x
            for x in (
                format_resolution(meta.width, meta.height),
                human_size(entry.size),
                meta.format,
            )
            if x
        ),
        when=date_line(store, row),
        camera=camera_line(store, row),
    )
