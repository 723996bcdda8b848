"""A run costs its yields, not its arrivals (issue 12): before/after in one run.

Run: python benchmarks/bench_arrivals.py [--no-sweep] [--fast-rows]
(from a worktree: PYTHONPATH=. python benchmarks/..., else the installed clawsim is timed)

``--fast-rows`` prints only section 5: the two targets still missed after aggregation, with
``build_rows``'s exact all-miss fast path off and on (``EngineOptions.fast_rows``), in one run.

"before" is the per-arrival reference engine (``loop.engine: reference``), "after" the
aggregated one (the default). Targets:

1. One list of 10,000 rows x 2 lookups (lognormal scans, median 60 ms, p95 80 ms) under 128
   poisson agents at 2 turns/s costs at most 2x the same list under 1 agent.
2. The same list with 10 lookups per row (more keys than the 8-slot memo) under 128 agents:
   under 0.5 s.
3. benchmarks/sensitivity.yaml (2,000 points x 25 replications = 50,000 runs) on 2 workers:
   under 5 minutes. "after" is timed in full; "before" would take hours, so it is estimated
   from a random sample of runs on one core, divided by 2 workers (stated as an estimate).
4. The PR harness and the headline sweep (scenarios/rows-x-concurrency.yaml, 1 worker): no
   slower than before.

The machine is shared and noisy: read the ratios within one run, not seconds across runs.

Measured figures: benchmarks/README.md.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import clawsim
from clawsim.engine import EngineOptions
from clawsim.engine.options import Engine
from clawsim.engine.run import simulate_once, simulate_run
from clawsim.scenario import plan
from clawsim.scenario.overrides import Override, apply_overrides

ROOT = Path(__file__).resolve().parents[1]
BUSY_LIST = """
memo: {{policy: lru, capacity: 8, scan_ms: {{dist: lognormal, p50: 60, p95: 80}}}}
list: {{rows: 10000, yield_every: 10, lookups_per_row: {lookups}, row_cost_ms: 0.28}}
actors: [{{name: agent, kind: poisson, rate_per_s: 2, count: {agents}, workspaces: unique}}]
"""
ENGINES: tuple[Engine, ...] = ("reference", "aggregated")


def best_of(repeats: int, job: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        job()
        best = min(best, time.perf_counter() - started)
    return best


def one_list(lookups: int, agents: int, engine: Engine, repeats: int, fast_rows: bool = True) -> float:
    scenario = clawsim.parse_scenario(BUSY_LIST.format(lookups=lookups, agents=agents))
    options = EngineOptions(engine=engine, fast_rows=fast_rows)
    return best_of(repeats, lambda: simulate_once(scenario, 0, options=options))


def target_agents() -> None:
    print("1. 10,000 rows x 2 lookups: 128 agents vs 1 agent (target: at most x2)")
    for engine in ENGINES:
        one, many = one_list(2, 1, engine, 3), one_list(2, 128, engine, 3)
        print(f"   {engine:<10}  1 agent {one:7.3f} s   128 agents {many:7.3f} s   x{many / one:5.1f}")


def target_lookups() -> None:
    print("2. 10,000 rows x 10 lookups, 128 agents (target: under 0.5 s)")
    for engine in ENGINES:
        print(f"   {engine:<10}  {one_list(10, 128, engine, 1 if engine == 'reference' else 3):7.3f} s")


def with_engine(engine: str, scenario: clawsim.Scenario) -> clawsim.Scenario:
    """The scenario run by ``engine`` (``loop.engine``; worker processes read it from the scenario)."""
    return apply_overrides(scenario, [Override("--set", "loop.engine", engine)])


def timed(job: Callable[[], object]) -> float:
    return best_of(1, job)


def target_sweep(sample: int = 200) -> None:
    print("3. benchmarks/sensitivity.yaml, 50,000 runs on 2 workers (target: under 5 minutes)")
    scenario = clawsim.load_scenario(ROOT / "benchmarks" / "sensitivity.yaml")
    runs = plan(scenario)
    picks = np.random.default_rng(12).choice(len(runs), sample, replace=False)
    for engine in ENGINES:
        engine_runs = plan(with_engine(engine, scenario))
        wall = timed(lambda runs=engine_runs: [simulate_run(runs[int(i)]) for i in picks])
        print(
            f"   {engine:<10}  estimate from {sample} random runs on 1 core: "
            f"{wall / sample * len(runs) / 2 / 60:6.1f} min on 2 workers"
        )
    wall = timed(lambda: clawsim.simulate(with_engine("aggregated", scenario), workers=2))
    print(
        f"   aggregated  measured, all {len(runs):,} runs on 2 workers: {wall / 60:6.2f} min "
        f"({len(runs) / wall:,.0f} runs/s)"
    )


def target_unchanged() -> None:
    print("4. no slower than before: PR harness (best of 10), headline sweep (1 worker)")
    harness = clawsim.load_scenario(ROOT / "scenarios" / "pr90819-harness.yaml")
    headline = clawsim.load_scenario(ROOT / "scenarios" / "rows-x-concurrency.yaml")
    for engine in ENGINES:
        pr_sc, headline_sc = with_engine(engine, harness), with_engine(engine, headline)
        pr = min(timed(lambda sc=pr_sc: clawsim.simulate(sc)) for _ in range(10))
        sweep = timed(lambda sc=headline_sc: clawsim.simulate(sc))
        print(f"   {engine:<10}  PR harness {pr * 1000:7.1f} ms   headline sweep {sweep:6.2f} s")


def target_fast_rows(sample: int = 400) -> None:
    print("5. build_rows all-miss fast path, off -> on (aggregated engine)")
    one_list(2, 128, "aggregated", 2)  # warm up: the first runs in a process are slower
    for on in (False, True):
        one = one_list(2, 1, "aggregated", 7, on)
        many = one_list(2, 128, "aggregated", 7, on)
        ten = one_list(10, 128, "aggregated", 3, on)
        print(
            f"   fast {'on ' if on else 'off'}  2 lookups: 1 agent {one:6.4f} s, 128 agents {many:6.4f} s "
            f"= x{many / one:4.2f} (target <= x2)   10 lookups, 128 agents {ten:6.3f} s"
        )
    scenario = clawsim.load_scenario(ROOT / "benchmarks" / "sensitivity.yaml")
    runs = plan(scenario)
    picks = [int(i) for i in np.random.default_rng(12).choice(len(runs), sample, replace=False)]
    heavy = [r for r in range(0, len(runs), 25) if _heavy(runs[r].params)]
    for on in (False, True):
        options = EngineOptions(fast_rows=on)
        wall = best_of(1, lambda o=options: [simulate_run(runs[i], o) for i in picks])
        heavy_s = best_of(1, lambda o=options: [simulate_run(runs[i], o) for i in heavy])
        print(
            f"   fast {'on ' if on else 'off'}  sensitivity.yaml: {sample} random runs {wall:5.2f} s on 1 core "
            f"(~{wall / sample * len(runs) / 2 / 60:4.1f} min of simulation on 2 workers); "
            f"its {len(heavy)} points with 9-10 lookups and >= 2,154 rows, 1 run each: {heavy_s:5.2f} s"
        )


def _heavy(params: tuple) -> bool:
    values = dict(params)
    return values["list.lookups_per_row"] >= 9 and values["list.rows"] >= 2154


def main() -> None:
    if "--fast-rows" in sys.argv:
        target_fast_rows()
        return
    target_agents()
    target_lookups()
    target_unchanged()
    if "--no-sweep" not in sys.argv:
        target_sweep()


if __name__ == "__main__":
    main()
