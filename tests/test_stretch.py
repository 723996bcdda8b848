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
from types import FrameType, ModuleType
from typing import Any

import numpy as np
import pytest

import clawsim
from clawsim.engine import fresh, listing, metrics, sources, stretch
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
    every: int = 10,
    row_cost_ms: float = 0.28,
    registry: str = "",
) -> clawsim.Scenario:
    text = (
        f"seed: 4\nlist: {{rows: {rows}, yield_every: {every}, lookups_per_row: {lookups}, row_cost_ms: {row_cost_ms}}}\n"
        f"registry: {{fix: {fix}{registry}}}\nmemo: {{{memo}, scan_ms: {scan_ms}}}\n"
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
    # runs of fresh batches done at once (fresh.py): cut by a batch that meets no arrival (about
    # 1 in 40 here), by a timer (the cron, whose names are not the agents'), by the iteration
    # cap; with 3 lookups and a short last batch; with batches of one row (none: the steps)
    "fresh runs, quiet batches": scenario(agents(count=10), rows=4005, lookups=3),
    "fresh runs, timers": scenario(f"{agents()}, {CRON}", rows=2000, loop="iteration_ms: 1"),
    "fresh runs, one row a batch": scenario(agents(rate=40), rows=300, every=1),
    # sub-millisecond batches: the delay probe (1 ms) does not fire at every yield
    "fresh runs, probe": scenario(agents(rate=1000), scan_ms="{dist: lognormal, p50: 0.25, p95: 0.4}", row_cost_ms=0),
    # so many arrivals in a batch (about 1 in 10) that the loop halts the run there (MAX_WAITING)
    "fresh runs, overrun": scenario(agents(rate=50), rows=300, scan_ms="{dist: lognormal, p50: 600, p95: 1000}"),
    # the gateway's workspace spelled as one of the agents' names: the batch that reads it
    # hits the snapshot (not fresh), and the list counts it once (read by name and by number)
    "fresh runs, a name spelled ahead": scenario(
        agents(count=1, rate=40),
        rows=1000,
        memo="policy: lru, capacity: 8, current_snapshot: true",
        registry=", initial_workspace: 'agent#0/35'",
    ),
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


def lines_run(job: Callable[[], object], module: ModuleType = stretch) -> set[str]:
    """The source lines of ``module`` (``stretch.py``) that ``job`` executes, stripped."""
    path, seen = module.__file__, set()

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


FRESH_BRANCHES = [  # fresh.py, and what it counts on in metrics.py and sources.py
    "return None  # batches of one row: left to the steps",
    "return None  # the first batch is not one: the steps run it",
    "n -= 1",  # a short last batch
    "t += cost",  # lookups other than 2
    "t = end + ((((end + first) + second) - end) + row_cost_ms)  # the first row: its scans, its work",
    "self.size, self.backoff = min(4 * self.size, MAX_RUN), 0",
    "self.backoff = min(2 * self.backoff + 1, 64)",
    "self.backoff = 0",
    "clash.append(number)",
    "m = int(hit.argmax())",
    "self.cleared.add(workspace)",
]
ELSEWHERE = {
    metrics: ["count -= at < len(numbers) and int(numbers[at]) == number", "return q * copies + c"],
    sources: ["self._gap_times(blocks, times[waiting:].reshape(blocks, BLOCK))"],
}


def test_every_branch_is_taken() -> None:
    seen = lines_run(lambda: [simulate_once(case, 0) for case in CASES.values()])
    assert [branch for branch in BRANCHES if branch not in seen] == []
    seen = lines_run(lambda: [simulate_once(case, 0) for case in CASES.values()], fresh)
    assert [branch for branch in FRESH_BRANCHES if branch not in seen] == []
    for module, branches in ELSEWHERE.items():
        seen = lines_run(lambda: [simulate_once(case, 0) for case in CASES.values()], module)
        assert [branch for branch in branches if branch not in seen] == []


def taken(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Batches run by fresh runs from now on."""
    batches = [0]
    take = fresh.FreshRuns.take

    def counted(self: fresh.FreshRuns, *args: Any) -> fresh.Taken | None:
        got = take(self, *args)
        batches[0] += got.batches if got is not None else 0
        return got

    monkeypatch.setattr(fresh.FreshRuns, "take", counted)
    return batches


@pytest.mark.parametrize(
    ("name", "least"),
    [
        ("fresh", 30),
        ("fresh runs, quiet batches", 150),
        ("fresh runs, timers", 50),
        ("fresh runs, probe", 1),
        ("fresh runs, overrun", 1),
        ("fresh runs, a name spelled ahead", 20),
        ("few agents, timers", 0),
    ],
)
def test_fresh_runs_take_the_batches_they_can(monkeypatch: pytest.MonkeyPatch, name: str, least: int) -> None:
    """The records are the oracle's (above); here, that runs of fresh batches did most of the
    work where every batch meets arrivals, and none where they cannot (agents' work held)."""
    batches = taken(monkeypatch)
    simulate_once(CASES[name], 0)
    assert batches[0] >= least if least else batches[0] == 0


def test_even_batches() -> None:
    assert fresh._even([10, 10, 10, 7, 0]) == [10, 10, 10]
    assert fresh._even([10, 7, 10]) == [10]  # not a list's batches
    assert fresh._even([1, 1]) == [] and fresh._even([]) == []


def test_spelled_numbers() -> None:
    """A name counts as a numbered workspace only if the source spells it exactly so."""
    assert [metrics.spelled_number(w, "a#", 4) for w in ("a#3/2", "a#0/0", "a#4/1", "a#01/2", "a#1/+2")] == [
        11,
        0,
        None,
        None,
        None,
    ]
    assert [metrics.spelled_number(w, "a#", 4) for w in ("a#1", "b#1/2", "a#x/2", "a#1/2/3", "a#-1/2")] == [None] * 5
    numbered = [metrics.Numbered("a#", 4, np.array([5, 9])), metrics.Numbered("a#", 4, np.array([11]))]
    assert metrics.unnamed({"a#1/1", "a#3/2", "a#1/9", "/w"}, numbered) == 1  # 5 and 11 are named
