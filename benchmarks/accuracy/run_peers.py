"""Score imagehash's pHash/dHash/aHash on the accuracy dataset's test split.

    python benchmarks/accuracy/run_peers.py [--data DIR] [--out FILE]

Each method is scored at Hamming <= 10/64 (a common default) and at its own best-F1 threshold,
tuned on the ``tune`` split and applied unchanged to ``test``. Writes a markdown table (default
``benchmarks/results/accuracy_peers.md``) and the same numbers as JSON beside it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import peers  # noqa: E402
import report  # noqa: E402

from tui_dedup.engine import evaluate as ev  # noqa: E402

RESULTS = HERE.parent / "results"


def dataset_summary(truth: ev.Truth, split: str) -> str:
    mask = truth.in_split(split)
    s = ev.score(ev.label_index_pairs(truth, [], [], split=split))
    return (
        f"{int(mask.sum())} files of {len(truth)} in the `{split}` split, "
        f"{s.positives} duplicate pairs, {s.variant_pairs[1]} variant pairs (scored apart), "
        f"{s.partial_pairs[1]} part/whole pairs (scored apart); every other pair is negative."
    )


def peer_rows(results: list[peers.PeerResult]) -> list[report.Row]:
    rows = []
    for r in results:
        rows.append(report.Row(r.method, f"d<={peers.FIXED_DISTANCE}", r.fixed))
        rows.append(report.Row(r.method, f"d<={r.tuned_distance} (tuned)", r.tuned))
    return rows


def load(data: Path) -> ev.Truth:
    if not (data / "truth.json").exists():
        raise SystemExit(
            f"{data / 'truth.json'} not found: run benchmarks/accuracy/build_dataset.py first"
        )
    return ev.load_truth(data)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=HERE / "data")
    ap.add_argument("--out", type=Path, default=RESULTS / "accuracy_peers.md")
    args = ap.parse_args(argv)
    truth = load(args.data)
    t0 = time.perf_counter()
    results = peers.evaluate_peers(truth)
    elapsed = time.perf_counter() - t0
    rows = peer_rows(results)
    md = (
        "# Accuracy of imagehash peers (test split)\n\n"
        f"Made by `benchmarks/accuracy/run_peers.py` in {elapsed:.0f} s. "
        f"{dataset_summary(truth, 'test')} Pairwise precision/recall; thresholds tuned on the "
        "`tune` split only. See `benchmarks/accuracy/README.md`.\n\n"
        + report.main_table(rows)
        + "\n## Recall per transform (%)\n\n"
        + "A pair (original, copy) counts under the copy's transform; two copies of one base, "
        "or copies of different sizes of one artwork, count as `copy-copy`; two originals of "
        "one artwork at different sizes as `other-size`.\n\n"
        + report.transform_table(rows, truth.labels)
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(md)
    args.out.with_suffix(".json").write_text(
        json.dumps(
            [
                {
                    "method": r.method,
                    "tuned_distance": r.tuned_distance,
                    "fixed": asdict(r.fixed),
                    "tuned": asdict(r.tuned),
                }
                for r in results
            ],
            indent=1,
        )
        + "\n"
    )
    print(md)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
