"""The all-miss fast path of ``build_rows`` gives the same records as row-by-row lookups, and
the loop's ``resume_in_place`` the same records as a trip through the loop.

Each case runs with ``EngineOptions.fast_rows`` and ``.resume_in_place`` off and on and compares every record field by
field (floats by their bits, via ``repr``), and checks that the fast path was taken where it
should be, so a case cannot pass by never reaching it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import clawsim
from clawsim.engine import EngineOptions, listing, loop
from clawsim.engine.metrics import ListStats
from clawsim.engine.run import build_world, simulate_once
from clawsim.scenario import Scenario, distribution, plan

ROOT = Path(__file__).resolve().parents[1]
LOGNORMAL = "{dist: lognormal, p50: 60, p95: 80}"
UNIFORM = "{dist: uniform, low: 1.5, high: 9.25}"
EMPIRICAL = "{dist: empirical, values: [3.5, 7.25, 11, 90.125, 0.3]}"
ONE_VALUE = "{dist: empirical, values: [4.75]}"
POISSON = "{name: agent, kind: poisson, rate_per_s: 40, count: 3, work_ms: 1, workspaces: unique}"
IMMEDIATE = "{name: flipper, kind: immediate, workspaces: unique}"


def memo(fields: str, scan_ms: str) -> str:
    return "{" + fields + ", scan_ms: " + scan_ms + "}"


# (memo, list, actors): every combination the fast path must agree on.
CASES = {
    "none-policy": (memo("policy: none", LOGNORMAL), "lookups_per_row: 3", [POISSON]),
    "single-slot": (memo("policy: single", UNIFORM), "lookups_per_row: 2", [IMMEDIATE]),
    "lru-below-keys": (memo("policy: lru, capacity: 8", LOGNORMAL), "lookups_per_row: 10", [POISSON]),
    "lru-one-below": (memo("policy: lru, capacity: 4", EMPIRICAL), "lookups_per_row: 5", [IMMEDIATE]),
    "lru-above-keys": (memo("policy: lru, capacity: 8", LOGNORMAL), "lookups_per_row: 6", [POISSON]),
    "lru-equal-keys": (memo("policy: lru, capacity: 4", UNIFORM), "lookups_per_row: 4", [IMMEDIATE]),
    "ttl-bounded": (memo("policy: ttl, ttl_ms: 400, capacity: 3", UNIFORM), "lookups_per_row: 5", [POISSON]),
    "ttl-unbounded": (memo("policy: ttl, ttl_ms: 400", UNIFORM), "lookups_per_row: 5", [POISSON]),
    "unkeyed": (memo("policy: lru, capacity: 3, key: global", EMPIRICAL), "lookups_per_row: 4", [POISSON]),
    "current-snapshot": (
        memo("policy: lru, capacity: 2, current_snapshot: true", LOGNORMAL),
        "lookups_per_row: 3",
        ["{name: agent, kind: poisson, rate_per_s: 5, count: 1, work_ms: 1, workspaces: 'cycle:2'}"],
    ),
    "per-row-io": (
        memo("policy: lru, capacity: 2", LOGNORMAL),
        "lookups_per_row: 3, per_row_io: {rows: 25, latency_ms: 4}",
        [POISSON],
    ),
    "pin": (memo("policy: lru, capacity: 5", EMPIRICAL), "lookups_per_row: 7", [POISSON, IMMEDIATE]),
    "constant-costs": ("{policy: lru, capacity: 8, scan_ms: 2.5}", "lookups_per_row: 9", [IMMEDIATE]),
    "one-value-empirical": (memo("policy: single", ONE_VALUE), "lookups_per_row: 3", [POISSON]),
    "actor-lookups": (
        memo("policy: lru, capacity: 6", UNIFORM),
        "lookups_per_row: 7",
        ["{name: agent, kind: poisson, rate_per_s: 30, count: 2, work_ms: 1, workspaces: 'cycle:2', lookups: 3}"],
    ),
    "polled": (
        memo("policy: lru, capacity: 3", LOGNORMAL),
        "lookups_per_row: 4, poll_every_ms: 300, duration_ms: 3000",
        [POISSON],
    ),
    "unkeyed-stale": (  # entries expire within a batch; hits after a scan can be stale
        memo("policy: ttl, ttl_ms: 20, capacity: 8, key: global", UNIFORM),
        "lookups_per_row: 3",
        ["{name: agent, kind: poisson, rate_per_s: 40, count: 2, work_ms: 1, workspaces: unique, lookups: 1}"],
    ),
    "no-actors": (memo("policy: lru, capacity: 2", UNIFORM), "lookups_per_row: 3", []),
    "hoisted": (memo("policy: lru, capacity: 2", UNIFORM), "lookups_per_row: 3", [POISSON]),
}
# Cases where the memo holds fewer entries than a row has keys somewhere: the fast path must run.
FAST = {
    name
    for name in CASES
    if name not in {"lru-above-keys", "lru-equal-keys", "ttl-unbounded", "hoisted", "unkeyed-stale"}
}


def case_scenario(name: str) -> Scenario:
    memo, rows, actors = CASES[name]
    fix = "pin" if name == "pin" else "none"
    mode = ", lookup_mode: hoisted" if name == "hoisted" else ""
    text = (
        f"seed: 7\nmemo: {memo}\nregistry: {{fix: {fix}}}\n"
        f"list: {{rows: 230, yield_every: 10, row_cost_ms: 0.28, {rows}{mode}}}\n"
        f"actors: [{', '.join(actors)}]\n"
    )
    return clawsim.parse_scenario(text)


def exact(records: list[dict]) -> list[list[tuple[str, str]]]:
    """Records with every value as its repr: floats compare by their bits (nan included)."""
    return [sorted((key, repr(value)) for key, value in record.items()) for record in records]


SLOW = EngineOptions(fast_rows=False, resume_in_place=False)
FAST_OPTIONS = EngineOptions()


def both_ways(monkeypatch: pytest.MonkeyPatch, job, engine=None) -> tuple[object, object, int]:
    """``job(options)`` with the fast paths off and on, and how many times a fast path ran:
    ``_scanned_rows``, or ``_hit_rows`` or ``_fresh_row`` standing in for rows. The loop's ``resume_in_place``
    is off and on with them (``IN_PLACE_TAKEN`` counts the yields it and ``batches_in_place``
    resumed in place)."""
    calls = []
    scanned, hit, in_place = listing._scanned_rows, listing._hit_rows, loop.EventLoop.resume_in_place
    fresh = listing._fresh_row
    batches = loop.EventLoop.batches_in_place

    def counted_in_place(self: loop.EventLoop) -> float | None:
        resumed = in_place(self)
        IN_PLACE_TAKEN[0] += resumed is not None
        return resumed

    def counted_batches(self: loop.EventLoop, *args: Any) -> tuple[int, float]:
        done, left = batches(self, *args)
        IN_PLACE_TAKEN[0] += done
        return done, left

    def counted_scans(*args, **kwargs):
        calls.append("scanned")
        return scanned(*args, **kwargs)

    def counted_hits(*args, **kwargs):
        end = hit(*args, **kwargs)
        if end is not None:
            calls.append("hit")
        return end

    def counted_fresh(*args, **kwargs):
        calls.append("fresh")
        return fresh(*args, **kwargs)

    monkeypatch.setattr(listing, "_fresh_row", counted_fresh)
    monkeypatch.setattr(listing, "_scanned_rows", counted_scans)
    monkeypatch.setattr(listing, "_hit_rows", counted_hits)
    monkeypatch.setattr(loop.EventLoop, "resume_in_place", counted_in_place)
    monkeypatch.setattr(loop.EventLoop, "batches_in_place", counted_batches)
    taken = IN_PLACE_TAKEN[0]
    slow = job(dataclasses.replace(SLOW, engine=engine))
    assert not calls and IN_PLACE_TAKEN[0] == taken
    fast = job(dataclasses.replace(FAST_OPTIONS, engine=engine))
    HITS_TAKEN.update(calls)
    return slow, fast, calls.count("scanned")


HITS_TAKEN: set[str] = set()
IN_PLACE_TAKEN = [0]


@pytest.mark.parametrize("engine", ["aggregated", "reference"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_records_equal_with_and_without_the_fast_path(monkeypatch: pytest.MonkeyPatch, name: str, engine: str) -> None:
    scenario = case_scenario(name)
    slow, fast, calls = both_ways(
        monkeypatch, lambda options: [exact(simulate_once(scenario, run, options=options)) for run in range(4)], engine
    )
    assert fast == slow
    assert (calls > 0) == (name in FAST), calls


@pytest.mark.parametrize("name", ["lru-above-keys", "lru-equal-keys", "ttl-unbounded", "unkeyed-stale"])
def test_rows_after_a_scan_are_counted_as_hits(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """A batch that reads a new workspace scans its first row (``_fresh_row``: the memo holds
    none of its keys), then the rest hit (counted with it, or ``_hit_rows``)."""
    scenario = case_scenario(name)
    HITS_TAKEN.clear()
    slow, fast, _ = both_ways(
        monkeypatch, lambda options: [exact(simulate_once(scenario, run, options=options)) for run in range(3)]
    )
    assert fast == slow
    assert "fresh" in HITS_TAKEN
    assert ("hit" in HITS_TAKEN) == (name in {"ttl-unbounded", "unkeyed-stale"})  # entries that may expire


@pytest.mark.parametrize("name", sorted(FAST))
def test_memo_and_stats_end_the_same(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Batch after batch on one world: the memo's entries, order, times and workspaces, the
    counters and the generator's next draw are the same either way."""
    scenario = case_scenario(name)

    def batches(options: EngineOptions) -> str:
        world = build_world(scenario, lambda: np.random.default_rng(3), options=options)
        stats = ListStats(0, 0, 0.0, 0, 0, False)
        lookups = scenario.list.row_lookups
        now = world.loop.now
        spent = [
            listing.build_rows(world, stats, ws, rows, max(0, lookups + d), 0.28, None, now) - now
            for ws, rows, d in WALK
        ]
        entries = list(world.cache.memo.entries.items())
        counters = (stats.scans, stats.hits, stats.stale_hits, stats.lookups, stats.scan_ms_total)
        return repr((spent, entries, counters, world.cache.scan_cost()))

    slow, fast, calls = both_ways(monkeypatch, batches)
    assert fast == slow
    assert calls > 0


