"""Cut a path to its cell so the part that tells it from its pair's other path stays visible.

Why: at 80 columns each path of a pair gets about 28 cells, and cutting the middle of
``2019/2019-06 Trip/DSC_1003.JPG`` and ``backup/2019/2019-06 Trip/DSC_1003.JPG`` alike leaves
``2019…C_1003.JPG`` on both sides: the person cannot see which copy is the backup. The folders
the two paths share at the start and at the end say nothing about which is which; the folders
in between, and the file name, do. So a path that does not fit keeps, in this order: its file
name, the folders where it differs from the other path, then as much of the rest as fits, with
``…`` where folders were left out.
"""

from __future__ import annotations

from tui_dedup.tui.widgets.cells import cell_width, ellipsis, shorten_middle


def _parts(path: str) -> list[str]:
    return path.split("/")


def differing_folders(path: str, other: str) -> tuple[int, int]:
    """(start, end) of the folders of ``path`` (indexes into its parts, the name excluded)
    that the other path does not share at its start or its end."""
    a, b = _parts(path), _parts(other)
    folders_a, folders_b = a[:-1], b[:-1]
    start = 0
    while start < min(len(folders_a), len(folders_b)) and folders_a[start] == folders_b[start]:
        start += 1
    end = len(folders_a)
    other_end = len(folders_b)
    while end > start and other_end > start and folders_a[end - 1] == folders_b[other_end - 1]:
        end -= 1
        other_end -= 1
    return start, end


def cut_path(path: str, other: str, width: int) -> str:
    """``path`` in exactly ``width`` cells, keeping what tells it from ``other`` (see above)."""
    if cell_width(path) <= width:
        return path + " " * (width - cell_width(path))
    parts = _parts(path)
    name = parts[-1]
    start, end = differing_folders(path, other)
    if parts[:-1] == _parts(other)[:-1]:  # the same folders: the names tell them apart
        return shorten_middle(path, width)
    if start == end:  # the other path has folders this one lacks: show where they would be
        end = min(start + 1, len(parts) - 1)
    gap = ellipsis()
    kept = parts[start:end]
    lead = [gap] if start > 0 else []
    trail = [gap] if end < len(parts) - 1 else []
    text = "/".join([*lead, *kept, *trail, name])
    # widen with the shared folders next to the differing ones while they fit
    lo, hi = start, end
    while True:
        grown = False
        for side in ("hi", "lo"):
            if side == "hi" and hi < len(parts) - 1:
                trial = "/".join(
                    [
                        *([gap] if lo > 0 else []),
                        *parts[lo : hi + 1],
                        *([gap] if hi + 1 < len(parts) - 1 else []),
                        name,
                    ]
                )
                if cell_width(trial) <= width:
                    hi, text, grown = hi + 1, trial, True
            elif side == "lo" and lo > 0:
                trial = "/".join(
                    [
                        *([gap] if lo - 1 > 0 else []),
                        *parts[lo - 1 : hi],
                        *([gap] if hi < len(parts) - 1 else []),
                        name,
                    ]
                )
                if cell_width(trial) <= width:
                    lo, text, grown = lo - 1, trial, True
        if not grown:
            break
    return shorten_middle(text, width)
