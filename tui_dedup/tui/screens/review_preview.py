"""The review screen's preview pane and details screen, kept on the selected pair.

Why apart from the screen: which pair the pane shows must follow one rule (ask the screen for
the selection afresh, never trust a cursor message), and the details screen is built once and
reused, then let go with the review. Both are here, behind a few callables, so the screen only
says *when* to sync.

The preview module is imported only when a pane is wanted: it brings textual-image, which
queries the terminal when imported, and ``--preview none`` must never do that.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from textual.app import App, ScreenStackError

from tui_dedup.engine.features.store import FeatureStore

#: Back from under a dialog or the compare, the pane's pictures return once no key has come
#: for this long (the preview's own debounce, widgets/preview.DEBOUNCE, which this module may
#: not import before a pane is wanted): a key pressed right away never waits behind them.
PICTURES_BACK_AFTER = 0.15

if TYPE_CHECKING:
    from tui_dedup.tui.widgets.preview import PreviewPane

#: The pane's share of the rows under the header on a short and on a tall (≥ TALL_ROWS)
#: terminal; the table keeps at least MIN_TABLE_ROWS (its header and four pairs).
PREVIEW_SHARE = 0.45
PREVIEW_SHARE_TALL = 0.6
TALL_ROWS = 40
MIN_TABLE_ROWS = 5
MIN_PANE_ROWS = 6

DETAILS_SCREEN = "details"  # installed-screen name of the one, reused, details screen

#: (file A, file B, transform) of the selected row, or None when no row is selected.
Selection = Callable[[], tuple[int, int, int] | None]


def make_preview(mode: str) -> PreviewPane | None:
    """The preview pane, or None with ``--preview none`` (then textual-image is never
    imported while the app runs)."""
    if mode == "none":
        return None
    try:
        from tui_dedup.tui.widgets.preview import PreviewPane
    except ImportError:  # pragma: no cover - the preview module ships with the app
        return None
    return PreviewPane(mode=mode, id="preview")


class PreviewSync:
    """The pane for ``mode`` (none for ``none``), kept on the selected pair."""

    def __init__(self, mode: str, store: FeatureStore, selected: Selection) -> None:
        self.pane = make_preview(mode)
        self.store = store
        self.selected = selected

    def cover(self, covered: bool) -> None:
        """Pictures hidden under another screen, back names first, the pictures when the keys
        pause (PreviewPane.cover)."""
        if self.pane is not None:
            self.pane.cover(covered, None if covered else PICTURES_BACK_AFTER)

    def available(self) -> bool:
        """A pane exists and is on screen (``--preview none`` has none)."""
        return self.pane is not None and self.pane.is_attached

    def shown(self) -> bool:
        return self.available() and self.pane is not None and not self.pane.has_class("hidden")

    def sync(self) -> None:
        """Make the pane show the selected pair (or nothing when no row is selected).

        The only path to the preview. It runs after anything that can change the selection
        (cursor messages, switching views, filter, sort, re-match, skip, apply, undo) and reads
        the selection afresh each time, so a stale message cannot put another pair on screen.
        The same pair again is left alone: its pictures stay up, nothing is reloaded.
        """
        pane = self.pane
        if pane is None or not self.shown():
            return  # a hidden pane catches up when it is shown again
        selected = self.selected()
        if selected is None:
            if pane.pair is not None:
                pane.clear()
        elif not pane.is_showing(self.store, *selected):
            pane.show_pair(self.store, *selected)

    def toggle(self) -> None:
        if self.pane is not None:
            self.pane.toggle_class("hidden")
            self.sync()

    def fit(self, main_rows: int, table_rows: int) -> None:
        """Give the pictures the rows the table does not need.

        ``main_rows``: the rows for table and pane together; ``table_rows``: the rows the view
        shown would fill (header and rows). On a tall terminal the pane takes 60 % (45 % below
        40 rows, where the table needs its rows more), and more when the table is short: a
        review of five pairs at 160×50 must not leave twenty empty rows over small pictures.
        """
        pane = self.pane
        if pane is None or main_rows <= 0:
            return
        share = PREVIEW_SHARE_TALL if main_rows >= TALL_ROWS else PREVIEW_SHARE
        rows = max(int(main_rows * share), main_rows - max(table_rows, MIN_TABLE_ROWS))
        rows = max(min(rows, main_rows - MIN_TABLE_ROWS), MIN_PANE_ROWS)
        if pane.styles.height is None or pane.styles.height.cells != rows:
            pane.styles.height = rows

    def set_mode(self, mode: str) -> None:
        """Another way of drawing the pictures (``none`` hides the pane)."""
        pane = self.pane
        if pane is None or not self.available():
            return
        if mode == "none":
            pane.add_class("hidden")
            return
        pane.set_mode(mode)
        pane.remove_class("hidden")
        self.sync()


def open_details(
    app: App[Any],
    store: FeatureStore,
    method: str,
    pair: tuple[int, int, int],
    similarity: float | None,
    kind_evidence: tuple[int, np.void] | None = None,
) -> None:
    """Show the details screen for ``pair``: built on first use, then reused for every pair.

    ``kind_evidence``: the pair's (kind code, evidence row) from the verdict stage, if any."""
    from tui_dedup.tui.screens.details import DetailsScreen

    i, j, transform = pair
    screen = app.get_screen(DETAILS_SCREEN) if app.is_screen_installed(DETAILS_SCREEN) else None
    if isinstance(screen, DetailsScreen):
        screen.show_pair(store, i, j, method, similarity, transform, kind_evidence)
    else:
        app.install_screen(
            DetailsScreen(store, i, j, method, similarity, transform, kind_evidence), DETAILS_SCREEN
        )
    app.push_screen(DETAILS_SCREEN)


def forget_screen(app: App[Any], name: str = DETAILS_SCREEN) -> None:
    """Let a reused screen (details, compare) go with the review whose store it refers to
    (rescan)."""
    if not app.is_screen_installed(name):
        return
    screen = app.get_screen(name)
    try:
        app.uninstall_screen(name)
    except ScreenStackError:  # still shown (the app is exiting): Textual cleans up
        return
    if screen.is_attached:
        screen.remove()
