"""clawsim against the model a SimPy user writes by hand (issue 17): time per run and ratio.

Run: PYTHONPATH=. python benchmarks/bench_peer.py [--quick] [--sweeps] [--baseline DIR]

The peer (``peer_run``) is a straightforward hand-written SimPy model of the same cases: one
``simpy.Resource`` for the event loop's thread, the list holding it for a batch and releasing
it at each yield (and around each awaited read), every mutator arrival its own process, an
``OrderedDict`` LRU, a scan as a timeout held on the thread. Before timing, the benchmark
asserts that both give the same counts: exactly where the case is deterministic, in
distribution (means within 4 standard errors of their difference) otherwise.

Printed per case: clawsim's and the peer's wall time per run (the best of a few rounds of the
same runs, alternated) and the ratio peer / clawsim. ``--sweeps`` also prints sweep
throughput on one core in this process (runs/s): the headline sweep
(scenarios/rows-x-concurrency.yaml, 1,680 runs) and a fixed random sample of the sensitivity
sweep (benchmarks/sensitivity.yaml); with ``--baseline DIR`` (another clawsim tree, e.g. a
worktree of an older commit) the same sweeps are timed with that tree in a subprocess,
alternating with this one, so the ratio is read within one run on the shared machine.

Measured figures: benchmarks/README.md.
"""

from __future__ import annotations

import math
import os
import statistics
import subprocess
import sys
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import simpy

import clawsim
from clawsim.engine.run import simulate_run
from clawsim.scenario import plan

ROOT = Path(__file__).resolve().parents[1]

# --------------------------------------------------------------------------- the peer


@dataclass(frozen=True)
class Peer:
    """One case as the hand-written model takes it (ms; ``scan`` is a constant or (p50, p95))."""

    rows: int
    lookups: int = 2
    scan: float | tuple[float, float] = 2.5
    row_ms: float = 0.28
    io_ms: float = 0.0  # an awaited read after every row (0: none)
    start_ms: float = 0.0
    flipper: int = 0  # an immediate flipper: 0 none, -1 unique workspaces, K cycle:K
    agents: int = 0  # poisson agents, unique workspaces
    rate_per_s: float = 2.0
    work_ms: float = 0.0
    crons: int = 0  # interval actors of cron_ms, unique workspaces
    cron_ms: float = 400.0


def peer_run(p: Peer, pin: bool, seed: int) -> dict:
    """One run of the hand-written model: the list's scans, hits, flips and list_ms."""
    env, rng = simpy.Environment(), np.random.default_rng(seed)
    thread, memo = simpy.Resource(env, 1), OrderedDict()
    s = {"ws": "/gateway", "flips": 0, "serial": 0, "scans": 0, "hits": 0}
    if isinstance(p.scan, tuple):
        mu, sigma = math.log(p.scan[0]), (math.log(p.scan[1]) - math.log(p.scan[0])) / 1.6448536269514722
    scan = (lambda: p.scan) if not isinstance(p.scan, tuple) else (lambda: float(rng.lognormal(mu, sigma)))

    def set_ws(ws):
        s["flips"] += 1
        s["ws"] = ws

    def turn(ws):  # one mutator activation: set the global on the thread, hold it for work_ms
        with thread.request() as req:
            yield req
            set_ws(ws)
            if p.work_ms:
                yield env.timeout(p.work_ms)

    def flipper():
        while True:
            s["serial"] += 1
            with thread.request() as req:
                yield req
                set_ws(f"f/{s['serial'] % p.flipper if p.flipper > 0 else s['serial']}")
            yield env.timeout(0.005)  # an event-loop iteration; without it an idle flipper spins

    def agent(gap_ms, period=False):
        while True:
            yield env.timeout(gap_ms if period else rng.exponential(gap_ms))
            s["serial"] += 1
            env.process(turn(f"a/{s['serial']}"))

    def session_list(done):
        if p.start_ms:
            yield env.timeout(p.start_ms)
        start, flips, seen, owed, polled = env.now, s["flips"], set(), 0.0, True
        req = thread.request()
        yield req
        pinned = s["ws"] if pin else None
        for i in range(p.rows):
            # await setImmediate: let the queued work in, except inbound turns right after the
            # list was resumed by inbound I/O (its start, a read): Node's check phase follows that
            # poll phase before any other poll phase, so only a flipper (an immediate) comes in
            if i and i % 10 == 0 and (p.flipper or not polled):
                thread.release(req)
                req = thread.request()
                yield req
            polled = polled and not (i and i % 10 == 0)
            ws = pinned or s["ws"]
            seen.add(ws)
            for j in range(p.lookups):
                if (ws, j) in memo:
                    memo.move_to_end((ws, j))
                    s["hits"] += 1
                    continue
                s["scans"] += 1
                yield env.timeout(scan())
                memo[(ws, j)] = True
                if len(memo) > 8:
                    memo.popitem(last=False)
            owed += p.row_ms  # the row's own work, held on the thread at the end of its batch
            if p.io_ms or i % 10 == 9 or i == p.rows - 1:
                yield env.timeout(owed)
                owed = 0.0
            if p.io_ms:  # await the transcript read: release the thread meanwhile
                thread.release(req)
                yield env.timeout(p.io_ms)
                req = thread.request()
                yield req
                polled = True
        thread.release(req)
        done.succeed(
            {"scans": s["scans"], "hits": s["hits"], "flips": s["flips"] - flips, "list_ms": env.now - start}
            | {"distinct_workspaces": len(seen)}
        )

    done = env.event()
    env.process(session_list(done))
    if p.flipper:
        env.process(flipper())
    for _ in range(p.agents):
        env.process(agent(1000.0 / p.rate_per_s))
    for _ in range(p.crons):
        env.process(agent(p.cron_ms, period=True))
    return env.run(until=done)


