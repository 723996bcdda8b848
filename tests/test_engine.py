"""The model against the published harness and the ordering rules of docs/event-loop.md."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import SCENARIOS, run

import clawsim
from clawsim.engine import EngineOptions
from clawsim.engine.choices import SEEDED
from clawsim.engine.run import build_world

pytestmark = pytest.mark.fast  # the inner loop: python -m pytest -m fast (seconds)


def test_pr90819_harness_reproduces_the_published_table():
    frame = clawsim.simulate(clawsim.load_scenario(SCENARIOS / "pr90819-harness.yaml"))
    by_fix = frame.set_index("registry.fix")
    assert by_fix.loc["none", "scans"] == 40
    assert by_fix.loc["pin", "scans"] == 2
    assert by_fix.loc["none", "flips"] == 19 and by_fix.loc["pin", "flips"] == 19
    assert by_fix.loc["none", "distinct_workspaces"] == 20
    assert by_fix.loc["pin", "distinct_workspaces"] == 1
    assert by_fix.loc["none", "lookups"] == 400  # the PR's 400 scan spans
    # 200 rows x 0.28 + scans x 2.5, plus the 5 us ends of the 18 loop iterations the
    # list spans after its first (its first resume shares the iteration it started in).
    assert by_fix.loc["none", "list_ms"] == pytest.approx(200 * 0.28 + 40 * 2.5 + 18 * 0.005)
    assert by_fix.loc["pin", "list_ms"] == pytest.approx(200 * 0.28 + 2 * 2.5 + 18 * 0.005)
    assert abs(by_fix.loc["none", "list_ms"] - 157) < 2 and abs(by_fix.loc["pin", "list_ms"] - 61) < 1


@pytest.mark.parametrize("rows", [10, 95, 200, 1000])
@pytest.mark.parametrize("lookups", [1, 2, 3])
def test_no_fix_with_a_flip_every_yield_scans_once_per_batch_and_lookup(harness_text, rows, lookups):
    text = harness_text.replace("rows: 200", f"rows: {rows}").replace(
        "lookups_per_row: 2", f"lookups_per_row: {lookups}"
    )
    row = run(text).iloc[0]
    batches = math.ceil(rows / 10)
    assert row.yields == batches - 1
    assert row.flips == batches - 1
    assert row.scans == lookups * batches
    assert row.hits == lookups * rows - row.scans


def test_pin_scans_do_not_depend_on_rows_or_actor_rate():
    frame = run("""
        replications: 3
        registry: {fix: pin}
        memo: {policy: lru, capacity: 8, scan_ms: 5}
        list: {rows: 100, yield_every: 10, lookups_per_row: 2}
        actors:
          - {name: turns, kind: poisson, rate_per_s: 1, workspaces: unique, work_ms: 1}
        sweep:
          list.rows: [10, 100, 1000, 5000]
          actors.0.rate_per_s: [1, 50, 500]
    """)
    assert set(frame.scans) == {2}
    assert frame.groupby("list.rows").flips.max().iloc[-1] > 100  # the actors were busy


def test_yield_every_zero_gives_no_extra_scans(harness_text):
    row = run(harness_text.replace("yield_every: 10", "yield_every: 0")).iloc[0]
    assert (row.scans, row.yields, row.flips, row.distinct_workspaces) == (2, 0, 0, 1)
    assert row.loop_delay_max_ms == pytest.approx(row.list_ms - 1)  # one long callback


def test_cycle2_workspaces_stop_missing_in_an_lru_but_not_in_a_single_slot(harness_text):
    text = harness_text.replace("workspaces: unique", "workspaces: cycle:2").replace("rows: 200", "rows: 1000")
    lru = run(text).iloc[0]
    single = run(text.replace("{policy: lru, capacity: 8, scan_ms: 2.5}", "{policy: single, scan_ms: 2.5}")).iloc[0]
    assert lru.scans == 2 + 2 * 2  # the gateway's own workspace, then the two cycled ones
    assert single.scans == lru.lookups  # two keys per row always evict each other
    assert single.hits == 0


def test_memo_none_scans_every_lookup(harness_text):
    row = run(harness_text.replace("{policy: lru, capacity: 8, scan_ms: 2.5}", "{policy: none, scan_ms: 2.5}")).iloc[0]
    assert row.scans == row.lookups == 400


def test_ttl_expires_entries_inside_a_long_batch():
    row = run("""
        memo: {policy: ttl, ttl_ms: 10, scan_ms: 1}
        list: {rows: 100, yield_every: 0, lookups_per_row: 1, row_cost_ms: 1}
    """).iloc[0]
    # A scan stores its entry at its end; the entry serves rows for 10 ms, then rescans.
    assert row.scans == 10
    assert row.stale_hits == 0  # nothing changed the registry


def test_a_timer_actor_flips_at_most_once_per_yield_and_never_across_the_first(harness_text):
    text = harness_text.replace("kind: immediate", "kind: interval, period_ms: 1")
    row = run(text).iloc[0]
    # Every later batch sees a new value, but batch 1 resumes in the check phase of the
    # iteration whose poll phase started the list: no timers phase in between.
    assert row.flips == 18
    assert row.distinct_workspaces == 19
    assert row.scans == 2 * 19


def test_a_slow_timer_misses_ticks_without_catching_up(harness_text):
    text = harness_text.replace("kind: immediate", "kind: interval, period_ms: 20")
    row = run(text).iloc[0]
    # At most one flip per 20 ms of list, late by at most one iteration (< 16 ms here).
    assert row.list_ms / (20 + 16) - 1 <= row.flips <= row.list_ms / 20
    assert row.actor_activations == row.flips


def test_immediate_actors_flip_k_times_per_yield_and_only_the_last_matters(harness_text):
    text = harness_text.replace("kind: immediate,", "kind: immediate, count: 3,")
    row = run(text).iloc[0]
    assert row.flips == 3 * 19
    assert row.distinct_workspaces == 20 and row.scans == 40


def test_back_to_back_lists_have_no_flip_between_them(harness_text):
    text = harness_text.replace("kind: immediate", "kind: interval, period_ms: 1").replace(
        "row_cost_ms: 0.28}", "row_cost_ms: 0.28, count: 3}"
    )
    frame = run(text)
    assert len(frame) == 3
    # Every activation fell inside some list: none between two of them.
    assert frame.flips.sum() == frame.actor_activations.iloc[0]
    assert list(frame.start_ms.iloc[1:]) == pytest.approx(list((frame.start_ms + frame.list_ms).iloc[:-1]))


def test_lists_gap_ms_apart_start_after_the_gap(harness_text):
    frame = run(harness_text.replace("row_cost_ms: 0.28}", "row_cost_ms: 0.28, count: 2, gap_ms: 50}"))
    first, second = frame.iloc[0], frame.iloc[1]
    # Node arms timers on its whole-millisecond clock: due at floor(end) + 50.
    end = first.start_ms + first.list_ms
    assert math.floor(end) + 50 <= second.start_ms < end + 50


def test_timers_use_the_whole_millisecond_clock():
    from clawsim.engine.loop import timer_due

    assert timer_due(10.7, 5) == 15  # fires 4.3 ms after it was armed, as in Node
    assert timer_due(10.0, 5.9) == 15  # the delay is truncated
    assert timer_due(3.2, 0) == 4 and timer_due(3.2, 0.5) == 4  # and clamped to >= 1 ms


def test_overlapping_polled_lists_share_misses_without_the_pin_and_keep_their_value_with_it():
    text = """
        memo: {policy: lru, capacity: 8, scan_ms: 2.5}
        list: {rows: 200, yield_every: 10, lookups_per_row: 2, row_cost_ms: 0.28, poll_every_ms: 1, duration_ms: 20}
        actors:
          - {name: flipper, kind: immediate, workspaces: unique}
    """
    none = run(text)
    assert len(none) == 2
    # The second list starts on the first tick, in the timers phase at ~15.6 ms; the next
    # tick (~23 ms) is past the 20 ms of polling. The oldest list reads each new value
    # first and misses; the younger one hits the entry it just stored, except in its
    # last batch, which runs after the oldest list has finished.
    assert list(none.scans) == [40, 2]
    pin = run(
        text.replace("lookups_per_row: 2,", "lookups_per_row: 2,").replace(
            "memo:", "registry: {fix: pin}\n        memo:"
        )
    )
    assert list(pin.scans) == [2, 2]
    assert list(pin.distinct_workspaces) == [1, 1]


def test_awaited_io_lets_an_immediate_actor_flip_on_every_loop_iteration():
    row = run("""
        loop: {iteration_ms: 0.01}
        memo: {policy: lru, capacity: 8, scan_ms: 2.5}
        list: {rows: 20, yield_every: 10, lookups_per_row: 2, row_cost_ms: 0.28, per_row_io: {rows: 20, latency_ms: 1}}
        actors:
          - {name: flipper, kind: immediate, workspaces: unique}
    """).iloc[0]
    assert row.scans == 2 * 20  # every awaited row reads a new value
    assert row.distinct_workspaces == 20
    # ~1 ms / 0.01 ms = 100 loop iterations, so ~100 flips, per await.
    assert 19 * 90 <= row.flips <= 20 * 110


def test_actor_lookups_share_the_memo(harness_text):
    text = harness_text.replace("workspaces: unique}", "workspaces: unique, lookups: 2}")
    row = run(text).iloc[0]
    assert row.actor_scans == 2 * row.actor_activations
    assert row.scans == 2  # each turn scanned its new workspace, so the list's rows hit


def test_pinned_list_evicted_by_actor_lookups_rescans():
    row = run("""
        registry: {fix: pin}
        memo: {policy: lru, capacity: 2, scan_ms: 2.5}
        list: {rows: 200, yield_every: 10, lookups_per_row: 2, row_cost_ms: 0.28}
        actors:
          - {name: turn, kind: immediate, workspaces: unique, lookups: 2}
    """).iloc[0]
    # The pin keeps the key stable, but a 2-slot memo is flushed by every actor turn.
    assert row.scans == 2 * 20


def test_event_loop_delay_tracks_the_longest_iteration(harness_text):
    frame = run(harness_text.rstrip() + "\n        sweep:\n          list.yield_every: [0, 10, 50]\n")
    delays = frame.set_index("list.yield_every").loop_delay_max_ms
    assert delays[0] > delays[50] > delays[10]


def test_loop_delay_percentiles_of_a_list_are_the_probe_histogram_over_its_window(harness_text):
    frame = run(harness_text.rstrip() + "\n        sweep:\n          list.yield_every: [0, 10]\n").set_index(
        "list.yield_every"
    )
    stall = frame.loc[0]  # one callback: the probe's one sample in the window measures all of it
    assert stall.loop_delay_p50_ms == stall.loop_delay_p99_ms == stall.loop_delay_max_ms >= stall.list_ms - 1
    batches = frame.loc[10]  # 20 batches of 10 rows (2.8 ms) and 2 scans (5 ms) with the flipper
    assert 6.5 < batches.loop_delay_p50_ms < 8 and batches.loop_delay_p99_ms == batches.loop_delay_max_ms


def test_the_delay_probe_counts_idle_firings_as_on_time_samples():
    from clawsim.engine.loop import DelayProbe

    probe = DelayProbe()
    probe.timers_phase(3.5)  # due at 1: 2.5 ms late
    probe.idle_until(10.2)  # fired on time at 4.5, 5.5, ..., 9.5: six samples of 0
    probe.timers_phase(30.5)  # due at 10.5: 20 ms late
    assert probe.samples == [(3.5, 2.5, 1), (9.5, 0.0, 6), (30.5, 20.0, 1)]
    assert probe.percentiles(0, 30, (50, 99)) == [0.0, 20.0]  # 8 samples, the window's next included
    assert probe.percentiles(0, 5, (50, 99, 100)) == [0.0, 2.5, 2.5]
    assert probe.percentiles(31, 40, (50,)) == [0.0]  # no sample


def test_hoisted_and_prepared_lookups(harness_text):
    hoisted = run(harness_text.replace("row_cost_ms: 0.28}", "row_cost_ms: 0.28, lookup_mode: hoisted}")).iloc[0]
    prepared = run(harness_text.replace("row_cost_ms: 0.28}", "row_cost_ms: 0.28, lookup_mode: prepared}")).iloc[0]
    assert (hoisted.scans, hoisted.lookups) == (2, 2)
    assert (prepared.scans, prepared.lookups) == (0, 0)


def test_unkeyed_ttl_serves_stale_metadata(harness_text):
    text = harness_text.replace(
        "{policy: lru, capacity: 8, scan_ms: 2.5}", "{policy: ttl, ttl_ms: 5000, key: global, scan_ms: 2.5}"
    )
    row = run(text).iloc[0]
    assert row.scans == 2
    assert row.stale_hits == 2 * 10 * 19  # every row after the first flip


def test_current_snapshot_serves_the_default_workspace_for_free(harness_text):
    text = harness_text.replace("scan_ms: 2.5}", "scan_ms: 2.5, current_snapshot: true}")
    row = run(text).iloc[0]
    assert row.scans == 38  # batch 0 read the gateway's default workspace


def test_scan_cost_distributions_draw_per_scan():
    frame = run("""
        replications: 2
        memo: {policy: none, scan_ms: {dist: lognormal, p50: 50, p95: 100}}
        list: {rows: 2000, yield_every: 0, lookups_per_row: 1, row_cost_ms: 0}
    """)
    per_scan = frame.scan_ms_total / frame.scans
    assert per_scan.iloc[0] != per_scan.iloc[1]  # replications draw different streams
    assert 50 < per_scan.mean() < 60  # lognormal mean = p50 * exp(sigma^2 / 2) ~ 56.5


def test_poisson_actor_rate_matches_its_activation_count():
    row = run("""
        list: {rows: 10, yield_every: 0, start_ms: 100000}
        memo: {scan_ms: 1}
        actors:
          - {name: turns, kind: poisson, rate_per_s: 20}
    """).iloc[0]
    # ~100 s at 20/s: 2000 expected, sd ~45.
    assert abs(row.actor_activations - 2000) < 5 * math.sqrt(2000)


def test_the_idle_gateway_scans_once_and_then_hits():
    frame = clawsim.simulate(clawsim.load_scenario(SCENARIOS / "idle-gateway.yaml"))
    cold = frame[~frame["memo.current_snapshot"]]
    assert list(cold.groupby("list_index").scans.max()) == [2, 0, 0]
    assert frame[frame["memo.current_snapshot"]].scans.sum() == 0
    assert frame.flips.sum() == 0 and frame.list_ms.max() < 500


def test_the_busy_gateway_takes_seconds_without_the_pin_and_not_with_it():
    frame = clawsim.simulate(clawsim.load_scenario(SCENARIOS / "busy-gateway.yaml"))
    none = frame[frame["registry.fix"] == "none"]
    pin = frame[frame["registry.fix"] == "pin"]
    assert 60 <= none.scans.mean() <= 140  # published: ~100 full scans
    assert 6_000 <= none.list_ms.mean() <= 15_000  # published: ~10,100 ms
    assert set(pin.scans) == {2}
    assert pin.list_ms.max() < 1_000


def test_rows_counted_in_one_step_cost_what_the_row_they_repeat_cost():
    """Regression: current-snapshot hits are free, also in the rows fast-forwarded in bulk."""
    text = """
        list: {{rows: 10, yield_every: {every}, lookups_per_row: 2, row_cost_ms: 1}}
        memo: {{policy: lru, scan_ms: 100, hit_ms: 1, current_snapshot: true}}
    """
    bulk = run(text.format(every=0)).iloc[0]
    row_by_row = run(text.format(every=1)).iloc[0]
    assert bulk.list_ms == pytest.approx(10.0)
    assert row_by_row.list_ms == pytest.approx(10.0 + 8 * 0.005)  # + the ends of 8 loop iterations


@pytest.mark.parametrize("engine", ["aggregated", "reference"])
def test_each_actor_copy_draws_from_its_own_stream_numbered_over_all_actors(engine):
    """Stream k drives the k-th copy in file order; under the aggregated engine the copies of a
    poisson actor are one source on its copy 0's stream, and no other copy makes a stream."""
    scenario = clawsim.parse_scenario(
        "actors:\n"
        "  - {name: agent, kind: poisson, rate_per_s: 5, count: 3, workspaces: 'random:4'}\n"
        "  - {name: cron, kind: interval, period_ms: 50, count: 2, workspaces: 'random:3'}\n"
    )
    world = build_world(scenario, lambda: np.random.default_rng(0), options=EngineOptions(engine=engine))
    made: list[int] = []

    def stream(k):
        def make():
            made.append(k)
            return np.random.default_rng(k)

        return make

    SEEDED.arm(world, scenario, stream)
    assert sorted(set(made)) == ([1, 4, 5] if engine == "aggregated" else [1, 2, 3, 4, 5])


@pytest.mark.parametrize("name", ["pr90819-harness.yaml", "busy-gateway.yaml", "idle-gateway.yaml"])
@pytest.mark.parametrize("engine", ["aggregated", "reference"])
def test_a_run_leaves_nothing_for_the_cyclic_garbage_collector(name, engine):
    """``simulate_once`` lets go of what the loop still holds when the run is over
    (``EventLoop.close``: queued tasks, timers, arrivals, SimPy's schedule, all of which refer
    back to the run's world), so a run's objects are freed by reference counting as soon as it
    returns: left to the cyclic collector, a PR-harness run's ~130 objects cost about a tenth of
    the run (its collections, and memory that is not reused while still warm)."""
    import gc

    from clawsim.engine.run import simulate_once
    from clawsim.scenario import plan

    spec = plan(clawsim.load_scenario(SCENARIOS / name))[1]
    options = EngineOptions(engine=engine)
    simulate_once(spec.scenario, spec.stream, options=options)
    gc.collect()
    gc.disable()
    try:
        simulate_once(spec.scenario, spec.stream, options=options)
        assert gc.collect() == 0
    finally:
        gc.enable()