# (workspace, rows, lookups per row minus the case's): a row of one key fewer (as many as the
# memo holds in "lru-one-below") leaves its first key the oldest entry, so the next, longer
# row hits it first.
WALK = [
    ("/a", 10, 0),
    ("/a", 10, 0),
    ("/b", 1, 0),
    ("/a", 7, -1),
    ("/a", 3, 0),
    ("/gateway", 10, 0),
    ("/a", 1, -1),
    ("/a", 10, 0),
    ("/b", 10, -2),
    ("/b", 10, 1),
    ("/a", 10, 0),
]


@pytest.mark.parametrize("cost", [LOGNORMAL, UNIFORM, EMPIRICAL, ONE_VALUE, "17.5"])
def test_one_call_draws_what_one_at_a_time_draws(cost: str) -> None:
    scan_ms = distribution(clawsim.parse_scenario(f"memo: {{scan_ms: {cost}}}").memo.scan_ms)
    one, many = np.random.default_rng(11), np.random.default_rng(11)
    sampler, draws = scan_ms.sampler(one), scan_ms.draws(many)
    for count in (1, 2, 7, 90, 1001):
        assert draws(count) == [sampler() for _ in range(count)]
    assert one.random() == many.random()  # the stream is left at the same place
    spread = scan_ms.drawn and cost != ONE_VALUE
    assert (len(set(draws(50))) > 1) == spread


