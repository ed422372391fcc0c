"""Everything known about one pair: what it is and why, every method's score, the pixels,
both files, a verdict.

What the pair is (its kind, in words, and the evidence numbers behind it) is the verdict
stage's (engine/verdicts), handed in by the review; a pair without one shows no such row. The
feature scores come from the store at once (``match.pair_scores`` on a one-pair Pairs:
no file is read). The pixel comparison (SSIM, MSE, PSNR) decodes both files, so it runs in a
thread worker and lands in a message; until then the line says "computing…". The verdict is
from the strongest evidence available: the content digest, then the pixels.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static
from textual.worker import Worker, WorkerState, get_current_worker

from tui_dedup.engine.features.store import FeatureStore
from tui_dedup.engine.matching.compare import PixelComparison, compare_images, verdict
from tui_dedup.engine.matching.pairs import pair_scores
from tui_dedup.engine.model import TRANSFORMS, Pairs, ScanError
from tui_dedup.engine.registry import DEFAULT_PRESET, METHODS
from tui_dedup.engine.verdicts.explain import describe, evidence_dict
from tui_dedup.tui.screen_refresh import NoRepaintLoop
from tui_dedup.tui.widgets.cells import format_similarity, printable
from tui_dedup.tui.widgets.preview_text import badges, side_text


def one_pair(i: int, j: int, transform: int = 0) -> Pairs:
    return Pairs(
        np.array([i], np.int32),
        np.array([j], np.int32),
        np.zeros(1, np.int16),
        np.zeros(1, np.float32),
        np.array([transform], np.int8),
        np.zeros(1, bool),
    )


def byte_identical(store: FeatureStore, i: int, j: int) -> bool:
    """Same content digest (the scan digests every file whose size another file shares)."""
    if store.entries[i].size != store.entries[j].size:
        return False
    if not (store.has_digest[i] and store.has_digest[j]):
        return False
    return bool(np.array_equal(store.digests[i], store.digests[j]))


def pixel_line(c: PixelComparison) -> str:
    psnr = "∞ (identical pixels)" if math.isinf(c.psnr) else f"{c.psnr:.1f} dB"
    return f"SSIM {c.ssim:.3f} · MSE {c.mse:.1f} · PSNR {psnr} · at {c.width}×{c.height}"


def evidence_line(row: np.void) -> str:
    """The verdict's numbers, as the pixel line shows its own: ``hash256 4/256 bits · detail
    0.97 · layout 0.99 · kept 87% · same shot``; what was not measured is left out.

    Where an edit changed the picture is words, not a number: :func:`describe` says it for an
    edited pair (the line above), and for no other kind, where the disagreeing cells of two
    different captures would be noise; at 80×24 the row has no room to say it twice.
    """
    ev = evidence_dict(row)
    bits: list[str] = []
    if isinstance(pdq := ev["hash256_bits"], int):
        bits.append(f"hash256 {pdq}/256 bits")
    for name, word in (("detail_match", "detail"), ("layout_match", "layout")):
        if isinstance(v := ev[name], float):
            bits.append(f"{word} {v:.2f}")
    if isinstance(kept := ev["kept"], float):
        bits.append(f"kept {kept:.0%}")
    if ev["capture"]:
        bits.append(str(ev["capture"]))
    return " · ".join(bits)


def kind_text(kind_evidence: tuple[int, np.void], transform: int) -> str:
    """The kind row: the verdict in words, then its numbers."""
    kind, row = kind_evidence
    numbers = evidence_line(row)
    return describe(kind, row, transform) + (f"\n{numbers}" if numbers else "")


def sides_line(c: PixelComparison) -> str:
    larger = {"a": "A is larger", "b": "B is larger", None: "same pixel count"}[c.larger]
    sharper = {"a": "A is sharper", "b": "B is sharper", None: "equally sharp"}[c.sharper]
    return f"{larger} · {sharper}"


class DetailsScreen(NoRepaintLoop, ModalScreen[None]):
    """A modal over the review screen; escape, d or q closes it.

    The review screen builds one and reuses it for every pair (``show_pair``): composing and
    styling its twenty-odd widgets was most of what ``d`` cost. A pair's pixel comparison
    carries a token, so an answer for a pair no longer shown is dropped.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,d,q", "close", "Close", id="details.close"),
    ]

    DEFAULT_CSS = """
    DetailsScreen {
        align: center middle;
    }
    DetailsScreen > #details-dialog {
        width: 100%;
        max-width: 100;
        height: auto;
        max-height: 100%;
        border: thick $primary;
        border-title-style: bold;
        border-subtitle-color: $text-muted;
        background: $surface;
        padding: 0 1;
    }
    DetailsScreen #details-body {
        height: auto;
        max-height: 100%;
    }
    DetailsScreen #details-verdict {
        color: $text-success;
        text-style: bold;
        margin-bottom: 1;
    }
    DetailsScreen #details-verdict.-doubt {
        color: $text-warning;
    }
    DetailsScreen #details-kind-row {
        display: none;
    }
    DetailsScreen .-kind #details-kind-row {
        display: block;
    }
    DetailsScreen .-kind #details-verdict {
        margin-bottom: 0;  /* the kind row says what the verdict line sums up: one block */
    }
    DetailsScreen #details-methods {
        height: auto;
        margin-bottom: 1;
    }
    DetailsScreen .details-row {
        height: auto;
        margin-bottom: 1;
    }
    DetailsScreen .details-row:last-child {
        margin-bottom: 0;  /* every row counts at 80×24 */
    }
    DetailsScreen .details-key {
        width: 8;
        color: $text-muted;
        text-style: bold;
    }
    DetailsScreen .details-value {
        width: 1fr;
    }
    """

    class PixelsReady(Message, bubble=False):
        """The worker's answer: a comparison, or a one-line reason it could not be made."""

        def __init__(self, result: PixelComparison | ScanError, token: int = 0) -> None:
            super().__init__()
            self.result = result
            self.token = token

    def __init__(
        self,
        store: FeatureStore,
        i: int,
        j: int,
        method: str | None = None,
        similarity: float | None = None,
        transform: int = 0,
        kind_evidence: tuple[int, np.void] | None = None,
    ) -> None:
        super().__init__()
        self._token = 0  # which pair the shown content and the pending comparison are for
        self._worker: Worker | None = None
        self._set_pair(store, i, j, method, similarity, transform, kind_evidence)

    def _set_pair(
        self,
        store: FeatureStore,
        i: int,
        j: int,
        method: str | None,
        similarity: float | None,
        transform: int,
        kind_evidence: tuple[int, np.void] | None,
    ) -> None:
        self.store, self.i, self.j = store, i, j
        self.method = method
        self.similarity = similarity
        self.transform = transform
        #: The verdict stage's (kind code, evidence row) for the pair; None: none yet.
        self.kind_evidence = kind_evidence
        self.identical = byte_identical(store, i, j)
        self.scores = {k: float(v[0]) for k, v in pair_scores(store, one_pair(i, j)).items()}
        self.comparison: PixelComparison | None = None
        self._token += 1

    def show_pair(
        self,
        store: FeatureStore,
        i: int,
        j: int,
        method: str | None = None,
        similarity: float | None = None,
        transform: int = 0,
        kind_evidence: tuple[int, np.void] | None = None,
    ) -> None:
        """Show another pair in this (already built) screen, as a new screen would show it."""
        self._set_pair(store, i, j, method, similarity, transform, kind_evidence)
        if not self.is_mounted:
            return  # compose and on_mount will show it
        dialog = self.query_one("#details-dialog")
        dialog.border_title = self._title()
        dialog.set_class(self.kind_evidence is not None, "-kind")
        self.query_one("#details-kind", Static).update(self._kind_text())
        verdict_line = self.query_one("#details-verdict", Static)
        verdict_line.update(Content(verdict(None, byte_identical=self.identical)))
        verdict_line.set_class(not self.identical, "-doubt")
        self.query_one("#details-pixels", Static).update(Content("computing…"))
        for side, row in (("a", self.i), ("b", self.j)):
            self.query_one(f"#details-{side}", Static).update(self._file_text(row))
        self.query_one("#details-body").scroll_home(animate=False, immediate=True)
        self._fill()

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # Not the app's ``.dialog`` class: its width and padding leave too little room for the
        # table at 80×24; the look (thick primary border on the surface colour) is the same.
        with Vertical(
            id="details-dialog", classes="" if self.kind_evidence is None else "-kind"
        ) as dialog:
            dialog.border_title = self._title()
            dialog.border_subtitle = "esc · d · q  close"
            with VerticalScroll(id="details-body"):
                yield Static(
                    Content(verdict(None, byte_identical=self.identical)),
                    id="details-verdict",
                    classes="" if self.identical else "-doubt",
                )
                with Horizontal(classes="details-row", id="details-kind-row"):
                    yield Label("kind", classes="details-key")
                    yield Static(self._kind_text(), id="details-kind", classes="details-value")
                yield DataTable(
                    id="details-methods",
                    cursor_type="none",
                    zebra_stripes=True,
                    show_cursor=False,
                )
                with Horizontal(classes="details-row"):
                    yield Label("pixels", classes="details-key")
                    yield Static(
                        Content("computing…"), id="details-pixels", classes="details-value"
                    )
                for side, row in (("A", self.i), ("B", self.j)):
                    with Horizontal(classes="details-row"):
                        yield Label(f"file {side}", classes="details-key")
                        yield Static(
                            self._file_text(row),
                            id=f"details-{side.lower()}",
                            classes="details-value",
                        )

    def _title(self) -> str:
        bits = ["Pair details"]
        if self.method is not None:
            sim = self.similarity if self.similarity is not None else self.scores[self.method]
            bits.append(f"{self.method} {format_similarity(sim)}")
        if 0 < self.transform < len(TRANSFORMS):
            bits.append(f"B matched as {TRANSFORMS[self.transform]} of A")
        return " — ".join(bits)

    def _kind_text(self) -> Content:
        if self.kind_evidence is None:
            return Content("")
        return Content(kind_text(self.kind_evidence, self.transform))

    def _file_text(self, row: int) -> Content:
        t = side_text(self.store, row)
        meta = self.store.metas[row]
        badge = badges(self.store, self.i, self.j)[0 if row == self.i else 1]
        lines = [
            printable(self.store.entries[row].path),
            f"{t.facts} · sharpness {meta.sharpness:.0f}" + (f" · {badge}" if badge else ""),
            f"{t.when} · {t.camera}",
        ]
        return Content("\n").join(Content(x) for x in lines)

    def on_mount(self) -> None:
        table = self.query_one("#details-methods", DataTable)
        table.add_columns("method", "", "similarity", "bits", f"{DEFAULT_PRESET} ≥", "")
        self._fill()

    def _fill(self) -> None:
        """The method rows of the current pair, then its pixel comparison in a worker."""
        table = self.query_one("#details-methods", DataTable)
        table.clear()
        hash_size = self.store.hash_size
        for name, m in METHODS.items():
            s = self.scores[name]
            cut = m.preset_similarity(DEFAULT_PRESET, hash_size)
            bits = m.bits(hash_size)
            table.add_row(
                f"{name} ▶" if name == self.method else name,
                m.title,
                format_similarity(s),
                f"{round((1.0 - s) * bits)}/{bits}" if m.kind == "hash" else "",
                format_similarity(cut),
                "✓" if s >= cut - 1e-6 else "—",
                key=name,
            )
        entries = self.store.entries
        self._worker = self._compare(
            entries[self.i].path, entries[self.j].path, self.transform, self._token
        )

    # -- pixel comparison ----------------------------------------------------------------------

    @work(
        thread=True,
        exclusive=True,
        group="details",
        exit_on_error=False,
        description="pixel comparison",
    )
    def _compare(self, path_a: str, path_b: str, transform: int, token: int) -> None:
        result = compare_images(path_a, path_b, transform=transform)
        if not get_current_worker().is_cancelled:
            self.post_message(self.PixelsReady(result, token))

    def on_details_screen_pixels_ready(self, message: PixelsReady) -> None:
        if message.token != self._token:
            return  # for a pair shown before this one
        pixels = self.query_one("#details-pixels", Static)
        verdict_line = self.query_one("#details-verdict", Static)
        if isinstance(message.result, ScanError):
            err = message.result
            pixels.update(Content(f"not available: {printable(err.path)}: {err.reason}"))
            if not self.identical:
                verdict_line.update(Content("cannot compare pixels — compare visually"))
            return
        c = self.comparison = message.result
        pixels.update(Content(f"{pixel_line(c)}\n{sides_line(c)}"))
        line = verdict(c, byte_identical=self.identical, transform=self.transform)
        verdict_line.update(Content(line))
        verdict_line.set_class(not (self.identical or line.startswith("same picture")), "-doubt")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is self._worker and event.state == WorkerState.ERROR:
            error = event.worker.error
            self.query_one("#details-pixels", Static).update(
                Content(f"comparison failed: {type(error).__name__}: {error}")
            )

    def action_close(self) -> None:
        self.dismiss(None)
