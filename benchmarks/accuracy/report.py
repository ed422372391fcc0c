"""Markdown tables and the precision-recall plot for the accuracy benchmark (no matplotlib)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from tui_dedup.engine import evaluate as ev


@dataclass(frozen=True)
class Row:
    """One line of the results table: a method at one operating point on the test split."""

    label: str
    setting: str
    score: ev.Score


@dataclass(frozen=True)
class Curve:
    label: str
    points: Sequence[ev.SweepPoint]
    marks: Sequence[tuple[str, ev.Score]] = ()  # operating points drawn on the curve


def _pct(x: float) -> str:
    return "—" if x != x else f"{100 * x:.1f}"


def original_copy_recall(s: ev.Score) -> float:
    """Recall over (original, copy) pairs only: what a user looking for copies of a photo sees."""
    pairs = [v for k, v in s.recall_by_transform.items() if k != ev.COPY_COPY]
    total = sum(t for _, t in pairs)
    return sum(f for f, _ in pairs) / total if total else float("nan")


def main_table(rows: Sequence[Row]) -> str:
    head = (
        "| method | setting | precision % | recall % | F1 % | recall orig-copy % | TP | FP "
        "| FP same-palette | FP same-source-crop | FP other | variant pairs flagged |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    lines = []
    for r in rows:
        s = r.score
        lines.append(
            f"| {r.label} | {r.setting} | {_pct(s.precision)} | {_pct(s.recall)} | {_pct(s.f1)} "
            f"| {_pct(original_copy_recall(s))} | {s.tp} | {s.fp} | {s.fp_by_kind['same-palette']} "
            f"| {s.fp_by_kind['same-source-crop']} | {s.fp_by_kind['other']} "
            f"| {s.variant_pairs[0]}/{s.variant_pairs[1]} |"
        )
    return head + "\n".join(lines) + "\n"


def transform_table(rows: Sequence[Row], order: Sequence[str]) -> str:
    """Recall % per transform (rows) for each method/setting (columns)."""
    names = [n for n in order if any(n in r.score.recall_by_transform for r in rows)]
    head = "| transform | pairs | " + " | ".join(f"{r.label} {r.setting}" for r in rows) + " |\n"
    head += "|---|---:|" + "---:|" * len(rows) + "\n"
    lines = []
    for n in names:
        total = rows[0].score.recall_by_transform.get(n, (0, 0))[1]
        cells = " | ".join(_pct(r.score.transform_recall(n)) for r in rows)
        lines.append(f"| {n} | {total} | {cells} |")
    return head + "\n".join(lines) + "\n"


COLOURS = [(200, 80, 30), (40, 140, 40), (30, 30, 200), (160, 40, 160), (0, 140, 200)]


def plot_pr(curves: Sequence[Curve], path: Path, title: str) -> None:
    """Precision (y) against recall (x), one polyline per curve, drawn with OpenCV."""
    w, h, left, right, top, bottom = 960, 720, 80, 230, 50, 70
    img = np.full((h, w, 3), 255, dtype=np.uint8)
    pw, ph = w - left - right, h - top - bottom

    def xy(recall: float, precision: float) -> tuple[int, int]:
        return (round(left + recall * pw), round(top + (1 - precision) * ph))

    font = cv2.FONT_HERSHEY_SIMPLEX
    for k in range(11):
        v = k / 10
        cv2.line(img, xy(v, 0), xy(v, 1), (225, 225, 225), 1)
        cv2.line(img, xy(0, v), xy(1, v), (225, 225, 225), 1)
        x, y = xy(v, 0)
        cv2.putText(img, f"{v:.1f}", (x - 12, y + 20), font, 0.45, (60, 60, 60), 1, cv2.LINE_AA)
        x, y = xy(0, v)
        cv2.putText(img, f"{v:.1f}", (x - 35, y + 5), font, 0.45, (60, 60, 60), 1, cv2.LINE_AA)
    cv2.rectangle(img, xy(0, 1), xy(1, 0), (0, 0, 0), 1)
    cv2.putText(img, "recall", (left + pw // 2 - 25, h - 20), font, 0.6, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(img, "precision", (5, top - 15), font, 0.6, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(img, title, (left + 90, top - 15), font, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
    for k, c in enumerate(curves):
        colour = COLOURS[k % len(COLOURS)]
        pts = [xy(p.recall, p.precision) for p in sorted(c.points, key=lambda p: p.threshold)]
        pts = [p for p, q in zip(pts, [None, *pts], strict=False) if p != q]
        if len(pts) > 1:
            cv2.polylines(img, [np.array(pts, np.int32)], False, colour, 2, cv2.LINE_AA)
        for m, (_, s) in enumerate(c.marks):
            centre = xy(s.recall, s.precision)
            if m == 0:
                cv2.circle(img, centre, 6, colour, 2, cv2.LINE_AA)
            else:
                x, y = centre
                cv2.rectangle(img, (x - 5, y - 5), (x + 5, y + 5), colour, 2)
        ly = top + 20 + 24 * k
        cv2.line(img, (w - right + 15, ly - 5), (w - right + 45, ly - 5), colour, 3)
        cv2.putText(img, c.label, (w - right + 52, ly), font, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    ly = top + 20 + 24 * len(curves) + 10
    cv2.circle(img, (w - right + 30, ly - 5), 6, (0, 0, 0), 2, cv2.LINE_AA)
    cv2.putText(img, "fixed setting", (w - right + 52, ly), font, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.rectangle(img, (w - right + 25, ly + 14), (w - right + 35, ly + 24), (0, 0, 0), 2)
    cv2.putText(img, "tuned on 'tune'", (w - right + 52, ly + 24), font, 0.5, (0, 0, 0), 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), img)
