"""Seeded "chaos" harness: random scan / plan / apply / undo runs of the real CLI, with random
interference between them, and an oracle after every step (issue #13, Proof).

Why processes and not function calls: a kill -9 must be a real one (no ``finally``, no atexit,
half-written journal lines), two "users" must really be two processes with their own state
dirs, and a plan file must travel through JSON as a user's does. Why seeded: a failure is only
worth something if it can be replayed; one ``random.Random`` per (seed, step) draws everything,
so a seed re-runs the same sequence of commands and interference, with the same arguments.
(Where a kill lands, and which of two concurrent processes gets the lock, depend on timing:
the files they leave may differ between two runs, and an interference whose first-drawn file
is gone then picks among the files there are. The sequence of step kinds does not change.)

The oracle, after every step:

- every picture content (BLAKE2b of the bytes) that was there at the start, or that the
  interference wrote, is still somewhere under the roots (hidden folders included), the
  --move-to folder or a trash. A content may disappear only in an interference step (the
  person deleted or overwrote its last copy: excused), or in a step that applied a permanent
  delete while a copy of the same picture (its "family": the generated image it came from,
  byte copy or re-encoded/resized) stays in a root outside any quarantine -- the keeper;
- nothing outside the roots, destinations, trashes, state and cache dirs changed (``outside/``
  holds sentinels and the targets of the symlinks the interference planted). One target
  becomes a destination: where the --move-to folder was swapped for a link, the folder it
  points to counts as chosen once a new plan or scan names --move-to again (a named folder is
  resolved when planning); an older plan or batch must never follow the link;
- no command died of an unexpected exception (a traceback, or the CLI's "--debug shows the
  traceback" line): a tool that cannot even start must not pass by doing nothing.

Entry points: :func:`run_seed` (one seed, a report), :func:`parse_seeds`; tests/actions/
test_chaos.py runs a fixed seed list, benchmarks/chaos_long.py a long run.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

import chaos_interfere
from chaos_report import Cmd, Failure, Figures, Report, refusal_reason
from chaos_world import Census, TmpfsUnavailable, Variant, World, snapshot_diff, variant_for

__all__ = [
    "Figures",
    "Report",
    "TmpfsUnavailable",
    "Variant",
    "parse_seeds",
    "run_seed",
    "variant_for",
]

CONSOLE_SCRIPT = os.path.join(os.path.dirname(sys.executable), "dedup-tui")
TIMEOUT = 120.0  # a command that runs longer hangs (two processes waiting on each other...)

STEP_WEIGHTS = {
    # commands
    "plan": 18,
    "apply": 20,
    "undo": 10,
    "scan": 5,
    # interference (kill and concurrent run commands too, and are judged like commands)
    "kill": 10,
    "concurrent": 5,
    "rewrite": 9,
    "swap": 6,
    "fill": 4,  # only where there is a small tmpfs
    "empty_quarantine": 6,
    "delete_by_hand": 6,
    "resync": 4,
}
COMMANDS = ("plan", "apply", "undo", "scan")
ACTION_WEIGHTS = {"move": 35, "trash": 20, "hardlink": 15, "symlink": 10, "delete": 20}
RULES = ("", "", "oldest", "newest", "shortest-path", "size", "resolution")


def dedup_argv() -> list[str]:
    if os.path.exists(CONSOLE_SCRIPT):
        return [CONSOLE_SCRIPT]
    return [sys.executable, "-m", "tui_dedup"]


def parse_seeds(text: str) -> list[int]:
    """``"17"`` → [17]; ``"1-40"`` → 1..40; ``"3,9,20-25"`` → both kinds."""
    out: list[int] = []
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        if "-" in part:
            a, b = part.split("-", 1)
            out += range(int(a), int(b) + 1)
        else:
            out.append(int(part))
    return out


@dataclass
class PlanFile:
    path: str
    action: str
    user: str
    step: int


class Chaos:
    """One seed's run: the step loop, the commands and the oracle."""

    def __init__(self, world: World, steps: int, stop_on_failure: bool = True) -> None:
        self.w = world
        self.steps = steps
        self.stop = stop_on_failure
        self.plans: list[PlanFile] = []
        self.log: list[str] = []
        self.failures: list[Failure] = []
        self.fig = Figures(seeds=1)
        self.n_cmd = 0
        self.running: dict[int, subprocess.Popen] = {}  # ours, killed if a step blows up
        self.crashed: list[Cmd] = []  # this step's commands that died of an exception
        self.logs = os.path.join(world.harness, "logs")
        os.makedirs(self.logs, exist_ok=True)
        os.makedirs(os.path.join(world.harness, "plans"), exist_ok=True)

    # -- running dedup-tui -----------------------------------------------------------------------
    def _start(self, args: list[str], user: str) -> tuple[subprocess.Popen, str, float]:
        self.n_cmd += 1
        stem = os.path.join(self.logs, f"{self.n_cmd:04d}-{args[0]}-{user}")
        with open(stem + ".out", "wb") as out, open(stem + ".err", "wb") as err:
            proc = subprocess.Popen(
                [*dedup_argv(), *args],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                cwd=self.w.cwd,
                env=self.w.env(user),
                start_new_session=True,  # its own process group: the kill reaches it all
            )
        self.running[proc.pid] = proc
        return proc, stem, time.monotonic()

    def _finish(self, proc, stem, t0, args, user, killed=False) -> Cmd:
        rc = proc.wait(timeout=max(1.0, TIMEOUT - (time.monotonic() - t0)))
        self.running.pop(proc.pid, None)
        with open(stem + ".out", "rb") as f:
            out = f.read().decode("utf-8", "replace")
        with open(stem + ".err", "rb") as f:
            err = f.read().decode("utf-8", "replace")
        cmd = Cmd(list(args), user, rc, out, err, time.monotonic() - t0, killed)
        self.fig.commands[args[0]] += 1
        self.fig.refusals += cmd.refused
        if cmd.refused:
            self.fig.refusal_reasons[refusal_reason(self.w.short(cmd.err))] += 1
        self.fig.crashes += cmd.crashed
        if cmd.crashed:
            self.crashed.append(cmd)
        self.fig.skipped_files += cmd.skipped
        return cmd

    def _run(self, args: list[str], user: str) -> Cmd:
        proc, stem, t0 = self._start(args, user)
        return self._finish(proc, stem, t0, args, user)

    def _run_and_kill(self, args: list[str], user: str, r: random.Random) -> Cmd:
        """Start, wait a random moment, SIGKILL. "blind": a delay from the start (may land in
        start-up); "active": once the process has written to its state dir (it is working)."""
        mode = r.choice(("blind", "active", "active"))
        delay = r.uniform(0.05, 0.3) if mode == "blind" else r.uniform(0.0, 0.06)
        state = self.w.state(user)
        sig0 = _signature(state)
        proc, stem, t0 = self._start(args, user)
        if mode == "active":
            while proc.poll() is None and time.monotonic() - t0 < 20:
                if _signature(state) != sig0:
                    break
                time.sleep(0.001)
        t1 = time.monotonic()
        while proc.poll() is None and time.monotonic() - t1 < delay:
            time.sleep(0.001)
        landed = proc.poll() is None
        if landed:
            os.killpg(proc.pid, signal.SIGKILL)
        self.fig.kills_landed += landed
        self.fig.kills_missed += not landed
        return self._finish(proc, stem, t0, args, user, killed=landed)

    def _kill_leftovers(self) -> None:
        """Processes of ours still running after a step (a hang, an error in the harness)."""
        for pid, proc in list(self.running.items()):
            if proc.poll() is None:
                os.killpg(pid, signal.SIGKILL)
                proc.wait()
            self.running.pop(pid, None)

    def _user(self, r: random.Random) -> str:
        return "b" if self.w.variant.users == 2 and r.random() < 0.3 else "a"

    # -- commands --------------------------------------------------------------------------------
    def _plan_args(self, r, action=None, rule=None) -> tuple[list[str], str]:
        action = action or r.choices(list(ACTION_WEIGHTS), list(ACTION_WEIGHTS.values()))[0]
        rule = r.choice(RULES) if rule is None else rule
        roots = self.w.roots if r.random() < 0.7 else [r.choice(self.w.roots)]
        use_dest = r.random() < 0.6
        args = [*roots, "--quiet", f"--auto-select={rule}" if rule else "--auto-select"]
        args += ["--action", action]
        if action == "delete":
            args.append("--allow-delete")
        elif use_dest and self.w.dest:
            args += ["--move-to", self.w.dest]
            self.w.adopt_dest()
        return args, action

    def _plan(
        self, i: int, r: random.Random, user: str, action=None, rule=None
    ) -> tuple[Cmd, PlanFile | None]:
        args, action = self._plan_args(r, action, rule)
        path = os.path.join(self.w.harness, "plans", f"plan-{i:04d}-{user}{len(self.plans)}.json")
        cmd = self._run(["plan", *args, "-o", path], user)
        plan = None
        if cmd.rc == 0 and os.path.exists(path):
            plan = PlanFile(path, action, user, i)
            self.plans.append(plan)
        return cmd, plan

    def _apply_args(self, plan: PlanFile) -> list[str]:
        args = ["apply", plan.path]
        return [*args, "--confirm", "DELETE"] if plan.action == "delete" else args

    def _pick_plan(self, r: random.Random) -> PlanFile | None:
        if not self.plans:
            return None
        return self.plans[-1] if r.random() < 0.5 else r.choice(self.plans)

    def _undo_args(self, r: random.Random) -> list[str]:
        return ["undo", "--all"] if r.random() < 0.3 else ["undo"]

    # -- one step --------------------------------------------------------------------------------
    def _kinds(self) -> tuple[list[str], list[int]]:
        kinds = [k for k in STEP_WEIGHTS if k != "fill" or self.w.mounted]
        return kinds, [STEP_WEIGHTS[k] for k in kinds]

    def _step(self, i: int, r: random.Random) -> tuple[str, bool, bool, list[str]]:
        """Do step ``i``: (kind, is interference only, may permanently delete, log lines)."""
        kinds, weights = self._kinds()
        kind = r.choices(kinds, weights)[0]
        user = self._user(r)
        if kind in ("apply", "kill") and not self.plans and r.random() < 0.7:
            kind = "plan"  # nothing to apply yet
        if kind == "plan":
            cmd, _ = self._plan(i, r, user)
            return kind, False, False, [cmd.line(self.w)]
        if kind == "apply":
            plan = self._pick_plan(r)
            if plan is None:
                return self._undo_step(r, user)
            user = plan.user if r.random() < 0.8 else user
            cmd = self._run(self._apply_args(plan), user)
            return kind, False, plan.action == "delete", [cmd.line(self.w)]
        if kind == "undo":
            return self._undo_step(r, user)
        if kind == "scan":
            action = r.choice(("move", "move", "trash", "hardlink", "symlink", "delete"))
            args, action = self._plan_args(r, action)
            cmd = self._run(["scan", *args], user)
            return kind, False, action == "delete", [cmd.line(self.w)]
        if kind == "kill":
            self.fig.interference["kill"] += 1
            plan = self._pick_plan(r)
            if plan is not None and r.random() < 0.6:
                cmd = self._run_and_kill(self._apply_args(plan), plan.user, r)
                return kind, False, plan.action == "delete", [cmd.line(self.w)]
            cmd = self._run_and_kill(self._undo_args(r), user, r)
            return kind, False, False, [cmd.line(self.w)]
        if kind == "concurrent":
            self.fig.interference["concurrent"] += 1
            return self._concurrent(i, r)
        try:
            desc = chaos_interfere.INTERFERENCE[kind](self.w, r)
        except OSError as e:  # a person's command fails too (a full disk); what it did stays
            desc = f"{kind} stopped half-way: {e}"
        if kind == "fill" and desc:
            kind = "fill_disk" if desc.startswith("filled") else "free_disk"
        if desc:
            self.fig.interference[kind] += 1
        return kind, True, False, [desc or "(nothing to act on)"]

    def _undo_step(self, r, user):
        cmd = self._run(self._undo_args(r), user)
        return "undo", False, False, [cmd.line(self.w)]

    def _concurrent(self, i: int, r: random.Random):
        """Two users plan the same tree with opposite keepers, then apply at the same moment."""
        action = r.choices(list(ACTION_WEIGHTS), list(ACTION_WEIGHTS.values()))[0]
        rules = r.choice((("oldest", "newest"), ("newest", "oldest")))
        lines = []
        plans = []
        for user, rule in zip(("a", "b"), rules, strict=True):
            cmd, plan = self._plan(i, random.Random(f"{self.w.seed}/{i}/plan"), user, action, rule)
            lines.append(cmd.line(self.w))
            if plan is not None:
                plans.append(plan)
        started = [(self._start(self._apply_args(p), p.user), p) for p in plans]
        for (proc, stem, t0), p in started:
            cmd = self._finish(proc, stem, t0, self._apply_args(p), p.user)
            lines.append("  at the same time: " + cmd.line(self.w))
        return "concurrent", False, action == "delete", lines

    # -- the oracle ------------------------------------------------------------------------------
    def _judge(self, i, kind, interference, may_delete, before: Census, after: Census) -> list[str]:
        w = self.w
        gone = [d for d in before.where if not after.has(d)]
        if interference:
            self.fig.excused += len(gone)
            return (
                [f"(excused: {len(gone)} content(s) whose last copy this removed)"] if gone else []
            )
        live_families = {w.family[d] for d in after.live}
        lost = []
        for d in gone:
            if may_delete and w.family[d] in live_families:
                self.fig.near_copies_deleted += 1
                continue
            lost.append(d)
        if lost:
            self.fig.contents_lost += len(lost)
            self.fig.files_lost += sum(len(before.where[d]) for d in lost)
            lines = [f"{len(lost)} picture content(s) lost by this {kind}:"]
            for d in sorted(lost):
                where = ", ".join(w.short(p) for p in before.where[d])
                lines.append(
                    f"  {d[:12]} (family {w.family[d]}, {w.labels.get(d, '?')}); "
                    f"last seen at: {where}"
                )
            self.failures.append(Failure(i, "lost", lines))
        return []

    def run(self) -> Report:
        w = self.w
        t_start = time.monotonic()
        census = w.census()
        outside = w.outside_snapshot()
        for i in range(self.steps):
            r = random.Random(f"chaos/{w.seed}/{i}")
            self.crashed = []
            try:
                kind, interference, may_delete, lines = self._step(i, r)
            except subprocess.TimeoutExpired as e:
                self.fig.hangs += 1
                cmd = w.short(" ".join(map(str, e.cmd)))
                self.failures.append(Failure(i, "hang", [f"ran over {TIMEOUT:.0f}s: {cmd}"]))
                self.log.append(f"{i:3d} HANG {cmd}")
                break
            finally:
                self._kill_leftovers()
            self.fig.steps += 1
            after = w.census()
            notes = self._judge(i, kind, interference, may_delete, census, after)
            now = w.outside_snapshot()
            if not interference:
                diff = snapshot_diff(w.prune(outside), now)
                if diff:
                    self.fig.outside_changes += len(diff)
                    self.failures.append(Failure(i, "outside", ["changed outside:", *diff[:30]]))
            if self.crashed:  # also: a tool that cannot start must not pass by doing nothing
                lines_c = [c.line(w) for c in self.crashed]
                self.failures.append(Failure(i, "crash", ["an unexpected exception:", *lines_c]))
            census, outside = after, now
            self.log.append(f"{i:3d} {kind:<16} {lines[0]}")
            self.log += [f"    {'':<16} {ln}" for ln in lines[1:] + notes]
            if self.failures and self.stop:
                break
        self.fig.seconds = time.monotonic() - t_start
        return Report(w.seed, w.variant, self.steps, self.log, self.failures, self.fig)


def _signature(d: str) -> tuple:
    out = []
    for dirpath, _dirs, files in os.walk(d):
        for name in files:
            try:
                st = os.lstat(os.path.join(dirpath, name))
            except OSError:
                continue
            out.append((dirpath, name, st.st_size, st.st_mtime_ns))
    return tuple(sorted(out))


def run_seed(seed: int, base: str, steps: int, stop_on_failure: bool = True) -> Report:
    """Build the seed's world under ``base``, run ``steps`` steps, tear the tmpfs down.

    Raises :class:`TmpfsUnavailable` when the seed's variant needs a tmpfs that cannot be
    mounted (the caller decides: skip with the reason outside CI, fail under CI).
    """
    with World(base, seed) as world:
        return Chaos(world, steps, stop_on_failure).run()
