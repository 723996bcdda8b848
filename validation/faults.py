"""Faults survived, counted: kills, stop signals, a full disk and a second command, per command.

Run: python validation/faults.py [--kills N] [--signals N] [--concurrent N] [--seed S] [--only CMD]
     (defaults 16, 2, 2, 1: >= 200 injected faults, ~15 min on two busy cores)

For each command (`run` of a single point, a sweep on 1 and on 2 workers, `run --resume`,
`report`, `trace`, `fit`) it first runs the command undisturbed (the reference bytes, and how
long the command writes), then injects each fault into a fresh copy of the same starting state:

- kill -9 / SIGINT / SIGTERM: at a random instant (a seeded RNG) in the first 80 % of the time
  the undisturbed command held its folder's lock; a fault that lands after the command released
  its lock (its work done) is not counted;
- ENOSPC: in-process, the N-th write of each kind fails with "No space left on device" (every
  result, report, trace and fitted file, half-way through; the journal's header, first, middle
  and last run lines; the lock file; the new set's folder);
- concurrent: the same command started twice at once on the same folder (counted when they
  overlapped: one was refused).

Then it checks the state the fault left, runs what a user would run to recover (`run
--resume` when a journal is there, else the command again) and compares the result with the
reference. Columns: trials (faults injected); recovered (the recovery ended with exit 0, no
hidden leftovers, every result folder readable); identical (results byte-identical to the
undisturbed run: every file but meta.json, whose wall time differs, and whose hashes are
checked instead); half-written (after the fault, a visible file that is neither its old nor
its new bytes, a mix of old and new files, or leftovers after a graceful stop: must be 0);
runs lost (runs that were on disk, or that a stop said it kept, and that --resume did not
reuse: must be 0).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from typer.testing import CliRunner

import clawsim
from clawsim import store
from clawsim.api import default_out
from clawsim.cli import app
from clawsim.journal import JOURNAL, Journal

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
TIMELINE = ROOT / "tests" / "data" / "timelines" / "2026.6.8-rows30-flipperon.jsonl"

SWEEP = """\
name: faults-sweep
seed: 11
replications: 4
memo: {policy: lru, capacity: 8, scan_ms: {dist: lognormal, p50: 2, p95: 4}}
list: {rows: 60, yield_every: 10, lookups_per_row: 2, per_row_io: {rows: 5, latency_ms: 0.5}}
actors:
  - {name: turns, kind: poisson, rate_per_s: 100, workspaces: random:4, work_ms: 0.5}
  - {name: cron, kind: interval, period_ms: 3, workspaces: unique}
sweep:
  list.rows: [500, 3000]
  registry.fix: [none, pin]
"""
SINGLE = """\
name: faults-single
seed: 5
replications: 12
memo: {policy: lru, capacity: 8, scan_ms: {dist: lognormal, p50: 2, p95: 4}}
list: {rows: 8000, yield_every: 10, lookups_per_row: 2}
actors:
  - {name: turns, kind: poisson, rate_per_s: 100, workspaces: random:4, work_ms: 0.5}
  - {name: cron, kind: interval, period_ms: 3, workspaces: unique}
