"""DNG files written here, for the RAW tests and benchmarks (no sample RAWs can be shipped or
fetched, and only DNG can be written).

A file is what a camera or Adobe's converter writes, cut to what LibRaw needs:

- IFD0: the preview (NewSubfileType 1), uncompressed RGB or a baseline JPEG as cameras write
  it (YCbCr 4:2:0, encoded by OpenCV and stored as it is; tifffile's own JPEG encoder wrote
  YCbCr previews that came back from LibRaw with wrong colours; tifffile still wants
  imagecodecs, the test extra, for any JPEG-compressed image), with
  DNGVersion, Make, Model, UniqueCameraModel, Orientation, DateTime and, when asked, a pointer
  to an EXIF IFD;
- its SubIFD: the sensor data, a 2×2 RGGB colour filter array (photometric 32803) of 12-bit
  values in 16-bit samples, uncompressed, with BlackLevel and WhiteLevel;
- an EXIF IFD (DateTimeOriginal, SubSecTimeOriginal, OffsetTimeOriginal, ImageUniqueID),
  appended after tifffile has written the file (tifffile writes no EXIF IFD): IFD0 carries an
  ExifIFD tag (written as a placeholder, then renamed) pointing at it.

The scene is given upright-as-stored (sensor orientation); ``orientation`` is the EXIF value
the camera wrote, which LibRaw reports as ``sizes.flip``. :func:`upright` turns a stored
scene the way a viewer does.
"""

from __future__ import annotations

import io
import os
import struct
from pathlib import Path

import cv2
import numpy as np
import tifffile

_EXIF_IFD = 34665
#: tifffile refuses to write tag 34665 itself: a placeholder of the same type sits where it
#: sorts (between SubIFDs 330 and DNGVersion 50706) and is renamed once the EXIF IFD is there.
_PLACEHOLDER = 40000
WHITE = 4095  # 12-bit sensor values


#: XYZ (D65) → linear sRGB, as SRATIONALs over 10000: with it as ColorMatrix1, LibRaw's default
#: sRGB rendering of the sensor data gives the scene's colours back.
_XYZ_TO_SRGB = tuple(
    v for x in (32406, -15372, -4986, -9689, 18758, 415, 557, -2040, 10570) for v in (x, 10000)
)


def upright(stored: np.ndarray, orientation: int) -> np.ndarray:
    """What a viewer shows for pixels stored with EXIF ``orientation`` (1-8)."""
    img = stored
    if orientation in (2, 4, 5, 7):
        img = img[:, ::-1] if orientation == 2 else img[::-1] if orientation == 4 else img
    if orientation == 3:
        img = img[::-1, ::-1]
    elif orientation == 5:
        img = np.swapaxes(img, 0, 1)
    elif orientation == 6:
        img = np.rot90(img, -1)
    elif orientation == 7:
        img = np.rot90(np.swapaxes(img, 0, 1), 2)
    elif orientation == 8:
        img = np.rot90(img, 1)
    return np.ascontiguousarray(img)


def mosaic(scene_bgr: np.ndarray, width: int, height: int) -> np.ndarray:
    """An RGGB Bayer mosaic of ``scene_bgr`` at ``width``×``height``, 12-bit in uint16.

    The values are linear light (the inverse of LibRaw's default BT.709 curve), so that a
    default LibRaw rendering of the sensor data looks like the scene."""
    full = cv2.resize(scene_bgr, (width, height), interpolation=cv2.INTER_AREA)
    v = full[:, :, ::-1].astype(np.float32) / 255.0
    lin = np.where(v < 0.081, v / 4.5, ((v + 0.099) / 1.099) ** (1 / 0.45))
    rgb = np.clip(lin * WHITE + 0.5, 0, WHITE).astype(np.uint16)
    cfa = np.empty((height, width), np.uint16)
    cfa[0::2, 0::2] = rgb[0::2, 0::2, 0]
    cfa[0::2, 1::2] = rgb[0::2, 1::2, 1]
    cfa[1::2, 0::2] = rgb[1::2, 0::2, 1]
    cfa[1::2, 1::2] = rgb[1::2, 1::2, 2]
    return cfa


def exif_ifd(byte_order: str, offset: int, fields: dict[int, str]) -> bytes:
    """An IFD of ASCII entries at file offset ``offset`` (values follow the IFD)."""
    entries = sorted(fields.items())
    head = 2 + 12 * len(entries) + 4
    out = struct.pack(byte_order + "H", len(entries))
    values = b""
    for tag, text in entries:
        raw = text.encode("ascii") + b"\x00"
        if len(raw) <= 4:
            value = raw.ljust(4, b"\x00")
        else:
            value = struct.pack(byte_order + "I", offset + head + len(values))
            values += raw + (b"\x00" if len(raw) % 2 else b"")
        out += struct.pack(byte_order + "HHI", tag, 2, len(raw)) + value
    return out + b"\x00\x00\x00\x00" + values


