"""Auto-select rules: which copy is kept, which are marked, and the reason shown.

The "derived-from" tests use real files: pictures written by Pillow into tmp_path with the EXIF a
camera, a phone, an editor or a messenger leaves, their mtimes set, and their ImageMeta read by
the real decoder. HOME and XDG_CONFIG_HOME point into tmp_path, so the machine's own download
folder never takes part.
"""

from __future__ import annotations

import io
import os
import random
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tui_dedup.engine.files.decode import decode_file
from tui_dedup.engine.model import FileEntry, ImageMeta
from tui_dedup.review import provenance
from tui_dedup.review.keepers import (
    DEFAULT_RULES,
    RULES,
    auto_select,
    choose_keeper,
    explain_keeper,
)


def fe(path, size=100, mtime=1_000, root="/p"):
    return FileEntry(path, root, size, mtime * 10**9, 1, abs(hash(path)) % 10**9)


def meta(w=100, h=100, taken=None, camera=None):
    return ImageMeta(w, h, "JPEG", taken=taken, camera=camera)


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "home"
    (home / ".config").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    return home


# ----------------------------------------------------------------------------- real files

NIKON = {"make": "NIKON CORPORATION", "model": "NIKON D750", "software": "Ver.1.10"}
IPHONE = {"make": "Apple", "model": "iPhone 12", "software": "14.8"}
TAKEN = "2021:09:12 10:11:12"
DAY = 86_400