"""
FAULTS = ("kill -9", "SIGINT", "SIGTERM", "ENOSPC", "concurrent")
STOPS = {"kill -9": signal.SIGKILL, "SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM}


@dataclass(frozen=True)
class Case:
    """One command under test, run in a trial folder prepared by ``prepare``."""

    name: str
    args: tuple[str, ...]  # the command line, relative to the trial folder
    prepare: Callable[[Path], None]  # the starting state (what the command replaces)
    watched: str  # the folder (or file) it writes, relative to the trial folder
    journalled: bool = False  # a run: its journal and --resume decide the recovery


@dataclass
class Tally:
    trials: int = 0
    recovered: int = 0
    identical: int = 0
    half_written: int = 0
    runs_lost: int = 0
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- files


def tree(root: Path) -> dict[str, bytes]:
    """Every visible file under ``root`` but journals and meta.json (its wall time differs)."""
    if root.is_file():
        return {root.name: root.read_bytes()}
    if not root.is_dir():
        return {}
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name not in (JOURNAL, "meta.json") and not _hidden(p, root)
    }


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def leftovers(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob(".*"))


def readable(root: Path) -> bool:
    """Every result folder under ``root`` (a folder with meta.json) reads back whole."""
    for meta in root.rglob("meta.json"):
        if _hidden(meta, root):
            continue  # a killed writer's unfinished set: the next writer deletes it
        try:
            clawsim.read_results(meta.parent)
        except clawsim.ClawsimError:
            return False
    return True


def whole(after: dict[str, bytes], before: dict[str, bytes], reference: dict[str, bytes]) -> bool:
    """The state a fault left is the old set, the new set, or (between two renames) none."""
    return after in (before, reference, {})


def journal_runs(path: Path) -> int:
    try:
        return max(path.read_bytes().count(b"\n") - 1, 0)
    except FileNotFoundError:
        return 0


# --------------------------------------------------------------------------- the cases


def _template(base: Path) -> Path:
    """The starting states, made once: old results of another seed, a --no-report folder, an
    interrupted journal, a fitted file."""
    made = base / "template"
    made.mkdir()
    (made / "sweep.yaml").write_text(SWEEP)
    (made / "single.yaml").write_text(SINGLE)
    with _cwd(made):
        for args in (
            ["run", "single.yaml", "--out", "old-single", "--seed", "99"],
            ["run", "sweep.yaml", "--out", "old-sweep", "--seed", "99", "-w", "2"],
            ["run", "sweep.yaml", "--out", "no-report", "--no-report", "-w", "2"],
            ["run", "sweep.yaml", "--no-report", "-w", "2"],  # results/NAME/HASH, for trace
            ["fit", str(TIMELINE), "-o", "fit.yaml", "-n", "3"],
        ):
            result = CliRunner().invoke(app, args)
            assert result.exit_code == 0, (args, result.stderr)
    scenario = clawsim.load_scenario(made / "sweep.yaml")

    def stop(done: int, _total: int) -> None:
        if done == 6:
            raise KeyboardInterrupt

    from clawsim.sweep import run_sweep

    (made / "interrupted").mkdir()
    with contextlib.suppress(KeyboardInterrupt):
        run_sweep(scenario, journal_path=made / "interrupted" / JOURNAL, progress=stop)
    return made


def _copy(template: Path, *names: str) -> Callable[[Path], None]:
    def prepare(trial: Path) -> None:
        for name in ("sweep.yaml", "single.yaml", *names):
            source = template / name
            if source.is_dir():
                shutil.copytree(source, trial / ("o" if name not in ("results",) else name), symlinks=True)
            else:
                shutil.copy2(source, trial / name)

    return prepare


def cases(template: Path) -> list[Case]:
    hashed = default_out(clawsim.load_scenario(template / "sweep.yaml"))
    return [
        Case("run single", ("run", "single.yaml", "--out", "o"), _copy(template, "old-single"), "o", True),
        Case("sweep -w 1", ("run", "sweep.yaml", "--out", "o", "-w", "1"), _copy(template, "old-sweep"), "o", True),
        Case("sweep -w 2", ("run", "sweep.yaml", "--out", "o", "-w", "2"), _copy(template, "old-sweep"), "o", True),
        Case(
            "run --resume",
            ("run", "sweep.yaml", "--out", "o", "-w", "2", "--resume"),
            _copy(template, "interrupted"),
            "o",
            True,
        ),
        Case("report", ("report", "o", "--html"), _copy(template, "no-report"), "o"),
        Case("trace", ("trace", "sweep.yaml"), _copy(template, "results"), str(hashed)),
        Case(
            "fit",
            ("fit", str(TIMELINE), "-o", "fit.yaml", "-n", "2", "--force"),
            _copy(template, "fit.yaml"),
            "fit.yaml",
        ),
    ]


# --------------------------------------------------------------------------- running


@contextlib.contextmanager
def _cwd(folder: Path) -> Iterator[None]:
    old = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(old)


def _lock(trial: Path, case: Case) -> Path:
    watched = trial / case.watched
    return watched.parent / f".{watched.name}.lock"


def start(trial: Path, case: Case, args: tuple[str, ...] | None = None) -> subprocess.Popen:
    """The command as a terminal starts it: SIGINT not ignored, even when this script runs in
    the background (where it is, and clawsim, by design, would keep ignoring it)."""
    return subprocess.Popen(
        [sys.executable, "-m", "clawsim", *(args or case.args)],
        cwd=trial,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def wait_for_lock(proc: subprocess.Popen, lock: Path, timeout: float = 120.0) -> float | None:
    """Wait until the command holds its lock; the time it did, or None if it ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if lock.exists():
            return time.monotonic()
        if proc.poll() is not None:
            return None
        time.sleep(0.002)
    raise TimeoutError(f"{lock} never appeared")


