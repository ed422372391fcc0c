"""The threshold a review matches with: in words for the status bar, one step looser or
stricter for ``+``/``-``, and what a matching run hands back.

Apart from the session because they are plain functions of a method and a threshold, shared
by the app (its status and scan screens) and the session's worker.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui_dedup.engine.model import Pairs
from tui_dedup.engine.registry import METHODS, Threshold, resolve_threshold
from tui_dedup.engine.verdicts.kinds import Kind


@dataclass(frozen=True, slots=True)
class MatchOutcome:
    """One matching run's answer, handed from the worker thread to the event loop."""

    method: str
    threshold: Threshold
    pairs: Pairs
    #: Verdicts from the stored evidence only: pairs needing the pixel check are still
    #: ``unconfirmed`` and a full outcome follows.
    quick: bool = False

    def unconfirmed(self) -> int:
        """Pairs still waiting for their verdict."""
        kind = self.pairs.kind
        return 0 if kind is None else int((kind == Kind.UNCONFIRMED).sum())


def threshold_label(method: str, th: Threshold) -> str:
    """What the threshold means, in words: ``phash within 15 bits (76.6%)``."""
    if th.max_distance is not None:
        return f"{method} within {th.max_distance} bits ({th.similarity * 100:.1f}%)"
    return f"{method} at least {th.similarity * 100:.1f}% alike"


def step_threshold(method: str, hash_size: int, th: Threshold, looser: bool) -> Threshold | None:
    """One bit looser/stricter (hash methods) or one percent (histograms); None at a limit."""
    m = METHODS[method]
    if m.kind == "hash":
        assert th.max_distance is not None
        d = th.max_distance + (1 if looser else -1)
        if not 0 <= d <= m.bits(hash_size):
            return None
        return resolve_threshold(method, hash_size, max_distance=d)
    s = round(th.similarity + (-0.01 if looser else 0.01), 4)
    if not 0.0 <= s <= 1.0:
        return None
    return resolve_threshold(method, hash_size, threshold=s)
