"""The analytical model (clawsim.analytic) against the engine.

Immediate actors: exact equality, checked by Hypothesis over rows, yield_every, lookups,
actor copies, fix, memo policy, lookup mode, awaited I/O and back-to-back lists.
Poisson and interval actors: the mean over replications lies in its 99% confidence
interval around the expectation (exact models), or within a stated tolerance
(approximate ones, measured in docs/analytic.md). Replications use fixed seeds, so every
check is deterministic.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import ROOT, scenario
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import clawsim
from clawsim.analytic import NotAnalytic, add_expectations, expectations, scan_mean
from clawsim.engine import batches
from clawsim.engine.run import simulate_once
from clawsim.scenario import Scenario

Z99 = 2.5758293035489  # two-sided 99% normal quantile
COUNTS = ("scans", "hits", "stale_hits", "lookups", "flips", "yields")


def _add(text: str, *lines: str) -> str:
    """Scenario text with top-level lines appended (indented like the harness fixture)."""
    return text.rstrip() + "".join(f"\n        {line}" for line in lines) + "\n"


def _sim(sc: Scenario, reps: int = 1, first: int = 0) -> list[list[dict]]:
    return [simulate_once(sc, run) for run in range(first, first + reps)]


def _assert_exact(sc: Scenario) -> None:
    expected = expectations(sc)
    simulated = simulate_once(sc, 0)
    assert len(expected) == len(simulated)
    for e, s in zip(expected, simulated, strict=True):
        for k in COUNTS:
            assert e[f"expected_{k}"] == s[k], (k, e, s)
        assert e["expected_list_ms"] == pytest.approx(s["list_ms"], rel=1e-9, abs=1e-9)


def _assert_in_ci(sc: Scenario, reps: int, metrics=("scans", "flips", "list_ms"), first: int = 0) -> None:
    """Mean over ``reps`` replications within the 99% CI of the analytic expectation."""
    expected = expectations(sc)
    runs = _sim(sc, reps, first)
    for e in expected:
        i = e["list_index"]
        for k in metrics:
            values = np.array([run[i][k] for run in runs], dtype=float)
            half = Z99 * values.std(ddof=1) / math.sqrt(reps)
            assert abs(values.mean() - e[f"expected_{k}"]) <= half + 1e-9 * max(1.0, abs(e[f"expected_{k}"])), (
                k,
                i,
                values.mean(),
                e[f"expected_{k}"],
                half,
            )


# --------------------------------------------------------------------------- list structure


@pytest.mark.parametrize(
    ("rows", "every", "io", "shape"),
    [
        (200, 10, 0, [10] * 20),
        (95, 10, 0, [10] * 9 + [5]),
        (25, 10, 12, [1] * 12 + [8, 5]),
        (7, 0, 3, [1, 1, 1, 4]),
        (30, 0, 0, [30]),
    ],
)
def test_batches_follow_the_row_loop(rows, every, io, shape):
    io_part = f", per_row_io: {{rows: {io}, latency_ms: 1}}" if io else ""
    sc = scenario(f"list: {{rows: {rows}, yield_every: {every}{io_part}}}")
    got = list(batches(sc.list))
    assert [b.rows for b in got] == shape
    assert sum(b.yield_before for b in got) == (math.ceil(rows / every) - 1 if every else 0)
    assert [b.io_ms is not None for b in got] == [i < io for i in range(len(shape))]


def test_lognormal_scan_mean():
    sc = scenario("memo: {scan_ms: {dist: lognormal, p50: 50, p95: 100}}")
    draws = np.random.default_rng(0).lognormal(np.log(50), np.log(2) / 1.6448536269514722, 200_000)
    assert scan_mean(sc.memo.scan_ms) == pytest.approx(draws.mean(), rel=5e-3)


# --------------------------------------------------------------------------- immediate actors: closed forms


def test_the_harness_closed_forms(harness_text):
    """T1/T2: scans = L x batches without the pin, L with it; flips = yields; list_ms =
    rows x row_cost + scans x scan_ms + (yields - 1) x iteration_ms."""
    for fix, scans in (("none", 40), ("pin", 2)):
        sc = scenario(_add(harness_text, f"registry: {{fix: {fix}}}"))
        e = expectations(sc)[0]
        assert (e["expected_scans"], e["expected_flips"], e["expected_yields"]) == (scans, 19, 19)
        assert e["expected_list_ms"] == pytest.approx(200 * 0.28 + scans * 2.5 + 18 * 0.005)
        assert e["exact"]
        _assert_exact(sc)


@pytest.mark.parametrize("copies", [1, 2, 5])
@pytest.mark.parametrize("work", [0.0, 0.013])
def test_k_immediate_actors_flip_k_times_per_yield_and_their_work_adds_up(harness_text, copies, work):
    sc = scenario(harness_text.replace("kind: immediate,", f"kind: immediate, count: {copies}, work_ms: {work},"))
    e = expectations(sc)[0]
    assert e["expected_flips"] == copies * 19
    assert e["expected_scans"] == 40
    assert e["expected_list_ms"] == pytest.approx(200 * 0.28 + 40 * 2.5 + 18 * 0.005 + 19 * copies * work)
    _assert_exact(sc)


def test_per_row_io_makes_every_awaited_row_its_own_batch():
    sc = scenario("""
        memo: {policy: lru, capacity: 8, scan_ms: 2.5}
        list: {rows: 25, yield_every: 10, lookups_per_row: 2, row_cost_ms: 0.28,
               per_row_io: {rows: 12, latency_ms: 0.0213}, count: 2}
        actors:
          - {name: f, kind: immediate, count: 2, work_ms: 0.001}
    """)
    first, second = expectations(sc)
    # 12 awaited rows + the batch 12-19 + the batch 20-24, each reading a new value; the
    # second list's first row shares the check phase of the first list's end: it hits.
    assert (first["expected_scans"], second["expected_scans"]) == (2 * 14, 2 * 13)
    # An await from a poll-phase row spans ceil(0.0213 / (0.002 + 0.005)) = 4 check phases.
    assert first["expected_flips"] == 2 * (10 * 4 + 4 + 4 + 1)
    _assert_exact(sc)


_LATENCIES = [0.0213, 0.337, 1.0007]  # never a whole number of loop iterations (ties)


@st.composite
def immediate_scenarios(draw):
    policy = draw(st.sampled_from(["none", "single", "lru", "lru", "ttl"]))
    memo: dict = {
        "policy": policy,
        "scan_ms": draw(st.sampled_from([0.7, 2.5])),
        "key": draw(st.sampled_from(["workspace", "workspace", "global"])),
        "current_snapshot": draw(st.booleans()),
    }
    memo["hit_ms"] = 0.0 if memo["current_snapshot"] else draw(st.sampled_from([0.0, 0.01]))
    if policy == "lru":
        memo["capacity"] = draw(st.integers(1, 10))
    if policy == "ttl":
        memo["ttl_ms"] = 1e7
    lst: dict = {
        "rows": draw(st.integers(1, 300)),
        "yield_every": draw(st.integers(0, 40)),
        "lookups_per_row": draw(st.integers(0, 3)),
        "row_cost_ms": draw(st.sampled_from([0.05, 0.28])),
        "lookup_mode": draw(st.sampled_from(["per_row", "per_row", "per_row", "hoisted", "prepared"])),
        "count": draw(st.integers(1, 3)),
        "start_ms": draw(st.sampled_from([0.0, 0.0, 3.31])),
    }
    if draw(st.booleans()):
        lst["per_row_io"] = {"rows": draw(st.integers(0, 15)), "latency_ms": draw(st.sampled_from(_LATENCIES))}
    actors = [
        {
            "name": f"a{i}",
            "kind": "immediate",
            "count": draw(st.integers(0, 3)),
            "work_ms": draw(st.sampled_from([0.0, 0.0013])),
            "workspaces": draw(
                st.sampled_from(["unique", "unique", "cycle:2", "cycle:3", "fixed:/x", "fixed:/gateway"])
            ),
        }
        for i in range(draw(st.integers(0, 2)))
    ]
    return Scenario.model_validate(
        {
            "loop": {"iteration_ms": 0.005},
            "list": lst,
            "memo": memo,
            "actors": actors,
            "registry": {"fix": draw(st.sampled_from(["none", "pin"]))},
        }
    )


@settings(max_examples=120)
@given(immediate_scenarios())
def test_immediate_actors_are_exact(sc):
    expected = expectations(sc)
    assume(all(e["exact"] for e in expected))  # exact ties (an I/O completing as a poll phase starts) excluded
    _assert_exact(sc)


def test_an_exact_tie_is_flagged_not_guessed():
    # 0.31 ms of I/O is exactly 62 iterations of 0.005 ms: float rounding decides the order.
    sc = scenario("""
        list: {rows: 20, yield_every: 3, per_row_io: {rows: 4, latency_ms: 0.31}}
        actors:
          - {name: f, kind: immediate}
    """)
    assert not expectations(sc)[0]["exact"]


# --------------------------------------------------------------------------- poisson and interval actors

POISSON = """
    seed: 7
    list: {rows: 100, yield_every: 10, lookups_per_row: 2, row_cost_ms: 0.28}
    memo: {policy: lru, capacity: 8, scan_ms: 20}
    actors:
      - {name: turns, kind: poisson, rate_per_s: 20, workspaces: unique}
