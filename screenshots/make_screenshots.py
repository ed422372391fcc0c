"""Drive the app with Pilot on a generated demo library and save the README screenshots.

    python screenshots/make_screenshots.py [OUT_DIR]

Writes scan.svg (mid-scan), review.svg, preview.svg (half-block pictures) and help.svg at
120×36, and at 80×24 and 160×50 the review, the full-screen compare (side by side, the
difference, and at 80×24 the flip), the move dialog, and the burst view on generated bursts
(tests/burst_images.py). The scan is held half-way by a wrapper around the engine's per-file work,
so the progress screenshot shows a real, moving scan rather than a finished one.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import threading
from pathlib import Path

SIZE = (120, 36)
HOLD_AFTER = 14  # files decoded before the scan is held for the screenshot


async def _wait_review(app, pilot) -> None:
    from tui_dedup.tui.screens.review import ReviewScreen

    for _ in range(400):
        await app.workers.wait_for_complete()
        await pilot.pause()
        review = [s for s in app.screen_stack if isinstance(s, ReviewScreen)]
        if review and not review[0].matching:
            return
    raise RuntimeError("the review screen did not come up")


async def shoot(out: Path, work: Path) -> list[Path]:
    import tui_dedup.engine.scan as scan_mod
    from tui_dedup.review.settings import RunSettings
    from tui_dedup.tui.app import create_app
    from tui_dedup.tui.widgets.progress import ScanProgressView

    saved: list[Path] = []

    def save(app, name: str) -> None:
        app.save_screenshot(name, str(out))
        saved.append(out / name)

    # -- scan (held mid-way) and review ------------------------------------------------------
    gate = threading.Event()
    count = [0]
    lock = threading.Lock()
    real = scan_mod.compute_row

    def held(entry, config, want_digest):
        with lock:
            count[0] += 1
            n = count[0]
        if n > HOLD_AFTER:
            gate.wait(timeout=60)
        return real(entry, config, want_digest)

    scan_mod.compute_row = held
    try:
        settings = RunSettings(roots=["Pictures"], use_cache=False, preview="none")
        app = create_app(settings)
        async with app.run_test(size=SIZE) as pilot:
            view = app.screen.query_one(ScanProgressView)
            # progress is throttled: wait for the hold, then for a snapshot near it
            while count[0] <= HOLD_AFTER or view.progress is None or view.progress.done < 8:
                await pilot.pause(0.05)
            save(app, "scan.svg")
            gate.set()
            await _wait_review(app, pilot)
            await pilot.press("down", "down", "l", "space", "down", "down", "down", "space")
            await pilot.pause()
            save(app, "review.svg")
            await pilot.press("question_mark")
            await pilot.pause()
            save(app, "help.svg")
            await pilot.press("escape")
            await pilot.press("q", "y")
    finally:
        scan_mod.compute_row = real
        gate.set()

    # -- preview (half-blocks work in any truecolour terminal, and in an SVG) ------------------
    settings = RunSettings(roots=["Pictures"], use_cache=False, preview="halfblock")
    app = create_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await _wait_review(app, pilot)
        await pilot.press("n")  # the resume question, if the first run left marks
        await pilot.press("down")
        for _ in range(10):
            await pilot.pause(0.2)
            await app.workers.wait_for_complete()
        await _settle(app, pilot)
        save(app, "preview.svg")

    # -- two terminal sizes: the review, the full-screen compare, a dialog ---------------------
    for size in ((80, 24), (160, 50)):
        w, h = size
        app = create_app(settings)
        async with app.run_test(size=size) as pilot:
            await _wait_review(app, pilot)
            await pilot.press("n")  # the resume question, if an earlier run left marks
            await pilot.press("down", "down")
            await _settle(app, pilot)
            save(app, f"review-{w}x{h}.svg")
            await pilot.press("enter")  # full-screen compare, side by side
            await _settle(app, pilot)
            save(app, f"compare-{w}x{h}.svg")
            if size == (80, 24):  # (at 160x50 one more 1.5 MB picture of the same thing)
                await pilot.press("f", "f")  # flip: B lined up on A, in one place
                await _settle(app, pilot)
                save(app, f"compare-flip-{w}x{h}.svg")
            await pilot.press("escape", "slash", *"caption", "enter", "enter", "x")
            await _settle(app, pilot)  # the captioned copy: where A and B disagree
            save(app, f"compare-diff-{w}x{h}.svg")
            await pilot.press("escape", "escape", "l", "space", "down", "space", "down", "space")
            await pilot.press("m")
            await _settle(app, pilot)
            await pilot.pause(1.0)  # the dialog's buttons are laid out after the plan arrives
            save(app, f"dialog-{w}x{h}.svg")
            await pilot.press("escape")

    # -- the burst view, on generated bursts (the demo library has none) ----------------------
    bursts = RunSettings(roots=["Bursts"], use_cache=False, preview="halfblock")
    for size in ((80, 24), (160, 50)):
        w, h = size
        app = create_app(bursts)
        async with app.run_test(size=size) as pilot:
            await _wait_review(app, pilot)
            await pilot.press("n")  # the resume question, if an earlier run left marks
            await pilot.press("B")
            await _settle(app, pilot)
            await _settle(app, pilot)
            save(app, f"bursts-{w}x{h}.svg")
    return saved


async def _settle(app, pilot) -> None:
    from tui_dedup.tui.widgets.halfblock import BandedHalfcellImage

    for _ in range(6):
        await pilot.pause(0.2)
        await app.workers.wait_for_complete()
    for _ in range(100):  # half-block pictures arrive a band of rows a frame
        if all(p.revealed for p in app.screen.query(BandedHalfcellImage) if p.display):
            break
        await pilot.pause(0.05)


CAPTIONED = "IMG_2043 with caption.jpg"


def add_captioned_copy(library: Path) -> None:
    """A copy with a caption box: the pair the difference screenshot shows (the demo library
    itself has no local edits)."""
    import cv2

    from tui_dedup.demo import write_jpeg

    img = cv2.imread(str(library / "2023" / "holiday" / "IMG_2043.jpg"))
    h, w = img.shape[:2]
    x0, y0 = w * 2 // 3, h * 5 // 6
    cv2.rectangle(img, (x0, y0), (w - 15, h - 15), (255, 255, 255), -1)
    cv2.putText(img, "Summer!", (x0 + 10, h - 30), cv2.FONT_HERSHEY_SIMPLEX, 1, (0, 0, 160), 3)
    write_jpeg(library / "2024" / "family" / CAPTIONED, img, 90)


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else Path(__file__).parent).resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dedup-tui-shots-") as tmp:
        work = Path(tmp)
        os.environ["DEDUP_TUI_STATE_DIR"] = str(work / "state")
        from tui_dedup.demo import make_demo_library

        make_demo_library(work / "Pictures")
        add_captioned_copy(work / "Pictures")
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
        from burst_images import small_library  # the tests' generated bursts, with EXIF

        small_library(work / "Bursts", size=(960, 640))
        cwd = os.getcwd()
        os.chdir(work)  # the title shows the root as given: "Pictures", not a temp path
        try:
            saved = asyncio.run(shoot(out, work))
        finally:
            os.chdir(cwd)
    for p in saved:
        print(f"wrote {p} ({p.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
