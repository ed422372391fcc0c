"""Where a removed file goes, which sidecars travel with it, and how name collisions resolve.

Kept apart from the plan types because these are the rules a user reads in the docs ("your file
goes to ``.dedup-tui/duplicates/<path>``") and they are easiest to test on their own.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterable

from ..engine.files.discover import MOVIE_EXTENSIONS, is_raw_path
from ..engine.files.live_photo import movie_content_id, still_content_id
from . import safefs
from .fsops import device_of, unique_name

QUARANTINE = os.path.join(".dedup-tui", "duplicates")
#: Files that travel with the image of the same name: edits (.xmp, .aae), a camera's thumbnail
#: (.thm), and the movie of a Live Photo (.mov: the still and its movie are one shot).
SIDECAR_EXTS = (".xmp", ".aae", ".thm", ".mov")


def is_movie(path: str) -> bool:
    """Is this sidecar the movie of a Live Photo (a part of the shot, not notes about it)?"""
    return os.path.splitext(path)[1].lower() in MOVIE_EXTENSIONS


def is_shot_part(path: str) -> bool:
    """Is this file a part of a shot that leaves with its primary only while an identical one
    stays beside the copy that stays: a Live Photo's movie, or the RAW of a RAW+JPEG shot?"""
    return is_movie(path) or is_raw_path(path)


def shot_raws(path: str, index: dict[str, list[str]]) -> list[str]:
    """The RAWs of ``path``'s shot: RAW files of its stem in its folder (``index`` is the
    folder's :func:`stem_index`), when ``path`` is no RAW itself (the JPEG or HEIC the camera
    wrote beside them, engine/verdicts/twins.py). Scanned or not: a RAW the scan could not
    read is no less a part of the shot."""
    if is_raw_path(path):
        return []
    d, name = os.path.split(path)
    stem = os.path.splitext(name)[0]
    return sorted(os.path.join(d, o) for o in index.get(stem, []) if is_raw_path(o))


def in_folder(path: str, folders: Iterable[str]) -> bool:
    """True when ``path`` is inside (or is) one of ``folders``, compared as resolved real paths.

    Real paths, not strings: ``--keep-in ~/Pictures/Originals`` must protect the files a scan of
    the folder ``~/Pictures`` links to, whichever spelling reached them.
    """
    p = os.path.realpath(path)
    for f in folders:
        f = os.path.realpath(f)
        if p == f or p.startswith(f.rstrip(os.sep) + os.sep):
            return True
    return False


def batch_folder(batch: str, action: str, when: float) -> str:
    """The folder one batch's files go to inside a quarantine or ``--move-to`` folder.

    Named so a person browsing understands it (date, time, action, batch id) and so two
    batches, or two libraries moved to one destination, can never share a folder: undo of one
    batch can then never pick up another batch's (or another person's) file.
    """
    stamp = time.strftime("%Y-%m-%d %H.%M.%S", time.localtime(when))
    return f"{stamp} {action} {batch}"


def root_labels(roots: Iterable[str]) -> dict[str, str]:
    """A folder name per scan root under a user-chosen ``move_to``; unique across roots.

    The root's own name when it is unique, else name + a short hash of the full root path, so
    the label of a root does not depend on which other roots were scanned with it.
    """
    roots = sorted(set(roots))
    names = {r: os.path.basename(os.path.normpath(r)) or "root" for r in roots}
    counts: dict[str, int] = {}
    for n in names.values():
        counts[n] = counts.get(n, 0) + 1
    out = {}
    for r, n in names.items():
        if counts[n] > 1:
            n = f"{n}-{hashlib.blake2b(os.fsencode(r), digest_size=3).hexdigest()}"
        out[r] = n
    return out


def _rel(path: str, top: str) -> str:
    rel = os.path.relpath(path, top)
    return os.path.basename(path) if rel.startswith(os.pardir) else rel


def quarantine_base(
    path: str, root: str, dev: int, move_to: str | None, labels: dict[str, str], folder: str
) -> str:
    """Destination of the file at real path ``path`` (under real ``root``) before collisions.

    Default: ``<root>/.dedup-tui/duplicates/<batch folder>/<path relative to root>``. If the
    file sits on another filesystem mounted inside the root, the quarantine goes to the top of
    that filesystem within the root instead, so it stays a rename and never becomes a copy the
    user did not ask for. With ``move_to``:
    ``<move_to>/<batch folder>/<root label>/<path relative to root>``.
    """
    if move_to is not None:
        return os.path.join(move_to, folder, labels[root], _rel(path, root))
    top = root
    if device_of(root) != dev:
        top = os.path.dirname(path)
        while True:
            up = os.path.dirname(top)
            if up == top or not _under(up, root):
                break
            if device_of(up) != dev:
                break
            top = up
    return os.path.join(top, QUARANTINE, folder, _rel(path, top))


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def stem_index(listing: list[str]) -> dict[str, list[str]]:
    """The names of one folder by stem (``photo.jpg.xmp`` → ``photo.jpg``): built once per
    folder, so finding each marked file's sidecars costs a lookup, not a pass over a folder
    that may hold thousands of files."""
    index: dict[str, list[str]] = {}
    for other in listing:
        index.setdefault(os.path.splitext(other)[0], []).append(other)
    return index


