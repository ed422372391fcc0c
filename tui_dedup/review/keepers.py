"""Auto-select: which copy to keep in each group, by an ordered chain of rules.

Why a chain: one rule rarely decides (two copies often share a resolution); each rule only
breaks the ties the previous ones left, and the path breaks the last tie, so the same input
always gives the same keeper. Files inside ``keep_in`` folders are reference copies: they are
preferred as keepers and are never marked, whatever the rules say.

What the default chain does: it keeps the *source* a copy was derived from, first by the
signals that say which file was made from which (:mod:`.provenance` has the per-file facts),
then by plain tie-breaks. In order (:data:`DEFAULT_RULES`):

1. ``raw`` — a RAW camera file is always kept (a JPEG export, a conversion lose).
2. ``resolution`` — a copy never has more pixels than its source: the messenger copy, the
   thumbnail and the web export lose.
3. ``camera-original`` — the file with the camera's EXIF over a stripped one; a Software tag of
   an editor or messenger loses (the captioned or filtered copy).
4. ``original-format`` — at the same size and EXIF, the camera's format over a conversion: HEIC
   for an iPhone, JPEG for other cameras, over PNG/WebP; a lossless file over a lossy copy.
5. ``library-folder`` — a file under the XDG download dir or a Downloads / Export / WhatsApp /
   Telegram folder loses against one in the library.
6. ``original-name`` — messenger names (``IMG-20210912-WA0003``), `` (1)``, `` copy``,
   ``_edited`` lose.
7. ``earliest-mtime`` — the copy written later loses (mtimes within 2 s tie: FAT's resolution).
8. ``jpeg-quality`` — between JPEGs of the same pixel size, the higher estimated quality.
9. ``size`` — the bigger file; 10. ``shortest-path`` — the fewest folders below the scanned
   folder, then the fewest characters; then the path itself.

Folder before name: for two byte-identical files, where the library keeps a photo matters more
than which of them got the " (1)". Format before folder and name: an iPhone's HEIC downloaded
from the cloud is still the source of the JPEG that was shared. Path last, since "fewer
folders" says nothing about which file is the copy (``Downloads/IMG_1203 (1).jpg`` sits fewer
folders deep than ``2021/2021-09 Zoo/IMG_1203.jpg``).

:func:`explain_keeper` returns the keeper with a short reason ("keep: larger, camera
original"): the rule that separated it from the runner-up, then the next rule that also
favours it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..actions.paths import in_folder
from ..engine.model import FileEntry, ImageMeta
from . import provenance

Member = tuple[FileEntry, ImageMeta | None]
Keep = tuple[str, ...]

#: mtimes closer than this are the same time (FAT stores mtime in 2 s steps).
MTIME_TOLERANCE_NS = 2_000_000_000


@dataclass(frozen=True, slots=True)
class Rule:
    """A named preference; ``key`` is smaller for the file more worth keeping.

    ``label`` is the reason shown for a keeper this rule chose ("larger"). ``group_key``, when
    set, ranks the candidates still tied together (so a rule can depend on all of them: JPEG
    quality only among JPEGs of one size, mtimes within a tolerance); else ``key`` per file.
    """

    name: str
    description: str
    key: Callable[[FileEntry, ImageMeta | None, Keep], object]
    label: str = ""
    group_key: Callable[[Sequence[Member], Keep], list[object]] | None = None

    def keys(self, members: Sequence[Member], keep: Keep) -> list[object]:
        if self.group_key is not None:
            return self.group_key(members, keep)
        return [self.key(e, m, keep) for e, m in members]


def _when(e: FileEntry, m: ImageMeta | None) -> float:
    """EXIF ``taken`` when known, else the file's modification time."""
    if m is not None and m.taken is not None:
        return m.taken
    return e.mtime_ns / 1e9


def _earliest(members: Sequence[Member], keep: Keep) -> list[object]:
    first = min(e.mtime_ns for e, _ in members)
    return [0 if e.mtime_ns - first <= MTIME_TOLERANCE_NS else 1 for e, _ in members]