# --------------------------------------------------------------------------- the cases

PR = """
seed: 90819
replications: {reps}
list: {{rows: {rows}, yield_every: 10, lookups_per_row: 2, row_cost_ms: 0.28}}
registry: {{fix: {fix}}}
memo: {{policy: lru, capacity: 8, scan_ms: 2.5, hit_ms: 0}}
actors: [{{name: flipper, kind: immediate, workspaces: "{workspaces}"}}]
"""
BUSY_GATEWAY = """
seed: 90814
replications: {reps}
list: {{rows: 100, yield_every: 10, lookups_per_row: 2, row_cost_ms: 0.28, per_row_io: {{rows: 100, latency_ms: 2}},
  start_ms: 1000}}
registry: {{fix: {fix}}}
memo: {{policy: lru, capacity: 8, scan_ms: {{dist: lognormal, p50: 95, p95: 130}}, hit_ms: 0}}
actors:
  - {{name: main-agent, kind: poisson, rate_per_s: 10, workspaces: unique, work_ms: 5}}
  - {{name: cron, kind: interval, period_ms: 400, count: 2, workspaces: unique, work_ms: 5}}
"""
BUSY_LIST = """
seed: 12
replications: {reps}
list: {{rows: 10000, yield_every: 10, lookups_per_row: 2, row_cost_ms: 0.28}}
registry: {{fix: {fix}}}
memo: {{policy: lru, capacity: 8, scan_ms: {{dist: lognormal, p50: 60, p95: 80}}}}
actors: [{{name: agent, kind: poisson, rate_per_s: 2, count: {agents}, workspaces: unique}}]
"""


@dataclass(frozen=True)
class Case:
    name: str
    clawsim_yaml: str  # formatted with reps and fix
    peer: Peer
    pin: bool
    reps: int  # runs per timing round (and per sample of the distribution check)
    exact: bool  # deterministic: every run's counts equal, else means compared

    def scenario(self, reps: int) -> clawsim.Scenario:
        return clawsim.parse_scenario(self.clawsim_yaml.format(reps=reps, fix="pin" if self.pin else "none"))