def find_sidecars(
    path: str,
    listing: list[str] | dict[str, list[str]],
    exclude: set[str],
    together: Iterable[str] = (),
) -> list[str]:
    """Sidecars of ``path`` among ``listing`` (names in its folder, or their :func:`stem_index`).

    ``photo.jpg.xmp`` always belongs to ``photo.jpg``. ``photo.xmp`` (same stem, extension in
    any case) belongs to it only when no other non-sidecar file shares the stem — otherwise we
    cannot tell whose edits it holds, and moving it could orphan the file that stays.
    ``exclude`` holds paths that are scanned files themselves (a ``.thm`` can be an image);
    ``together`` the ones among them that leave with ``path`` (the RAW of its shot), which
    are then no rival: ``photo.xmp`` goes with the whole shot.
    """
    along = set(together)
    d, name = os.path.split(path)
    stem = os.path.splitext(name)[0]
    index = listing if isinstance(listing, dict) else stem_index(listing)
    # Only names with the image's stem (photo.xmp, photo.png) or named after the whole image
    # (photo.jpg.xmp) can matter.
    candidates = index.get(stem, []) + (index.get(name, []) if name != stem else [])
    found, by_stem, rivals = [], [], False
    for other in candidates:
        if other == name:
            continue
        full = os.path.join(d, other)
        o_stem, o_ext = os.path.splitext(other)
        if full in exclude:
            if o_stem == stem and full not in along:
                rivals = True
            continue
        if other.startswith(name + ".") and other[len(name) :].lower() in SIDECAR_EXTS:
            found.append(full)
        elif o_stem == stem:
            if o_ext.lower() in SIDECAR_EXTS:
                by_stem.append(full)
            else:
                rivals = True
    if not rivals:
        found += by_stem
    return sorted(found)


def renamed_sidecar(sidecar: str, image: str, new_image: str, sidecar_dir: str) -> str:
    """Destination of ``sidecar`` when ``image`` goes to ``new_image`` (same suffix as before;
    a movie tied to its still by content identifier, named otherwise, takes the still's name
    with its own extension)."""
    name = os.path.basename(sidecar)
    img = os.path.basename(image)
    new = os.path.basename(new_image)
    stem = os.path.splitext(img)[0]
    if name.startswith(img + "."):
        out = new + name[len(img) :]
    elif name.startswith(stem + "."):
        out = os.path.splitext(new)[0] + name[len(stem) :]
    else:
        out = os.path.splitext(new)[0] + os.path.splitext(name)[1]
    return os.path.join(sidecar_dir, out)


class LiveIds:
    """Apple content identifiers (engine/files/live_photo.py) read once per plan or apply: a
    Live Photo's still and its movie named otherwise (``IMG_0001 (1).JPG``, ``IMG_0001.MOV``)
    are one shot by the identifier both carry."""

    def __init__(self) -> None:
        self._ids: dict[str, str | None] = {}
        self._orphans: dict[str, list[str]] = {}

    def _read(self, path: str, movie: bool) -> str | None:
        if path not in self._ids:
            self._ids[path] = movie_content_id(path) if movie else still_content_id(path)
        return self._ids[path]

    def movies(self, path: str, index: dict[str, list[str]]) -> list[str]:
        """The movies in ``path``'s folder (``index``: its :func:`stem_index`) that belong to
        the still ``path`` by content identifier: only a movie no other file shares a stem
        with (one beside a still of its name is that still's) is read, so a folder of
        well-named Live Photos costs no read at all."""
        d = os.path.dirname(path)
        if d not in self._orphans:
            self._orphans[d] = [
                os.path.join(d, n)
                for names in index.values()
                if all(os.path.splitext(o)[1].lower() in SIDECAR_EXTS for o in names)
                for n in names
                if is_movie(n)
            ]
        orphans = [m for m in self._orphans[d] if m != path]
        if not orphans or is_movie(path):
            return []
        mine = self._read(path, movie=False)
        if mine is None:
            return []
        return [m for m in orphans if self._read(m, movie=True) == mine]


def free_destination(
    base: str, image: str, sidecars: list[str], taken: set[str]
) -> tuple[str, list[str]]:
    """First ``name (n).ext`` where the image and all its sidecars fit without clobbering."""
    d = os.path.dirname(base)
    n = 0
    while True:
        dest = unique_name(base, n)
        side = [renamed_sidecar(s, image, dest, d) for s in sidecars]
        if all(p not in taken and not safefs.exists(p) for p in [dest, *side]):
            return dest, side
        n += 1
