"""Run duplicate finders on the generated ~/Pictures library and score them against truth.json.

    python benchmarks/library/run_library.py [--data DIR] [--dedup-args "--crop-tolerant"]
                                             [--tools dedup dedup-strict phash pdq czkawka]

Every tool scans the whole ``<data>/Pictures`` folder once. Scores are given for the ``report``
half and, separately, the ``tune`` half (see README.md for how pairs are counted), per content
kind and per copy kind. Writes ``results/library.md`` and ``results/library.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
HALVES = ("report", "tune")
PHASH_MAX = 10  # imagehash pHash: Hamming <= 10 of 64
PDQ_MAX = 31  # PDQ: the usual match threshold, <= 31 of 256
PDQ_SIDE = 1024  # decoded images are scaled to this long side (INTER_AREA) before PDQ

Pair = tuple[str, str]


# --------------------------------------------------------------------------------------------
# Tools: each returns (duplicate pairs, "similar" pairs, notes); paths relative to <data>.


@dataclass
class ToolRun:
    name: str
    label: str
    pairs: set[Pair]
    similar: set[Pair] = field(default_factory=set)
    seconds: float = 0.0
    note: str = ""
    ok: bool = True


def _pair(a: str, b: str) -> Pair:
    return (a, b) if a < b else (b, a)


def _rel(path: str, data: Path) -> str:
    return Path(path).resolve().relative_to(data.resolve()).as_posix()


def run_dedup(data: Path, args: list[str]) -> tuple[set[Pair], set[Pair], str]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "scan.json"
        cmd = ["dedup-tui", "scan", str(data / "Pictures"), "--format", "json", "--no-cache"]
        cmd += ["-q", "-o", str(out), *args]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"{shlex.join(cmd)} failed: {r.stderr.strip()[-500:]}")
        doc = json.loads(out.read_text())
    pairs = {_pair(_rel(p["a"], data), _rel(p["b"], data)) for p in doc["pairs"]}
    similar = {_pair(_rel(p["a"], data), _rel(p["b"], data)) for p in doc.get("similar", [])}
    note = f"{len(doc.get('errors', []))} errors" if doc.get("errors") else ""
    return pairs, similar, note


def _open_pil(path: str):
    from PIL import Image

    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
    except ImportError:  # pragma: no cover
        pass
    return Image.open(path)


def _phash_one(path: str) -> int:
    import imagehash

    with _open_pil(path) as im:  # no EXIF transpose: how the library is usually called
        bits = imagehash.phash(im, hash_size=8).hash.ravel()
    return int(np.packbits(bits).view(">u8")[0])


def _pdq_one(path: str) -> tuple[np.ndarray, int]:
    import cv2
    import pdqhash

    img = cv2.imread(path, cv2.IMREAD_COLOR)  # applies the EXIF orientation
    if img is None:  # HEIC and other formats OpenCV lacks
        from PIL import ImageOps

        with _open_pil(path) as im:
            rgb = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
    else:
        rgb = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    h, w = rgb.shape[:2]
    if max(h, w) > PDQ_SIDE:
        f = PDQ_SIDE / max(h, w)
        rgb = cv2.resize(rgb, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)
    hashes, quality = pdqhash.compute_dihedral(np.ascontiguousarray(rgb))
    packed = np.stack([np.packbits(np.asarray(x, dtype=np.uint8)) for x in hashes])
    return packed, int(quality)


def _map(fn: Callable, items: list[str], workers: int) -> list:
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fn, items, chunksize=8))


def _files(data: Path, truth: dict) -> list[str]:
    return [f["path"] for f in truth["files"]]


def run_phash(data: Path, truth: dict, workers: int) -> tuple[set[Pair], set[Pair], str]:
    rels = _files(data, truth)
    h = np.array(_map(_phash_one, [str(data / r) for r in rels], workers), dtype=np.uint64)
    i, j = np.triu_indices(len(h), k=1)
    d = np.bitwise_count(h[i] ^ h[j])
    keep = d <= PHASH_MAX
    return {_pair(rels[a], rels[b]) for a, b in zip(i[keep], j[keep], strict=True)}, set(), ""


def run_pdq(data: Path, truth: dict, workers: int) -> tuple[set[Pair], set[Pair], str]:
    rels = _files(data, truth)
    rows = _map(_pdq_one, [str(data / r) for r in rels], workers)
    dihedral = np.stack([r[0] for r in rows])  # files x 8 x 32 bytes
    quality = np.array([r[1] for r in rows])
    ident = dihedral[:, 0, :]
    pairs = set()
    for a in range(len(rels)):
        # A as stored against every rotation / mirror of each later file B
        x = np.bitwise_xor(dihedral[a + 1 :], ident[a][None, None, :])
        dist = np.unpackbits(x, axis=2).sum(axis=2).min(axis=1)
        for b in np.flatnonzero(dist <= PDQ_MAX):
            pairs.add(_pair(rels[a], rels[a + 1 + b]))
    low = int((quality < 50).sum())
    return pairs, set(), f"{low} files with PDQ quality < 50 (kept)"


def run_czkawka(data: Path, similarity: int | None) -> tuple[set[Pair], set[Pair], str]:
    from czkawka import ImageSimilarity

    finder = ImageSimilarity()
    finder.set_directories([data / "Pictures"])
    if similarity is not None:
        finder.set_similarity(similarity)
    pairs = set()
    for group in finder.find_similar():
        rels = sorted({_rel(str(p), data) for p in group})
        pairs |= {_pair(a, b) for k, a in enumerate(rels) for b in rels[k + 1 :]}
    return pairs, set(), "a group counts as all pairs of its members"


# --------------------------------------------------------------------------------------------
# Scoring


class Truth:
    def __init__(self, doc: dict):
        self.files = {f["path"]: f for f in doc["files"]}
        self.fam: dict[str, list[str]] = defaultdict(list)
        for p, f in self.files.items():
            self.fam[f["family"]].append(p)
        self.original = {
            f["family"]: p for p, f in self.files.items() if f["copy_kind"] == "original"
        }

    def half_of(self, pair: Pair) -> str:
        a, b = (self.files[p]["split"] for p in pair)
        return "report" if "report" in (a, b) else "tune"

    def label(self, pair: Pair) -> str:
        a, b = (self.files[p] for p in pair)
        if a["family"] == b["family"]:
            return "copy"
        if a["shot_group"] and a["shot_group"] == b["shot_group"]:
            return "similar"
        return "different"

    def fp_category(self, pair: Pair) -> str:
        a, b = (self.files[p] for p in pair)
        if a["lookalike"] and a["lookalike"] == b["lookalike"]:
            return f"look-alike set: {a['lookalike']}"
        if a["kind"] == b["kind"] == "photo" and a["unit"] == b["unit"]:
            return "photo: parts of one source photograph"
        ka, kb = sorted((a["kind"], b["kind"]))
        return f"{ka} vs {kb}" if ka != kb else f"{ka} vs {ka} (unrelated)"


def _ratio(n: int, d: int) -> str:
    return f"{n}/{d}" if d else "–"


def score(run: ToolRun, truth: Truth) -> dict:
    out: dict = {}
    for half in HALVES:
        files = [p for p, f in truth.files.items() if f["split"] == half]
        pairs = [p for p in run.pairs if truth.half_of(p) == half]
        labels = Counter(truth.label(p) for p in pairs)
        true_total = sum(
            len(m) * (len(m) - 1) // 2
            for m in truth.fam.values()
            if truth.files[m[0]]["split"] == half
        )
        partner: dict[str, set[str]] = defaultdict(set)
        for a, b in pairs:
            if truth.label((a, b)) == "copy":
                partner[a].add(b)
                partner[b].add(a)
        copies = [p for p in files if truth.files[p]["copy_kind"] != "original"]
        found = [p for p in copies if partner[p]]
        with_orig = [p for p in copies if truth.original[truth.files[p]["family"]] in partner[p]]
        tp, fp = labels["copy"], labels["different"]
        kinds: dict = defaultdict(lambda: Counter())
        for p in files:
            f = truth.files[p]
            k = kinds[f["kind"]]
            k["files"] += 1
            if f["copy_kind"] != "original":
                k["copies"] += 1
                k["copies_found"] += bool(partner[p])
        for members in truth.fam.values():
            f = truth.files[members[0]]
            if f["split"] == half:
                kinds[f["kind"]]["true_pairs"] += len(members) * (len(members) - 1) // 2
        diff_pairs, sim_pairs = [], []
        diff_fams: dict[frozenset, Pair] = {}  # pairs of different pictures, once each
        sim_fams: set[frozenset] = set()
        for p in pairs:
            lab = truth.label(p)
            fams = frozenset(truth.files[x]["family"] for x in p)
            if lab == "copy":
                kinds[truth.files[p[0]]["kind"]]["true_found"] += 1
            elif lab == "different":
                diff_pairs.append(p)
                diff_fams.setdefault(fams, p)
            else:
                sim_pairs.append(p)
                sim_fams.add(fams)
        for p in diff_fams.values():
            for k in {truth.files[x]["kind"] for x in p}:
                kinds[k]["different"] += 1
        for fams in sim_fams:
            kinds[truth.files[truth.original[next(iter(fams))]]["kind"]]["similar"] += 1
        sim_total = 0
        groups: dict[str, set[str]] = defaultdict(set)
        for f in truth.files.values():
            if f["shot_group"] and f["split"] == half:
                groups[f["shot_group"]].add(f["family"])
        for fams_in in groups.values():
            n_pairs = len(fams_in) * (len(fams_in) - 1) // 2
            sim_total += n_pairs
            kind = truth.files[truth.original[next(iter(fams_in))]]["kind"]
            kinds[kind]["similar_total"] += n_pairs
        copy_kinds: dict = defaultdict(lambda: Counter())
        for p in copies:
            ck = copy_kinds[truth.files[p]["copy_kind"]]
            ck["total"] += 1
            ck["found"] += bool(partner[p])
            ck["with_original"] += p in with_orig
        sim_list = [p for p in run.similar if truth.half_of(p) == half]
        out[half] = {
            "files": len(files),
            "pairs_reported": len(pairs),
            "true_pairs_found": tp,
            "true_pairs_total": true_total,
            "different_picture_pairs": len(diff_fams),
            "different_file_pairs": fp,
            "similar_shot_pairs": len(sim_fams),
            "similar_shot_pairs_total": sim_total,
            "similar_file_pairs": labels["similar"],
            "copies_found": len(found),
            "copies_paired_with_original": len(with_orig),
            "copies_total": len(copies),
            "precision": tp / (tp + fp) if tp + fp else 1.0,
            "by_kind": {k: dict(v) for k, v in sorted(kinds.items())},
            "by_copy_kind": {k: dict(v) for k, v in sorted(copy_kinds.items())},
            "different_by_category": dict(
                Counter(truth.fp_category(p) for p in diff_fams.values())
            ),
            "different_pairs": sorted(diff_pairs),
            "similar_pairs": sorted(sim_pairs),
            "missed_copies": sorted(set(copies) - set(found)),
            "similar_list": {
                "pairs": len(sim_list),
                "labels": dict(Counter(truth.label(p) for p in sim_list)),
            },
        }
    return out


# --------------------------------------------------------------------------------------------
# Report


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def markdown(runs: list[ToolRun], scores: dict, truth_doc: dict, meta: dict) -> str:
    lines = ["# Realistic ~/Pictures library: duplicate finders compared", ""]
    files = truth_doc["files"]
    n = {h: sum(f["split"] == h for f in files) for h in HALVES}
    lines += [
        f"Generated by `benchmarks/library/run_library.py` on {meta['date']}; library: "
        f"{len(files)} files ({n['report']} report, {n['tune']} tune), built by "
        "`build_library.py`. One scan per tool over the whole folder; a pair is in the report "
        "half if either file is (cross-half pairs can only be pairs of different pictures). "
        "See `benchmarks/library/README.md`.",
        "",
    ]
    for half in HALVES:
        lines += [
            f"## {half.capitalize()} half",
            "",
            "| tool | file pairs reported | different pictures paired (file pairs) "
            "| similar shots paired | copy pairs found | copies found "
            "| copies paired with their original | precision | wall time |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in runs:
            if not r.ok:
                lines.append(f"| {r.label} | failed: {r.note} | | | | | | | |")
                continue
            s = scores[r.name][half]
            lines.append(
                f"| {r.label} | {s['pairs_reported']} | {s['different_picture_pairs']} "
                f"({s['different_file_pairs']}) "
                f"| {_ratio(s['similar_shot_pairs'], s['similar_shot_pairs_total'])} "
                f"| {_ratio(s['true_pairs_found'], s['true_pairs_total'])} "
                f"| {_ratio(s['copies_found'], s['copies_total'])} "
                f"| {_ratio(s['copies_paired_with_original'], s['copies_total'])} "
                f"| {_pct(s['precision'])} | {r.seconds:.1f} s |"
            )
        lines.append("")
    ok = [r for r in runs if r.ok]
    for half in HALVES:
        kinds = sorted({k for r in ok for k in scores[r.name][half]["by_kind"]})
        lines += [
            f"### Per content kind ({half} half)",
            "",
            "Each cell: copies found / copies · pairs of different pictures involving this "
            "kind (a pair of two kinds counts in both rows) · for bursts and stereo pairs, "
            "similar shots paired / pairs of similar shots.",
            "",
            "| kind | files | " + " | ".join(r.label for r in ok) + " |",
            "|---|---:|" + "---|" * len(ok),
        ]
        for k in kinds:
            cells = []
            for r in ok:
                c = scores[r.name][half]["by_kind"].get(k, {})
                cell = f"{_ratio(c.get('copies_found', 0), c.get('copies', 0))} · "
                cell += f"{c.get('different', 0)}"
                if k in ("burst", "stereo"):
                    cell += f" · {_ratio(c.get('similar', 0), c.get('similar_total', 0))}"
                cells.append(cell)
            files_k = scores[ok[0].name][half]["by_kind"].get(k, {}).get("files", 0)
            lines.append(f"| {k} | {files_k} | " + " | ".join(cells) + " |")
        lines.append("")
    for half in HALVES:
        cks = sorted({k for r in ok for k in scores[r.name][half]["by_copy_kind"]})
        lines += [
            f"### Per copy kind ({half} half): copies found / copies",
            "",
            "| copy kind | " + " | ".join(r.label for r in ok) + " |",
            "|---|" + "---:|" * len(ok),
        ]
        for ck in cks:
            cells = []
            for r in ok:
                c = scores[r.name][half]["by_copy_kind"].get(ck, {})
                cells.append(_ratio(c.get("found", 0), c.get("total", 0)))
            lines.append(f"| {ck} | " + " | ".join(cells) + " |")
        lines.append("")
    for half in HALVES:
        cats = sorted({c for r in ok for c in scores[r.name][half]["different_by_category"]})
        if not cats:
            continue
        lines += [
            f"### Different pictures paired, by what they are ({half} half)",
            "",
            "| pair of | " + " | ".join(r.label for r in ok) + " |",
            "|---|" + "---:|" * len(ok),
        ]
        for c in cats:
            vals = [str(scores[r.name][half]["different_by_category"].get(c, 0)) for r in ok]
            lines.append(f"| {c} | " + " | ".join(vals) + " |")
        lines.append("")
    sim = [r for r in ok if r.similar]
    if sim:
        lines += ["### dedup-tui `similar` list (not duplicate claims)", ""]
        for r in sim:
            for half in HALVES:
                s = scores[r.name][half]["similar_list"]
                lines.append(f"- {r.label}, {half}: {s['pairs']} pairs {s['labels']}")
        lines.append("")
    lines += ["## Notes", ""]
    lines += [f"- {r.label}: {r.note}" for r in runs if r.note]
    lines += [f"- {k}: {v}" for k, v in meta["versions"].items()]
    return "\n".join(lines) + "\n"


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("dedup-tui", "imagehash", "pdqhash", "czkawka", "pillow", "pillow-heif"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def main(argv: Iterable[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=HERE / "data")
    ap.add_argument("--results", type=Path, default=HERE / "results")
    ap.add_argument("--dedup-args", default="", help="extra arguments for dedup-tui's run")
    ap.add_argument(
        "--tools",
        nargs="+",
        default=["dedup", "dedup-strict", "phash", "pdq", "czkawka"],
        choices=["dedup", "dedup-strict", "phash", "pdq", "czkawka"],
    )
    ap.add_argument(
        "--czkawka-similarity",
        type=int,
        default=None,
        help="czkawka similarity 0-50 (default: the bindings' default, 10)",
    )
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    args = ap.parse_args(list(argv) if argv is not None else None)
    truth_path = args.data / "truth.json"
    if not truth_path.exists():
        print(f"{truth_path} missing: run build_library.py first", file=sys.stderr)
        return 2
    truth_doc = json.loads(truth_path.read_text())
    truth = Truth(truth_doc)
    extra = shlex.split(args.dedup_args)
    label_extra = f" `{args.dedup_args}`" if extra else ""
    czk = args.czkawka_similarity
    plan = {
        "dedup": (f"dedup-tui{label_extra or ', defaults'}", lambda: run_dedup(args.data, extra)),
        "dedup-strict": (
            f"dedup-tui `--threshold strict`{label_extra}",
            lambda: run_dedup(args.data, [*extra, "--threshold", "strict"]),
        ),
        "phash": (
            f"imagehash pHash, Hamming ≤ {PHASH_MAX}",
            lambda: run_phash(args.data, truth_doc, args.workers),
        ),
        "pdq": (
            f"PDQ + 8 dihedral, distance ≤ {PDQ_MAX}",
            lambda: run_pdq(args.data, truth_doc, args.workers),
        ),
        "czkawka": (
            f"czkawka (bindings), similarity {czk if czk is not None else '10 (default)'}",
            lambda: run_czkawka(args.data, czk),
        ),
    }
    runs, scores = [], {}
    for name in args.tools:
        label, fn = plan[name]
        t0 = time.perf_counter()
        try:
            pairs, similar, note = fn()
            run = ToolRun(name, label, pairs, similar, note=note)
        except Exception as exc:  # a peer that cannot run is reported, not fatal
            run = ToolRun(name, label, set(), ok=False, note=f"{type(exc).__name__}: {exc}")
        run.seconds = time.perf_counter() - t0
        runs.append(run)
        if run.ok:
            unknown = {p for pair in run.pairs for p in pair} - truth.files.keys()
            run.pairs = {p for p in run.pairs if p[0] in truth.files and p[1] in truth.files}
            if unknown:
                run.note += f"; {len(unknown)} files outside truth.json ignored"
            scores[name] = score(run, truth)
        print(f"{label}: {len(run.pairs)} pairs in {run.seconds:.1f} s {run.note}", file=sys.stderr)
    meta = {"date": time.strftime("%Y-%m-%d"), "versions": _versions()}
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "library.md").write_text(markdown(runs, scores, truth_doc, meta))
    doc = {
        "meta": meta,
        "tools": {
            r.name: {
                "label": r.label,
                "ok": r.ok,
                "seconds": round(r.seconds, 2),
                "note": r.note,
                "scores": scores.get(r.name),
            }
            for r in runs
        },
    }
    (args.results / "library.json").write_text(json.dumps(doc, indent=1, default=list) + "\n")
    print(f"\n{'tool':58s} half   pairs  diff  sim  copies found  precision")
    for r in runs:
        for half in HALVES:
            if not r.ok:
                print(f"{r.label:58s} failed")
                break
            s = scores[r.name][half]
            print(
                f"{r.label:58s} {half:6s} {s['pairs_reported']:5d} "
                f"{s['different_picture_pairs']:5d} {s['similar_shot_pairs']:4d} "
                f"{s['copies_found']:5d}/{s['copies_total']:<5d}  {_pct(s['precision'])}"
            )
    print(f"\nwrote {args.results / 'library.md'} and library.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
