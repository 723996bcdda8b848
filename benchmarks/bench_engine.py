"""Engine speed: prints its figures. Run: python benchmarks/bench_engine.py

The machine is shared and noisy: read the ratios within one run, not the absolute
seconds across runs. Each case reports the best of a few repeats.
"""

from __future__ import annotations

import time

import simpy

import clawsim
from clawsim.engine import EngineOptions, simulate_run
from clawsim.scenario import plan


class CountingEnvironment(simpy.Environment):
    """A SimPy environment that counts the events it processes."""

    steps = 0

    def step(self) -> None:
        CountingEnvironment.steps += 1
        super().step()


def measure(name: str, text: str, repeats: int = 3) -> dict:
    scenario = clawsim.parse_scenario(text)
    runs = plan(scenario)
    best, events, sim_ms = float("inf"), 0, 0.0
    counting = EngineOptions(environment=CountingEnvironment)
    for _ in range(repeats):
        CountingEnvironment.steps = 0
        started = time.perf_counter()
        records = [r for spec in runs for r in simulate_run(spec, counting)]
        best = min(best, time.perf_counter() - started)
        events = CountingEnvironment.steps
        sim_ms = sum(r["sim_ms"] for r in records if r["list_index"] == 0)
    rows = sum(r["rows"] for r in records)
    print(
        f"{name:<44} {len(runs):>5} runs {best * 1000:>9.2f} ms wall {events:>9,} events "
        f"{events / best:>11,.0f} ev/s {sim_ms / best:>14,.0f} sim-ms/s {rows / best:>13,.0f} rows/s"
    )
    return {"wall_s": best, "events": events}


PR = """
memo: {policy: lru, capacity: 8, scan_ms: 2.5}
list: {rows: 200, yield_every: 10, lookups_per_row: 2, row_cost_ms: 0.28}
actors: [{name: flipper, kind: immediate, workspaces: unique}]
sweep: {registry.fix: [none, pin]}
"""

MILLION = """
memo: {policy: lru, capacity: 8, scan_ms: 100}
list: {rows: 1000000, yield_every: 10000, lookups_per_row: 2, row_cost_ms: 0.28}
actors: [{name: flipper, kind: immediate, workspaces: unique}]
sweep: {registry.fix: [none, pin]}
"""

ROWS_SCALING = """
memo: {{policy: lru, capacity: 8, scan_ms: 100}}
list: {{rows: {rows}, yield_every: 10, lookups_per_row: 2, row_cost_ms: 0.28}}
actors: [{{name: flipper, kind: immediate, workspaces: unique}}]
registry: {{fix: pin}}
"""

BUSY = open("scenarios/busy-gateway.yaml").read()


def main() -> None:
    print(
        "case                                          runs      wall        events      events/s    simulated/s        rows/s"
    )
    measure("PR 90819 harness (none + pin)", PR, repeats=20)
    measure("1,000,000 rows, yield_every 10,000 (x2)", MILLION)
    small = measure("pin, 1,000 rows, yield_every 10", ROWS_SCALING.format(rows=1000))
    large = measure("pin, 100,000 rows, yield_every 10", ROWS_SCALING.format(rows=100_000), repeats=1)
    print(
        f"rows x100 -> wall x{large['wall_s'] / small['wall_s']:.0f}, events x{large['events'] / small['events']:.0f} "
        "(a run costs its yields, not its rows: both should be ~x100 here, since yields grow with rows)"
    )
    measure("busy gateway (40 runs, poisson + interval)", BUSY, repeats=1)


if __name__ == "__main__":
    main()
