"""What a review keeps: the keeper rule chain auto-mark uses, and the reference folders.

Why apart from the session: both front ends ask the same two questions — "which rules, in
which order, choose each group's keeper?" and "may this file be marked at all?" — and the
answers must not drift between the ``a`` key, the ``A`` dialog, mark-by-folder, a resume and
the plan. The rules come from the one registry (:mod:`.keepers`, the same the CLI's
``--auto-select`` reads); the folders are ``--keep-in`` (RunSettings, real paths).
"""

from __future__ import annotations

from collections.abc import Sequence

from tui_dedup.actions.paths import in_folder
from tui_dedup.engine.model import FileEntry
from tui_dedup.review import decisions
from tui_dedup.review.keepers import DEFAULT_RULES


class KeepPolicy:
    """The rule chain of one review (remembered until it ends) and its ``--keep-in`` folders."""

    def __init__(self, entries: Sequence[FileEntry], keep_in: Sequence[str] = ()) -> None:
        self.entries = entries
        #: The ``--keep-in`` folders (real paths): never marked, preferred as keepers.
        self.keep_in: tuple[str, ...] = tuple(keep_in)
        #: The chain auto-mark uses, as it applies: the default chain until :meth:`choose`.
        self.rules: tuple[str, ...] = decisions.rule_chain(DEFAULT_RULES, self.keep_in)
        self._folder_of: dict[int, str | None] = {}

    def offered(self) -> list[str]:
        """The rules a chain may hold (``preferred-folder`` only with ``--keep-in``)."""
        return decisions.offered_rules(self.keep_in)

    def chain_of(self, picked: Sequence[str]) -> tuple[str, ...]:
        """The chain ``picked`` would apply (the default when empty; see ``rule_chain``)."""
        return decisions.rule_chain(picked, self.keep_in)

    def choose(self, picked: Sequence[str]) -> tuple[str, ...]:
        """Auto-mark by ``picked`` (in order) from now on; returns the chain as it applies.

        A rule not offered here is a ValueError, as an unknown one is for ``--auto-select``."""
        offered = set(self.offered())
        unknown = [r for r in picked if r not in offered]
        if unknown:
            raise ValueError(f"rule(s) not offered here: {', '.join(unknown)}")
        self.rules = self.chain_of(picked)
        return self.rules

    def is_default(self) -> bool:
        return self.rules == self.chain_of(DEFAULT_RULES)

    def folder_of(self, row: int) -> str | None:
        """The ``--keep-in`` folder holding file ``row`` (compared as real paths), or None.

        Looked up when first asked (a real path costs a few system calls) and remembered."""
        if not self.keep_in:
            return None
        if row not in self._folder_of:
            path = self.entries[row].path
            self._folder_of[row] = next((k for k in self.keep_in if in_folder(path, (k,))), None)
        return self._folder_of[row]

    def is_protected(self, row: int) -> bool:
        """Is file ``row`` in a ``--keep-in`` folder (so it is never marked)?"""
        return self.folder_of(row) is not None