def _jpeg_quality(members: Sequence[Member], keep: Keep) -> list[object]:
    """Only when every candidate is a JPEG of one pixel size with a known quality: a quality
    says nothing across formats or sizes."""
    metas = [m for _, m in members]
    if any(m is None or m.format != "JPEG" or m.jpeg_quality is None for m in metas):
        return [0] * len(members)
    if len({tuple(sorted((m.width, m.height))) for m in metas if m is not None}) != 1:
        return [0] * len(members)
    return [-(m.jpeg_quality or 0) if m is not None else 0 for m in metas]


def _formats(members: Sequence[Member], keep: Keep) -> list[object]:
    """Only between different formats: two JPEGs are no conversion of one another, whatever
    their EXIF (which ``camera-original`` ranks)."""
    if len({m.format if m is not None else None for _, m in members}) < 2:
        return [0] * len(members)
    return [provenance.format_rank(e, m) for e, m in members]


def _depth(e: FileEntry) -> tuple[int, int]:
    rel = e.relpath
    return (rel.count(os.sep), len(rel))


RULES: dict[str, Rule] = {
    r.name: r
    for r in (
        Rule(
            "raw",
            "keep the RAW camera file",
            lambda e, m, k: 0 if provenance.is_raw(e, m) else 1,
            "RAW",
        ),
        Rule(
            "resolution",
            "keep the copy with the most pixels",
            lambda e, m, k: -(m.width * m.height) if m else 0,
            "larger",
        ),
        Rule(
            "camera-original",
            "keep the copy with the camera's EXIF; a stripped copy or an editor's or "
            "messenger's Software tag loses",
            lambda e, m, k: provenance.camera_rank(m),
            "camera original",
        ),
        Rule(
            "original-format",
            "keep the camera's format (RAW, iPhone HEIC, JPEG) over a conversion; "
            "lossless over lossy",
            lambda e, m, k: provenance.format_rank(e, m),
            "original format",
            _formats,
        ),
        Rule(
            "library-folder",
            "a copy in the download folder (XDG_DOWNLOAD_DIR) or a Downloads/Export/WhatsApp/"
            "Telegram folder loses",
            lambda e, m, k: 1 if provenance.in_download_folder(e) else 0,
            "library folder",
        ),
        Rule(
            "original-name",
            "a copy's name loses: IMG-20210912-WA0003, ' (1)', ' copy', '-copy', '_edited'",
            lambda e, m, k: provenance.derived_name_marks(e.path),
            "original name",
        ),
        Rule(
            "earliest-mtime",
            "keep the file modified first (within 2 s)",
            lambda e, m, k: e.mtime_ns,
            "older file",
            _earliest,
        ),
        Rule(
            "jpeg-quality",
            "between JPEGs of the same pixel size, keep the higher estimated quality",
            lambda e, m, k: -(m.jpeg_quality or 0) if m is not None and m.format == "JPEG" else 0,
            "higher JPEG quality",
            _jpeg_quality,
        ),
        Rule(
            "metadata",
            "keep the copy with camera metadata (the original, not a stripped messenger copy)",
            lambda e, m, k: 0 if m is not None and m.has_camera_meta else 1,
            "camera metadata",
        ),
        Rule("size", "keep the largest file", lambda e, m, k: -e.size, "bigger file"),
        Rule(
            "oldest",
            "keep the oldest (EXIF date taken, else mtime)",
            lambda e, m, k: _when(e, m),
            "older",
        ),
        Rule(
            "newest",
            "keep the newest (EXIF date taken, else mtime)",
            lambda e, m, k: -_when(e, m),
            "newer",
        ),
        Rule(
            "shortest-path",
            "keep the copy fewest folders below its scanned folder, then the shortest path",
            lambda e, m, k: _depth(e),
            "shorter path",
        ),
        Rule(
            "preferred-folder",
            "keep the copy inside a --keep-in folder (those are never touched)",
            lambda e, m, k: 0 if in_folder(e.path, k) else 1,
            "in a --keep-in folder",
        ),
    )
}
DEFAULT_RULES: tuple[str, ...] = (
    "raw",
    "resolution",
    "camera-original",
    "original-format",
    "library-folder",
    "original-name",
    "earliest-mtime",
    "jpeg-quality",
    "size",
    "shortest-path",
)


