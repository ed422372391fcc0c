"""Auto-select rules: which copy is kept, which are marked."""

from __future__ import annotations

import pytest

from tui_dedup.engine.model import FileEntry, ImageMeta
from tui_dedup.review.keepers import DEFAULT_RULES, RULES, auto_select, choose_keeper


def fe(path, size=100, mtime=1_000, root="/p"):
    return FileEntry(path, root, size, mtime * 10**9, 1, abs(hash(path)) % 10**9)


def meta(w=100, h=100, taken=None, camera=None):
    return ImageMeta(w, h, "JPEG", taken=taken, camera=camera)


def test_every_rule_has_a_one_line_description():
    assert set(DEFAULT_RULES) <= set(RULES)
    for rule in RULES.values():
        assert rule.description and "\n" not in rule.description


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
    ],
)
def test_single_rules(rule, members, expected):
    assert choose_keeper(members, [rule]) == expected


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
