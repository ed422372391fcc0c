"""`-o FILE`: the result file appears whole or not at all; devices and links behave."""

from __future__ import annotations

import os
import stat

import pytest

from tui_dedup.review.export_file import open_output


def test_a_failed_write_keeps_the_previous_file_and_leaves_no_temporary(tmp_path) -> None:
    target = tmp_path / "result.json"
    target.write_bytes(b"previous run\n")
    with pytest.raises(RuntimeError), open_output(str(target)) as out:
        out.write(b'{"half": ')
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"previous run\n"
    assert os.listdir(tmp_path) == ["result.json"]


def test_a_finished_write_replaces_the_file_and_keeps_its_mode(tmp_path) -> None:
    target = tmp_path / "result.json"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    with open_output(str(target)) as out:
        out.write(b"new")
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert os.listdir(tmp_path) == ["result.json"]


def test_a_new_file_gets_the_usual_mode(tmp_path) -> None:
    mask = os.umask(0o022)
    try:
        with open_output(str(tmp_path / "new.csv")) as out:
            out.write(b"x")
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "new.csv").stat().st_mode) == 0o644


def test_a_symlink_keeps_pointing_at_the_new_result(tmp_path) -> None:
    real = tmp_path / "real.json"
    real.write_bytes(b"old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    with open_output(str(link)) as out:
        out.write(b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"


def test_a_device_is_written_in_place(tmp_path) -> None:
    with open_output(os.devnull) as out:
        out.write(b"discarded")
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_a_missing_folder_names_the_file_asked_for(tmp_path) -> None:
    target = str(tmp_path / "missing" / "out.json")
    with pytest.raises(FileNotFoundError) as info, open_output(target):
        pass
    assert info.value.filename == target


def test_a_writable_file_in_a_locked_folder_is_written_in_place(tmp_path, monkeypatch) -> None:
    """No temporary file can be made beside it (a folder we may not write): the existing file
    is still written, in place, as before."""
    import errno
    import tempfile

    def locked(*_a, **_k):
        raise PermissionError(errno.EACCES, "Permission denied")

    target = tmp_path / "result.json"
    target.write_bytes(b"old")
    monkeypatch.setattr(tempfile, "mkstemp", locked)
    with open_output(str(target)) as out:
        out.write(b"new")
    assert target.read_bytes() == b"new"
    with pytest.raises(PermissionError) as info, open_output(str(tmp_path / "new.json")):
        pass
    assert info.value.filename == str(tmp_path / "new.json")
