"""clawsim explore: states explored per second, and the issue's 60-second target.

Cases: PR 90819's harness (fix none and pin), 50 batches x 2 lookups x an 8-slot LRU x a
pool of 5 workspaces (the target: exhaustive in under 60 s on one core), the same with the
flipper also doing 2 lookups of its own (its activations store and evict entries), and every
variant of scenarios/alternatives.yaml. Run from the repository root:
``PYTHONPATH=. python benchmarks/bench_explore.py``.
"""

from __future__ import annotations

import time
from pathlib import Path

from clawsim.explore.model import Model
from clawsim.explore.search import exhaustive
from clawsim.scenario import load_scenario, parse_scenario, plan

ROOT = Path(__file__).resolve().parent.parent

POOL = """
name: pool5
list: {{rows: 500, yield_every: 10, lookups_per_row: 2, row_cost_ms: 0.28}}
memo: {{policy: lru, capacity: 8, scan_ms: 2.5}}
actors: [{{name: flipper, kind: immediate, workspaces: "random:5", lookups: {lookups}}}]
"""


def case(label: str, scenario) -> None:
    began = time.perf_counter()
    search = exhaustive(Model(scenario), max_states=5_000_000)
    seconds = time.perf_counter() - began
    lo, hi = search.extremes.metric("scans")
    print(
        f"{label:<34} {search.states:>9,} states {search.transitions:>10,} transitions {seconds:>7.2f} s "
        f"{search.states / seconds:>10,.0f} states/s  scans {lo:g}..{hi:g}"
    )


def main() -> None:
    harness = load_scenario(ROOT / "scenarios/pr90819-harness.yaml")
    runs = plan(harness)
    for p in range(runs.points):
        case(f"pr90819-harness {dict(runs[p].params)['registry.fix']}", runs[p].scenario)
    case("50 batches, pool of 5, LRU 8", parse_scenario(POOL.format(lookups=0), "pool5.yaml"))
    case("  ... flipper with 2 lookups", parse_scenario(POOL.format(lookups=2), "pool5.yaml"))
    alternatives = load_scenario(ROOT / "scenarios/alternatives.yaml")
    runs = plan(alternatives)
    for p in range(runs.points):
        spec = runs[p * runs.replications]
        case(f"alternatives {spec.params[0][1]}", spec.scenario)


if __name__ == "__main__":
    main()