def cases(quick: bool) -> list[Case]:
    k = 4 if quick else 1
    pr = PR.replace("{rows}", "200").replace("{workspaces}", "unique")
    cycle = PR.replace("{rows}", "1000").replace("{workspaces}", "cycle:5")
    agents = [BUSY_LIST.replace("{agents}", str(n)) for n in (1, 128)]
    return [
        Case("PR harness, fix none", pr, Peer(200, flipper=-1), False, 200 // k, True),
        Case("PR harness, fix pin", pr, Peer(200, flipper=-1), True, 200 // k, True),
        Case("8-slot LRU, 5-workspace cycle, 1,000 rows", cycle, Peer(1000, flipper=5), False, 50 // k, True),
        Case("busy gateway, fix none", BUSY_GATEWAY, _busy_peer(), False, 40 // k, False),
        Case("busy gateway, fix pin", BUSY_GATEWAY, _busy_peer(), True, 40 // k, False),
        Case("10,000 rows x 2 lookups, 1 agent", agents[0], Peer(10000, scan=(60, 80), agents=1), False, 10, False),
        Case("10,000 rows x 2 lookups, 128 agents", agents[1], Peer(10000, scan=(60, 80), agents=128), False, 6, False),
    ]


def _busy_peer() -> Peer:
    return Peer(100, scan=(95, 130), io_ms=2, start_ms=1000, agents=1, rate_per_s=10, work_ms=5, crons=2)


COUNTS = ("scans", "hits", "flips", "distinct_workspaces", "list_ms")


def clawsim_runs(case: Case, reps: int) -> Callable[[], list[dict]]:
    runs = plan(case.scenario(reps))
    return lambda: [r for i in range(len(runs)) for r in simulate_run(runs[i])]


def peer_runs(case: Case, reps: int, seed: int = 1) -> Callable[[], list[dict]]:
    return lambda: [peer_run(case.peer, case.pin, seed + i) for i in range(reps)]


def check_same(case: Case, ours: list[dict], theirs: list[dict]) -> None:
    """Assert that both models give the same counts (exactly, or in distribution)."""
    for name in COUNTS:
        a, b = [r[name] for r in ours], [r[name] for r in theirs]
        if case.exact:
            same = all(math.isclose(x, y, rel_tol=2e-3) for x, y in zip(a, b, strict=True))
        else:
            se = math.sqrt(statistics.variance(a) / len(a) + statistics.variance(b) / len(b))
            same = abs(statistics.mean(a) - statistics.mean(b)) <= 4 * se + 1e-3 * abs(statistics.mean(a))
        assert same, f"{case.name}: {name} differs: clawsim {a[:5]}... peer {b[:5]}..."


def best_round(rounds: int, *jobs: Callable[[], object]) -> list[float]:
    """The best wall time of each job over ``rounds`` rounds, the jobs alternated in each round."""
    best = [math.inf] * len(jobs)
    for _ in range(rounds):
        for k, job in enumerate(jobs):
            started = time.perf_counter()
            job()
            best[k] = min(best[k], time.perf_counter() - started)
    return best


# Issue 17's targets on this table: (case, least peer/clawsim); every case at least x1.
SPEEDUP_TARGETS = {
    "PR harness, fix none": 5.0,
    "PR harness, fix pin": 5.0,
    "10,000 rows x 2 lookups, 1 agent": 5.0,
    "10,000 rows x 2 lookups, 128 agents": 20.0,
}
AGENTS_RATIO_TARGET = 2.0  # clawsim's 10,000-row list under 128 agents / under 1 agent, at most


def peer_table(quick: bool) -> None:
    print(f"{'case':<44} {'runs':>5} {'clawsim/run':>12} {'peer/run':>12} {'peer/clawsim':>13}  counts")
    speedups, per_run = {}, {}
    for case in cases(quick):
        ours, theirs = clawsim_runs(case, case.reps), peer_runs(case, case.reps)
        check_same(case, ours(), theirs())
        t_ours, t_theirs = best_round(2 if quick else 3, ours, theirs)
        n = case.reps
        speedups[case.name], per_run[case.name] = t_theirs / t_ours, t_ours / n
        print(
            f"{case.name:<44} {n:>5} {_ms(t_ours / n):>12} {_ms(t_theirs / n):>12} {t_theirs / t_ours:>12.1f}x  "
            f"{'equal' if case.exact else 'same in distribution'}"
        )
    print("issue 17's targets in this run:")
    for name, speedup in speedups.items():
        least = SPEEDUP_TARGETS.get(name, 1.0)
        print(f"  {name:<44} peer/clawsim x{speedup:.1f} (target >= x{least:g}): {_met(speedup >= least)}")
    agents = per_run["10,000 rows x 2 lookups, 128 agents"] / per_run["10,000 rows x 2 lookups, 1 agent"]
    print(
        f"  {'10,000 rows, 128 agents / 1 agent (clawsim)':<44} x{agents:.1f} "
        f"(target <= x{AGENTS_RATIO_TARGET:g}): {_met(agents <= AGENTS_RATIO_TARGET)}"
    )


def _met(met: bool) -> str:
    return "met" if met else "not met"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms"


# --------------------------------------------------------------------------- sweeps


def sweep_rates(sample: int = 400) -> dict[str, float]:
    """Runs per second on one core: the headline sweep, and a sample of the sensitivity sweep."""
    headline = plan(clawsim.load_scenario(ROOT / "scenarios" / "rows-x-concurrency.yaml"))
    sensitivity = plan(clawsim.load_scenario(ROOT / "benchmarks" / "sensitivity.yaml"))
    picks = [int(i) for i in np.random.default_rng(12).choice(len(sensitivity), sample, replace=False)]
    h, s = best_round(
        2,
        lambda: [simulate_run(headline[i]) for i in range(len(headline))],
        lambda: [simulate_run(sensitivity[i]) for i in picks],
    )
    return {"headline": len(headline) / h, "sensitivity": sample / s}


HEADLINE_TARGET = 3.0  # the headline sweep on one worker, this tree / the baseline (6ef9413), at least
SENSITIVITY_TARGET_S = 60.0  # benchmarks/sensitivity.yaml on 2 workers, under


def sweep_table(baseline: str | None) -> None:
    trees = [("this tree", str(ROOT))] + ([("baseline", baseline)] if baseline else [])
    rates: dict[str, list[dict[str, float]]] = {label: [] for label, _ in trees}
    for _ in range(2 if baseline else 1):  # alternate the trees, keep each one's best
        for label, tree in trees:
            out = subprocess.run(
                [sys.executable, __file__, "--sweep-child"],
                env={**os.environ, "PYTHONPATH": tree},
                capture_output=True,
                text=True,
                check=True,
            )
            rates[label].append(dict(zip(("headline", "sensitivity"), map(float, out.stdout.split()), strict=True)))
    best = {label: {k: max(r[k] for r in rs) for k in ("headline", "sensitivity")} for label, rs in rates.items()}
    print("sweep throughput, one core, runs/s (best of the rounds)")
    for key, what in (("headline", "headline sweep, 1,680 runs"), ("sensitivity", "sensitivity.yaml, 400 random runs")):
        line = f"  {what:<36} this tree {best['this tree'][key]:8.0f}"
        if baseline:
            line += f"   baseline {best['baseline'][key]:8.0f}   x{best['this tree'][key] / best['baseline'][key]:.2f}"
        print(line)
    if baseline:
        gain = best["this tree"]["headline"] / best["baseline"]["headline"]
        print(
            f"  headline sweep vs the baseline x{gain:.2f} (target >= x{HEADLINE_TARGET:g}): {_met(gain >= HEADLINE_TARGET)}"
        )
    runs = len(plan(clawsim.load_scenario(ROOT / "benchmarks" / "sensitivity.yaml")))
    estimate = runs / best["this tree"]["sensitivity"] / 2
    print(
        f"  sensitivity sweep, {runs:,} runs on 2 idle workers, estimated from the sample: {estimate:.0f} s "
        f"(target < {SENSITIVITY_TARGET_S:g} s; time the sweep itself to judge it)"
    )


def main() -> None:
    if "--sweep-child" in sys.argv:
        rates = sweep_rates()
        print(rates["headline"], rates["sensitivity"])
        return
    print(f"load average {os.getloadavg()[0]:.2f}")
    peer_table("--quick" in sys.argv)
    if "--sweeps" in sys.argv or "--baseline" in sys.argv:
        baseline = sys.argv[sys.argv.index("--baseline") + 1] if "--baseline" in sys.argv else None
        sweep_table(baseline)
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
