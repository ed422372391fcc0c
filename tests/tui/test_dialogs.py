"""Confirmation dialogs a person can answer at 80×24 (issue #16, item 3).

The buttons stay on screen whatever the body holds, their key hints are shown, and every key a
person tries answers visibly: y / n, Escape, Enter on the focused button, Tab and Left/Right
between the buttons.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App
from textual.widgets import Button

import tui_dedup.tui
from tui_dedup.tui.screens.confirm import ConfirmScreen

LINES = [f"  move 'Pictures/2021/IMG_{k:04d}.jpg' → '.dedup-tui/duplicates/…'" for k in range(60)]


class DialogApp(App):
    CSS_PATH = str(Path(tui_dedup.tui.__file__).with_name("app.tcss"))  # the app's own styles

    def __init__(self, danger: bool = False) -> None:
        super().__init__()
        self.answers: list[bool | None] = []
        self.danger = danger

    def on_mount(self) -> None:
        self.push_screen(
            ConfirmScreen("Move: 60 file(s), 12.0 MB?", LINES, yes="Move", danger=self.danger),
            self.answers.append,
        )


def _buttons(app: App) -> tuple[Button, Button]:
    return app.screen.query_one("#yes", Button), app.screen.query_one("#no", Button)


async def test_at_80x24_both_buttons_are_on_screen_with_their_keys():
    app = DialogApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        for b in _buttons(app):
            region = b.region
            assert region.height == 3 and region.bottom <= 24 and region.right <= 80, region
            # the label's row is drawn, not clipped by the dialog's own height
            under, _ = app.screen.get_widget_at(region.x + 2, region.y + 1)
            assert under is b, (b.id, under)
        labels = [str(b.label) for b in _buttons(app)]
        assert labels == ["Move [y]", "No [n]"]  # the hints are text, not swallowed markup


@pytest.mark.parametrize(
    ("keys", "answer"),
    [
        (["y"], True),
        (["n"], False),
        (["escape"], False),
        (["enter"], True),  # Yes has focus: the action can be undone
        (["tab", "enter"], False),
        (["right", "enter"], False),
        (["right", "left", "enter"], True),
    ],
)
async def test_every_key_answers(keys, answer):
    app = DialogApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press(*keys)
        await pilot.pause()
        assert app.answers == [answer]


async def test_focus_moves_visibly_between_the_buttons():
    app = DialogApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        yes, no = _buttons(app)
        assert app.focused is yes
        await pilot.press("tab")
        assert app.focused is no and no.has_pseudo_class("focus")
        await pilot.press("left")
        assert app.focused is yes


async def test_an_irreversible_action_starts_on_no():
    app = DialogApp(danger=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert app.answers == [False]
