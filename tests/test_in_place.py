"""The loop's steps that no callback can observe, skipped: the same records as the trip through
SimPy and the loop (the oracle: ``EngineOptions(fast_rows=False, resume_in_place=False)``).

- an awaited read completes in the loop's own schedule, not as a SimPy timeout (``start_io``);
- a list's yield resumes in place through a poll phase of aggregated arrivals alone
  (``resume_in_place`` returning the ms their activations hold the thread);
- a read awaited by the last callback of a poll phase resumes in place (``read_in_place``);
- runs of batches that resume in place and hit in place are run in one loop
  (``batches_in_place``), also under immediate actors without lookups, whose activations it
  fires in place (``set_activation``), each batch reading the workspace they set, and from a
  yield in the poll phase the list started in; and so are runs of batches whose yields meet
  aggregated arrivals (``stretch.batches_through_arrivals``; tests/test_stretch.py covers its
  branches);
- scan costs and poisson gaps are drawn ahead in blocks (the same numbers in the same order).

Each case compares every record field by its repr (floats by their bits) and checks that the
path it is about was taken, so it cannot pass by never reaching it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import simpy

import clawsim
from clawsim.engine import listing, loop, run, sources, stretch
from clawsim.engine.memo import DrawnAhead
from clawsim.engine.options import EngineOptions
from clawsim.engine.registry import Registry
from clawsim.engine.run import simulate_once
from clawsim.engine.world import World
from clawsim.scenario import distribution

GATEWAY = """seed: 5
list: {{rows: {rows}, yield_every: 10, lookups_per_row: 2, row_cost_ms: 0.28,
  per_row_io: {{rows: {io_rows}, latency_ms: 2}}, start_ms: 30}}
registry: {{fix: {fix}}}
memo: {{policy: lru, capacity: 8, scan_ms: {{dist: lognormal, p50: 9, p95: 13}}}}
loop: {{engine: {engine}}}
actors:
  - {{name: agent, kind: poisson, rate_per_s: {rate}, count: {count}, workspaces: unique, work_ms: {work}}}
  - {{name: cron, kind: interval, period_ms: 40, workspaces: unique, work_ms: 1}}
