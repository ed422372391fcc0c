"""A scan leaves the process as it found it: OpenCV's thread count and Pillow's pixel guard.

Both are process-wide; an application embedding the engine (or the app's own preview, which
decodes while a rescan runs) must not inherit a scan's settings, and Pillow's guard against
decompression bombs must never be switched off.
"""

from __future__ import annotations

import cv2
from PIL import Image

from tui_dedup.demo import make_photo, write_jpeg
from tui_dedup.engine.files.decode import DecodeLimits
from tui_dedup.engine.scan import ScanConfig, scan


def test_a_scan_restores_opencv_threads_and_keeps_pillows_guard_on(tmp_path):
    for n in range(3):
        write_jpeg(tmp_path / f"p{n}.jpg", make_photo(n, 120, 90))
    before_threads = cv2.getNumThreads()
    cv2.setNumThreads(3)
    try:
        guard = Image.MAX_IMAGE_PIXELS
        assert guard is not None  # never switched off
        result = scan([tmp_path], ScanConfig(limits=DecodeLimits(max_pixels=40_000_000)))
        assert len(result.store) == 3
        assert cv2.getNumThreads() == 3
        assert guard == Image.MAX_IMAGE_PIXELS
    finally:
        cv2.setNumThreads(before_threads)
