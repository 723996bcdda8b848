"""Stretches of batches under aggregated arrivals (``engine/stretch.py``) give the records of the
steps one by one: the oracle is ``EngineOptions(fast_rows=False, resume_in_place=False)``.

Each case compares every record field by its repr (floats by their bits) and checks that the
stretch ran; ``test_every_branch_is_taken`` checks that the cases between them run each of its
branches (the lines executed in ``stretch.py``, traced), so no branch passes by never running.
"""

from __future__ import annotations

import linecache
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

import pytest

import clawsim
from clawsim.engine import listing, stretch
from clawsim.engine.options import EngineOptions
from clawsim.engine.run import simulate_once

SLOW = EngineOptions(fast_rows=False, resume_in_place=False)
LOGNORMAL = "{dist: lognormal, p50: 60, p95: 80}"


def scenario(
    agents: str,
    rows: int = 600,
    lookups: int = 2,
    memo: str = "policy: lru, capacity: 8",
    scan_ms: str = LOGNORMAL,
    fix: str = "none",
    loop: str = "",
) -> clawsim.Scenario:
    text = (
        f"seed: 4\nlist: {{rows: {rows}, yield_every: 10, lookups_per_row: {lookups}, row_cost_ms: 0.28}}\n"
        f"registry: {{fix: {fix}}}\nmemo: {{{memo}, scan_ms: {scan_ms}}}\n"
        f"loop: {{{loop}}}\nactors: [{agents}]\n"
    )
    return clawsim.parse_scenario(text)


def agents(count: int = 128, work_ms: float = 0, workspaces: str = "unique", rate: float = 2) -> str:
    return f"{{name: agent, kind: poisson, rate_per_s: {rate}, count: {count}, work_ms: {work_ms}, workspaces: '{workspaces}'}}"


CRON = "{name: cron, kind: interval, period_ms: 400, workspaces: 'cycle:2', work_ms: 0.3}"

CASES = {
    # every batch reads a new workspace: its first row scans, the rest hit; the run ends in a batch
    "fresh": scenario(agents(), loop="max_sim_ms: 5000"),
    # the agents' work is held; the run ends mid-stretch (max_sim_ms), some agents' work past it
    "work, deadline": scenario(agents(work_ms=5), rows=2000, loop="max_sim_ms: 9000"),
    # pinned: the rows hit in place (the memo's most recent entries), with a cost per hit
    "pinned": scenario(agents(work_ms=0.5), lookups=3, memo="policy: lru, capacity: 8, hit_ms: 0.0137", fix="pin"),
    # pinned to the gateway's published snapshot: hits that cost nothing
    "snapshot": scenario(agents(), memo="policy: lru, capacity: 8, hit_ms: 0.02, current_snapshot: true", fix="pin"),
    # more keys than slots: every lookup misses
    "all-miss": scenario(agents(count=64, work_ms=1), rows=400, lookups=10),
    "all-miss, one workspace": scenario(agents(count=8, workspaces="fixed:/w"), rows=300, lookups=9),
    "all-miss, no agent": scenario(agents(count=0), rows=300, lookups=9),
    "all-miss, no actor": scenario("", rows=300, lookups=10, memo="policy: lru, capacity: 3"),
    # workspaces that come back: the memo is looked at, some batches are left to the loop
    "cycle across copies": scenario(agents(count=4, workspaces="cycle:3", work_ms=0.2, rate=20), lookups=3),
    "random": scenario(agents(count=16, workspaces="random:4"), memo="policy: lru, capacity: 4"),
    "fixed": scenario(agents(count=8, workspaces="fixed:/w", work_ms=0.1)),
    # a constant scan cost (nothing drawn ahead) and a memo of one slot
    "single slot, constant": scenario(agents(count=32), lookups=1, memo="policy: single", scan_ms="2.5"),
    # a memo that a stretch's logged scans overfill
    "two slots": scenario(agents(), memo="policy: lru, capacity: 2"),
    # arrivals as SimPy events (the reference engine): a stretch cannot pass one, none runs
    "reference engine": scenario(agents(count=2, rate=5), loop="engine: reference"),
    # work before a batch's first scan, or after each (memo.pre_miss_ms, miss_overhead_ms): the
    # stretches stand aside (they once took the first and dropped its work)
    "work before a miss": scenario(agents(), memo="policy: lru, capacity: 8, pre_miss_ms: 0.7"),
    "work after a miss": scenario(agents(), memo="policy: lru, capacity: 8, miss_overhead_ms: 0.7"),
    # few arrivals, timers and whole-millisecond iterations
    "few agents, timers": scenario(f"{agents(count=2, work_ms=1)}, {CRON}", rows=3000, loop="iteration_ms: 1"),
}
LEAST_STEPS = {
    "reference engine": 0,
    "few agents, timers": 10,
    "work before a miss": 0,
    "work after a miss": 0,
}  # else 20


def exact(records: list[dict]) -> list[list[tuple[str, str]]]:
    return [sorted((key, repr(value)) for key, value in record.items()) for record in records]


def stretched(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Steps run by stretches from now on (counted through listing's reference to it)."""
    steps = [0]
    run = stretch.batches_through_arrivals

    def counted(*args: Any) -> tuple[int, float]:
        done, left = run(*args)
        steps[0] += done
        return done, left

    monkeypatch.setattr(listing, "batches_through_arrivals", counted)
    return steps


@pytest.mark.parametrize("name", sorted(CASES))
def test_stretches_give_the_records_of_the_steps_one_by_one(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    runs = range(3)
    slow = [exact(simulate_once(CASES[name], run, options=SLOW)) for run in runs]
    steps = stretched(monkeypatch)
    fast = [exact(simulate_once(CASES[name], run)) for run in runs]
    assert fast == slow
    assert steps[0] >= LEAST_STEPS.get(name, 20)


def lines_run(job: Callable[[], object]) -> set[str]:
    """The source lines of ``stretch.py`` that ``job`` executes, stripped."""
    path, seen = stretch.__file__, set()

    def local(frame: FrameType, event: str, arg: object) -> Any:
        if event == "line":
            seen.add(frame.f_lineno)
        return local

    def calls(frame: FrameType, event: str, arg: object) -> Any:
        return local if frame.f_code.co_filename == path else None

    sys.settrace(calls)
    try:
        job()
    finally:
        sys.settrace(None)
    return {linecache.getline(path, line).strip() for line in seen}


BRANCHES = [
    "times, head, last_ms = _drawn_past(source, head, end)",  # arrivals drawn within a stretch
    'workspace_now = f"{name}#{number % copies}/{number // copies}"',  # unique names, inline
    "first_name, last_name, within, last_change = source.advance(n)",
    "n = int((deadline_ms - now) // work_ms) + 1",  # agents' work past the deadline
    "left = held",
    "left = ms",
    "kind = _HIT",
    "kind = _FRESH if scans_first_row else _ALL_MISS",
    "return _HIT",
    "return _FRESH",
    "return _ALL_MISS if cache.first_row_misses(workspace, keys) else None",
    "return None",
    "_store_logged(entries, slots, lookups, log)",
    "entries.clear()",
    "costs = [scan_cost() for _ in key_range]",
    "row_ms = (reduce(add, hit_costs, t) - t) + row_cost_ms",
    "t = scanned_rows(world, stats, workspace, cache.keys(workspace, lookups), batch, t, row_cost_ms)",
]


def test_every_branch_is_taken() -> None:
    seen = lines_run(lambda: [simulate_once(case, 0) for case in CASES.values()])
    assert [branch for branch in BRANCHES if branch not in seen] == []
