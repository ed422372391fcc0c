"""At 80 columns a pair's two paths keep the folders that tell them apart (issue #16, item 6).

Cutting both paths in the middle left ``2019…C_1003.JPG`` on both sides of a pair whose one copy
is in ``backup/``; the person could not see which was which."""

from __future__ import annotations

import pytest

from tui_dedup.tui.widgets.cells import cell_width
from tui_dedup.tui.widgets.path_cut import cut_path, differing_folders

A = "2019/2019-06 Trip/DSC_1003.JPG"
B = "backup/2019/2019-06 Trip/DSC_1003.JPG"


@pytest.mark.parametrize("width", [20, 24, 28, 32])
def test_the_backup_copy_says_backup_and_the_name_stays(width: int) -> None:
    b = cut_path(B, A, width)
    assert cell_width(b) == width
    assert b.startswith("backup")
    assert b.rstrip().endswith("DSC_1003.JPG")


def test_a_path_that_fits_is_shown_whole() -> None:
    assert cut_path(A, B, 40).rstrip() == A


def test_the_differing_folder_in_the_middle_is_kept() -> None:
    a = "Photos/2021/2021-09 Zoo/originals/IMG_1203.jpg"
    b = "Photos/2021/2021-09 Zoo/exported/IMG_1203.jpg"
    assert differing_folders(a, b) == (3, 4)
    cut_a, cut_b = cut_path(a, b, 28), cut_path(b, a, 28)
    assert "originals/" in cut_a and "exported/" in cut_b
    assert cut_a.startswith("…/") and cut_b.startswith("…/")
    assert cut_a.rstrip().endswith("IMG_1203.jpg")


def test_shared_folders_next_to_the_difference_fill_the_room_left() -> None:
    a = "Photos/2021/2021-09 Zoo/originals/IMG_1203.jpg"
    b = "Photos/2021/2021-09 Zoo/exported/IMG_1203.jpg"
    wide = cut_path(a, b, 40).rstrip()
    assert "2021-09 Zoo/originals/IMG_1203.jpg" in wide


def test_same_folders_fall_back_to_cutting_the_middle() -> None:
    a = "2024/family/a very long folder name/IMG_0001.jpg"
    b = "2024/family/a very long folder name/IMG_0001 (1).jpg"
    assert cut_path(a, b, 24).rstrip().endswith("IMG_0001.jpg")
    assert cut_path(b, a, 24).rstrip().endswith("IMG_0001 (1).jpg")


def test_the_path_without_the_extra_folder_shows_where_it_starts() -> None:
    assert cut_path(A, B, 24).startswith("2019/…/DSC_1003.JPG")
