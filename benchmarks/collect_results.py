"""Rebuild benchmarks/RESULTS.md: the hand-written summary stays, the figures below it are
copied from benchmarks/results/*.md (each written by its benchmark script).

    python benchmarks/collect_results.py
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
MARKER = "<!-- figures below are copied from benchmarks/results/ by collect_results.py -->"
ORDER = (
    "speed",
    "matching",
    "rescan",
    "table_latency",
    "ui_load",
    "review_gc",
    "apply",
    "chaos_long",
    "accuracy",
    "accuracy_peers",
    "library",
    "verdicts",
    "raw",
    "compare_latency",
    "compare_latency_tmux",
    "bursts",
)
#: Section titles other than the result's name.
TITLES = {
    "raw": "RAW files (issue #17)",
    "compare_latency": "Compare view keys, headless (issue #16)",
    "compare_latency_tmux": "Compare view keys through tmux (issue #16)",
    "bursts": "Bursts (issue #17)",
}
#: Results written somewhere else than results/<name>.md.
ELSEWHERE = {"library": HERE / "library" / "results" / "library.md"}


def main() -> None:
    target = HERE / "RESULTS.md"
    summary = target.read_text().split(MARKER)[0].rstrip() + "\n\n" + MARKER + "\n"
    parts = []
    for name in ORDER:
        f = ELSEWHERE.get(name, HERE / "results" / f"{name}.md")
        if f.exists():
            text = f.read_text().strip()
            text = text.replace("](pr_curve.png)", "](results/pr_curve.png)")
            # demote headings so each benchmark is a section of this page
            text = "\n".join("#" + ln if ln.startswith("#") else ln for ln in text.splitlines())
            title = TITLES.get(name, name.replace("_", " "))
            parts.append(f"\n## {title} (`results/{name}.md`)\n\n{text}\n")
    target.write_text(summary + "".join(parts))
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
