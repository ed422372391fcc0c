"""Pairs → groups in which every member is a direct match of the group's keeper.

Why stars, not connected components: near-duplicate similarity is not transitive. With A~B and
B~C but A≁C, connected components would put A and C together and invite deleting C as a copy of
A. Greedy star clustering picks as centre the file with the most (then the most similar)
partners, gives it all its unassigned partners, and repeats; every member is then within the
threshold of its centre, and each file is in exactly one group.
"""

from __future__ import annotations

import numpy as np

from tui_dedup.engine.model import Group, Pairs


def star_groups(pairs: Pairs, n: int) -> list[Group]:
    """Deterministic: ties broken by summed similarity, then by row (path order)."""
    if len(pairs) == 0:
        return []
    i = pairs.i.astype(np.int64)
    j = pairs.j.astype(np.int64)
    sim = pairs.similarity.astype(np.float64)
    # adjacency in CSR form, both directions
    src = np.concatenate([i, j])
    dst = np.concatenate([j, i])
    w = np.concatenate([sim, sim])
    order = np.lexsort((-w, src))
    src, dst, w = src[order], dst[order], w[order]
    indptr = np.zeros(n + 1, np.int64)
    np.add.at(indptr, src + 1, 1)
    indptr = np.cumsum(indptr)
    degree = np.diff(indptr)
    strength = np.bincount(src, weights=w, minlength=n)
    candidates = np.flatnonzero(degree > 0)
    rank = np.lexsort((candidates, -strength[candidates], -degree[candidates]))
    # The greedy pass is sequential: plain lists and a bytearray beat numpy's per-call cost
    # on neighbour lists of a few entries.
    starts, nbrs = indptr.tolist(), dst.tolist()
    assigned = bytearray(n)
    groups: list[Group] = []
    for c in candidates[rank].tolist():
        if assigned[c]:
            continue
        free = [x for x in nbrs[starts[c] : starts[c + 1]] if not assigned[x]]
        if not free:
            continue
        assigned[c] = 1
        for x in free:
            assigned[x] = 1
        groups.append(Group(c, [c, *free]))
    return groups


def group_of(groups: list[Group], n: int) -> np.ndarray:
    """Row → group index (-1 when ungrouped), for filtering and display."""
    out = np.full(n, -1, np.int32)
    for g, grp in enumerate(groups):
        out[grp.members] = g
    return out