def shipped_runs() -> list[tuple[str, int]]:
    files = sorted((ROOT / "scenarios").rglob("*.yaml")) + sorted((ROOT / "validation" / "scenarios").glob("*.yaml"))
    picked = []
    for path in files:
        runs = plan(clawsim.load_scenario(path))
        step = max(1, len(runs) // 6)
        picked += [(str(path.relative_to(ROOT)), index) for index in range(0, len(runs), step)]
    return picked


@pytest.mark.parametrize(("path", "index"), shipped_runs())
def test_shipped_scenario_runs_are_unchanged(monkeypatch: pytest.MonkeyPatch, path: str, index: int) -> None:
    spec = plan(clawsim.load_scenario(ROOT / path))[index]
    slow, fast, _ = both_ways(
        monkeypatch, lambda options: exact(simulate_once(spec.scenario, spec.run, options=options))
    )
    assert fast == slow


def test_yields_are_resumed_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    """The case that the loop's ``resume_in_place`` is for (a list alone on the loop, arrivals
    between some of its batches) is taken, and gives the same records with it off."""
    scenario = clawsim.parse_scenario(
        f"seed: 3\nmemo: {memo('policy: lru, capacity: 8', LOGNORMAL)}\n"
        "list: {rows: 3000, yield_every: 10}\nactors: [{name: agent, kind: poisson, rate_per_s: 2}]\n"
    )
    taken = IN_PLACE_TAKEN[0]
    slow, fast, _ = both_ways(
        monkeypatch, lambda options: [exact(simulate_once(scenario, run, options=options)) for run in range(3)]
    )
    assert fast == slow
    assert IN_PLACE_TAKEN[0] - taken > 500


def test_sensitivity_sweep_sample_is_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    """Random runs of benchmarks/sensitivity.yaml, and its heaviest point (10,000 rows x 10 lookups)."""
    runs = plan(clawsim.load_scenario(ROOT / "benchmarks" / "sensitivity.yaml"))
    picks = [int(i) for i in np.random.default_rng(5).choice(len(runs), 60, replace=False)] + [len(runs) - 1]
    slow, fast, calls = both_ways(
        monkeypatch,
        lambda options: [exact(simulate_once(runs[i].scenario, runs[i].run, options=options)) for i in picks],
    )
    assert fast == slow
    assert calls > 1000


STEADY = {  # lists whose batches hit in place for long stretches, and what ends a stretch
    "alone, a short last batch": "list: {rows: 2005, yield_every: 10}\nactors: []",
    "pinned, interval timers": "list: {rows: 2000, yield_every: 7, row_cost_ms: 0.1}\nregistry: {fix: pin}\n"
    "actors: [{name: cron, kind: interval, period_ms: 9, work_ms: 0.5, workspaces: 'cycle:3'}]",
    "whole-ms iterations": "list: {rows: 1000, yield_every: 10, row_cost_ms: 0.3}\nloop: {iteration_ms: 1}\nactors: []",
    "polled lists": "list: {rows: 400, yield_every: 10, poll_every_ms: 200, duration_ms: 2000}\nactors: []",
    "no row cost": "list: {rows: 500, yield_every: 10, row_cost_ms: 0}\nmemo: {policy: lru, capacity: 8, "
    "scan_ms: 2.5, hit_ms: 0}\nloop: {iteration_ms: 0.001}\nactors: []",
}


@pytest.mark.parametrize("name", sorted(STEADY))
def test_batches_in_place_give_the_same_records(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Stretches of batches run in one loop (``EventLoop.batches_in_place``) ended by a short last
    batch, timers, whole-ms iterations or a next list: the same records, field by field."""
    scenario = clawsim.parse_scenario(f"seed: 5\n{STEADY[name]}\n")
    taken = IN_PLACE_TAKEN[0]
    for engine in ("aggregated", "reference"):
        slow, fast, _ = both_ways(
            monkeypatch,
            lambda options: [exact(simulate_once(scenario, run, options=options)) for run in range(3)],
            engine,
        )
        assert fast == slow
    assert IN_PLACE_TAKEN[0] - taken > 100
