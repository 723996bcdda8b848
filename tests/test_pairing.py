"""Common random numbers: the variants of a plan point (none, pin, the alternatives) share
their random streams, so what the fix cannot change is exactly equal between them."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SCENARIOS, scenario

import clawsim
from clawsim.engine.sources import PoissonSource
from clawsim.scenario import plan

# Everything but what tells the runs apart (and whether a list ran pinned).
_LABELS = {"run", "point", "registry.fix", "variant", "pinned"}

_NO_YIELDS = """
    seed: 7
    replications: 3
    list: {rows: 100, yield_every: 0, lookups_per_row: 2, row_cost_ms: 0.28, count: 2, gap_ms: 30}
    memo: {policy: lru, capacity: 8, scan_ms: {dist: lognormal, p50: 5, p95: 9}}
    actors:
      - {name: turns, kind: poisson, rate_per_s: 200, count: 2, work_ms: 0.5, workspaces: "random:3"}
      - {name: cron, kind: interval, period_ms: 7, workspaces: unique}
    sweep:
      registry.fix: [none, pin]
"""


def test_the_variants_of_a_point_share_their_streams_and_nothing_else_does():
    runs = plan(
        scenario("""
        replications: 2
        variants: {a: {}, b: {memo.capacity: 1}}
        sweep: {list.rows: [10, 20], registry.fix: [none, pin]}
    """)
    )
    by_stream: dict[int, set] = {}
    for spec in runs:
        by_stream.setdefault(spec.stream, set()).add((spec.params[1][1], spec.replication))
    # 16 runs, 4 streams: one per (rows, replication), shared by the 2 variants x 2 fixes
    assert len(runs) == 16 and len(by_stream) == 4
    assert all(len(cell) == 1 for cell in by_stream.values())
    unpaired = plan(scenario("replications: 3\nsweep: {list.rows: [10, 20]}"))
    assert [spec.stream for spec in unpaired] == [spec.run for spec in unpaired]


@pytest.mark.parametrize("schedule", [(0.5, 3.0, 3.1, 40.0), (40.0,), (1.0, 2.0, 5.0, 9.0, 13.0, 40.0)])
def test_a_poisson_source_draws_the_same_arrivals_whenever_the_loop_polls(schedule):
    actor = scenario("actors: [{name: t, kind: poisson, rate_per_s: 3000, count: 3, workspaces: 'random:4'}]").actors[0]

    def arrivals(polls):
        source = PoissonSource(actor, np.random.default_rng(5), lambda ws, now: 0.0)
        times = [source.arrivals_until(t) for t in polls if source.next_ms <= t]
        delivered = np.concatenate(times)
        return delivered, [source.advance(1)[0] for _ in delivered]

    times, names = arrivals(schedule)
    every_ms, names_every_ms = arrivals(np.arange(0.0, 40.5, 0.5))
    assert len(times) > 300 and np.array_equal(times, every_ms) and names == names_every_ms


@pytest.mark.parametrize("engine", ["aggregated", "reference"])
def test_where_the_pin_cannot_matter_none_and_pin_give_identical_records(engine):
    """A list that never yields cannot see a flip: with common random numbers the actors'
    arrivals, the scan costs and so every count and time are the same with and without
    the pin, in both engines (with independent streams loop delay alone would differ)."""
    frame = clawsim.simulate(scenario(_NO_YIELDS + f"    loop: {{engine: {engine}}}\n"))
    none, pin = (frame[frame["registry.fix"] == fix].reset_index(drop=True) for fix in ("none", "pin"))
    assert none["actor_activations"].min() > 0 and none["list_ms"].nunique() > 3
    columns = [c for c in frame.columns if c not in _LABELS]
    assert none[columns].equals(pin[columns])


def test_the_idle_gateway_none_and_pin_are_equal_in_every_metric():
    frame = clawsim.simulate(clawsim.load_scenario(SCENARIOS / "idle-gateway.yaml"))
    none, pin = (frame[frame["registry.fix"] == fix].reset_index(drop=True) for fix in ("none", "pin"))
    columns = [c for c in frame.columns if c not in _LABELS]
    assert none[columns].equals(pin[columns])
    assert none["loop_delay_max_ms"].max() > 100  # the cold scans are there, in both
