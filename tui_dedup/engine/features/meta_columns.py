"""MetaColumns: the image metadata of many files as numpy columns.

Split out of :mod:`tui_dedup.engine.features.store` (which re-exports it): the store, a
:class:`~tui_dedup.engine.features.store.FeatureBlock` and the cache's bulk reader all hold their
:class:`ImageMeta` this way, and ``metas[row]`` makes the object only when asked.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator, Sequence
from typing import overload

import numpy as np

from tui_dedup.engine.model import ImageMeta


class MetaColumns(Sequence[ImageMeta]):
    """Image metadata of many files as columns; ``metas[row]`` makes an :class:`ImageMeta`.

    A store of 100,000 files would otherwise hold 100,000 meta objects that only the rows on
    screen (and the auto-select rules, for a group's members) ever look at. Formats and cameras
    are small tables of distinct strings, indexed by a code per row (-1: no camera).
    """

    __slots__ = (
        "camera_code",
        "cameras",
        "format_code",
        "formats",
        "has_gps",
        "height",
        "sharpness",
        "taken",
        "width",
    )

    def __init__(
        self,
        width: np.ndarray,
        height: np.ndarray,
        format_code: np.ndarray,
        formats: list[str],
        taken: np.ndarray,  # float64 POSIX seconds, NaN = unknown
        camera_code: np.ndarray,
        cameras: list[str],
        has_gps: np.ndarray,
        sharpness: np.ndarray,  # float64
    ) -> None:
        self.width = width
        self.height = height
        self.format_code = format_code
        self.formats = formats
        self.taken = taken
        self.camera_code = camera_code
        self.cameras = cameras
        self.has_gps = has_gps
        self.sharpness = sharpness

    @classmethod
    def from_metas(cls, metas: Iterable[ImageMeta]) -> MetaColumns:
        metas = list(metas)
        n = len(metas)
        formats: dict[str, int] = {}
        cameras: dict[str, int] = {}
        return cls(
            np.fromiter((m.width for m in metas), np.int64, n),
            np.fromiter((m.height for m in metas), np.int64, n),
            np.fromiter((formats.setdefault(m.format, len(formats)) for m in metas), np.int32, n),
            list(formats),
            np.fromiter((np.nan if m.taken is None else m.taken for m in metas), np.float64, n),
            np.fromiter(
                (
                    -1 if m.camera is None else cameras.setdefault(m.camera, len(cameras))
                    for m in metas
                ),
                np.int32,
                n,
            ),
            list(cameras),
            np.fromiter((m.has_gps for m in metas), bool, n),
            np.fromiter((m.sharpness for m in metas), np.float64, n),
        )

    @classmethod
    def concat(cls, parts: list[MetaColumns], order: np.ndarray | None = None) -> MetaColumns:
        """All rows of ``parts`` one after another (then ``[order]``); code tables are merged."""
        formats: dict[str, int] = {}
        cameras: dict[str, int] = {}
        fcodes, ccodes = [], []
        for p in parts:
            fmap = np.array([formats.setdefault(f, len(formats)) for f in p.formats] or [0])
            cmap = np.array([cameras.setdefault(c, len(cameras)) for c in p.cameras] + [-1])
            fcodes.append(fmap[p.format_code])
            ccodes.append(cmap[p.camera_code])  # code -1 picks the trailing -1

        def cat(arrays: list[np.ndarray], dtype: type) -> np.ndarray:
            out: np.ndarray = (
                np.concatenate(arrays).astype(dtype, copy=False) if arrays else np.zeros(0, dtype)
            )
            return out if order is None else out[order]

        return cls(
            cat([p.width for p in parts], np.int64),
            cat([p.height for p in parts], np.int64),
            cat(fcodes, np.int32),
            list(formats),
            cat([p.taken for p in parts], np.float64),
            cat(ccodes, np.int32),
            list(cameras),
            cat([p.has_gps for p in parts], bool),
            cat([p.sharpness for p in parts], np.float64),
        )

    def __len__(self) -> int:
        return int(self.width.shape[0])

    @overload
    def __getitem__(self, row: int) -> ImageMeta: ...

    @overload
    def __getitem__(self, row: slice) -> list[ImageMeta]: ...

    def __getitem__(self, row: int | slice) -> ImageMeta | list[ImageMeta]:
        if isinstance(row, slice):
            return [self[k] for k in range(*row.indices(len(self)))]
        row = operator.index(row)
        taken = float(self.taken[row])
        cam = int(self.camera_code[row])
        return ImageMeta(
            int(self.width[row]),
            int(self.height[row]),
            self.formats[self.format_code[row]],
            None if taken != taken else taken,
            None if cam < 0 else self.cameras[cam],
            bool(self.has_gps[row]),
            float(self.sharpness[row]),
        )

    def __iter__(self) -> Iterator[ImageMeta]:
        return (self[k] for k in range(len(self)))

    def __eq__(self, other: object) -> bool:
        """Equal to any sequence of the same ImageMetas (a list, or other columns)."""
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(other) == len(self) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"MetaColumns({len(self)} rows)"
