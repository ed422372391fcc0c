"""Plain value types shared by every stage of the engine.

They live in one small module so that discovery, decoding, matching, the actions package and the
TUI agree on one vocabulary without importing each other. Paths are ``str`` made with
``os.fsdecode`` (surrogateescape), so every byte sequence a POSIX file name can hold round-trips
back to the same file through ``os.fsencode``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One image file as discovery saw it; (dev, ino) is its identity, not the path.

    ``ctime_ns`` (st_ctime_ns) is what says the file was not rewritten: anyone can set mtime
    back (``touch -r``, ``cp -p``), but ctime moves on every write, rename, chmod or new link
    and an unprivileged user cannot set it. It is last and defaults to 0 so that entries made
    by older code (plan files written before it existed) still load.
    """

    path: str
    root: str
    size: int
    mtime_ns: int
    dev: int
    ino: int
    ctime_ns: int = 0

    @property
    def identity(self) -> tuple[int, int]:
        return (self.dev, self.ino)

    @property
    def relpath(self) -> str:
        """Path relative to its scan root, for display."""
        import os

        try:
            return os.path.relpath(self.path, self.root)
        except ValueError:
            return self.path


@dataclass(frozen=True, slots=True)
class ScanError:
    """A file the scan could not use, with a one-line reason a user can act on."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path!r}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Pairs:
    """Candidate duplicate pairs as parallel arrays, canonical ``i < j``, each pair once.

    ``i``/``j`` index rows of the FeatureStore. ``distance`` is the integer Hamming distance for
    hash methods (0 for exact digests) and ``-1`` for histogram methods. ``similarity`` is in
    [0, 1]. ``transform`` is a code from :data:`TRANSFORMS` (0 = identity) telling which
    rotation/mirror of ``j`` matched ``i``. ``exact`` marks byte-identical files.

    ``kind`` and ``evidence`` are the verdict stage's (engine/verdicts): a
    :class:`~tui_dedup.engine.verdicts.kinds.Kind` code per pair and a structured row of what
    decided it. Matching leaves them None (candidates); every pair-wise operation carries them.
    """

    i: np.ndarray  # int32
    j: np.ndarray  # int32
    distance: np.ndarray  # int16
    similarity: np.ndarray  # float32
    transform: np.ndarray  # int8
    exact: np.ndarray  # bool
    kind: np.ndarray | None = None  # int8
    evidence: np.ndarray | None = None  # structured, engine/verdicts/evidence.py

    def __len__(self) -> int:
        return int(self.i.shape[0])

    @classmethod
    def empty(cls) -> Pairs:
        return cls(
            np.empty(0, np.int32),
            np.empty(0, np.int32),
            np.empty(0, np.int16),
            np.empty(0, np.float32),
            np.empty(0, np.int8),
            np.empty(0, bool),
        )

    def take(self, idx: np.ndarray) -> Pairs:
        return Pairs(
            self.i[idx],
            self.j[idx],
            self.distance[idx],
            self.similarity[idx],
            self.transform[idx],
            self.exact[idx],
            None if self.kind is None else self.kind[idx],
            None if self.evidence is None else self.evidence[idx],
        )

    def candidates(self) -> Pairs:
        """The same pairs without verdicts."""
        return Pairs(self.i, self.j, self.distance, self.similarity, self.transform, self.exact)


# Dihedral transforms of the square, in the order the features module computes them.
TRANSFORMS: tuple[str | None, ...] = (
    None,
    "rot90",
    "rot180",
    "rot270",
    "mirror",
    "mirror+rot90",
    "mirror+rot180",
    "mirror+rot270",
)


@dataclass(slots=True)
class Group:
    """Files that are all within the threshold of one keeper (a star, never a chain)."""

    keeper: int
    members: list[int] = field(default_factory=list)  # store rows, keeper first


@dataclass(frozen=True, slots=True)
class ImageMeta:
    """What the decoder learned about a file besides its pixels (from its header only).

    ``taken`` is EXIF DateTimeOriginal as POSIX seconds (None when absent); ``camera`` is
    "Make Model" when present. Auto-select rules use these to keep the camera original over a
    stripped messenger copy.

    The rest say which copy was derived from which, and whether two pictures are one shot
    (normalised as :mod:`tui_dedup.engine.files.exif_evidence` describes; None = unknown):
    ``subsec_ms`` SubSecTimeOriginal in milliseconds; ``offset_min`` OffsetTimeOriginal in
    minutes east of UTC; ``unique_id`` ImageUniqueID or Apple's content identifier as 32 hex
    digits; ``software`` the Software tag; ``jpeg_quality`` the IJG quality (1-100) estimated
    from the quantisation tables, JPEG only.
    """

    width: int
    height: int
    format: str  # "JPEG", "PNG", ...
    taken: float | None = None
    camera: str | None = None
    has_gps: bool = False
    sharpness: float = 0.0
    subsec_ms: int | None = None
    offset_min: int | None = None
    unique_id: str | None = None
    software: str | None = None
    jpeg_quality: int | None = None

    @property
    def has_camera_meta(self) -> bool:
        return self.taken is not None or self.camera is not None or self.has_gps