def picture(w: int = 192, h: int = 128, seed: int = 0, caption: bool = False) -> Image.Image:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([x * 255 // w, y * 255 // h, (x + y) * 127 // (w + h)], axis=2)
    arr = np.clip(base + rng.integers(0, 30, (h, w, 3)), 0, 255).astype(np.uint8)
    if caption:  # a white band of "text" at the bottom, same pixel size
        arr[-h // 8 :, w // 8 : -w // 8] = 255
        arr[-h // 12 : -h // 24, w // 6 : -w // 6 : 3] = 0
    return Image.fromarray(arr)


def exif(make=None, model=None, software=None, taken=TAKEN) -> Image.Exif:
    ex = Image.Exif()
    for tag, value in ((0x010F, make), (0x0110, model), (0x0131, software)):
        if value is not None:
            ex[tag] = value
    if taken and make:
        ex.get_ifd(0x8769)[0x9003] = taken
    return ex


def save(
    path: Path,
    im: Image.Image | None = None,
    *,
    fmt: str = "JPEG",
    quality: int = 90,
    mtime: float = 1_631_440_000,
    **tags,
) -> Path:
    """Write a picture (with EXIF when ``make`` is given) and set its mtime."""
    path.parent.mkdir(parents=True, exist_ok=True)
    im = im or picture()
    kwargs: dict = {}
    if tags.get("make") or tags.get("software"):
        ex = exif(**tags)
        kwargs["exif"] = ex.tobytes() if fmt == "HEIF" else ex
    if fmt in ("JPEG", "HEIF", "WEBP"):
        kwargs["quality"] = quality
    if fmt == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
    im.save(path, fmt, **kwargs)
    os.utime(path, (mtime, mtime))
    return path


def copy(src: Path, dst: Path, mtime: float) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    os.utime(dst, (mtime, mtime))
    return dst


def member(path: Path, root: Path) -> tuple[FileEntry, ImageMeta | None]:
    st = path.stat()
    entry = FileEntry(
        str(path), str(root), st.st_size, st.st_mtime_ns, st.st_dev, st.st_ino, st.st_ctime_ns
    )
    decoded = decode_file(entry)
    assert not hasattr(decoded, "reason"), decoded
    return entry, decoded.meta  # type: ignore[union-attr]


def kept(root: Path, *paths: Path, rules=DEFAULT_RULES) -> Path:
    """The keeper among ``paths`` (tried in both orders: the result must not depend on it)."""
    members = [member(p, root) for p in paths]
    k = choose_keeper(members, rules)
    assert Path(members[::-1][choose_keeper(members[::-1], rules)][0].path) == paths[k]
    assert explain_keeper(members, rules)[0] == k
    return paths[k]


def reason(root: Path, *paths: Path) -> str:
    return explain_keeper([member(p, root) for p in paths])[1]


# ----------------------------------------------------------------------------- the registry


def test_every_rule_has_a_one_line_description_and_a_reason():
    assert set(DEFAULT_RULES) <= set(RULES)
    for rule in RULES.values():
        assert rule.description and "\n" not in rule.description
        assert rule.label and "\n" not in rule.label


def test_the_default_chain_puts_every_derived_from_signal_before_the_path():
    chain = list(DEFAULT_RULES)
    for signal in ("camera-original", "original-format", "library-folder", "original-name"):
        assert chain.index(signal) < chain.index("earliest-mtime") < chain.index("shortest-path")
    assert chain[:2] == ["raw", "resolution"] and "jpeg-quality" in chain


def test_plan_help_lists_every_rule_and_the_default_chain(capsys):
    from tui_dedup.cli.entry import main

    with pytest.raises(SystemExit):
        main(["plan", "--help"])
    out = capsys.readouterr().out
    chain, _, others = out.partition("keeper rules: the default chain")[2].partition("other rules")
    listed = [line.split(":")[0].strip() for line in chain.splitlines() if line.startswith("  ")]
    assert [n for n in listed if n in RULES] == list(DEFAULT_RULES)  # in the chain's order
    for name in set(RULES) - set(DEFAULT_RULES):
        assert f"\n  {name}: {RULES[name].description.split()[0]}" in others


@pytest.mark.parametrize(
    ("rule", "members", "expected"),
    [
        ("resolution", [(fe("/p/a"), meta(100, 100)), (fe("/p/b"), meta(200, 100))], 1),
        ("size", [(fe("/p/a", size=5), None), (fe("/p/b", size=9), None)], 1),
        ("metadata", [(fe("/p/a"), meta()), (fe("/p/b"), meta(camera="Canon EOS"))], 1),
        ("oldest", [(fe("/p/a", mtime=5), None), (fe("/p/b", mtime=3), None)], 1),
        ("newest", [(fe("/p/a", mtime=5), None), (fe("/p/b", mtime=3), None)], 0),
        # EXIF taken beats mtime: b was copied later but photographed earlier.
        (
            "oldest",
            [(fe("/p/a", mtime=5), meta(taken=4.0)), (fe("/p/b", mtime=9), meta(taken=1.0))],
            1,
        ),
        ("shortest-path", [(fe("/p/x/y/a.jpg"), None), (fe("/p/long-name.jpg"), None)], 1),
        # depth counts below the scanned folder, not from /
        (
            "shortest-path",
            [(fe("/deep/er/root/x.jpg", root="/deep/er/root"), None), (fe("/p/a/x.jpg"), None)],
            0,
        ),
        ("raw", [(fe("/p/DSC_1295.JPG"), meta()), (fe("/p/DSC_1295.NEF"), None)], 1),
        ("earliest-mtime", [(fe("/p/a", mtime=50), None), (fe("/p/b", mtime=40), None)], 1),
    ],
)
def test_single_rules(rule, members, expected):
    assert choose_keeper(members, [rule]) == expected


def test_per_file_rules_pick_the_lexicographic_minimum():
    """The chain narrows the candidates rule by rule: for per-file keys that is exactly the
    smallest tuple of keys, then the path (how keepers were always chosen)."""
    rng = random.Random(7)
    names = ["resolution", "metadata", "size", "oldest", "shortest-path", "original-name"]
    for _ in range(200):
        members = [
            (
                fe(
                    f"/p/{rng.choice(['', 'a/', 'a/b/'])}{rng.choice(['x', 'x (1)', 'y'])}{k}.jpg",
                    size=rng.randint(1, 3),
                    mtime=rng.randint(1, 3),
                ),
                rng.choice([None, meta(rng.randint(1, 2), 1, camera=rng.choice([None, "C"]))]),
            )
            for k in range(rng.randint(1, 5))
        ]
        rules = rng.sample(names, rng.randint(1, len(names)))
        want = min(
            range(len(members)),
            key=lambda i: (*(RULES[r].key(*members[i], ()) for r in rules), members[i][0].path),
        )
        assert choose_keeper(members, rules) == want


# ----------------------------------------------------------------------------- one test per signal


def test_resolution_the_smaller_copy_loses(tmp_path):
    big = save(tmp_path / "a.jpg", picture(384, 256), mtime=2e9)
    small = save(tmp_path / "b.jpg", picture(192, 128), mtime=1e9, **NIKON)
    assert kept(tmp_path, small, big) == big


def test_camera_original_a_stripped_copy_loses(tmp_path):
    original = save(tmp_path / "x" / "a.jpg", **NIKON)
    stripped = save(tmp_path / "b.jpg", quality=95)
    assert kept(tmp_path, stripped, original) == original


def test_camera_original_an_editor_software_tag_loses(tmp_path):
    original = save(tmp_path / "b.jpg", mtime=2e9, **NIKON)
    edited = save(tmp_path / "a.jpg", **{**NIKON, "software": "Adobe Photoshop 24.0 (Windows)"})
    assert kept(tmp_path, edited, original) == original


def test_camera_original_a_messenger_software_tag_loses(tmp_path):
    stripped = save(tmp_path / "b.jpg", mtime=2e9)
    messenger = save(tmp_path / "a.jpg", software="WhatsApp")
    assert provenance.camera_rank(member(messenger, tmp_path)[1]) == 3
    assert kept(tmp_path, messenger, stripped, rules=["camera-original"]) == stripped


def test_original_format_jpeg_of_a_camera_over_its_heic_conversion(tmp_path):
    original = save(tmp_path / "DSC_1295.JPG", mtime=2e9, **NIKON)
    heic = save(tmp_path / "DSC_1295.heic", fmt="HEIF", **NIKON)  # EXIF kept by the converter
    assert kept(tmp_path, heic, original) == original


def test_original_format_an_iphone_heic_over_its_jpeg_export(tmp_path):
    heic = save(tmp_path / "IMG_1203.HEIC", fmt="HEIF", mtime=2e9, **IPHONE)
    export = save(tmp_path / "IMG_1203.JPG", quality=95, **IPHONE)
    assert kept(tmp_path, heic, export) == heic


def test_original_format_lossless_screenshot_over_its_jpeg(tmp_path):
    png = save(tmp_path / "b.png", fmt="PNG", mtime=2e9)
    jpeg = save(tmp_path / "a.jpg", quality=95)
    assert kept(tmp_path, jpeg, png) == png


def test_original_format_a_png_that_kept_the_camera_exif_is_a_conversion(tmp_path):
    jpeg = save(tmp_path / "b.jpg", mtime=2e9, **NIKON)
    png = save(tmp_path / "a.png", fmt="PNG", **NIKON)
    assert member(png, tmp_path)[1].camera is not None  # type: ignore[union-attr]
    assert kept(tmp_path, png, jpeg) == jpeg


def test_library_folder_a_downloads_folder_loses(tmp_path):
    library = save(tmp_path / "2021" / "zoo" / "b.jpg", mtime=2e9, **NIKON)
    download = copy(library, tmp_path / "Downloads" / "a.jpg", mtime=1e9)
    assert kept(tmp_path, download, library) == library


def test_library_folder_the_localized_xdg_download_dir_loses(tmp_path, home):
    (home / ".config" / "user-dirs.dirs").write_text(
        '# written by xdg-user-dirs-update\nXDG_DOWNLOAD_DIR="$HOME/Téléchargements"\n',
        encoding="utf-8",
    )
    library = save(home / "Images" / "b.jpg", mtime=2e9, **NIKON)
    download = copy(library, home / "Téléchargements" / "a.jpg", mtime=1e9)
    assert provenance.download_dirs() == (str(home / "Téléchargements"),)
    assert kept(home, download, library) == library
    # the same folder name on a backup of that home counts too
    nas = tmp_path / "nas"
    backup = copy(library, nas / "Téléchargements" / "a.jpg", mtime=1e9)
    assert kept(nas, backup, copy(library, nas / "Images" / "b.jpg", mtime=2e9)) != backup


def test_library_folder_messenger_folders_lose(tmp_path):
    library = save(tmp_path / "Pictures" / "b.jpg", mtime=2e9)
    for folder in ("WhatsApp Images/Sent", "Telegram Desktop", "Lightroom Export"):
        other = copy(library, tmp_path / folder / "a.jpg", mtime=1e9)
        assert kept(tmp_path, other, library) == library, folder


@pytest.mark.parametrize(
    "name",
    [
        "IMG_1203 (1).jpg",
        "IMG_1203(2).jpg",
        "IMG_1203 copy.jpg",
        "IMG_1203 copy 2.jpg",
        "IMG_1203-copy.jpg",
        "IMG_1203 - Copy.jpg",
        "IMG_1203 - Kopie (2).jpg",
        "IMG_1203_edited.jpg",
        "IMG_1203 (edited).jpg",
        "Copy of IMG_1203.jpg",
        "IMG-20210912-WA0003.jpg",
        "IMG_E1203.jpg",
    ],
)
def test_original_name_a_copy_name_loses(tmp_path, name):
    original = save(tmp_path / "IMG_1203.jpg", mtime=2e9)
    other = copy(original, tmp_path / name, mtime=1e9)
    assert provenance.derived_name_marks(str(other)) >= 1
    assert kept(tmp_path, other, original) == original


@pytest.mark.parametrize("name", ["IMG_1203.jpg", "DSC_1295.JPG", "2021-09-12 Zoo.jpg", "Canopy"])
def test_original_name_camera_names_carry_no_mark(name):
    assert provenance.derived_name_marks(f"/p/{name}") == 0


def test_original_name_a_copy_of_a_copy_loses_to_the_copy():
    assert provenance.derived_name_marks("/p/IMG-20210912-WA0003 (1).jpg") == 2
    members = [(fe("/p/IMG_1 copy (1).jpg"), None), (fe("/p/IMG_1 copy.jpg"), None)]
    assert choose_keeper(members, ["original-name"]) == 1


def test_earliest_mtime_the_later_copy_loses(tmp_path):
    first = save(tmp_path / "b.jpg", mtime=1e9)
    later = copy(first, tmp_path / "a.jpg", mtime=1e9 + 60)
    assert kept(tmp_path, later, first) == first


def test_earliest_mtime_within_two_seconds_is_a_tie(tmp_path):
    """FAT stores mtimes in 2 s steps: a copy on a card is not "newer" for that."""
    a = save(tmp_path / "a.jpg", quality=70, mtime=1e9 + 1)
    b = save(tmp_path / "b.jpg", quality=95, mtime=1e9)
    assert kept(tmp_path, a, b, rules=["earliest-mtime", "shortest-path"]) == a


def test_jpeg_quality_breaks_a_tie_between_jpegs_of_one_size(tmp_path):
    low = save(tmp_path / "a.jpg", quality=60)
    high = save(tmp_path / "b.jpg", quality=95)
    assert kept(tmp_path, low, high) == high
    assert reason(tmp_path, low, high) == "keep: higher JPEG quality, bigger file"


def test_jpeg_quality_says_nothing_across_formats_or_sizes(tmp_path):
    jpeg = save(tmp_path / "b.jpg", quality=95)
    webp = save(tmp_path / "a.webp", fmt="WEBP", quality=50)
    small = save(tmp_path / "c.jpg", picture(96, 64), quality=100)
    rules = ["jpeg-quality"]
    assert kept(tmp_path, jpeg, webp, rules=rules) == webp  # no decision: the path decides
    assert kept(tmp_path, jpeg, small, rules=rules) == jpeg  # likewise


def test_raw_is_always_kept():
    raw = (fe("/p/Downloads/DSC_1295.NEF", size=1), None)
    jpeg = (fe("/p/DSC_1295.JPG", size=9), meta(6000, 4000, camera="NIKON D750"))
    assert choose_keeper([jpeg, raw]) == 1
    assert explain_keeper([jpeg, raw])[1].startswith("keep: RAW")


# ----------------------------------------------------------------------------- the issue's cases


def test_issue_library_original_over_a_download_with_a_suffix(tmp_path):
    """Kept: 2021/2021-09 Zoo/IMG_1203.jpg, not Downloads/IMG_1203 (1).jpg (fewer folders)."""
    original = save(tmp_path / "2021" / "2021-09 Zoo" / "IMG_1203.jpg", mtime=1e9, **IPHONE)
    download = copy(original, tmp_path / "Downloads" / "IMG_1203 (1).jpg", mtime=1e9)
    assert kept(tmp_path, download, original) == original
    assert reason(tmp_path, download, original) == "keep: library folder, original name"
    # even when the library copy was written later (imported after the download)
    os.utime(original, (2e9, 2e9))
    assert kept(tmp_path, download, original) == original


def test_issue_nikon_original_over_its_whatsapp_copy(tmp_path):
    original = save(tmp_path / "2021" / "trip" / "DSC_1295.JPG", picture(384, 256), **NIKON)
    whatsapp = save(tmp_path / "IMG-20210912-WA0003.jpg", picture(192, 128), mtime=2e9)
    assert kept(tmp_path, whatsapp, original) == original
    assert reason(tmp_path, whatsapp, original) == "keep: larger, camera original"


def test_issue_nikon_original_over_a_full_size_whatsapp_copy(tmp_path):
    """Same pixels ("HD" sending), an older mtime, a bigger file and a shorter path: the
    stripped copy still loses."""
    original = save(tmp_path / "2021" / "trip" / "DSC_1295.JPG", quality=85, mtime=2e9, **NIKON)
    whatsapp = save(tmp_path / "IMG-20210912-WA0003.jpg", quality=98, mtime=1e9)
    assert whatsapp.stat().st_size > original.stat().st_size
    assert kept(tmp_path, whatsapp, original) == original
    assert reason(tmp_path, whatsapp, original) == "keep: camera original, original name"


def test_issue_original_over_a_stripped_heic_conversion(tmp_path):
    original = save(tmp_path / "IMG_1203.jpg", mtime=2e9, **NIKON)
    heic = save(tmp_path / "IMG_1203.heic", fmt="HEIF", quality=95, mtime=1e9)
    assert kept(tmp_path, heic, original) == original


def test_issue_original_over_a_captioned_copy_with_an_editor_tag(tmp_path):
    original = save(tmp_path / "b" / "IMG_1203.jpg", quality=85, mtime=2e9, **IPHONE)
    captioned = save(
        tmp_path / "IMG_1203.jpg",
        picture(caption=True),
        quality=95,
        mtime=1e9,
        **{**IPHONE, "software": "Snapseed 2.0"},
    )
    assert kept(tmp_path, captioned, original) == original
    assert reason(tmp_path, captioned, original).startswith("keep: camera original")


def test_issue_original_over_a_captioned_copy_written_later(tmp_path):
    """No Software tag, EXIF kept: the later write, or an "edited" name, gives it away."""
    original = save(tmp_path / "b" / "IMG_1203.jpg", quality=85, mtime=1e9, **IPHONE)
    captioned = save(tmp_path / "IMG_1203.jpg", picture(caption=True), mtime=1e9 + DAY, **IPHONE)
    assert kept(tmp_path, captioned, original) == original
    assert reason(tmp_path, captioned, original) == "keep: older file"
    edited = save(tmp_path / "IMG_1203_edited.jpg", picture(caption=True), mtime=1e9, **IPHONE)
    assert kept(tmp_path, edited, original) == original


def test_issue_a_group_of_four(tmp_path):
    original = save(tmp_path / "2021" / "2021-09 Zoo" / "DSC_1295.JPG", picture(384, 256), **NIKON)
    group = [
        copy(original, tmp_path / "Downloads" / "DSC_1295 (1).JPG", mtime=1e9),
        save(tmp_path / "IMG-20210912-WA0003.jpg", picture(192, 128)),
        save(tmp_path / "2021" / "DSC_1295.heic", picture(384, 256), fmt="HEIF"),
        original,
    ]
    assert kept(tmp_path, *group) == original


# ----------------------------------------------------------------------------- explain_keeper


def test_explain_a_lone_file_a_tie_and_a_keep_in_folder():
    a, b = (fe("/p/b.jpg"), meta()), (fe("/p/a.jpg"), meta())
    assert explain_keeper([a]) == (0, "keep: the only copy")
    assert explain_keeper([a, b]) == (1, "keep: a tie on every rule, first by path")
    ref = (fe("/p/ref/z.jpg", size=1), meta(10, 10))
    assert explain_keeper([a, ref], keep_in=["/p/ref"]) == (1, "keep: in a --keep-in folder")


def test_explain_names_only_rules_that_favour_the_keeper():
    """The runner-up has the shorter path: that is never given as a reason."""
    keeper = (fe("/p/a/b/c/x.jpg", size=10), meta(200, 100))
    runner = (fe("/p/x.jpg", size=10), meta(100, 100))
    assert explain_keeper([runner, keeper]) == (1, "keep: larger")


# ----------------------------------------------------------------------------- defaults and marks


def test_default_chain_keeps_the_camera_original_over_a_messenger_copy():
    original = (
        fe("/p/DCIM/IMG_1.jpg", size=3_000_000, mtime=10),
        meta(4000, 3000, taken=1.0, camera="Pixel"),
    )
    messenger = (fe("/p/WhatsApp/IMG-1.jpg", size=4_000_000, mtime=5), meta(4000, 3000))
    assert choose_keeper([messenger, original], DEFAULT_RULES) == 1


def test_default_chain_order_resolution_first():
    small_meta = (fe("/p/a.jpg", size=10), meta(100, 100, camera="Canon"))
    big_plain = (fe("/p/b.jpg", size=5), meta(1000, 1000))
    assert choose_keeper([small_meta, big_plain]) == 1


def test_ties_are_broken_by_path_deterministically():
    a, b = (fe("/p/b.jpg"), meta()), (fe("/p/a.jpg"), meta())
    assert choose_keeper([a, b]) == 1 and choose_keeper([b, a]) == 0


def test_unknown_rule_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown rule"):
        choose_keeper([(fe("/p/a"), None)], ["biggest"])


def test_auto_select_marks_all_but_the_keeper_and_never_marks_keep_in():
    g1 = [fe("/p/ref/a.jpg", size=1), fe("/p/x/a.jpg", size=9), fe("/p/y/a.jpg", size=5)]
    g2 = [fe("/p/ref/b.jpg"), fe("/p/ref/old/b.jpg")]  # both in the reference folder
    marked = auto_select([g1, g2], {}, ["size"], keep_in=["/p/ref"])
    assert marked == {"/p/x/a.jpg", "/p/y/a.jpg"}


def test_auto_select_keeper_of_one_group_is_never_marked_in_another():
    shared = fe("/p/a.jpg", size=50)
    g1 = [shared, fe("/p/b.jpg", size=10)]
    g2 = [fe("/p/c.jpg", size=99), shared]
    marked = auto_select([g1, g2], {}, ["size"])
    assert shared.path not in marked and marked == {"/p/b.jpg"}


def test_auto_select_with_the_default_chain_and_unknown_metadata():
    """Files the scan could not decode (no ImageMeta) still get a keeper, never an error."""
    group = [fe("/p/Downloads/a (1).jpg", mtime=1), fe("/p/2021/a.jpg", mtime=2)]
    assert auto_select([group], {}) == {"/p/Downloads/a (1).jpg"}


def test_heic_files_decode_for_the_rules(tmp_path):
    """The HEIC the tests write is a real one (so the format rule sees "HEIF")."""
    path = save(tmp_path / "a.heic", fmt="HEIF", **IPHONE)
    assert Image.open(io.BytesIO(path.read_bytes())).format in ("HEIF", "HEIC")
    m = member(path, tmp_path)[1]
    assert m is not None and m.format == "HEIF" and m.camera == "Apple iPhone 12"
