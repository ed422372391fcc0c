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

from tui_dedup.engine.files.exif_evidence import unique_id_key
from tui_dedup.engine.model import ImageMeta

#: "Unknown" in the integer columns (the float ``taken`` uses NaN, ``unique_id`` zeros).
NO_SUBSEC = -1
NO_OFFSET = -32768
NO_QUALITY = 0


class MetaColumns(Sequence[ImageMeta]):
    """Image metadata of many files as columns; ``metas[row]`` makes an :class:`ImageMeta`.

    A store of 100,000 files would otherwise hold 100,000 meta objects that only the rows on
    screen (and the auto-select rules, for a group's members) ever look at. Formats, cameras
    and Software tags are small tables of distinct strings, indexed by a code per row (-1:
    none). The capture evidence columns (``subsec_ms``, ``offset_min``, ``unique_id`` as 16
    bytes, ``jpeg_quality``) mark "unknown" with :data:`NO_SUBSEC`, :data:`NO_OFFSET`, zeros and
    :data:`NO_QUALITY`; when a caller does not give them, every row is unknown.
    """

    __slots__ = (
        "camera_code",
        "cameras",
        "format_code",
        "formats",
        "has_gps",
        "height",
        "jpeg_quality",
        "offset_min",
        "sharpness",
        "software_code",
        "softwares",
        "subsec_ms",
        "taken",
        "unique_id",
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
        *,
        subsec_ms: np.ndarray | None = None,  # int16, NO_SUBSEC = unknown
        offset_min: np.ndarray | None = None,  # int16, NO_OFFSET = unknown
        unique_id: np.ndarray | None = None,  # (n, 16) uint8, zeros = unknown
        jpeg_quality: np.ndarray | None = None,  # uint8, NO_QUALITY = unknown
        software_code: np.ndarray | None = None,  # int32, -1 = none
        softwares: list[str] | None = None,
    ) -> None:
        n = int(width.shape[0])
        self.width = width
        self.height = height
        self.format_code = format_code
        self.formats = formats
        self.taken = taken
        self.camera_code = camera_code
        self.cameras = cameras
        self.has_gps = has_gps
        self.sharpness = sharpness
        self.subsec_ms = np.full(n, NO_SUBSEC, np.int16) if subsec_ms is None else subsec_ms
        self.offset_min = np.full(n, NO_OFFSET, np.int16) if offset_min is None else offset_min
        self.unique_id = np.zeros((n, 16), np.uint8) if unique_id is None else unique_id
        self.jpeg_quality = (
            np.full(n, NO_QUALITY, np.uint8) if jpeg_quality is None else jpeg_quality
        )
        self.software_code = np.full(n, -1, np.int32) if software_code is None else software_code
        self.softwares = [] if softwares is None else softwares

    @classmethod
    def from_metas(cls, metas: Iterable[ImageMeta]) -> MetaColumns:
        metas = list(metas)
        n = len(metas)
        formats: dict[str, int] = {}
        cameras: dict[str, int] = {}
        softwares: dict[str, int] = {}

        def code(table: dict[str, int], value: str | None) -> int:
            return -1 if value is None else table.setdefault(value, len(table))

        ids = b"".join(unique_id_key(m.unique_id) for m in metas)
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
            subsec_ms=np.fromiter(
                (NO_SUBSEC if m.subsec_ms is None else m.subsec_ms for m in metas), np.int16, n
            ),
            offset_min=np.fromiter(
                (NO_OFFSET if m.offset_min is None else m.offset_min for m in metas), np.int16, n
            ),
            unique_id=np.frombuffer(ids, np.uint8).reshape(n, 16).copy(),
            jpeg_quality=np.fromiter(
                (NO_QUALITY if m.jpeg_quality is None else m.jpeg_quality for m in metas),
                np.uint8,
                n,
            ),
            software_code=np.fromiter((code(softwares, m.software) for m in metas), np.int32, n),
            softwares=list(softwares),
        )

    @classmethod
    def concat(cls, parts: list[MetaColumns], order: np.ndarray | None = None) -> MetaColumns:
        """All rows of ``parts`` one after another (then ``[order]``); code tables are merged."""
        formats: dict[str, int] = {}
        cameras: dict[str, int] = {}
        softwares: dict[str, int] = {}
        fcodes, ccodes, scodes = [], [], []
        for p in parts:
            fmap = np.array([formats.setdefault(f, len(formats)) for f in p.formats] or [0])
            cmap = np.array([cameras.setdefault(c, len(cameras)) for c in p.cameras] + [-1])
            smap = np.array([softwares.setdefault(c, len(softwares)) for c in p.softwares] + [-1])
            fcodes.append(fmap[p.format_code])
            ccodes.append(cmap[p.camera_code])  # code -1 picks the trailing -1
            scodes.append(smap[p.software_code])

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
            subsec_ms=cat([p.subsec_ms for p in parts], np.int16),
            offset_min=cat([p.offset_min for p in parts], np.int16),
            unique_id=(
                np.concatenate([p.unique_id for p in parts]).astype(np.uint8, copy=False)
                if parts
                else np.zeros((0, 16), np.uint8)
            )[slice(None) if order is None else order],
            jpeg_quality=cat([p.jpeg_quality for p in parts], np.uint8),
            software_code=cat(scodes, np.int32),
            softwares=list(softwares),
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
        sub, off = int(self.subsec_ms[row]), int(self.offset_min[row])
        uid = self.unique_id[row]
        quality, soft = int(self.jpeg_quality[row]), int(self.software_code[row])
        return ImageMeta(
            int(self.width[row]),
            int(self.height[row]),
            self.formats[self.format_code[row]],
            None if taken != taken else taken,
            None if cam < 0 else self.cameras[cam],
            bool(self.has_gps[row]),
            float(self.sharpness[row]),
            subsec_ms=None if sub == NO_SUBSEC else sub,
            offset_min=None if off == NO_OFFSET else off,
            unique_id=uid.tobytes().hex() if uid.any() else None,
            software=None if soft < 0 else self.softwares[soft],
            jpeg_quality=None if quality == NO_QUALITY else quality,
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