"""


def test_poisson_two_state_chain_by_hand():
    """The chain against the two-state recursion written out: after batch 1 (which shares
    the list's first iteration), batch j misses with 1 - exp(-rate x window), the window
    being the previous batch (long if it scanned) plus one iteration overhead."""
    lam, delta, hit, miss = 0.02, 0.005, 10 * 0.28, 10 * 0.28 + 2 * 20
    p = [1.0, 0.0, 1 - math.exp(-lam * (miss + hit + delta))]
    for _ in range(3, 10):
        p.append(p[-1] * (1 - math.exp(-lam * (miss + delta))) + (1 - p[-1]) * (1 - math.exp(-lam * (hit + delta))))
    e = expectations(scenario(POISSON))[0]
    assert e["expected_scans"] == pytest.approx(2 * sum(p))
    windows = (miss + hit + delta) + sum(p[j] * (miss + delta) + (1 - p[j]) * (hit + delta) for j in range(2, 9))
    assert e["expected_flips"] == pytest.approx(lam * windows)
    assert e["expected_list_ms"] == pytest.approx(sum(q * miss + (1 - q) * hit for q in p) + 8 * delta)
    assert e["exact"]


@pytest.mark.parametrize(
    ("label", "text", "reps"),
    [
        ("poisson", POISSON, 600),
        (
            "poisson with work, two lists",
            POISSON.replace("workspaces: unique}", "workspaces: unique, count: 2, work_ms: 3}").replace(
                "row_cost_ms: 0.28}", "row_cost_ms: 0.28, count: 2}"
            ),
            400,
        ),
        ("poisson, pin", POISSON.replace("list:", "registry: {fix: pin}\n    list:").replace("work", "work"), 300),
        (
            "poisson, unkeyed TTL (stale hits)",
            POISSON.replace(
                "{policy: lru, capacity: 8, scan_ms: 20}", "{policy: ttl, ttl_ms: 100000, key: global, scan_ms: 20}"
            ),
            300,
        ),
        (
            "poisson, awaited I/O, current snapshot",
            """
        seed: 11
        list: {rows: 40, yield_every: 10, lookups_per_row: 2, row_cost_ms: 0.28, per_row_io: {rows: 30, latency_ms: 1.3}}
        memo: {policy: lru, capacity: 8, scan_ms: 5, current_snapshot: true}
        actors:
          - {name: turns, kind: poisson, rate_per_s: 60, workspaces: unique}
    """,
            400,
        ),
    ],
)
def test_chain_mean_is_in_the_99_percent_ci(label, text, reps):
    sc = scenario(text)
    assert all(e["exact"] for e in expectations(sc)) == ("I/O" not in label)
    metrics = ("scans", "flips", "list_ms", "stale_hits") if "TTL" in label else ("scans", "flips", "list_ms")
    _assert_in_ci(sc, reps, metrics)


@pytest.mark.slow
def test_drawn_scan_costs_with_timers_are_approximated_closely():
    """Drawn costs make timer phases continuous: the chain discretizes the scan sums (16
    points) and merges close states; measured here within 1.5% of 1,000 replications."""
    sc = scenario("""
        seed: 3
        list: {rows: 200, yield_every: 10, lookups_per_row: 2, row_cost_ms: 0.28, count: 2}
        memo: {policy: lru, capacity: 8, scan_ms: {dist: uniform, low: 1, high: 4}}
        actors:
          - {name: cron, kind: interval, period_ms: 7, workspaces: unique, work_ms: 0.3}
          - {name: turns, kind: poisson, rate_per_s: 100, workspaces: unique, work_ms: 0.1}
    """)
    expected = expectations(sc)
    runs = _sim(sc, 1000)
    for e in expected:
        assert not e["exact"]
        for k in ("scans", "flips", "list_ms"):
            mean = np.mean([run[e["list_index"]][k] for run in runs])
            assert e[f"expected_{k}"] == pytest.approx(mean, rel=0.015), k


@pytest.mark.parametrize("period", [7, 13, 20, 33.3])
@pytest.mark.parametrize("copies", [1, 2])
def test_interval_actors_with_constant_costs_are_exact(harness_text, period, copies):
    """Timers re-armed from their firing, late by up to a batch: deterministic, so equal."""
    sc = scenario(
        harness_text.replace("kind: immediate,", f"kind: interval, period_ms: {period}, count: {copies}, work_ms: 0.3,")
    )
    e = expectations(sc)[0]
    assert e["exact"]
    _assert_exact(sc)


def test_interval_cycle_formula(harness_text):
    """One timer, unique keys: after a flip the next comes m batches later, the smallest m
    with work + miss batch + overhead + (m - 1) x (hit batch + overhead) >= period."""
    period, work, delta = 20.0, 0.3, 0.005
    miss, hit = 10 * 0.28 + 2 * 2.5, 10 * 0.28
    m = 1 + max(0, math.ceil((period - work - miss - delta) / (hit + delta)))
    sc = scenario(harness_text.replace("kind: immediate,", f"kind: interval, period_ms: {period}, work_ms: {work},"))
    e = expectations(sc)[0]
    first_due = period  # batches before the first firing all hit (batch 0 is the cold miss)
    t, j = miss + hit + delta, 2  # the first timers phase a list started from I/O meets
    while t < first_due:
        t += hit + delta
        j += 1
    flips = 1 + (20 - 1 - j) // m
    assert e["expected_flips"] == flips
    assert e["expected_scans"] == 2 * (1 + flips)


def test_cron_phases_lock_into_every_row_on_the_busy_gateway():
    """Two crons sharing a start drift apart by one miss row and then alternate: every
    awaited row after the first firing sees a flip. The chain follows it exactly (constant costs)."""
    sc = scenario("""
        list: {rows: 100, yield_every: 10, lookups_per_row: 2, row_cost_ms: 0.28,
               per_row_io: {rows: 100, latency_ms: 2}, start_ms: 1000}
        memo: {policy: lru, capacity: 8, scan_ms: 97}
        actors:
          - {name: cron, kind: interval, period_ms: 400, count: 2, workspaces: unique, work_ms: 5}
    """)
    e = expectations(sc)[0]
    s = simulate_once(sc, 0)[0]
    assert e["expected_scans"] == s["scans"] == 196  # all but the rows before the first cron fires
    assert e["expected_flips"] == s["flips"]
    assert e["expected_list_ms"] == pytest.approx(s["list_ms"], rel=1e-9)


@pytest.mark.slow
def test_the_busy_gateway_is_approximated_within_five_percent():
    """Poisson turns and cron timers with work, awaited I/O and lognormal scans: the
    chain's approximations (docs/analytic.md) stay within 5% of 300 replications."""
    base = clawsim.load_scenario(ROOT / "scenarios/busy-gateway.yaml")
    for spec in clawsim.plan(base)[:: base.replications]:
        sc = spec.scenario
        e = expectations(sc)[0]
        assert not e["exact"]
        runs = _sim(sc, 300, first=1000)
        for k in ("scans", "list_ms", "flips"):
            mean = np.mean([r[0][k] for r in runs])
            assert e[f"expected_{k}"] == pytest.approx(mean, rel=0.05), (sc.registry.fix, k)


# --------------------------------------------------------------------------- outside the models


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("list: {rows: 10}\nsweep: {list.rows: [1, 2]}", "sweep"),
        ("list: {rows: 10, poll_every_ms: 100, duration_ms: 1000}", "overlap"),
        ("list: {rows: 10, count: 2, gap_ms: 5}", "gap_ms"),
        ("actors: [{name: a, kind: immediate, lookups: 1}]", "own lookups"),
        ("actors: [{name: a, kind: immediate}, {name: b, kind: poisson, rate_per_s: 1}]", "mixed"),
        ("actors: [{name: a, kind: immediate, workspaces: 'random:3'}]", "random"),
        ("actors: [{name: a, kind: immediate, start_ms: 5}]", "starts late"),
        ("actors: [{name: a, kind: poisson, rate_per_s: 5, workspaces: 'cycle:2'}]", "repeating workspaces"),
        ("actors: [{name: a, kind: poisson, rate_per_s: 5, start_ms: 10}]", "starts after the list"),
        ("memo: {policy: ttl, ttl_ms: 5, scan_ms: 2}\nlist: {rows: 100, yield_every: 0}", "expire"),
    ],
)
def test_not_analytic_names_the_reason(text, reason):
    with pytest.raises(NotAnalytic, match=reason):
        expectations(scenario(text))