def resolve_chain(rules: Sequence[str], keep_in: Sequence[str]) -> list[Rule]:
    """The rules a chain really applies: each once, the defaults when none is given, and
    ``preferred-folder`` first when reference folders exist and it was not placed."""
    unknown = [r for r in rules if r not in RULES]
    if unknown:
        raise ValueError(f"unknown rule(s) {', '.join(unknown)}; choose from {', '.join(RULES)}")
    names = list(dict.fromkeys(rules)) or list(DEFAULT_RULES)  # a rule twice decides once
    if keep_in and "preferred-folder" not in names:
        names.insert(0, "preferred-folder")
    return [RULES[n] for n in names]


def _select(
    members: Sequence[Member], chain: Sequence[Rule], keep: Keep
) -> tuple[int, dict[int, int]]:
    """The keeper and, for every other member, the chain position of the rule that dropped
    it (``len(chain)``: the path, after a tie on every rule).

    Each rule keeps the candidates with its smallest key; for per-file keys this is exactly
    the lexicographic minimum of the key tuples.
    """
    alive = list(range(len(members)))
    dropped: dict[int, int] = {}
    for pos, rule in enumerate(chain):
        if len(alive) == 1:
            break
        keys = rule.keys([members[i] for i in alive], keep)
        best = min(keys)  # type: ignore[type-var]  # one rule's keys are of one type
        survivors = [i for i, k in zip(alive, keys, strict=True) if k == best]
        dropped.update((i, pos) for i in alive if i not in survivors)
        alive = survivors
    keeper = min(alive, key=lambda i: members[i][0].path)
    dropped.update((i, len(chain)) for i in alive if i != keeper)
    return keeper, dropped


def choose_keeper(
    members: Sequence[Member], rules: Sequence[str] = DEFAULT_RULES, keep_in: Iterable[str] = ()
) -> int:
    """Index in ``members`` of the file to keep; ties end with the path, so it is deterministic."""
    keep = tuple(os.path.abspath(k) for k in keep_in)
    return _select(members, resolve_chain(rules, keep), keep)[0]


def with_shots(chain: list[Rule], shots: frozenset[str]) -> list[Rule]:
    """``chain`` with its ``raw`` rule also preferring the files in ``shots`` (the JPEGs of
    RAW+JPEG shots, each listed for its whole shot: engine/verdicts/twins.py), in the rule's
    own place in the chain. The camera's own pair is what a photographer keeps, as a RAW is."""
    if not shots:
        return chain
    raw = RULES["raw"]
    shot_raw = Rule(
        raw.name,
        raw.description,
        lambda e, m, k: 0 if provenance.is_raw(e, m) or e.path in shots else 1,
        raw.label,
    )
    return [shot_raw if r is raw else r for r in chain]


def explain_keeper(
    members: Sequence[Member],
    rules: Sequence[str] = DEFAULT_RULES,
    keep_in: Iterable[str] = (),
    shots: frozenset[str] = frozenset(),
) -> tuple[int, str]:
    """The keeper (as :func:`choose_keeper`) and why, e.g. ``"keep: larger, camera original"``.

    The reason names the rule that separated the keeper from the runner-up (the member that
    stayed in the running longest; the first by path among several), then the next rule of
    the chain that favours the keeper over it too, if any. ``shots``: see :func:`with_shots`;
    a shot kept by the ``raw`` rule says "RAW+JPEG shot".
    """
    keep = tuple(os.path.abspath(k) for k in keep_in)
    chain = with_shots(resolve_chain(rules, keep), shots)
    keeper, dropped = _select(members, chain, keep)
    if not dropped:
        return keeper, "keep: the only copy"
    last = max(dropped.values())
    runner = min((i for i, pos in dropped.items() if pos == last), key=lambda i: members[i][0].path)
    if last == len(chain):
        return keeper, "keep: a tie on every rule, first by path"
    in_shot = members[keeper][0].path in shots

    def label(rule: Rule) -> str:
        return "RAW+JPEG shot" if in_shot and rule.name == "raw" else rule.label or rule.name

    labels = [label(chain[last])]
    pair = [members[keeper], members[runner]]
    for rule in chain[last + 1 :]:
        k, r = rule.keys(pair, keep)
        if k < r:  # type: ignore[operator]  # one rule's keys are of one type
            labels.append(label(rule))
            break
    return keeper, "keep: " + ", ".join(labels)


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
