"""Auto-select: which copy to keep in each group, by an ordered chain of rules.

Why a chain: one rule rarely decides (two copies often share a resolution); each rule only
breaks the ties the previous ones left, and the path breaks the last tie, so the same input
always gives the same keeper. Files inside ``keep_in`` folders are reference copies: they are
preferred as keepers and are never marked, whatever the rules say.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..actions.paths import in_folder
from ..engine.model import FileEntry, ImageMeta

Member = tuple[FileEntry, ImageMeta | None]


@dataclass(frozen=True, slots=True)
class Rule:
    """A named preference; ``key`` is smaller for the file more worth keeping."""

    name: str
    description: str
    key: Callable[[FileEntry, ImageMeta | None, tuple[str, ...]], object]


def _when(e: FileEntry, m: ImageMeta | None) -> float:
    """EXIF ``taken`` when known, else the file's modification time."""
    if m is not None and m.taken is not None:
        return m.taken
    return e.mtime_ns / 1e9


RULES: dict[str, Rule] = {
    r.name: r
    for r in (
        Rule(
            "resolution",
            "keep the copy with the most pixels",
            lambda e, m, k: -(m.width * m.height) if m else 0,
        ),
        Rule(
            "metadata",
            "keep the copy with camera metadata (the original, not a stripped messenger copy)",
            lambda e, m, k: 0 if m is not None and m.has_camera_meta else 1,
        ),
        Rule("size", "keep the largest file", lambda e, m, k: -e.size),
        Rule(
            "oldest", "keep the oldest (EXIF date taken, else mtime)", lambda e, m, k: _when(e, m)
        ),
        Rule(
            "newest", "keep the newest (EXIF date taken, else mtime)", lambda e, m, k: -_when(e, m)
        ),
        Rule(
            "shortest-path",
            "keep the copy with the shortest path (fewest folders deep, then fewest characters)",
            lambda e, m, k: (e.path.count(os.sep), len(e.path)),
        ),
        Rule(
            "preferred-folder",
            "keep the copy inside a --keep-in folder (those are never touched)",
            lambda e, m, k: 0 if in_folder(e.path, k) else 1,
        ),
    )
}
DEFAULT_RULES: tuple[str, ...] = ("resolution", "metadata", "size", "oldest", "shortest-path")


def _chain(rules: Sequence[str], keep_in: Sequence[str]) -> list[Rule]:
    unknown = [r for r in rules if r not in RULES]
    if unknown:
        raise ValueError(f"unknown rule(s) {', '.join(unknown)}; choose from {', '.join(RULES)}")
    names = list(rules) or list(DEFAULT_RULES)
    if keep_in and "preferred-folder" not in names:
        names.insert(0, "preferred-folder")
    return [RULES[n] for n in names]


def choose_keeper(
    members: Sequence[Member], rules: Sequence[str] = DEFAULT_RULES, keep_in: Iterable[str] = ()
) -> int:
    """Index in ``members`` of the file to keep; ties end with the path, so it is deterministic."""
    keep = tuple(os.path.abspath(k) for k in keep_in)
    chain = _chain(rules, keep)

    def key(i: int) -> tuple:
        e, m = members[i]
        return (*(r.key(e, m, keep) for r in chain), e.path)

    return min(range(len(members)), key=key)


def auto_select(
    groups: Sequence[Sequence[FileEntry]],
    metas: Mapping[str, ImageMeta | None],
    rules: Sequence[str] = DEFAULT_RULES,
    keep_in: Iterable[str] = (),
) -> set[str]:
    """Marked paths: every member except each group's keeper and files inside ``keep_in``.

    ``metas`` maps a path to its ImageMeta (missing = unknown). A file that is the keeper of
    one group is never marked in another, so the keeper invariant holds across groups.
    """
    keep = tuple(os.path.abspath(k) for k in keep_in)
    keepers: set[str] = set()
    candidates: set[str] = set()
    for g in groups:
        if not g:
            continue
        members = [(e, metas.get(e.path)) for e in g]
        k = choose_keeper(members, rules, keep)
        keepers.add(g[k].path)
        candidates.update(e.path for e in g if not in_folder(e.path, keep))
    return candidates - keepers