def test_add_expectations_puts_columns_beside_the_simulated_ones(harness_text):
    sc = scenario(_add(harness_text, "sweep:", "  registry.fix: [none, pin]", "  list.count: [1, 2]"))
    frame = clawsim.simulate(sc)
    out = add_expectations(frame, sc)
    cols = list(out.columns)
    for sim, exp in (("scans", "expected_scans"), ("flips", "expected_flips"), ("list_ms", "expected_list_ms")):
        assert cols.index(exp) == cols.index(sim) + 1
    assert (out.scans == out.expected_scans).all()
    assert (out.flips == out.expected_flips).all()
    assert np.allclose(out.list_ms, out.expected_list_ms)
    assert set(out.analytic) == {"exact"}
    assert list(frame.columns) == [
        c for c in cols if c not in ("expected_scans", "expected_flips", "expected_list_ms", "analytic")
    ]


def test_add_expectations_marks_points_outside_the_models(harness_text):
    sc = scenario(_add(harness_text, "sweep:", "  actors.0.lookups: [0, 1]"))
    out = add_expectations(clawsim.simulate(sc), sc)
    analytic, outside = out.iloc[0], out.iloc[1]
    assert analytic.analytic == "exact" and analytic.expected_scans == analytic.scans
    assert outside.analytic.startswith("n/a: actors do their own lookups")
    assert math.isnan(outside.expected_scans) and math.isnan(outside.expected_list_ms)