def recover(trial: Path, case: Case) -> tuple[bool, int | None]:
    """What a user runs next: ``--resume`` when a journal is there, else the command again
    (in-process); (exit 0?, runs it reused from the journal)."""
    args = list(case.args)
    journal = trial / case.watched / JOURNAL
    if case.journalled and journal.exists() and "--resume" not in args:
        args.append("--resume")
    with _cwd(trial):
        result = CliRunner().invoke(app, args)
    reused = None
    for line in result.stderr.splitlines():
        if "resuming: " in line:
            reused = int(line.split("resuming: ")[1].split(" of ")[0])
    return result.exit_code == 0, reused


def judge(tally: Tally, trial: Path, case: Case, before: dict, reference: dict, on_disk: int, kept: int) -> None:
    """Recover the trial after a fault and count what happened."""
    complete = tree(trial / case.watched) == reference  # the fault landed after the new set was in
    ok, reused = recover(trial, case)
    if not complete:
        tally.runs_lost += max(max(on_disk, kept) - (reused or 0), 0)
    final = tree(trial / case.watched)
    if ok and not leftovers(trial) and readable(trial):
        tally.recovered += 1
    if final == reference:
        tally.identical += 1
    else:
        tally.notes.append(f"{trial.name}: differs after recovery")


def trial_signal(tally: Tally, trial: Path, case: Case, fault: str, rng: random.Random, span: float, ref: dict) -> None:
    case.prepare(trial)
    before = tree(trial / case.watched)
    proc = start(trial, case)
    took = wait_for_lock(proc, _lock(trial, case))
    if took is None:
        proc.communicate()
        return
    time.sleep(max(took + rng.uniform(0, 0.8 * span) - time.monotonic(), 0))  # its end varies with load
    on_disk = journal_runs(trial / case.watched / JOURNAL) if case.journalled else 0
    if proc.poll() is not None or not _lock(trial, case).exists():
        proc.communicate()
        return  # its work was done (its lock released) before the fault: not counted
    proc.send_signal(STOPS[fault])
    _, stderr = proc.communicate(timeout=120)
    tally.trials += 1
    kept = 0
    last = (stderr.strip().splitlines() or [""])[-1]
    if fault != "kill -9":
        if proc.returncode != 128 + STOPS[fault] or not last.startswith(f"clawsim: stopped by {fault}"):
            tally.notes.append(f"{trial.name}: exit {proc.returncode}: {last}")
        if "; kept " in last:
            kept = int(last.split("; kept ")[1].split(" of ")[0])
            if kept > journal_runs(trial / case.watched / JOURNAL):
                tally.runs_lost += kept - journal_runs(trial / case.watched / JOURNAL)
        if leftovers(trial):
            tally.half_written += 1  # a graceful stop cleans up after itself
    if not whole(tree(trial / case.watched), before, ref) or not readable(trial):
        tally.half_written += 1
        tally.notes.append(f"{trial.name}: a mixed or half-written state after {fault}")
    judge(tally, trial, case, before, ref, on_disk, kept)


def trial_concurrent(tally: Tally, trial: Path, case: Case, ref: dict) -> None:
    """The same command twice at once on one folder: one must be refused in one line naming
    the other's pid, the other must finish; counted when they overlapped (one was refused)."""
    case.prepare(trial)
    before = tree(trial / case.watched)
    both = [start(trial, case), start(trial, case)]
    ended = [(p, *p.communicate(timeout=300)) for p in both]
    refused = [(p, err) for p, _, err in ended if p.returncode != 0]
    if not refused:
        return  # one ended before the other took the lock: no overlap, not counted
    tally.trials += 1
    for p, err in refused:
        other = both[1] if p is both[0] else both[0]
        last = (err.strip().splitlines() or [""])[-1]
        if p.returncode != 2 or f"another clawsim (pid {other.pid})" not in last or len(refused) > 1:
            tally.notes.append(f"{trial.name}: concurrent: exit {p.returncode}: {last}")
    after = tree(trial / case.watched)
    if after not in (before, ref):
        tally.half_written += 1
    if len(refused) == 1 and after == ref and readable(trial) and not leftovers(trial):
        tally.recovered += 1
    tally.identical += after == ref


