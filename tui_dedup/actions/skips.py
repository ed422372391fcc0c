"""What the user decided, remembered across runs: "not a duplicate" pairs and review progress.

Why skips are keyed by content digests, not paths: a user who renames or reorganises photos
should not be asked about the same pair again. The pair is stored order-independently
(smaller digest first). The review state (marks, skipped pairs, cursor) is keyed by the sorted
scan roots, because it only means something for the same set of folders.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from .fsops import file_digest
from .state import atomic_write, state_dir

__all__ = ["ReviewState", "SkipStore", "file_digest"]


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def _read_pairs(path: str) -> list[tuple[str, str]]:
    """The pairs in a skips file, in file order; a torn or corrupt line is skipped."""
    out: list[tuple[str, str]] = []
    try:
        with open(path, encoding="ascii") as f:
            for line in f:
                try:
                    a, b = json.loads(line)
                except (ValueError, TypeError):
                    continue  # torn last line
                out.append(_pair(a, b))
    except FileNotFoundError:
        pass
    return out


class SkipStore:
    """Pairs marked "not a duplicate"; an append-only JSON-lines file in the state dir.

    :meth:`add` may be called from several threads (the app remembers each skip in a worker):
    a lock makes each check-and-append whole, so no line is written twice or torn by another.
    """

    def __init__(self, path: str | None = None) -> None:
        self.path = path or os.path.join(state_dir(), "skips.jsonl")
        self._pairs: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self._pairs.update(_read_pairs(self.path))

    def __len__(self) -> int:
        return len(self._pairs)

    def add(self, a_digest: str, b_digest: str) -> None:
        """Remember the pair durably (fsync) unless it is already known."""
        p = _pair(a_digest, b_digest)
        with self._lock:
            if p in self._pairs:
                return
            os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
            with open(self.path, "a", encoding="ascii") as f:
                f.write(json.dumps(list(p)) + "\n")
                f.flush()
                os.fsync(f.fileno())
            self._pairs.add(p)

    def remove(self, a_digest: str, b_digest: str) -> bool:
        """Forget the pair (an unskip); False when it was not remembered.

        The file is append-only, so a removal rewrites it whole (temp + fsync + rename: a
        crash leaves the old or the new list), from what is on disk now — another process
        may have appended since we read it — less this pair.
        """
        p = _pair(a_digest, b_digest)
        with self._lock:
            on_disk = _read_pairs(self.path)
            self._pairs.update(on_disk)
            if p not in self._pairs:
                return False
            self._pairs.discard(p)
            if p in on_disk:
                kept = dict.fromkeys(q for q in on_disk if q != p)
                atomic_write(self.path, "".join(json.dumps(list(q)) + "\n" for q in kept))
            return True

    def contains(self, a_digest: str, b_digest: str) -> bool:
        return _pair(a_digest, b_digest) in self._pairs

    def __contains__(self, pair: object) -> bool:
        return isinstance(pair, tuple) and len(pair) == 2 and self.contains(*pair)

    def skipped_mask(self, digests_a: Sequence[str], digests_b: Sequence[str]) -> np.ndarray:
        """True where the pair (a[i], b[i]) is a remembered skip.

        A hash-set lookup per pair beats numpy string ops here (no temporary string arrays;
        benchmarks/RESULTS.md, "Why the code is as it is").
        """
        a = digests_a.tolist() if isinstance(digests_a, np.ndarray) else list(digests_a)
        b = digests_b.tolist() if isinstance(digests_b, np.ndarray) else list(digests_b)
        if len(a) != len(b):
            raise ValueError("digests_a and digests_b must have the same length")
        pairs = self._pairs
        return np.fromiter(
            ((x, y) in pairs if x <= y else (y, x) in pairs for x, y in zip(a, b, strict=True)),
            dtype=bool,
            count=len(a),
        )

    def filter_mask(self, digests_a: Sequence[str], digests_b: Sequence[str]) -> np.ndarray:
        """True where the pair should still be shown (NOT skipped): ``pairs.take(mask)``."""
        return ~self.skipped_mask(digests_a, digests_b)


def roots_key(roots: Iterable[str]) -> str:
    """Stable file-name key for a set of scan roots, order-independent."""
    joined = b"\0".join(sorted(os.fsencode(os.path.abspath(r)) for r in roots))
    return hashlib.blake2b(joined, digest_size=8).hexdigest()


@dataclass(slots=True)
class ReviewState:
    """Marks, pairs skipped in this review, and the cursor, for one set of scan roots."""

    roots: list[str]
    marks: set[str] = field(default_factory=set)
    skips: list[tuple[str, str]] = field(default_factory=list)
    cursor: int = 0
    group_mode: bool = False  # the groups view was shown (the pair table otherwise)

    @staticmethod
    def path_for(roots: Iterable[str]) -> str:
        return os.path.join(state_dir(), f"review-{roots_key(roots)}.json")

    def save(self) -> str:
        """Atomic (temp + fsync + os.replace): a crash leaves the old or the new state."""
        data = asdict(self)
        data["roots"] = sorted(os.path.abspath(r) for r in self.roots)
        data["marks"] = sorted(self.marks)
        data["skips"] = [list(p) for p in self.skips]
        path = self.path_for(self.roots)
        atomic_write(path, json.dumps(data, ensure_ascii=True))
        return path

    @classmethod
    def load(cls, roots: Iterable[str]) -> ReviewState | None:
        """The saved state for exactly these roots, or None (none saved, or unreadable)."""
        roots = list(roots)
        try:
            with open(cls.path_for(roots), encoding="ascii") as f:
                d = json.load(f)
            return cls(
                roots=list(d["roots"]),
                marks=set(d["marks"]),
                skips=[(a, b) for a, b in d["skips"]],
                cursor=int(d["cursor"]),
                group_mode=bool(d.get("group_mode", False)),  # saved since 0.2
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    @classmethod
    def discard(cls, roots: Iterable[str]) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(cls.path_for(list(roots)))
