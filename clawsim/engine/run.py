"""One run of a resolved scenario: build the world, run the loop until the lists are done.

The lifecycle, in order: ``run_streams`` (random streams from (seed, stream index) only), build the
world, arm the actors and the lists, run until the loop stops or ``loop.max_sim_ms``,
close what is still open, then copy the run-level figures onto every list's record.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import simpy

from ..scenario import CostMs, RunSpec, Scenario, distribution
from ..scenario.costs import Cost, Sampler
from .actors import Stream
from .arrivals import Arrivals
from .choices import SEEDED, Chooser
from .identity import ByIdentity
from .listing import start_lists
from .loop import EventLoop
from .memo import DrawnAhead, MemoRules, MetadataCache
from .metrics import RUN_METRICS, ListStats, RunStats, record_names
from .options import DEFAULT_OPTIONS, EngineOptions
from .registry import Registry
from .tracer import Tracer
from .world import World


class RunStreams:
    """The independent random streams of one run, derived from (seed, stream index) only; a
    planned run's stream index is ``RunSpec.stream``, shared by the variants of a point.

    Stream k is the k-th child that ``SeedSequence(seed, spawn_key=(stream,)).spawn`` gives, i.e.
    ``SeedSequence(seed, spawn_key=(stream, k))``, made when first asked for: making one costs
    tens of microseconds, and a run of constant costs and immediate actors needs none.
    """

    __slots__ = ("seed", "run", "_made")

    def __init__(self, seed: int, run: int):
        self.seed, self.run = seed, run  # run: the stream index
        self._made: dict[int, np.random.Generator] = {}

    def __getitem__(self, k: int) -> np.random.Generator:
        rng = self._made.get(k)
        if rng is None:
            rng = self._made[k] = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(self.run, k)))
        return rng

    def stream(self, k: int) -> Stream:
        """Stream k, made only if the caller asks for it."""
        return lambda: self[k]


def run_streams(seed: int, stream: int) -> RunStreams:
    """The random streams of stream index ``stream`` of a scenario seeded ``seed`` (see ``RunStreams``)."""
    return RunStreams(seed, stream)


# Streams of the per-list and per-miss terms: far past any actor copy's (1 .. MAX_ACTOR_COPIES), so
# adding them changed no stream of an existing scenario; made only for a drawn cost.
SETUP_STREAM, MISS_OVERHEAD_STREAM, PRE_MISS_STREAM = 2**31 - 1, 2**31 - 2, 2**31 - 3


class Prepared:
    """What ``build_world`` takes from a scenario, worked out once per scenario object (a frozen
    model: a plan point's replications share one): the costs as distributions, the samplers of
    constant costs (they draw nothing, so every run may share them), the memo's rules."""

    __slots__ = (
        "scan_ms", "scan_constant", "setup", "miss_overhead", "pre_miss", "memo", "snapshot", "pinned",
    )  # fmt: skip

    def __init__(self, scenario: Scenario):
        self.scan_ms = distribution(scenario.memo.scan_ms)
        # a constant scan cost: its sampler and draws, shared (no stream is made for it)
        self.scan_constant = None if self.scan_ms.drawn else (self.scan_ms.sampler(None), self.scan_ms.draws(None))
        self.setup = _cost(scenario.list.setup_ms)
        self.miss_overhead = _cost(scenario.memo.miss_overhead_ms)
        self.pre_miss = _cost(scenario.memo.pre_miss_ms)
        self.memo = MemoRules.of(scenario.memo)
        self.snapshot = scenario.registry.initial_workspace if scenario.memo.current_snapshot else None
        self.pinned = scenario.registry.pinned


def _cost(cost: CostMs) -> Sampler | Cost | None:
    """A constant cost's sampler (None for 0: no work, no stream), or a drawn cost's distribution
    (sampled from its stream in each run: ``_sampler``)."""
    dist = distribution(cost)
    if dist.drawn:
        return dist
    return None if dist.mean == 0 else dist.sampler(None)


PREPARED = 64  # scenarios kept: a sweep's workers resolve one per plan point
# ``Prepared`` of a scenario, made once per scenario object (a plan point's runs share it)
prepared: ByIdentity[Scenario, Prepared] = ByIdentity(Prepared, PREPARED)


def build_world(
    scenario: Scenario,
    scan_stream: Stream,
    tracer: Tracer | None = None,
    streams: RunStreams | None = None,
    *,
    options: EngineOptions = DEFAULT_OPTIONS,
) -> World:
    """The loop (with the aggregated arrivals, if that engine runs: ``EngineOptions.engine``),
    the global, the metadata cache (scan costs drawn from ``scan_stream()``, made only if the cost
    is random) and the counters.

    ``streams``: where a drawn ``list.setup_ms``, ``memo.miss_overhead_ms`` or ``memo.pre_miss_ms`` is
    drawn from.
    """
    env = options.environment()
    ready = prepared(scenario)
    registry = Registry(scenario.registry.initial_workspace, tracer)
    scan_ahead = None  # MetadataCache.scan_ahead
    if ready.scan_constant is not None:  # a constant draws nothing: no stream is made
        sampler, draws = ready.scan_constant
        scan_ahead = (draws, _take_nothing)
    else:
        rng = scan_stream()
        sampler, draws = ready.scan_ms.sampler(rng), ready.scan_ms.draws(rng)
        if options.fast_rows:  # the stream draws only scan costs: draw them ahead
            ahead = DrawnAhead(draws)
            sampler, draws, scan_ahead = ahead.one, ahead.many, (ahead.peek, ahead.drop)
    stats = RunStats()
    arrivals = None
    if options.engine_for(scenario.loop.engine) == "aggregated":
        arrivals = Arrivals(registry, stats, scenario.loop.max_sim_ms)
    world = World(
        loop=EventLoop(env, scenario.loop.iteration_ms, arrivals, in_place=options.resume_in_place),
        registry=registry,
        cache=MetadataCache(scenario.memo, registry, sampler, ready.snapshot, draws, ready.memo),
        pin=ready.pinned,
        stats=stats,
        tracer=tracer,
        fast_rows=options.fast_rows,
    )
    world.cache.scan_ahead = scan_ahead
    if ready.setup is not None or ready.miss_overhead is not None or ready.pre_miss is not None:
        own = streams if streams is not None else run_streams(scenario.seed, 0)
        world.setup_cost = _drawn(ready.setup, own.stream(SETUP_STREAM))
        world.cache.miss_overhead = _drawn(ready.miss_overhead, own.stream(MISS_OVERHEAD_STREAM))
        world.cache.pre_miss = _drawn(ready.pre_miss, own.stream(PRE_MISS_STREAM))
    return world


def _take_nothing(count: int) -> None:
    """A constant's draws, taken: nothing to take."""


def _drawn(cost: Sampler | Cost | None, stream: Stream) -> Sampler | None:
    """A ``Prepared`` cost's sampler in this run: a drawn one from its stream (made now)."""
    if cost is None or callable(cost):
        return cost
    return cost.sampler(stream())


_NO_KEYS: Mapping[str, Any] = {}


def simulate_once(
    scenario: Scenario,
    stream: int = 0,
    *,
    tracer: Tracer | None = None,
    chooser: Chooser = SEEDED,
    options: EngineOptions = DEFAULT_OPTIONS,
    lists: list[ListStats] | None = None,
    keys: Mapping[str, Any] = _NO_KEYS,
) -> list[dict[str, Any]]:
    """Simulate one run of a resolved scenario; one record (a dict) per list, ``keys`` first.

    ``stream`` picks the random streams (``run_streams``): stream 0 draws scan costs; stream k (k >= 1) drives the k-th actor copy, in the
    order the actors are listed. The run ends when the last list returns, or at
    ``loop.max_sim_ms``, or when the loop halts because it cannot advance or keep up
    (``EventLoop.halt``); lists still open are then recorded with ``completed: false``.
    ``options``: how the engine runs (``EngineOptions``): both engines give the same records in
    distribution, and identical records when no poisson actor is active; the fast paths on or off
    give identical records. With a ``tracer``, the same run also
    records its events there (see ``tracer.py``). ``chooser`` makes the run's open decisions
    (``choices.py``): the seeded draws by default, or a schedule to replay. ``lists``, if given,
    receives each list's counters (``ListStats``: also what no results column holds, e.g. the
    batches that scanned). ``keys``: what each record starts with (``simulate_run``'s run, point,
    replication and swept values), made part of it as it is built.
    """
    streams = run_streams(scenario.seed, stream)
    world = build_world(scenario, streams.stream(0), tracer, streams, options=options)
    loop, env = world.loop, world.loop.env
    if chooser is not SEEDED:
        world.chooser = chooser
    chooser.arm(world, scenario, streams.stream)
    start_lists(world, scenario.list)
    if options.resume_in_place and not env._queue:  # nothing scheduled yet: the loop may start at once
        deadline = env.timeout(scenario.loop.max_sim_ms)
        started = loop.start_at_once()
        if started is not None:  # (None: the run ended without a SimPy event)
            env.run(until=_first_of(env, (started, deadline, loop.halted)))
    else:
        finished = loop.start()
        env.run(until=_first_of(env, (finished, env.timeout(scenario.loop.max_sim_ms), loop.halted)))
    loop.probe.finish(env.now)
    for stats in world.stats.lists:  # an overloaded loop hit max_sim_ms or halted: say so, keep counts
        if stats.end_ms is None:
            stats.finish(env.now, world.registry.flips, world.registry.changes, completed=False)
    for stats in world.stats.lists:
        until = env.now if stats.end_ms is None else stats.end_ms
        stats.loop_delay_p50_ms, stats.loop_delay_p99_ms = loop.probe.percentiles(stats.start_ms, until, (50, 99))
    if tracer is not None:
        tracer.close_all(env.now)
    # the RUN_METRICS, in that order (_RUN_VALUES)
    run_values = (loop.probe.max_ms, world.stats.actor_activations, world.stats.actor_scans, env.now, loop.iterations)
    if lists is not None:
        lists.extend(world.stats.lists)
    names, values = record_names(tuple(keys)), tuple(keys.values())
    records = [stats.record(names, values, run_values) for stats in world.stats.lists]
    loop.close()
    return records


_RUN_VALUES = ("loop_delay_max_ms", "actor_activations", "actor_scans", "sim_ms", "loop_iterations")
assert _RUN_VALUES == RUN_METRICS, "simulate_once's run_values follow RUN_METRICS"


def _first_of(env: simpy.Environment, events: tuple[simpy.Event, ...]) -> simpy.Event:
    """What ``simpy.AnyOf(env, events)`` is to ``env.run``, without a condition's bookkeeping:
    an event triggered as the first of ``events`` is processed (so scheduled at that time behind
    what is already scheduled then, as AnyOf's is), failing as it failed."""
    first = env.event()

    def fire(event: simpy.Event) -> None:
        if first.triggered:
            return
        if event.ok:
            first.succeed()
        else:
            event.defused = True  # as a condition takes a failure on: the run raises it once
            value = event.value
            if isinstance(value, Exception):
                first.fail(value)
            elif isinstance(value, BaseException):
                # a stop signal's Interrupted raised inside a process: SimPy keeps it as the
                # process's value, but an event cannot fail with it; it stops the run now
                raise value

    for event in events:
        event.callbacks.append(fire)
    return first


def simulate_run(spec: RunSpec, options: EngineOptions = DEFAULT_OPTIONS) -> list[dict[str, Any]]:
    """Records of one planned run, keyed by run, point, replication and swept values."""
    keys = {"run": spec.run, "point": spec.point, "replication": spec.replication, **dict(spec.params)}
    return simulate_once(spec.scenario, spec.stream, options=options, keys=keys)
