"""Where a removed file goes, which sidecars travel with it, and how name collisions resolve.

Kept apart from the plan types because these are the rules a user reads in the docs ("your file
goes to ``.dedup-tui/duplicates/<path>``") and they are easiest to test on their own.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable

from ..engine.model import FileEntry
from .fsops import device_of, unique_name

QUARANTINE = os.path.join(".dedup-tui", "duplicates")
SIDECAR_EXTS = (".xmp", ".aae", ".thm")


def in_folder(path: str, folders: Iterable[str]) -> bool:
    """True when ``path`` is inside (or is) one of ``folders``; compares absolute paths."""
    p = os.path.abspath(path)
    for f in folders:
        f = os.path.abspath(f)
        if p == f or p.startswith(f.rstrip(os.sep) + os.sep):
            return True
    return False


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


def quarantine_base(entry: FileEntry, move_to: str | None, labels: dict[str, str]) -> str:
    """Destination of ``entry`` before collision handling.

    Default: ``<root>/.dedup-tui/duplicates/<path relative to root>``. If the file sits on
    another filesystem mounted inside the root, the quarantine goes to the top of that
    filesystem within the root instead, so it stays a rename and never becomes a copy the user
    did not ask for. With ``move_to``: ``<move_to>/<root label>/<path relative to root>``.
    """
    if move_to is not None:
        return os.path.join(move_to, labels[entry.root], _rel(entry.path, entry.root))
    top = entry.root
    if device_of(entry.root) != entry.dev:
        top = os.path.dirname(entry.path)
        while True:
            parent = os.path.dirname(top)
            if parent == top or not in_folder(parent, [entry.root]):
                break
            if device_of(parent) != entry.dev:
                break
            top = parent
    return os.path.join(top, QUARANTINE, _rel(entry.path, top))


def find_sidecars(path: str, listing: list[str], exclude: set[str]) -> list[str]:
    """Sidecars of ``path`` among ``listing`` (names in its folder).

    ``photo.jpg.xmp`` always belongs to ``photo.jpg``. ``photo.xmp`` (same stem, extension in
    any case) belongs to it only when no other non-sidecar file shares the stem — otherwise we
    cannot tell whose edits it holds, and moving it could orphan the file that stays.
    ``exclude`` holds paths that are scanned files themselves (a ``.thm`` can be an image).
    """
    d, name = os.path.split(path)
    stem = os.path.splitext(name)[0]
    found, by_stem, rivals = [], [], False
    for other in listing:
        if other == name:
            continue
        full = os.path.join(d, other)
        o_stem, o_ext = os.path.splitext(other)
        if full in exclude:
            if o_stem == stem:
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
    """Destination of ``sidecar`` when ``image`` goes to ``new_image`` (same suffix as before)."""
    name = os.path.basename(sidecar)
    img = os.path.basename(image)
    new = os.path.basename(new_image)
    if name.startswith(img + "."):
        out = new + name[len(img) :]
    else:
        stem = os.path.splitext(img)[0]
        out = os.path.splitext(new)[0] + name[len(stem) :]
    return os.path.join(sidecar_dir, out)


def free_destination(
    base: str, image: str, sidecars: list[str], taken: set[str]
) -> tuple[str, list[str]]:
    """First ``name (n).ext`` where the image and all its sidecars fit without clobbering."""
    d = os.path.dirname(base)
    n = 0
    while True:
        dest = unique_name(base, n)
        side = [renamed_sidecar(s, image, dest, d) for s in sidecars]
        if all(p not in taken and not os.path.lexists(p) for p in [dest, *side]):
            return dest, side
        n += 1
