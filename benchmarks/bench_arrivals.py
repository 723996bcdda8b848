"""A run costs its yields, not its arrivals (issue 12): before/after in one run.

Run: python benchmarks/bench_arrivals.py [--no-sweep]

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

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import clawsim
from clawsim.engine.run import simulate_once, simulate_run
from clawsim.scenario import plan

ROOT = Path(__file__).resolve().parents[1]
BUSY_LIST = """
memo: {{policy: lru, capacity: 8, scan_ms: {{dist: lognormal, p50: 60, p95: 80}}}}
list: {{rows: 10000, yield_every: 10, lookups_per_row: {lookups}, row_cost_ms: 0.28}}
actors: [{{name: agent, kind: poisson, rate_per_s: 2, count: {agents}, workspaces: unique}}]
"""
ENGINES = ("reference", "aggregated")


def best_of(repeats: int, job: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        job()
        best = min(best, time.perf_counter() - started)
    return best


def one_list(lookups: int, agents: int, engine: str, repeats: int) -> float:
    scenario = clawsim.parse_scenario(BUSY_LIST.format(lookups=lookups, agents=agents))
    return best_of(repeats, lambda: simulate_once(scenario, 0, engine=engine))


def target_agents() -> None:
    print("1. 10,000 rows x 2 lookups: 128 agents vs 1 agent (target: at most x2)")
    for engine in ENGINES:
        one, many = one_list(2, 1, engine, 3), one_list(2, 128, engine, 3)
        print(f"   {engine:<10}  1 agent {one:7.3f} s   128 agents {many:7.3f} s   x{many / one:5.1f}")


def target_lookups() -> None:
    print("2. 10,000 rows x 10 lookups, 128 agents (target: under 0.5 s)")
    for engine in ENGINES:
        print(f"   {engine:<10}  {one_list(10, 128, engine, 1 if engine == 'reference' else 3):7.3f} s")


def with_engine(engine: str, job: Callable[[], object]) -> float:
    """Wall seconds of ``job`` with $CLAWSIM_ENGINE set (worker processes inherit it)."""
    saved = os.environ.get("CLAWSIM_ENGINE")
    os.environ["CLAWSIM_ENGINE"] = engine
    try:
        return best_of(1, job)
    finally:
        if saved is None:
            del os.environ["CLAWSIM_ENGINE"]
        else:
            os.environ["CLAWSIM_ENGINE"] = saved


def target_sweep(sample: int = 200) -> None:
    print("3. benchmarks/sensitivity.yaml, 50,000 runs on 2 workers (target: under 5 minutes)")
    scenario = clawsim.load_scenario(ROOT / "benchmarks" / "sensitivity.yaml")
    runs = plan(scenario)
    picks = np.random.default_rng(12).choice(len(runs), sample, replace=False)
    for engine in ENGINES:
        wall = with_engine(engine, lambda: [simulate_run(runs[int(i)]) for i in picks])
        print(
            f"   {engine:<10}  estimate from {sample} random runs on 1 core: "
            f"{wall / sample * len(runs) / 2 / 60:6.1f} min on 2 workers"
        )
    wall = with_engine("aggregated", lambda: clawsim.simulate(scenario, workers=2))
    print(
        f"   aggregated  measured, all {len(runs):,} runs on 2 workers: {wall / 60:6.2f} min "
        f"({len(runs) / wall:,.0f} runs/s)"
    )


def target_unchanged() -> None:
    print("4. no slower than before: PR harness (best of 10), headline sweep (1 worker)")
    harness = clawsim.load_scenario(ROOT / "scenarios" / "pr90819-harness.yaml")
    headline = clawsim.load_scenario(ROOT / "scenarios" / "rows-x-concurrency.yaml")
    for engine in ENGINES:
        pr = min(with_engine(engine, lambda: clawsim.simulate(harness)) for _ in range(10))
        sweep = with_engine(engine, lambda: clawsim.simulate(headline))
        print(f"   {engine:<10}  PR harness {pr * 1000:7.1f} ms   headline sweep {sweep:6.2f} s")


def main() -> None:
    target_agents()
    target_lookups()
    target_unchanged()
    if "--no-sweep" not in sys.argv:
        target_sweep()


if __name__ == "__main__":
    main()
