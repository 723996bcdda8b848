"""The actors that call ``setActivePluginRegistry``: agent turns, crons, the PR's flipper.

Each activation sets the global, looks its own workspace up ``lookups`` times, then
holds the loop for ``work_ms``. How an actor is armed follows its kind:
immediate re-arms with ``setImmediate`` (docs/event-loop.md §5), interval is a
``setInterval`` (§6), burst a ``setInterval`` whose tick starts ``size`` activations, one per
check phase (§5, §6), poisson arrivals are inbound I/O queued for the poll phase (§8):
one SimPy process per copy in the reference engine, one ``PoissonSource`` for all copies
in the aggregated engine (``arrivals``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import assert_never

import numpy as np

from ..scenario import ActorSpec, BurstActor, ImmediateActor, IntervalActor, PoissonActor
from ..timeline import names
from .loop import IMMEDIATE, Sleep, Task, Work
from .sources import PoissonSource
from .world import World

Stream = Callable[[], np.random.Generator]  # a copy's random stream, made when first called


def workspace_names(actor: ActorSpec, copy: int, rng: np.random.Generator | None) -> Iterator[str]:
    """The workspaces one copy of an actor activates, in order (``rng``: for ``random:K`` only):
    ``unique`` is ``name#copy/n`` for n = 0, 1, ..., ``cycle:K`` is ``name/(n % K)``, ``random:K``
    ``name/j`` for j drawn uniformly below K, ``fixed:NAME`` NAME. Built-in iterators where no
    draw is made (an immediate actor takes one name per loop iteration)."""
    form, arg = actor.workspaces.form, actor.workspaces.arg
    k = arg if isinstance(arg, int) else 1  # K of cycle:K and random:K
    if form == "unique":
        return _unique_names(f"{actor.name}#{copy}/")
    if form == "cycle":
        return itertools.cycle([f"{actor.name}/{n}" for n in range(k)])
    if form == "random":
        assert rng is not None, "random workspaces draw from the copy's stream"
        return _random_names(actor.name, k, rng)
    if form == "fixed":
        return itertools.repeat(str(arg))
    assert_never(form)  # a new form is named here, not run as a fixed name


FIRST_NAMES = 64  # a unique copy's first names, made once and shared by every run (strings do not change)
_first_names: dict[str, tuple[str, ...]] = {}  # by prefix; emptied past 256 prefixes


def _unique_names(prefix: str) -> Iterator[str]:
    """``prefix`` + n for n = 0, 1, ...: the first ``FIRST_NAMES`` from a tuple made once per
    prefix (a run of a short list takes a few dozen, and building each name cost more than the
    rest of an activation), the rest built as they are taken."""
    first = _first_names.get(prefix)
    if first is None:
        if len(_first_names) >= 256:
            _first_names.clear()
        first = _first_names[prefix] = tuple([prefix + str(n) for n in range(FIRST_NAMES)])
    return itertools.chain(first, map(prefix.__add__, map(str, itertools.count(FIRST_NAMES))))


def _random_names(name: str, k: int, rng: np.random.Generator) -> Iterator[str]:
    while True:
        yield f"{name}/{int(rng.integers(k))}"


def activate(world: World, actor: ActorSpec, workspace: str, now: float) -> float:
    """The synchronous part of one activation at ``now``: set the global, look the workspace
    up; the ms it holds the thread (lookups plus ``work_ms``)."""
    world.registry.set(workspace, now)  # setActivePluginRegistry(registry, key, mode, workspaceDir)
    world.stats.actor_activations += 1
    tracer = world.tracer
    turn = tracer.new_id() if tracer is not None else None
    t = now
    for key in world.cache.keys(workspace, actor.lookups):
        hit, _stale, _pre, cost = world.cache.lookup(workspace, key, t)  # an actor's lookups do no pre-miss work
        if tracer is not None:
            tracer.lookup(t, cost, hit, world.cache.current_snapshot == workspace, turn)
        t += cost
        world.stats.actor_scans += not hit
    held = t - now + actor.work_ms
    if tracer is not None and held > 0:
        tracer.span(names.TURN, now, held, f"actor {actor.name}", None, turn, actor=actor.name, workspace=workspace)
    return held


Setter = tuple[Callable[[float], None], Callable[[list[float]], None], Callable[[int], list[str]], Callable[[], str]]


def _setter(world: World, names: Iterator[str]) -> Setter:
    """``activate`` of an actor without lookups, untraced: ``fire(now)`` sets the global to the
    next name and counts it; ``fire_many(times)`` does that at each of a list of times, in one
    call (``Registry.set_many``); ``ahead(n)`` gives the next ``n`` names it will set, drawn now
    (from the copy's stream, if drawn: the same draws in the same order); ``take()`` is the next
    name, for the actor's task when the loop resumes it. Names drawn ahead come first in all."""
    registry, stats = world.registry, world.stats
    drawn: list[str] = []  # names taken from ``names`` ahead, not set yet

    def take() -> str:
        return drawn.pop(0) if drawn else next(names)

    def fire(now: float) -> None:
        registry.set(drawn.pop(0) if drawn else next(names), now)
        stats.actor_activations += 1

    def fire_many(times: list[float]) -> None:
        count = len(times)
        if len(drawn) < count:
            drawn.extend(itertools.islice(names, count - len(drawn)))
        registry.set_many(drawn[:count], times)
        del drawn[:count]
        stats.actor_activations += count

    def ahead(count: int) -> list[str]:
        if len(drawn) < count:
            drawn.extend(itertools.islice(names, count - len(drawn)))
        return drawn[:count]

    return fire, fire_many, ahead, take


def activation(world: World, actor: ActorSpec, names: Iterator[str]) -> Task:
    """One agent turn or cron run: set the global, look its workspace up, do its work."""
    yield Work(activate(world, actor, next(names), world.loop.now))


def start_actor(world: World, actor: ActorSpec, copy: int, stream: Stream) -> None:
    """Arm one copy of an actor on the loop (or, for poisson, as an external source); the copy's
    random stream is made only if it draws (random workspaces, poisson arrivals)."""
    loop = world.loop

    def copy_names() -> Iterator[str]:
        return workspace_names(actor, copy, stream() if actor.workspaces.form == "random" else None)

    match actor:
        case PoissonActor() if loop.arrivals is not None:  # the aggregated engine: one source for all copies
            if copy == 0:
                source = PoissonSource(actor, stream(), lambda workspace, now: activate(world, actor, workspace, now))
                loop.arrivals.add(source)
        case ImmediateActor():
            names = copy_names()
            # each resume is one activation that sets the global and holds work_ms: say so
            setter = None if actor.lookups or actor.start_ms or world.tracer is not None else _setter(world, names)
            take = names.__next__ if setter is None else setter[3]  # (names drawn ahead come first)

            def reflipper() -> Task:  # the PR's flipper: re-arms with setImmediate
                if actor.start_ms:
                    yield Sleep(actor.start_ms)
                while True:  # activation's one step, inline: this runs on every loop iteration
                    yield Work(activate(world, actor, take(), loop.now))
                    yield IMMEDIATE

            task = reflipper()
            if setter is None:
                loop.set_immediate(task)
            else:
                fire, fire_many, ahead, _ = setter
                loop.set_activation(task, fire, actor.work_ms, fire_many, ahead)
        case IntervalActor(period_ms=period_ms):
            names = copy_names()
            loop.set_interval(period_ms, lambda: activation(world, actor, names), start_ms=actor.start_ms)
        case BurstActor(period_ms=period_ms, size=size):
            names = copy_names()

            def burst() -> Task:  # one activation in the tick, then one per check phase
                for k in range(size):
                    if k:
                        yield IMMEDIATE
                    yield from activation(world, actor, names)

            loop.set_interval(period_ms, burst, start_ms=actor.start_ms)
        case PoissonActor():
            loop.env.process(_arrivals(world, actor, copy_names(), stream()))
        case _:
            assert_never(actor)


def armed_copies(actor: ActorSpec, aggregated: bool) -> int:
    """How many copies of ``actor`` ``start_actor`` arms, copies 0 .. n-1 (each with its own
    stream): every copy, but under the aggregated engine a poisson actor's copy 0 is its one
    source for all copies, and the others arm nothing (a run of 128 agents arms one)."""
    match actor:
        case PoissonActor() if aggregated:
            return min(actor.count, 1)
        case ImmediateActor() | IntervalActor() | BurstActor() | PoissonActor():
            return actor.count
        case _:
            assert_never(actor)


def _arrivals(world: World, actor: PoissonActor, names: Iterator[str], rng: np.random.Generator) -> Task:
    """Agent turns triggered by inbound messages: exponential gaps, delivered to the poll phase.

    Each message's workspace is drawn as it arrives, so the stream's draws follow the
    arrivals alone, never when the loop runs them (common random numbers across variants)."""
    loop = world.loop
    yield loop.env.timeout(actor.start_ms)
    mean_gap_ms = 1000.0 / actor.rate_per_s
    while True:
        yield loop.env.timeout(float(rng.exponential(mean_gap_ms)))
        loop.deliver(activation(world, actor, iter((next(names),))))
