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
from tui_dedup.engine.model import FileEntry, Group, Pairs
from tui_dedup.engine.verdicts.kinds import copies_only
from tui_dedup.review.keepers import DEFAULT_RULES, choose_keeper, explain_keeper


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
    with. Files inside ``keep_in`` folders are never marked.
    """
    adj = Adjacency(copies_only(pairs), len(store))
    keep = tuple(keep_in)
    marked: set[int] = set()
    keepers: set[int] = set()
    for g in groups:
        members = [(store.entries[m], store.metas[m]) for m in g.members]
        k = g.members[choose_keeper(members, rules, keep)]
        keepers.add(k)
        linked = set(adj.partners(k).tolist()) & set(g.members)
        marked.update(linked)
    marked -= keepers
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
        members = [(store.entries[m], store.metas[m]) for m in g.members]
        k, why = explain_keeper(members, rules, keep)
        out[int(g.members[k])] = why
    return out


def plan_groups(store: FeatureStore, pairs: Pairs, marked: Iterable[int]) -> list[list[FileEntry]]:
    """For each marked row, a two-file group: its most similar unmarked partner, then itself.

    A marked file with no unmarked partner gets a group of its own, which the planner refuses
    ("nothing would stay in place") — the keeper invariant, stated once, in the actions package.
    Only confirmed copies count as partners: a similar shot or an unconfirmed candidate is no
    copy that stays.
    """
    adj = Adjacency(copies_only(pairs), len(store))
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


def marked_paths(store: FeatureStore, marked: Iterable[int]) -> set[str]:
    return {store.entries[m].path for m in marked}
