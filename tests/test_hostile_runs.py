"""Runs that cannot advance or cannot keep up stop by themselves, recorded ``completed: false``.

The engine's watchdog (``clawsim.engine.loop``): more than ``MAX_WAITING`` callbacks queued
for the poll phase, ``STALL_ITERATIONS`` loop iterations in a row without simulated time
moving, or ``MAX_ITERATIONS`` iterations in all halt the run at once.
"""

from __future__ import annotations

import textwrap
import time
import tracemalloc

import clawsim
from clawsim.engine.loop import MAX_ITERATIONS, MAX_WAITING, STALL_ITERATIONS, EventLoop
from clawsim.engine.run import simulate_once


def timed(text: str, trace: bool = False) -> tuple[list[dict], float, int]:
    """(records, wall seconds, peak traced bytes or 0) of one run of a scenario given as YAML text."""
    scenario = clawsim.parse_scenario(textwrap.dedent(text))
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    try:
        records = simulate_once(scenario)
        return records, time.perf_counter() - started, tracemalloc.get_traced_memory()[1] if trace else 0
    finally:
        tracemalloc.stop()


def test_a_poisson_actor_far_over_load_halts_when_the_queue_is_full():
    records, seconds, peak = timed(
        """
        list: {rows: 100, per_row_io: {rows: 100, latency_ms: 1}}
        actors: [{name: turns, kind: poisson, rate_per_s: 100000, work_ms: 1}]
    """,
        trace=True,
    )
    (record,) = records
    assert not record["completed"]
    assert record["sim_ms"] < 1_000  # halted long before max_sim_ms (3,600,000)
    assert seconds < 5 and peak < 50e6  # before: ~75 MB/s of queued arrivals until max_sim_ms


def test_a_clock_that_cannot_advance_halts_after_the_stall_bound():
    """An iteration cost below the clock's resolution: a spinning loop never reaches the I/O."""
    records, seconds, _ = timed("""
        loop: {iteration_ms: 1.0e-300}
        list: {rows: 1, row_cost_ms: 1, per_row_io: {rows: 1, latency_ms: 2}}
        actors: [{name: flipper, kind: immediate}]
    """)
    (record,) = records
    assert not record["completed"]
    assert record["loop_iterations"] == STALL_ITERATIONS + 1
    assert seconds < 10


def test_a_run_that_advances_too_slowly_halts_at_the_iteration_cap(monkeypatch):
    """Time moves (by 1e-300 ms an iteration) but would need ~10^303 iterations to reach
    max_sim_ms; the cap (lowered here so the test is quick) ends it."""
    monkeypatch.setattr("clawsim.engine.loop.MAX_ITERATIONS", 20_000)
    records, _, _ = timed("""
        loop: {iteration_ms: 1.0e-300}
        list: {rows: 1000000000, yield_every: 1, row_cost_ms: 0, lookups_per_row: 0}
    """)
    (record,) = records
    assert not record["completed"] and record["loop_iterations"] == 20_000
    assert 0 < record["sim_ms"] < 1e-200
    assert MAX_ITERATIONS == 2_000_000  # the real cap: ~10 s of wall time on one core


def test_zero_cost_back_to_back_lists_end_at_the_lists_bound():
    """Simulated time never moves, but the lists are bounded at validation and all complete."""
    records, seconds, _ = timed(
        "list: {rows: 1, row_cost_ms: 0, count: 2000, lookups_per_row: 0}\nloop: {iteration_ms: 1.0e-300}"
    )
    assert len(records) == 2000 and all(r["completed"] for r in records) and records[-1]["sim_ms"] == 0
    assert seconds < 5


def test_halt_keeps_the_first_reason_and_ends_the_run_at_once():
    import simpy

    loop = EventLoop(simpy.Environment(), 0.005)
    for _ in range(MAX_WAITING + 5):
        loop.deliver(iter(()))
    assert loop.stopped and loop.halted.triggered
    assert loop.halt_reason == f"more than {MAX_WAITING} callbacks wait for the poll phase: the loop cannot keep up"


def test_an_overloaded_sweep_returns_records_not_a_hang():
    frame = clawsim.simulate(
        clawsim.parse_scenario(
            "list: {rows: 100}\nactors: [{name: t, kind: poisson, rate_per_s: 1000, work_ms: 5}]\n"
            "sweep:\n  actors.0.work_ms: [0.1, 5]\n"
        )
    )
    assert list(frame["completed"]) == [True, False]