"""


def gateway(
    rows: int = 100,
    io_rows: int = 100,
    fix: str = "none",
    engine: str = "aggregated",
    rate: float = 10,
    count: int = 1,
    work: float = 0.5,
) -> clawsim.Scenario:
    text = GATEWAY.format(rows=rows, io_rows=io_rows, fix=fix, engine=engine, rate=rate, count=count, work=work)
    return clawsim.parse_scenario(text)


def exact(records: list[dict]) -> list[list[tuple[str, str]]]:
    return [sorted((key, repr(value)) for key, value in record.items()) for record in records]


STEP, RESUME_IN_PLACE = simpy.Environment.step, loop.EventLoop.resume_in_place
READ_IN_PLACE, BATCHES_IN_PLACE = loop.EventLoop.read_in_place, loop.EventLoop.batches_in_place
READS_IN_PLACE = loop.EventLoop.reads_in_place
STRETCH = stretch.batches_through_arrivals


class Counted:
    """SimPy events processed, and yields ``resume_in_place`` resumed (and of those, after
    running a poll phase's activations that held the thread); steps run by stretches."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.events = self.resumed = self.held = self.reads = self.batches = 0
        step, resume, read, batches, reads = STEP, RESUME_IN_PLACE, READ_IN_PLACE, BATCHES_IN_PLACE, READS_IN_PLACE
        self.chained = self.stretched = 0

        def counted_stretch(*args: Any) -> tuple[int, float]:
            done, left = STRETCH(*args)
            self.stretched += done
            return done, left

        def counted_reads(event_loop: loop.EventLoop, *args: Any) -> tuple[int, float]:
            done, left = reads(event_loop, *args)
            self.chained += done
            return done, left

        def counted_read(event_loop: loop.EventLoop, ms: float) -> bool:
            done = read(event_loop, ms)
            self.reads += done
            return done

        def counted_batches(event_loop: loop.EventLoop, *args: Any) -> tuple[int, float]:
            done, left = batches(event_loop, *args)
            self.batches += done
            return done, left

        def counted_step(env: simpy.Environment) -> None:
            self.events += 1
            step(env)

        def counted_resume(event_loop: loop.EventLoop) -> float | None:
            held = resume(event_loop)
            self.resumed += held is not None
            self.held += bool(held)
            return held

        monkeypatch.setattr(simpy.Environment, "step", counted_step)
        monkeypatch.setattr(loop.EventLoop, "resume_in_place", counted_resume)
        monkeypatch.setattr(loop.EventLoop, "read_in_place", counted_read)
        monkeypatch.setattr(loop.EventLoop, "batches_in_place", counted_batches)
        monkeypatch.setattr(loop.EventLoop, "reads_in_place", counted_reads)
        monkeypatch.setattr(listing, "batches_through_arrivals", counted_stretch)


def both_ways(monkeypatch: pytest.MonkeyPatch, scenario: clawsim.Scenario, runs: int = 4) -> tuple[Counted, Counted]:
    """The runs' records with the skipped steps off and on (asserted equal), and the counts of
    each; also what each run leaves in the memo (entries in order, with their times) and the
    global (value, setter calls, changes, when it last changed), which a shortcut could get
    wrong where no later lookup of the run reads it."""
    counts, records, ends = [], [], []
    made = []
    build = run.build_world

    def kept_world(*args: Any, **kwargs: Any) -> World:
        made.append(build(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(run, "build_world", kept_world)
    for on in (False, True):
        options = EngineOptions(fast_rows=on, resume_in_place=on)
        counted = Counted(monkeypatch)
        records.append([exact(simulate_once(scenario, k, options=options)) for k in range(runs)])
        counts.append(counted)
        ends.append([_left(world) for world in made])
        made.clear()
    assert records[1] == records[0]
    assert ends[1] == ends[0]
    return counts[0], counts[1]


def _left(world: World) -> tuple[object, ...]:
    """What a run leaves in the memo and the global, floats by their bits."""
    registry = world.registry
    memo = [(key, repr(at), workspace) for key, (at, workspace) in world.cache.memo.entries.items()]
    return memo, registry.workspace, registry.flips, registry.changes, repr(registry.changed_at)


@pytest.mark.parametrize("fix", ["none", "pin"])
def test_reads_complete_in_the_loop(monkeypatch: pytest.MonkeyPatch, fix: str) -> None:
    """The busy gateway's shape: a read after every row, an agent and a cron. Off, each read
    is a SimPy timeout plus the loop's wake; on, the reads complete in the loop's schedule."""
    off, on = both_ways(monkeypatch, gateway(fix=fix))
    assert off.events > 4 * 100 * 2  # two SimPy events per read at least, 4 runs
    assert on.events < off.events / 10
    assert off.reads == off.chained == 0
    # unpinned, rows scan (no chain): reads one by one; pinned, rows hit: chains of rows and reads
    assert on.reads > 20 if fix == "none" else on.chained > 4 * 100


STEADY = """seed: 8
list: {{rows: 3000, yield_every: 10, lookups_per_row: 3, row_cost_ms: 0.28, {io}}}
registry: {{fix: {fix}}}
memo: {{policy: lru, capacity: 8, hit_ms: {hit_ms}, current_snapshot: {snapshot}, scan_ms: {{dist: uniform, low: 5, high: 9}}}}
actors:
  - {{name: agent, kind: poisson, rate_per_s: 3, workspaces: unique, work_ms: 0.5}}
  - {{name: cron, kind: interval, period_ms: 90, workspaces: 'cycle:2', work_ms: 0.2}}
"""


@pytest.mark.parametrize(
    ("fix", "hit_ms", "snapshot", "io"),
    [
        ("none", 0, "false", ""),
        ("none", 0.0137, "false", ""),  # hits that cost: each batch's first row sums them
        ("pin", 0.0137, "true", ""),
        ("none", 0.02, "true", "per_row_io: {rows: 35, latency_ms: 1.5}"),
    ],
)
def test_steady_batches_run_in_one_loop(
    monkeypatch: pytest.MonkeyPatch, fix: str, hit_ms: float, snapshot: str, io: str
) -> None:
    """A long list between rare arrivals and a cron: most batches resume and hit in place."""
    text = STEADY.format(fix=fix, hit_ms=hit_ms, snapshot=snapshot, io=io)
    off, on = both_ways(monkeypatch, clawsim.parse_scenario(text), runs=3)
    assert off.batches == 0 and on.batches > 3 * 150


@pytest.mark.parametrize(
    "scenario",
    [
        gateway(engine="reference", rate=200, count=2),  # SimPy processes per arrival: reads go to SimPy
        gateway(rows=300, io_rows=40, rate=300, count=8, work=0.05),  # reads, then batches under arrivals
        gateway(rows=300, io_rows=5, fix="pin", rate=500, count=4, work=0.2),
    ],
    ids=["reference-engine", "reads-then-batches", "pinned"],
)
def test_reads_and_arrivals_mixed(monkeypatch: pytest.MonkeyPatch, scenario: clawsim.Scenario) -> None:
    both_ways(monkeypatch, scenario, runs=3)


def test_arrivals_are_polled_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    """10 rows a batch under many agents: nearly every yield meets arrivals; on, the list runs
    their poll phase itself and holds their work (in stretches of such batches)."""
    off, on = both_ways(monkeypatch, gateway(rows=2000, io_rows=0, rate=2, count=128, work=0.05), runs=2)
    assert off.resumed == off.stretched == 0
    assert on.held + on.stretched > 200


def test_an_overrun_in_place_halts_the_run_where_the_loop_would(monkeypatch: pytest.MonkeyPatch) -> None:
    """More arrivals than ``MAX_WAITING`` land during the second batch's scans (the first yield
    goes through the loop: the list started in a poll phase): the poll phase the list runs in
    place halts the run, and the list stays open, as through the loop (a stretch, which ran the
    second, leaves that poll phase to ``resume_in_place``)."""
    scenario = clawsim.parse_scenario(
        "seed: 2\nlist: {rows: 200, yield_every: 10, lookups_per_row: 2}\n"
        "memo: {policy: lru, capacity: 8, scan_ms: 300}\n"
        "actors: [{name: flood, kind: poisson, rate_per_s: 20000, workspaces: unique, start_ms: 500}]\n"
    )
    off, on = both_ways(monkeypatch, scenario, runs=2)
    assert on.resumed + on.stretched > 0
    assert not simulate_once(scenario, 0)[0]["completed"]


@pytest.mark.parametrize("cost", ["{dist: lognormal, p50: 60, p95: 80}", "{dist: uniform, low: 1, high: 9}"])
def test_scan_costs_drawn_ahead_are_those_drawn_one_at_a_time(cost: str) -> None:
    scan_ms = distribution(clawsim.parse_scenario(f"memo: {{scan_ms: {cost}}}").memo.scan_ms)
    one = scan_ms.sampler(np.random.default_rng(4))
    ahead = DrawnAhead(scan_ms.draws(np.random.default_rng(4)))
    got: list[float] = []
    for k in range(300):  # one at a time and in runs of every length, across block ends
        if k % 7 == 0:  # shown ahead (peek), then taken in part (drop): the same numbers
            shown = ahead.peek(k % 50)
            ahead.drop(k % 13 if k % 13 <= len(shown) else len(shown))
            got += shown[: k % 13]
        got += [ahead.one()] if k % 3 else ahead.many(k % 11)
    assert got == [one() for _ in got]


@pytest.mark.parametrize("form", ["unique", "cycle:3"])
def test_poisson_gaps_drawn_ahead_give_the_same_arrival_times(monkeypatch: pytest.MonkeyPatch, form: str) -> None:
    """A source that draws only gaps draws several blocks at once, and ``draw_past`` as many as it
    expects to need: the same times, bit for bit, as one block at a time (``AHEAD`` = 1), and as
    each block's ``exponential`` gaps summed from the last block's end."""
    actor = clawsim.parse_scenario(
        f"actors: [{{name: a, kind: poisson, rate_per_s: 300, workspaces: '{form}'}}]"
    ).actors[0]

    def times(ahead: int, far: bool = False) -> list[float]:
        monkeypatch.setattr(sources, "AHEAD", ahead)
        source = sources.PoissonSource(actor, np.random.default_rng(9), lambda _workspace, _now: 0.0)
        delivered: list[float] = []
        for k, now in enumerate(np.arange(0.0, 20_000.0, 37.5)):
            if far and k % 5 == 0:
                source.draw_past(float(now) + 30 * k, 40 * k)
            delivered += source.arrivals_until(float(now)).tolist()
        return delivered

    ahead = sources.AHEAD
    one_block = times(1)
    assert len(one_block) > ahead * sources.BLOCK
    assert times(ahead) == one_block
    assert times(ahead, far=True) == one_block
    rng, last, by_block = np.random.default_rng(9), 0.0, []  # (one copy: no codes drawn)
    while len(by_block) < len(one_block):
        by_block += (last + np.cumsum(rng.exponential(1000 / 300, sources.BLOCK))).tolist()
        last = by_block[-1]
    assert by_block[: len(one_block)] == one_block


FLIPPED = """seed: 11
list: {{rows: {rows}, yield_every: {every}, lookups_per_row: {lookups}, row_cost_ms: 0.28, count: 2, gap_ms: 3}}
registry: {{fix: {fix}}}
memo: {memo}
loop: {{engine: {engine}}}
actors: [{actors}]
"""
FLIPPER = "{name: flipper, kind: immediate, workspaces: unique}"
LRU = "{policy: lru, capacity: 8, scan_ms: 2.5, hit_ms: 0}"
LOGNORMAL_LRU = "{policy: lru, capacity: 8, scan_ms: {dist: lognormal, p50: 9, p95: 13}, hit_ms: 0.01}"

# (list, memo, actors, engine, (least, most) batches chained in 3 runs of 2 lists): lists under
# immediate actors without lookups, whose activations batches_in_place fires in place, and actors
# it must leave to the loop (a flipper that looks up; one that starts late, but for the batches
# before it starts).
UNDER_ACTORS = {
    # every batch after the first in the first list (19: from its yield in the poll phase it
    # started in), every one after the first two in the second (18: it starts in a timers phase)
    "PR harness, fix none": ("200 10 2 none", LRU, [FLIPPER], "aggregated", (3 * 37, 3 * 37)),
    "PR harness, fix pin": ("200 10 2 pin", LRU, [FLIPPER], "aggregated", (3 * 37, 3 * 37)),
    "two flippers that hold, cycle:3": (
        "300 10 3 none",
        LOGNORMAL_LRU,
        ["{name: f, kind: immediate, count: 2, work_ms: 0.3, workspaces: 'cycle:3'}"],
        "aggregated",
        (100, 400),
    ),
    "random workspaces, a cron": (
        "400 7 2 none",
        LOGNORMAL_LRU,
        [
            "{name: f, kind: immediate, workspaces: 'random:4', work_ms: 0.05}",
            "{name: cron, kind: interval, period_ms: 20, workspaces: unique, work_ms: 1}",
        ],
        "aggregated",
        (100, 400),
    ),
    "fixed workspace, poisson agents": (
        "500 10 2 none",
        LOGNORMAL_LRU,
        [
            FLIPPER.replace("unique", "'fixed:/other'"),
            "{name: a, kind: poisson, rate_per_s: 30, count: 4, workspaces: unique}",
        ],
        "aggregated",
        (100, 400),
    ),
    "reference engine: arrivals end the holds": (
        "300 10 2 none",
        LOGNORMAL_LRU,
        [
            FLIPPER.replace("}", ", work_ms: 2}"),
            "{name: a, kind: poisson, rate_per_s: 50, count: 2, workspaces: unique}",
        ],
        "reference",
        (5, 1000),
    ),
    "ttl memo": (
        "300 10 3 none",
        "{policy: ttl, ttl_ms: 8, capacity: 6, scan_ms: 1.5}",
        [FLIPPER],
        "aggregated",
        (100, 400),
    ),
    "no memo": ("200 10 2 none", "{policy: none, scan_ms: 0.5}", [FLIPPER], "aggregated", (100, 400)),
    "unkeyed memo": (
        "200 10 2 none",
        "{policy: lru, capacity: 3, key: global, scan_ms: 0.5}",
        [FLIPPER],
        "aggregated",
        (100, 400),
    ),
    "the cost terms, drawn": (
        "200 10 2 none",
        "{policy: lru, capacity: 8, scan_ms: 2.5, miss_overhead_ms: 0.4, pre_miss_ms: {dist: uniform, low: 0.5, high: 1.5}}",
        [FLIPPER],
        "aggregated",
        (100, 400),
    ),
    "pinned, random:2 flipper that holds": (
        "300 10 2 pin",
        LOGNORMAL_LRU,
        ["{name: f, kind: immediate, workspaces: 'random:2', work_ms: 0.2}"],
        "aggregated",
        (100, 400),
    ),
    "unique flipper that holds, 3 lookups, a short last batch": (
        "300 7 3 none",
        LOGNORMAL_LRU,
        ["{name: f, kind: immediate, workspaces: unique, work_ms: 0.1}"],
        "aggregated",
        (3 * 40, 3 * 84),
    ),
    "unique flipper, a one-row batch a yield": ("40 1 1 none", LRU, [FLIPPER], "aggregated", (3 * 76, 3 * 78)),
    "unique flipper, a single-slot memo": (
        "100 10 1 none",
        "{policy: single, scan_ms: 2.5}",
        [FLIPPER],
        "aggregated",
        (3 * 17, 3 * 19),
    ),
    "a flipper that looks up": ("200 10 2 none", LRU, [FLIPPER.replace("}", ", lookups: 1}")], "aggregated", (0, 0)),
    "a flipper that starts late": (
        "200 10 2 none",
        LRU,
        [FLIPPER.replace("}", ", start_ms: 4}")],
        "aggregated",
        (1, 6),
    ),
}


# the cases whose chained batches each read a new workspace from one flipper (listing._fresh_batches)
FRESH_CHAINS = {
    "PR harness, fix none",
    "unique flipper that holds, 3 lookups, a short last batch",
    "unique flipper, a one-row batch a yield",
    "unique flipper, a single-slot memo",
}


@pytest.mark.parametrize("name", sorted(UNDER_ACTORS))
def test_batches_under_immediate_actors_run_in_one_loop(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """An immediate actor without lookups shares every loop iteration with the list: on, its
    activations are fired in place (``EventLoop.set_activation``) and the list's batches run in
    one loop, each reading the global the actor set (a new workspace each: ``_fresh_batches``);
    the same records as the oracle, field by field."""
    shape, memo, actors, engine, (least, most) = UNDER_ACTORS[name]
    rows, every, lookups, fix = shape.split()
    text = FLIPPED.format(
        rows=rows, every=every, lookups=lookups, fix=fix, memo=memo, engine=engine, actors=", ".join(actors)
    )
    fresh = [0]
    fresh_batches = listing._fresh_batches

    def counted_fresh(*args: Any) -> tuple[int, float] | None:
        chained = fresh_batches(*args)
        fresh[0] += chained[0] if chained is not None else 0
        return chained

    monkeypatch.setattr(listing, "_fresh_batches", counted_fresh)
    off, on = both_ways(monkeypatch, clawsim.parse_scenario(text), runs=3)
    assert off.batches == 0
    assert least <= on.batches <= most, on.batches
    # a new workspace a batch, read from the flipper's names drawn ahead (listing._fresh_batches)
    assert fresh[0] == on.batches if name in FRESH_CHAINS else fresh[0] <= on.batches, fresh[0]


@pytest.mark.parametrize("memo", [LRU, LRU.replace("hit_ms: 0", "hit_ms: 0, pre_miss_ms: 0.7")])
def test_the_batches_that_scan_are_counted_alike_in_place_and_step_by_step(memo: str) -> None:
    """``ListStats.scan_batches`` (what the work before a batch's first scan is charged on, and
    what ``clawsim fit --predict`` counts) is the same with the loop's shortcuts on and off."""
    text = FLIPPED.format(rows=200, every=10, lookups=2, fix="none", memo=memo, engine="aggregated", actors=FLIPPER)
    scenario = clawsim.parse_scenario(text)
    counted = []
    for options in (EngineOptions(), EngineOptions(fast_rows=False, resume_in_place=False)):
        lists: list = []
        simulate_once(scenario, 0, options=options, lists=lists)
        counted.append([s.scan_batches for s in lists])
    assert counted[0] == counted[1] == [20, 20], counted  # the flipper runs first: every batch reads a new workspace


@pytest.mark.parametrize(
    "workspaces",
    [[], ["/a"], ["/gateway"], ["/a", "/a", "/b", "/b", "/gateway"], ["/x", "/y", "/x", "/y"], ["/gateway"] * 3],
)
def test_setter_calls_counted_at_once_are_those_made_one_by_one(workspaces: list[str]) -> None:
    """``Registry.set_many`` (a pinned list's batches under one immediate actor count its
    activations at the end of the chain) leaves the counters, the value and when it last changed
    as ``set`` does call by call."""
    times = [1.5 * k for k in range(len(workspaces))]
    one, many = Registry("/gateway"), Registry("/gateway")
    for workspace, at in zip(workspaces, times, strict=True):
        one.set(workspace, at)
    many.set_many(workspaces, times)
    assert (many.flips, many.changes, many.changed_at, many.workspace) == (
        one.flips,
        one.changes,
        one.changed_at,
        one.workspace,
    )