def _patch_exif_pointer(data: bytearray, target: int) -> None:
    order = "<" if data[:2] == b"II" else ">"
    (ifd0,) = struct.unpack_from(order + "I", data, 4)
    (count,) = struct.unpack_from(order + "H", data, ifd0)
    for k in range(count):
        at = ifd0 + 2 + 12 * k
        (tag,) = struct.unpack_from(order + "H", data, at)
        if tag == _PLACEHOLDER:
            struct.pack_into(order + "HHII", data, at, _EXIF_IFD, 4, 1, target)
            return
    raise AssertionError("no ExifIFD placeholder in IFD0")


def dng_bytes(
    scene_bgr: np.ndarray,
    *,
    preview: str | None = "jpeg",
    preview_size: tuple[int, int] | None = None,
    preview_scene: np.ndarray | None = None,
    sensor_size: tuple[int, int] | None = None,
    orientation: int = 1,
    make: str = "Canon",
    model: str = "Canon EOS R5",
    datetime: str = "2023:05:06 07:08:09",
    original: str | None = None,
    subsec: str | None = None,
    offset_time: str | None = None,
    unique_id: str | None = None,
    quality: int = 92,
    preview_jpeg: bytes | None = None,
    sensor: np.ndarray | None = None,
) -> bytes:
    """A DNG of ``scene_bgr`` (stored orientation). ``preview``: "jpeg", "bitmap" or None (no
    usable preview: IFD0 holds a 16×16 icon, as LibRaw needs some IFD0 image); sizes are
    (width, height) and default to the scene's. ``preview_scene`` puts another picture in the
    preview than in the sensor data (which one a decode shows tells which it used).

    ``preview_jpeg``: a baseline JPEG (YCbCr, 2×2 subsampled, as cameras write) stored as the
    preview as it is, its size taken from ``preview_size`` (by default the scene, resized, is
    encoded at ``quality``); ``sensor``: the CFA values to store
    (uint16, the sensor size) instead of a mosaic of the scene (the benchmarks' shortcut)."""
    h, w = scene_bgr.shape[:2]
    sw, sh = sensor_size or (w, h)
    pw, ph = preview_size or (w, h)
    if preview is None:
        pw, ph = 16, 16
    rgb = None
    if preview_jpeg is None:
        source = scene_bgr if preview_scene is None else preview_scene
        shown = cv2.resize(source, (pw, ph), interpolation=cv2.INTER_AREA)
        rgb = np.ascontiguousarray(shown[:, :, ::-1])
        if preview == "jpeg":
            ok, buf = cv2.imencode(".jpg", shown, [cv2.IMWRITE_JPEG_QUALITY, quality])
            assert ok
            preview_jpeg = buf.tobytes()
    tags: list[tuple] = [
        (50706, "B", 4, (1, 4, 0, 0), True),  # DNGVersion
        (271, "s", 0, make, True),
        (272, "s", 0, model, True),
        (274, "H", 1, orientation, True),
        (306, "s", 0, datetime, True),
        (50708, "s", 0, model, True),  # UniqueCameraModel
        (50721, "2i", 9, _XYZ_TO_SRGB, True),  # ColorMatrix1: the camera sees linear sRGB
        (50778, "H", 1, 21, True),  # CalibrationIlluminant1: D65
        (50728, "2I", 3, (1, 1, 1, 1, 1, 1), True),  # AsShotNeutral: no white balance
    ]
    exif = {
        k: v
        for k, v in {
            0x9003: original,
            0x9291: subsec,
            0x9011: offset_time,
            0xA420: unique_id,
        }.items()
        if v is not None
    }
    if exif:
        tags.append((_PLACEHOLDER, "I", 1, 0, True))
    buf = io.BytesIO()
    with tifffile.TiffWriter(buf, byteorder="<") as tif:
        if preview_jpeg is not None:
            tif.write(
                iter([preview_jpeg]),
                shape=(ph, pw, 3),
                dtype=np.uint8,
                photometric="ycbcr",
                compression="jpeg",
                subsampling=(2, 2),
                subfiletype=1,
                subifds=1,
                rowsperstrip=ph,
                software=False,
                extratags=tags,
            )
        else:
            tif.write(
                rgb,
                photometric="rgb",
                subfiletype=1,
                subifds=1,
                rowsperstrip=ph,  # one strip: LibRaw hands out the first strip as the preview
                software=False,
                extratags=tags,
            )
        tif.write(
            mosaic(scene_bgr, sw, sh) if sensor is None else sensor,
            photometric=32803,
            subfiletype=0,
            extratags=[
                (33421, "H", 2, (2, 2), True),  # CFARepeatPatternDim
                (33422, "B", 4, (0, 1, 1, 2), True),  # CFAPattern: RGGB
                (50714, "H", 1, 0, True),  # BlackLevel
                (50717, "H", 1, WHITE, True),  # WhiteLevel
            ],
        )
    data = bytearray(buf.getvalue())
    if exif:
        if len(data) % 2:
            data += b"\x00"
        at = len(data)
        data += exif_ifd("<", at, exif)
        _patch_exif_pointer(data, at)
    return bytes(data)


def write_dng(path: str | os.PathLike[str], scene_bgr: np.ndarray, **kw: object) -> Path:
    """:func:`dng_bytes` written to ``path``; returns the path."""
    p = Path(path)
    p.write_bytes(dng_bytes(scene_bgr, **kw))  # type: ignore[arg-type]
    return p
