"""What tracing costs: prints its figures. Run: python benchmarks/bench_trace.py

Each case runs one run of a scenario without a tracer and with one (the same engine run, see
clawsim.tracing), best of a few repeats, and prints the ratio; the machine is shared and noisy,
so read the ratios. Issue 9 asks for at most ~2x. The events of a traced run are held by that
run only (a sweep is never traced as a whole), so memory grows with the traced run's events:
the count is printed too.
"""

from __future__ import annotations

import time

import clawsim
from clawsim.engine.run import simulate_once
from clawsim.engine.tracer import Tracer

CASES = {
    "PR harness, fix none (200 rows, flipper)": """
        memo: {policy: lru, capacity: 8, scan_ms: 2.5}
        list: {rows: 200, yield_every: 10, lookups_per_row: 2, row_cost_ms: 0.28}
        actors: [{name: flipper, kind: immediate, workspaces: unique}]""",
    "busy gateway, fix none (100 rows, reads, turns, crons)": """
        memo: {policy: lru, capacity: 8, scan_ms: {dist: lognormal, p50: 95, p95: 130}}
        list: {rows: 100, per_row_io: {rows: 100, latency_ms: 2}, start_ms: 1000}
        actors:
          - {name: main-agent, kind: poisson, rate_per_s: 10, workspaces: unique, work_ms: 5}
          - {name: cron, kind: interval, period_ms: 400, count: 2, workspaces: unique, work_ms: 5}""",
    "10,000 rows under 16 agents, fix none": """
        memo: {policy: lru, capacity: 8, scan_ms: 100}
        list: {rows: 10000, lookups_per_row: 2}
        actors: [{name: agent, kind: poisson, rate_per_s: 2, count: 16, workspaces: unique}]""",
    "10,000 rows under 16 agents, pin (every hit traced)": """
        memo: {policy: lru, capacity: 8, scan_ms: 100}
        list: {rows: 10000, lookups_per_row: 2}
        registry: {fix: pin}
        actors: [{name: agent, kind: poisson, rate_per_s: 2, count: 16, workspaces: unique}]""",
}


def best(repeats: int, fn) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main(repeats: int = 5) -> None:
    print(f"{'case':<56} {'plain':>9} {'traced':>9} {'ratio':>6} {'events':>8}")
    for name, text in CASES.items():
        scenario = clawsim.parse_scenario(text)
        plain = best(repeats, lambda s=scenario: simulate_once(s, 0))
        tracer = Tracer()
        traced = best(repeats, lambda s=scenario: simulate_once(s, 0, tracer=Tracer()))
        simulate_once(scenario, 0, tracer=tracer)
        events = len(tracer.spans) + len(tracer.instants)
        print(f"{name:<56} {plain * 1000:7.1f}ms {traced * 1000:7.1f}ms {traced / plain:5.1f}x {events:8,}")


if __name__ == "__main__":
    main()