# --------------------------------------------------------------------------- a full disk

ENOSPC = OSError(errno.ENOSPC, "No space left on device")


@contextlib.contextmanager
def fail_at(where: str, n: int) -> Iterator[Callable[[], str | bool]]:
    """The ``n``-th write of kind ``where`` fails with ENOSPC, half-way where a write can be cut
    (a file, a journal line). Yields a function telling whether that write was reached: the
    name of the file whose write failed for kind ``file``, else True / False. Kinds: file
    (every result, report, trace and fitted file), journal (its header, then each run's line),
    lock (the holder's pid in .OUT.lock), staging (the new set's folder). The one injector of
    this script and of tests/test_faults.py."""
    calls: list[int] = []
    failed: list[str] = []
    saved: list[tuple[object, str, object]] = []

    def reached() -> bool:
        calls.append(1)
        return len(calls) == n

    def patch(owner: object, name: str, value: object) -> None:
        saved.append((owner, name, getattr(owner, name)))
        setattr(owner, name, value)

    def refuse(original: Callable[..., object]) -> Callable[..., object]:
        def failing(*args: object, **kwargs: object) -> object:
            if reached():
                raise ENOSPC
            return original(*args, **kwargs)

        return failing

    match where:
        case "file":
            original = store._atomic_write

            def failing_file(path, write):
                if not reached():
                    return original(path, write)
                failed.append(Path(path).name)

                def half(handle):
                    handle.write(b"half a file")
                    raise ENOSPC

                return original(path, half)

            patch(store, "_atomic_write", failing_file)
        case "journal":
            append = Journal._append

            def failing_line(self, line):
                if not reached():
                    return append(self, line)
                os.write(self._fd, line[: len(line) // 2].encode())
                raise ENOSPC

            patch(Journal, "_append", failing_line)
        case "lock":
            patch(os, "pwrite", refuse(os.pwrite))
        case "staging":
            patch(tempfile, "mkdtemp", refuse(tempfile.mkdtemp))
    try:
        yield lambda: failed[0] if failed else len(calls) >= n
    finally:
        for owner, name, value in reversed(saved):
            setattr(owner, name, value)


def journal_points(case: Case, template: Path) -> list[int]:
    """Which journal writes to fail: the header, the first, a middle and the last run line."""
    if not case.journalled:
        return []
    runs = len(clawsim.plan(clawsim.load_scenario(template / case.args[1])))
    if "--resume" in case.args:
        todo = runs - journal_runs(template / "interrupted" / JOURNAL)
        return sorted({1, todo // 2, todo})  # resuming appends run lines only
    return sorted({1, 2, 1 + runs // 2, 1 + runs})


def trials_enospc(tally: Tally, base: Path, case: Case, template: Path, ref: dict, counter: Iterator[int]) -> None:
    points: list[tuple[str, int]] = [("journal", n) for n in journal_points(case, template)]
    points += [("lock", 1), ("staging", 1)]
    n = 0
    while True:  # every file write, until a run writes them all
        n += 1
        reached = _one_enospc(tally, base / f"t{next(counter)}", case, ref, "file", n)
        if not reached:
            break
    for where, k in points:
        _one_enospc(tally, base / f"t{next(counter)}", case, ref, where, k)


def _one_enospc(tally: Tally, trial: Path, case: Case, ref: dict, where: str, n: int) -> bool:
    trial.mkdir()
    case.prepare(trial)
    before = tree(trial / case.watched)
    with _cwd(trial), fail_at(where, n) as reached:
        result = CliRunner().invoke(app, list(case.args))
    if not reached():
        return False
    tally.trials += 1
    last = (result.stderr.strip().splitlines() or [""])[-1]
    said = "No space left on device" in last and ("as it was" in last or "as they were" in last)
    if result.exit_code != 2 or not said:
        tally.notes.append(f"{trial.name}: ENOSPC at {where} {n}: exit {result.exit_code}: {last}")
    if not whole(tree(trial / case.watched), before, ref) or leftovers(trial) or not readable(trial):
        tally.half_written += 1
        tally.notes.append(f"{trial.name}: ENOSPC at {where} {n} left a mixed, half-written or leftover state")
    on_disk = journal_runs(trial / case.watched / JOURNAL) if case.journalled else 0
    judge(tally, trial, case, before, ref, on_disk, 0)
    return True


# --------------------------------------------------------------------------- the table


def reference(base: Path, case: Case) -> tuple[dict[str, bytes], float]:
    """The undisturbed run: its bytes, and how long it held its lock (the window of the faults)."""
    trial = base / f"reference-{case.name.replace(' ', '_').replace('-', '')}"
    trial.mkdir()
    case.prepare(trial)
    proc = start(trial, case)
    took = wait_for_lock(proc, _lock(trial, case))
    assert took is not None, proc.communicate()[1]
    while _lock(trial, case).exists():
        time.sleep(0.002)
    held = time.monotonic() - took
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    return tree(trial / case.watched), held


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=16, help="kill -9 trials per command")
    parser.add_argument("--signals", type=int, default=2, help="SIGINT and SIGTERM trials per command, each")
    parser.add_argument("--concurrent", type=int, default=2, help="second-command trials per command")
    parser.add_argument("--seed", type=int, default=1, help="seed of the random kill instants")
    parser.add_argument("--only", help="run only the command with this name (e.g. 'report')")
    options = parser.parse_args()
    rng = random.Random(options.seed)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="clawsim-faults-") as scratch:
        base = Path(scratch)
        template = _template(base)
        counter = iter(range(10**9))
        table = {}
        for case in cases(template):
            if options.only and case.name != options.only:
                continue
            ref, span = reference(base, case)
            for fault in FAULTS:
                tally = table[case.name, fault] = Tally()
                count = {"kill -9": options.kills, "SIGINT": options.signals, "SIGTERM": options.signals}
                if fault in STOPS:
                    for _ in range(count[fault]):
                        trial = base / f"t{next(counter)}"
                        trial.mkdir()
                        trial_signal(tally, trial, case, fault, rng, span, ref)
                elif fault == "concurrent":
                    for _ in range(options.concurrent):
                        trial = base / f"t{next(counter)}"
                        trial.mkdir()
                        trial_concurrent(tally, trial, case, ref)
                else:
                    trials_enospc(tally, base, case, template, ref, counter)
                print(f"# {case.name:12} {fault:10} {tally.trials} trials", file=sys.stderr, flush=True)
    print_table(table, time.monotonic() - started, options)


def print_table(table: dict[tuple[str, str], Tally], wall_s: float, options: argparse.Namespace) -> None:
    columns = ("command", "fault", "trials", "recovered", "identical", "half-written", "runs lost")
    rows = [
        (command, fault, t.trials, t.recovered, t.identical, t.half_written, t.runs_lost)
        for (command, fault), t in table.items()
    ]
    total = [sum(r[i] for r in rows) for i in range(2, 7)]
    rows.append(("all", "", *total))
    widths = [max(len(str(c)), *(len(str(r[i])) for r in rows)) for i, c in enumerate(columns)]
    print("| " + " | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        cells = [
            str(v).ljust(w) if i < 2 else str(v).rjust(w) for i, (v, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("| " + " | ".join(cells) + " |")
    print(
        f"\n{total[0]} faults injected; {total[0] - total[1]} not recovered, {total[0] - total[2]} not byte-identical, "
        f"{total[3]} half-written, {total[4]} runs lost (seed {options.seed}, {wall_s:.0f} s)"
    )
    notes = [f"{case} {fault} {n}" for (case, fault), t in table.items() for n in t.notes]
    print(f"{len(notes)} notes (a stop not said in one line with 128 + the signal, an unexpected exit or state)")
    for note in notes:
        print(f"note: {note}")


if __name__ == "__main__":
    main()
