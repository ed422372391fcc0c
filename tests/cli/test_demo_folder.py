"""`dedup-tui --demo` leaves nothing behind in the temp dir (issue #16, item 10), and the
clean-up can only ever remove a demo folder it made."""

from __future__ import annotations

from tui_dedup.demo import make_demo_folder, remove_demo_folder


def test_the_demo_folder_is_made_and_removed_whole():
    library = make_demo_folder()
    assert library.name == "Pictures" and any(library.rglob("*.jpg"))
    remove_demo_folder(library)
    assert not library.parent.exists()


def test_the_clean_up_never_touches_another_folder(tmp_path):
    library = tmp_path / "Pictures"
    library.mkdir()
    (library / "mine.jpg").write_bytes(b"a user's picture")
    remove_demo_folder(library)
    assert (library / "mine.jpg").read_bytes() == b"a user's picture"
