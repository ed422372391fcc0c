"""Review decisions on top of a match result, shared by the TUI and the headless commands.

Why this layer: the actions package plans on groups of files ("first stays, marked ones go"),
and it re-checks at apply time that every removed file still has a partner in its group that
stays. Those groups must therefore contain only *direct* matches — a file and the partner it
was actually matched with — never a star's other members. This module turns the engine's
pairs into such groups, for automatic selection and for marks made by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from tui_dedup.actions.plan import Plan, build_plan
from tui_dedup.engine.features.store import FeatureStore
from tui_dedup.engine.files.discover import is_raw_path
from tui_dedup.engine.model import FileEntry, Group, Pairs
from tui_dedup.engine.verdicts.kinds import KEEPS_THE_SHOT, copies_only, mask_of
from tui_dedup.engine.verdicts.twins import with_raw_beside
from tui_dedup.review.keepers import (
    DEFAULT_RULES,
    RULES,
    explain_keeper,
    resolve_chain,
)

#: The action kinds that replace a marked file with a link to the copy that stays.
LINKS = ("hardlink", "symlink")


class Adjacency:
    """Partners of every row, most similar first (CSR over the pair arrays)."""

    def __init__(self, pairs: Pairs, n: int) -> None:
        src = np.concatenate([pairs.i, pairs.j]).astype(np.int64)
        dst = np.concatenate([pairs.j, pairs.i]).astype(np.int64)
        sim = np.concatenate([pairs.similarity, pairs.similarity])
        order = np.lexsort((-sim, src))
        self.dst = dst[order]
        self.indptr = np.searchsorted(src[order], np.arange(n + 1))

    def partners(self, row: int) -> np.ndarray:
        return self.dst[self.indptr[row] : self.indptr[row + 1]]


def rules_first(rule: str | None) -> list[str]:
    """The default keeper rules, with ``rule`` (one the user picked) tried before the others.

    The other rules stay behind it as tie-breakers, so a group whose files tie on the picked
    rule still gets one keeper, chosen the default way.
    """
    if rule is None:
        return list(DEFAULT_RULES)
    return [rule, *[r for r in DEFAULT_RULES if r != rule]]


def offered_rules(keep_in: Iterable[str] = ()) -> list[str]:
    """The keeper rules a person may put in a chain, in registry order.

    ``preferred-folder`` only with reference folders: without one it prefers nothing, and
    offering it would promise a choice the run cannot make."""
    keep = tuple(keep_in)
    return [name for name in RULES if keep or name != "preferred-folder"]


def rule_chain(rules: Sequence[str], keep_in: Iterable[str] = ()) -> tuple[str, ...]:
    """The chain :func:`auto_mark` really applies for ``rules``: each rule once, the default
    chain when none is given, ``preferred-folder`` first when reference folders exist and the
    person did not place it. Read from the keeper module's own rule, so what a dialog shows
    is what marks."""
    return tuple(r.name for r in resolve_chain(list(rules), tuple(keep_in)))


def auto_mark(
    store: FeatureStore,
    pairs: Pairs,
    groups: Sequence[Group],
    rules: Sequence[str] = DEFAULT_RULES,
    keep_in: Iterable[str] = (),
) -> set[int]:
    """Rows to mark: in each group the rules pick a keeper; its direct partners are marked.

    A member that was grouped through the star's centre but is not itself a match of the chosen
    keeper stays unmarked: we never remove a file as a copy of something it was not compared
    with. Files inside ``keep_in`` folders and RAW files are never marked.
    """
    adj = Adjacency(copies_only(pairs), len(store))
    keep = tuple(keep_in)
    marked: set[int] = set()
    keepers: set[int] = set()
    for g in groups:
        k, _ = group_keeper(store, g.members, rules, keep)
        keepers.add(k)
        linked = set(adj.partners(k).tolist()) & set(g.members)
        marked.update(linked)
    marked -= keepers
    # A RAW is a camera original: never marked by the rules, whatever its copies (a person can
    # still mark one by hand). A group of RAWs only keeps them all.
    marked = {m for m in marked if not is_raw_path(store.entries[m].path)}
    if keep:
        from tui_dedup.actions.paths import in_folder

        keep_abs = [__import__("os").path.abspath(p) for p in keep]
        marked = {m for m in marked if not in_folder(store.entries[m].path, keep_abs)}
    return marked


def keeper_reasons(
    store: FeatureStore,
    groups: Sequence[Group],
    rules: Sequence[str] = DEFAULT_RULES,
    keep_in: Iterable[str] = (),
) -> dict[int, str]:
    """Each group's keeper, as :func:`auto_mark` chooses it, and why it stays: row →
    ``"keep: camera original, larger"`` (:func:`~tui_dedup.review.keepers.explain_keeper`)."""
    keep = tuple(keep_in)
    out: dict[int, str] = {}
    for g in groups:
        k, why = group_keeper(store, g.members, rules, keep)
        out[k] = why
    return out


def group_keeper(
    store: FeatureStore, rows: Sequence[int], rules: Sequence[str], keep: tuple[str, ...]
) -> tuple[int, str]:
    """The row the rules keep among ``rows``, and why.

    A RAW+JPEG shot (its primary, listed for the whole shot) ranks with the RAWs under the
    ``raw`` rule, in that rule's place in the chain (keepers.with_shots): the camera's own
    pair stays and a loose copy goes, since the shot is what a photographer keeps on purpose."""
    members = [(store.entries[m], store.metas[m]) for m in rows]
    shot = with_raw_beside(store)
    shots = frozenset(store.entries[m].path for m in rows if shot[m])
    k, why = explain_keeper(members, rules, keep, shots)
    return int(rows[k]), why


def plan_groups(store: FeatureStore, pairs: Pairs, marked: Iterable[int]) -> list[list[FileEntry]]:
    """For each marked row, a two-file group: its most similar unmarked partner, then itself.

    A marked file with no unmarked partner gets a group of its own, which the planner refuses
    ("nothing would stay in place") — the keeper invariant, stated once, in the actions package.
    Only confirmed copies count as partners: a similar shot or an unconfirmed candidate is no
    copy that stays. A format twin does, when it is listed (``--kinds 'format twin'``): a
    person removing the JPEG half of a RAW+JPEG shot keeps the shot in its RAW.
    """
    keeps = pairs
    if pairs.kind is not None:
        keeps = pairs.take(np.flatnonzero(mask_of(pairs.kind, KEEPS_THE_SHOT)))
    adj = Adjacency(keeps, len(store))
    marked_set = set(int(m) for m in marked)
    out: list[list[FileEntry]] = []
    for m in sorted(marked_set):
        keepers = [int(p) for p in adj.partners(m) if int(p) not in marked_set]
        entry = store.entries[m]
        out.append([store.entries[keepers[0]], entry] if keepers else [entry])
    return out


def plan_marked(
    store: FeatureStore,
    pairs: Pairs,
    marked: Iterable[int],
    action: str,
    *,
    spec: dict[str, Any],
    **options: Any,
) -> Plan:
    """The plan for ``action`` on the marked rows: each file checked against its best unmarked
    direct partner (:func:`plan_groups`), the match ``spec`` recorded for apply's re-check, and
    the digests the scan already has reused. Read-only; ``options`` go to ``build_plan``."""
    rows = sorted({int(m) for m in marked})
    return build_plan(
        plan_groups(store, pairs, rows),
        [store.entries[r].path for r in rows],
        action,
        spec=spec,
        digest_of=store_digests(store),
        **options,
    )


def store_digests(store: FeatureStore) -> Callable[[FileEntry], str | None]:
    """A lookup of the content digests the scan already has (else the planner reads files)."""
    rows = {e.path: r for r, e in enumerate(store.entries)}

    def digest_of(e: FileEntry) -> str | None:
        r = rows.get(e.path)
        return None if r is None else store.digest_hex(r)

    return digest_of


def link_groups(
    store: FeatureStore, pairs: Pairs, marked: Iterable[int], name: Callable[[int], str]
) -> tuple[list[list[FileEntry]], list[int], list[str]]:
    """For a link batch: each marked row with a byte-identical (``exact``) unmarked partner on
    its own filesystem, as a two-file group (that partner first); and one line per reason for
    the rows left out.

    Why stricter than :func:`plan_groups`: a link makes two names show one file, so only a
    file with the same bytes may become one, and a hard link cannot cross filesystems (a
    symlink could, but then it breaks when that disk is not mounted). The planner and apply
    check the same again, on the digests; this says why before anything is planned.
    """
    exact = Adjacency(pairs.take(np.flatnonzero(pairs.exact)), len(store))
    marked_set = {int(m) for m in marked}
    groups: list[list[FileEntry]] = []
    rows: list[int] = []
    not_exact: list[int] = []
    other_fs: list[int] = []
    for m in sorted(marked_set):
        entry = store.entries[m]
        stays = [int(p) for p in exact.partners(m) if int(p) not in marked_set]
        same_fs = [p for p in stays if store.entries[p].dev == entry.dev]
        if same_fs:
            groups.append([store.entries[same_fs[0]], entry])
            rows.append(m)
        else:
            (other_fs if stays else not_exact).append(m)
    refused = []
    if not_exact:
        refused.append(
            f"{_count_names(not_exact, name)}: no exact (byte-identical) copy stays unmarked; "
            "a link needs the same bytes (m moves such a file instead)"
        )
    if other_fs:
        refused.append(
            f"{_count_names(other_fs, name)}: its exact copy is on another filesystem; "
            "a link needs both on one"
        )
    return groups, rows, refused


def _count_names(rows: Sequence[int], name: Callable[[int], str], limit: int = 3) -> str:
    """``2 file(s) (a.jpg, b.jpg)`` / ``5 file(s) (a.jpg, b.jpg, c.jpg, ...)``."""
    shown = ", ".join(name(r) for r in rows[:limit]) + (", ..." if len(rows) > limit else "")
    return f"{len(rows)} file(s) ({shown})"


def plan_links(
    store: FeatureStore,
    pairs: Pairs,
    marked: Iterable[int],
    action: str,
    *,
    spec: dict[str, Any],
    name: Callable[[int], str],
    **options: Any,
) -> Plan:
    """The plan for a link ``action`` (:data:`LINKS`) on the marked rows: only files with an
    exact partner on their filesystem get a step (:func:`link_groups`); the others are named
    in ``plan.refused`` with the reason, and nothing happens to them."""
    groups, rows, refused = link_groups(store, pairs, marked, name)
    plan = build_plan(
        groups,
        [store.entries[r].path for r in rows],
        action,
        spec=spec,
        digest_of=store_digests(store),
        **options,
    )
    plan.refused[:0] = refused
    return plan
