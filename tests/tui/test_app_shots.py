"""RAW+JPEG shots in the app (issue #17): a backed-up shot is one row; moving the backup's
JPEG takes its RAW along, the confirmation says so, and undo brings both back. On DNGs the
tests write (tests/raw_images.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import tree_digests, wait_for_review
from raw_images import write_dng

from tui_dedup.demo import make_photo, write_jpeg
from tui_dedup.review.settings import RunSettings
from tui_dedup.tui.app import create_app
from tui_dedup.tui.screens.confirm import ConfirmScreen
from tui_dedup.tui.widgets.table_columns import COLUMN_BY_KEY

SCENE = make_photo(61, 1200, 800)


async def test_a_backed_up_shot_moves_whole_and_comes_back(tmp_path: Path) -> None:
    root = tmp_path / "Pictures"
    (root / "camera").mkdir(parents=True)
    write_dng(root / "camera" / "IMG_0201.DNG", SCENE)
    write_jpeg(root / "camera" / "IMG_0201.JPG", SCENE, 92)
    shutil.copytree(root / "camera", root / "backup")
    before = tree_digests(root)
    app = create_app(RunSettings([str(root)], use_cache=False, preview="none"))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_review(app, pilot)
        screen = app.screen
        assert len(screen.model) == 1  # four files, one row: JPEG to JPEG
        i, j = int(screen.model.pairs.i[0]), int(screen.model.pairs.j[0])
        for side in ("file_a", "file_b"):  # the table's row says both sides are shots
            assert COLUMN_BY_KEY[side].cell(screen.model, 0, i, j, 40).rstrip().endswith("+RAW")
        await pilot.press("l")  # side B
        f = screen.model.current_file()
        gone = Path(screen.session.entries[f].path)
        assert gone.name == "IMG_0201.JPG"
        await pilot.press("space", "m")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "1 file(s) + 1 RAW" in app.screen.title_text
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not gone.exists() and not gone.with_suffix(".DNG").exists()  # the shot left whole
        kept = root / ("camera" if gone.parent.name == "backup" else "backup")
        assert (kept / "IMG_0201.JPG").exists() and (kept / "IMG_0201.DNG").exists()
        await pilot.press("u")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await pilot.pause()
    after = {k: v for k, v in tree_digests(root).items() if not k.startswith(".dedup-tui")}
    assert after == before
