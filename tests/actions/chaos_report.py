"""The chaos harness's records: one finished command, one failure, the figures of a run and
the report a failing test prints (seed, how to replay it, the step log, what was lost where).

Kept apart from chaos.py so the step loop reads as the sequence of events it is; these are
only what is written down about it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from chaos_world import Variant, World


@dataclass
class Cmd:
    """One finished dedup-tui process."""

    argv: list[str]
    user: str
    rc: int
    out: str
    err: str
    seconds: float
    killed: bool = False

    @property
    def crashed(self) -> bool:
        """An unexpected exception: a traceback, or the CLI's one-line report of one."""
        return (
            "Traceback (most recent call last)" in self.err or "--debug shows the trace" in self.err
        )

    @property
    def refused(self) -> bool:
        """Stopped with a message (not a crash, not our kill)."""
        return not self.killed and not self.crashed and self.rc != 0 and bool(self.err.strip())

    @property
    def skipped(self) -> int:
        return sum(int(n) for n in re.findall(r"skipped (\d+)", self.out))

    def line(self, w: World) -> str:
        args = " ".join(_quote(a) for a in self.argv)
        how = f"KILLED after {self.seconds:.2f}s" if self.killed else f"rc {self.rc}"
        err, out = w.short(self.err), w.short(self.out)
        if self.killed or self.rc != 0:
            tail = _last_line(err) or _last_line(out)
        else:
            tail = _last_line(out) or _last_line(err)
        return w.short(f"[{self.user}] $ dedup-tui {args} → {how}" + (f": {tail}" if tail else ""))


@dataclass
class Failure:
    step: int
    kind: str  # "lost", "outside", "crash", "hang"
    lines: list[str]


@dataclass
class Figures:
    """What a run did; added up over seeds by the long run."""

    seeds: int = 0
    steps: int = 0
    commands: Counter = field(default_factory=Counter)
    interference: Counter = field(default_factory=Counter)
    kills_landed: int = 0
    kills_missed: int = 0  # the process finished before the signal
    refusals: int = 0
    refusal_reasons: Counter = field(default_factory=Counter)  # message with paths/numbers elided
    crashes: int = 0
    skipped_files: int = 0
    contents_lost: int = 0
    files_lost: int = 0  # paths that held the lost contents just before the step
    outside_changes: int = 0
    hangs: int = 0
    excused: int = 0  # contents whose last copy the interference removed
    near_copies_deleted: int = 0  # contents a permanent delete removed while their keeper stayed
    seconds: float = 0.0

    def add(self, o: Figures) -> None:
        for name in self.__dataclass_fields__:
            a, b = getattr(self, name), getattr(o, name)
            setattr(self, name, a + b)

    def lines(self) -> list[str]:
        cmds = ", ".join(f"{k} {v}" for k, v in sorted(self.commands.items()))
        intf = ", ".join(f"{k} {v}" for k, v in sorted(self.interference.items()))
        return [
            f"seeds {self.seeds}, steps {self.steps}, {self.seconds:.1f} s",
            f"commands: {cmds}",
            f"interference: {intf}",
            f"kill -9: {self.kills_landed} landed, {self.kills_missed} missed (process done first)",
            f"refusals (exit ≠ 0 with a message): {self.refusals}; files skipped by apply: "
            f"{self.skipped_files}; tracebacks: {self.crashes}; hangs: {self.hangs}",
            f"contents lost: {self.contents_lost} ({self.files_lost} files); outside changes: "
            f"{self.outside_changes}",
            f"excused (the interference removed the last copy): {self.excused}; "
            f"near copies removed by a permanent delete, keeper kept: {self.near_copies_deleted}",
            *(f"  refused {n}×: {why}" for why, n in self.refusal_reasons.most_common(8)),
        ]


@dataclass
class Report:
    seed: int
    variant: Variant
    steps: int
    log: list[str]
    failures: list[Failure]
    figures: Figures

    def message(self) -> str:
        first = self.failures[0].step if self.failures else None
        head = f"chaos seed {self.seed} ({self.variant.label()}): "
        head += f"FAILED at step {first}" if self.failures else "passed"
        out = [
            head,
            f"re-run this exact sequence: CHAOS_SEEDS={self.seed} CHAOS_STEPS={self.steps} "
            "pytest -q -p no:cacheprovider tests/actions/test_chaos.py",
            "step log ($T = the test's folder):",
            *("  " + line for line in self.log),
        ]
        for f in self.failures:
            out.append(f"failure at step {f.step} ({f.kind}):")
            out += ["  " + line for line in f.lines]
        return "\n".join(out)


def _quote(a: str) -> str:
    return repr(a) if (" " in a or not a) else a


def refusal_reason(err: str) -> str:
    """A refusal's message with names and numbers elided, so equal reasons count together."""
    line = _last_line(err)
    line = re.sub(r"'[^']*'", "'…'", line)
    line = re.sub(r"\(pid [^)]*\)", "(pid …)", line)
    return re.sub(r"\d+", "N", line)[:160]


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:200] if lines else ""
