"""The markdown report of bench_ui_load.py: what each part measured, against its target.

Apart from the measuring code because it only formats the dicts the parts return (and says
how each figure was taken), so the wording can change without touching what is timed.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

import textual

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ui_load_common import PACE, SIZE, pct  # noqa: E402
from ui_load_tmux import POLL  # noqa: E402

KEY_TARGET_MS = 100.0
CANCEL_UI_TARGET_MS = 200.0


def escdelay_text() -> str:
    if "ESCDELAY" in os.environ:
        return f"{os.environ['ESCDELAY']} ms, from the environment"
    return "25 ms, the app's default"


def fmt_ms(seconds: float | None) -> str:
    return "?" if seconds is None else f"{seconds * 1000:,.1f} ms"


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def key_rows(where: str, keys: dict[str, list], any_col: bool) -> list[str]:
    rows, every = [], []
    for kind in keys:
        got = keys.get(kind, [])
        if not got:
            continue
        ms = [(g[0] if any_col else g) * 1000 for g in got]
        every += ms
        extra = f" | {pct([g[1] * 1000 for g in got], 0.5):,.1f}" if any_col else ""
        rows.append(
            f"| {where} | {kind} | {len(ms)} | {pct(ms, 0.5):,.1f} | {pct(ms, 0.95):,.1f} | "
            f"{max(ms):,.1f}{extra} |"
        )
    if every:
        p50, p95 = pct(every, 0.5), pct(every, 0.95)
        extra = " | " if any_col else ""
        rows.append(
            f"| {where} | **all keys** (target p95 < {KEY_TARGET_MS:.0f} ms: "
            f"{verdict(p95 < KEY_TARGET_MS)}) | {len(every)} | **{p50:,.1f}** | **{p95:,.1f}** | "
            f"{max(every):,.1f}{extra} |"
        )
    return rows


def report(
    args, base: dict | None, pilot: dict | None, term: dict | None, load0, load1, t_run: float
) -> str:
    cmd = "python benchmarks/bench_ui_load.py" + (
        "" if args.argv_text == "" else f" {args.argv_text}"
    )
    lines = [
        "# UI latency under a cold scan, and cancel",
        "",
        f"Command: `{cmd}`, run from the project root in the venv.",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M')}; {platform.machine()}, {os.cpu_count()} CPUs; "
        f"Python {platform.python_version()}, Textual {textual.__version__}; tree "
        f"`{os.path.relpath(args.tree, ROOT)}` scanned cold (`use_cache=False`, "
        f'`preview="none"` for the scan, "halfblock" for part 4; decode threads: '
        f"{args.workers or 'default, two per core'}), "
        f"terminal {SIZE[0]}×{SIZE[1]}. Load average (1/5/15 min) "
        f"{load0[0]:.1f}/{load0[1]:.1f}/{load0[2]:.1f} at the start, "
        f"{load1[0]:.1f}/{load1[1]:.1f}/{load1[2]:.1f} at the end (which includes this "
        f"benchmark's own scans); whole run {t_run:.0f} s.",
        "",
        "Keys per cycle: ctrl+p, three letters, then enter on the Errors hit + escape (even "
        "cycles) or escape closing the palette (odd cycles); each key waits for its visible "
        f"result, then {PACE * 1000:.0f} ms. See the script's docstring for exactly what is "
        "timed.",
        "",
    ]
    if pilot is not None:
        ph = pilot["phase"]
        rate = (ph["done_after"] - ph["done_before"]) / ph["seconds"]
        leaked = "no (BUG: an escape reached the scan screen)" if ph["stopped_by_keys"] else "yes"
        lines += [
            "## 1. Keys during the scan, headless (Pilot)",
            "",
            "Latency = key event sent → first composed screen update that shows the key's "
            "effect. *Any frame* = first update of any kind after the key (often a progress "
            "repaint). *Idle screen* is the control: the same screen and progress repaints "
            "with the engine replaced by a stub that decodes nothing.",
            "",
            "| where | key → visible result | n | p50 ms | p95 ms | max ms | p50 any frame ms |",
            "|---|---|---:|---:|---:|---:|---:|",
            *(key_rows("idle screen", base["keys"], any_col=True) if base else []),
            *key_rows("**scanning**", pilot["keys"], any_col=True),
            "",
            f"{pilot['cycles']} cycles in {ph['seconds']:.1f} s. The scan kept going: "
            f"{ph['done_before']:,} → {ph['done_after']:,} of {ph['total']:,} files "
            f"({rate:,.0f} files/s, {ph['decodes']:,} decodes during the key phase); stage at "
            f"the end: {ph['stage_after']}; stop flag untouched by the keys: "
            f"{leaked}.",
            "",
        ]
        c = pilot["cancel"]
        worker_target = max(1.0, c["longest_in_flight"])
        ui, ui_any = c["ui_visible"], c["ui_any"]
        ui_any_text = "lost" if ui_any is None else f"{ui_any * 1000:,.1f} ms"
        lines += [
            "## 2. Cancel (escape on the scan screen, headless)",
            "",
            "| measure | value | target | verdict |",
            "|---|---:|---|---|",
            f'| escape → first frame showing "stopping" | '
            f"{'lost' if ui is None else f'{ui * 1000:,.1f} ms'} | < "
            f"{CANCEL_UI_TARGET_MS:.0f} ms | "
            f"{verdict(ui is not None and ui * 1000 < CANCEL_UI_TARGET_MS)} |",
            f"| escape → first frame of any kind | {ui_any_text} | – | – |",
            f"| escape → stop flag set | {c['flag_set'] * 1000:,.1f} ms | – | – |",
            f"| escape → scan worker's `scan()` returned | {c['worker_done'] * 1000:,.1f} ms | "
            f"≤ max(1 s, longest decode in flight) = {worker_target * 1000:,.0f} ms | "
            f"{verdict(c['worker_done'] <= worker_target)} |",
            f"| stop flag → `scan()` returned | {c['worker_after_flag'] * 1000:,.1f} ms (decode "
            f"pool drained after {fmt_ms(c['pool_after_flag'])}, then the feature store build "
            f"took {fmt_ms(c['build'])}) | – | – |",
            f"| escape → Textual's scan worker finished (`is_finished`, polled every 10 ms) | "
            f"{c['worker_state'] * 1000:,.1f} ms | – | – |",
            f"| decodes in flight when the flag was set | {c['in_flight']} (longest "
            f"{c['longest_in_flight'] * 1000:,.1f} ms; last ended "
            f"{c['last_in_flight_end'] * 1000:,.1f} ms after the flag) | – | – |",
            f"| `compute_row` calls started after the flag was set | "
            f"{c['started_after_flag']} | 0 | {verdict(c['started_after_flag'] == 0)} |",
            f"| `compute_row` calls started between the key and the flag | "
            f"{c['started_after_press'] - c['started_after_flag']} | – (the key's own latency) "
            f"| – |",
            "",
            f"Files hashed when stopped: {c['hashed']:,} ({c['decodes_total']:,} "
            "`compute_row` calls in this scan).",
            "",
        ]
    if term is not None:
        lines += ["## 3. Keys during the scan, through tmux", ""]
        if "skipped" in term:
            lines += [f"Skipped: {term['skipped']}.", ""]
        else:
            cancel = term["cancel"]
            shown = " ".join(
                os.path.relpath(a, ROOT) if a.startswith("/") else a for a in term["argv"]
            )
            lines += [
                f"`{shown}`"
                f" in tmux {SIZE[0]}×{SIZE[1]} (private socket). "
                + (
                    "Latency = before a `tmux send-keys` client is spawned → the `tmux "
                    "capture-pane -p` client that first shows the change has returned: it "
                    "includes two tmux client processes and the polling (median capture "
                    f"{term['capture_ms']:.1f} ms, then {POLL * 1000:.0f} ms sleep). "
                    if term.get("clients")
                    else "Keys and reads are commands of one tmux control-mode client "
                    "(`tmux -C`). Latency = `send-keys` written → the `capture-pane -p` that "
                    f"first shows the change has returned; the pane is read every "
                    f"{POLL * 1000:.0f} ms (median capture {term['capture_ms']:.1f} ms). "
                )
                + "Escapes include ESCDELAY "
                f"({escdelay_text()}: a lone ESC byte waits for a possible escape sequence); "
                "tmux's escape-time does not apply to `send-keys`.",
                "",
                "| where | key → visible result | n | p50 ms | p95 ms | max ms |",
                "|---|---|---:|---:|---:|---:|",
                *key_rows("tmux", term["keys"], any_col=False),
                "",
                f"{term['cycles']} cycles; scan still hashing at the end: "
                f"{'yes' if term['still_hashing'] else 'no'}. Escape on the scan screen → "
                f'"stopping" on the terminal: '
                f"{'not seen' if cancel is None else f'{cancel * 1000:,.1f} ms'} (target < "
                f"{CANCEL_UI_TARGET_MS:.0f} ms: "
                f"{verdict(cancel is not None and cancel * 1000 < CANCEL_UI_TARGET_MS)}); "
                f"ctrl+q then: exit status {term['exit']}.",
                "",
            ]
    review = (pilot or {}).get("review")
    if review is not None:
        lines += ["## 4. Review screen keys, headless (Pilot)", ""]
        if "skipped" in review:
            lines += [f"Skipped: {review['skipped']}.", ""]
        else:
            lines += [
                f"After the cancel, on the review screen of the partial result "
                f"({review['pairs']:,} pairs; preview pane in half-block mode, thumbnails "
                "decoded in a worker as the cursor moves). Per cycle: down, pagedown, o, "
                "space, p, g, g, d, escape, ?, escape; each key waits for its visible result "
                f"(the cursor, sort column, mark count, pane or screen changed in a composed "
                f"frame), then {PACE * 1000:.0f} ms. There is no scan at this point: the review "
                "screen exists only once a scan has ended.",
                "",
                "| where | key → visible result | n | p50 ms | p95 ms | max ms | "
                "p50 any frame ms |",
                "|---|---|---:|---:|---:|---:|---:|",
                *key_rows("review", review["keys"], any_col=True),
                "",
                f"{review['cycles']} cycles in {review['seconds']:.1f} s.",
                "",
            ]
    if load0[0] > (os.cpu_count() or 1):
        lines += [
            "**The machine was busy (load average above the CPU count) during this run: "
            "the latencies are upper bounds; rerun on an idle machine for representative "
            "numbers.**",
            "",
        ]
    return "\n".join(lines)
