"""One run of a scenario: build the world, run the loop until the lists are done."""

from __future__ import annotations

import numpy as np
import simpy

from .loop import EventLoop
from .memo import Memo, cost_sampler
from .metrics import RUN_METRICS
from .registry import Registry
from .scenario import RunSpec, Scenario
from .workload import World, start_actor, start_lists


class SimulationError(RuntimeError):
    """The model reached a state it cannot continue from (a bug, not bad input)."""


def run_streams(seed: int, run: int, count: int) -> list[np.random.Generator]:
    """Independent random streams for one run, derived from (seed, run index) only."""
    children = np.random.SeedSequence(seed, spawn_key=(run,)).spawn(count)
    return [np.random.default_rng(child) for child in children]


def simulate_once(scenario: Scenario, run: int = 0) -> list[dict]:
    """Simulate one run of a resolved scenario; one record (a dict) per list.

    Stream 0 draws scan costs; stream k (k >= 1) drives the k-th actor copy, in the
    order the actors are listed. Run-level figures are copied onto every record.
    """
    copies = [(actor, c) for actor in scenario.actors for c in range(actor.count)]
    streams = run_streams(scenario.seed, run, 1 + len(copies))
    env = simpy.Environment()
    loop = EventLoop(env, scenario.loop.iteration_ms)
    world = World(
        loop=loop,
        registry=Registry(scenario.registry.initial_workspace),
        memo=Memo(scenario.memo),
        scan_cost=cost_sampler(scenario.memo.scan_ms, streams[0]),
        hit_ms=scenario.memo.hit_ms,
        fix=scenario.registry.fix,
        memo_key=scenario.memo.key,
        fingerprinted=scenario.memo.fingerprinted,
        current_snapshot=scenario.registry.initial_workspace if scenario.memo.current_snapshot else None,
    )
    for (actor, copy), rng in zip(copies, streams[1:]):
        start_actor(world, actor, copy, rng)
    start_lists(world, scenario.list)
    finished = loop.start()
    try:
        env.run(until=finished | env.timeout(scenario.loop.max_sim_ms))
    except RuntimeError as exc:  # SimPy: no events left before the loop stopped
        raise SimulationError(f"the simulation stalled at {env.now} ms: {exc}") from None
    loop.probe.finish(env.now)
    for stats in world.stats.lists:  # an overloaded loop hit max_sim_ms: say so, keep counts
        if stats.end_ms is None:
            stats.finish(env.now, world.registry.flips, world.registry.changes, completed=False)
    run_values = {
        "loop_delay_max_ms": loop.probe.max_ms,
        "actor_activations": world.stats.actor_activations,
        "actor_scans": world.stats.actor_scans,
        "sim_ms": env.now,
        "loop_iterations": loop.iterations,
    }
    return [{**stats.record(), **{k: run_values[k] for k in RUN_METRICS}} for stats in world.stats.lists]


def simulate_run(spec: RunSpec) -> list[dict]:
    """Records of one planned run, keyed by run, point, replication and swept values."""
    keys = {"run": spec.run, "point": spec.point, "replication": spec.replication, **dict(spec.params)}
    return [{**keys, **record} for record in simulate_once(spec.scenario, spec.run)]
