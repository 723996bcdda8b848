"""The tasks on the loop: ``sessions.list`` calls and the actors that flip the global.

Each task is a generator of loop operations (see ``loop.py``); each reads like the
TypeScript it models.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field

import numpy as np

from .loop import IMMEDIATE, IO, EventLoop, Sleep, Task, Work
from .memo import Memo
from .metrics import ListStats, RunStats
from .registry import ROOT_CONTEXT, AsyncContext, Registry
from .scenario import ActorSpec, ListSpec, parse_workspaces


@dataclass
class World:
    """Everything the tasks share: the loop, the global, the memo and the counters."""

    loop: EventLoop
    registry: Registry
    memo: Memo
    scan_cost: Callable[[], float]
    hit_ms: float
    fix: str
    memo_key: str = "workspace"
    fingerprinted: bool = True
    current_snapshot: str | None = None  # the workspace the gateway's published snapshot serves
    stats: RunStats = field(default_factory=RunStats)
    open_lists: int = 0
    more_lists: bool = True

    def key(self, workspace: str, j: int) -> Hashable:
        """Memo key of lookup j: (workspace, j), or (j,) for an unkeyed process-wide cache."""
        return (workspace, j) if self.memo_key == "workspace" else (j,)

    def lookup(self, workspace: str, key: Hashable, now: float) -> tuple[bool, bool, float]:
        """One lookup at ``now``: (hit, stale, ms it holds the thread).

        A hit is stale when the memo cannot vouch for its entry (a TTL or unkeyed cache)
        and the entry was computed for another workspace or before the registry last
        changed: the metadata maintainers refused to serve.
        """
        if self.current_snapshot == workspace:
            return True, False, 0.0
        entry = self.memo.lookup(key, now)
        if entry is not None:
            stale = not self.fingerprinted and (entry[1] != workspace or entry[0] < self.registry.changed_at)
            return True, stale, self.hit_ms
        cost = self.scan_cost()
        self.memo.store(key, now + cost, workspace)
        return False, False, cost

    def steady(self, workspace: str, keys: tuple[Hashable, ...], now: float, until: float) -> bool:
        """Whether these lookups keep hitting until ``until`` if nothing else runs."""
        return self.current_snapshot == workspace or self.memo.stable_for(keys, now, until)

    def list_finished(self) -> None:
        self.open_lists -= 1
        if self.open_lists == 0 and not self.more_lists:
            self.loop.stop()


# --------------------------------------------------------------------------- the list


def build_rows(world: World, stats: ListStats, workspace: str, n: int, lookups_per_row: int, row_cost_ms: float) -> float:
    """Synchronous cost in ms of ``n`` consecutive rows that all read ``workspace``.

    Once a row hits on every lookup and the memo guarantees those keys stay put, the
    remaining rows repeat that row exactly: they are counted in one step, so a batch
    costs O(lookups) Python work, not O(rows).
    """
    keys = tuple(world.key(workspace, j) for j in range(lookups_per_row))
    start = t = world.loop.now
    for done in range(1, n + 1):
        before_hits, before_stale = stats.hits, stats.stale_hits
        row_ms = look_up(world, stats, workspace, keys, t) + row_cost_ms
        t += row_ms
        rest = n - done
        if rest and stats.hits - before_hits == len(keys):
            if world.steady(workspace, keys, t, t + rest * row_ms):
                stats.hits += rest * len(keys)
                stats.lookups += rest * len(keys)
                stats.stale_hits += rest * (stats.stale_hits - before_stale)
                t += rest * row_ms
                break
    return t - start


def look_up(world: World, stats: ListStats, workspace: str, keys: tuple[Hashable, ...], now: float) -> float:
    """The lookups of one row (or one hoisted preparation); their cost in ms."""
    t = now
    for key in keys:
        hit, stale, cost = world.lookup(workspace, key, t)
        t += cost
        if hit:
            stats.hits += 1
            stats.stale_hits += stale
        else:
            stats.scans += 1
            stats.scan_ms_total += cost
    stats.lookups += len(keys)
    return t - now


def session_list(world: World, spec: ListSpec, index: int, context: AsyncContext = ROOT_CONTEXT) -> Task:
    """``listSessionsFromStoreAsync``: build rows, await transcript reads, yield every B rows."""
    loop, registry = world.loop, world.registry
    if world.fix == "pin":
        context = registry.pin(context)
    stats = ListStats(index, spec.rows, float(loop.now), registry.flips, registry.changes, context.pinned is not None)
    world.stats.lists.append(stats)
    io_rows = spec.per_row_io.rows if spec.per_row_io else 0
    every = spec.yield_every
    per_row = spec.lookups_per_row if spec.lookup_mode == "per_row" else 0
    if spec.lookup_mode == "hoisted":  # resolved once before the row loop, reused by every row
        workspace = registry.read(context)
        stats.workspaces.add(workspace)
        keys = tuple(world.key(workspace, j) for j in range(spec.lookups_per_row))
        yield Work(look_up(world, stats, workspace, keys, loop.now))
    i = 0
    while i < spec.rows:
        if i and every and i % every == 0:
            stats.yields += 1
            yield IMMEDIATE
        end = i + 1 if i < io_rows else (min(spec.rows, (i // every + 1) * every) if every else spec.rows)
        workspace = registry.read(context)
        if per_row:
            stats.workspaces.add(workspace)
        yield Work(build_rows(world, stats, workspace, end - i, per_row, spec.row_cost_ms))
        if i < io_rows:
            yield IO(spec.per_row_io.latency_ms)
        i = end
    stats.finish(loop.now, registry.flips, registry.changes)
    world.list_finished()


def start_lists(world: World, spec: ListSpec) -> None:
    """Arrange the lists: ``count`` back to back (or ``gap_ms`` apart), or a polling UI."""
    loop = world.loop
    counter = itertools.count()

    def one_list() -> Task:
        world.open_lists += 1
        yield from session_list(world, spec, next(counter))

    def back_to_back() -> Task:
        for k in range(spec.count):
            world.more_lists = k + 1 < spec.count
            yield from one_list()
            if spec.gap_ms and world.more_lists:
                yield Sleep(spec.gap_ms)

    if spec.poll_every_ms is None:
        arrive_at(loop, spec.start_ms, back_to_back())
        return

    end = spec.start_ms + spec.duration_ms

    def poll_tick() -> Task:
        if loop.now >= end:
            ticker.clear()
            world.more_lists = False
            if world.open_lists == 0:
                loop.stop()
            return
        yield from one_list()

    ticker = loop.set_interval(spec.poll_every_ms, poll_tick, start_ms=spec.start_ms)
    arrive_at(loop, spec.start_ms, one_list())


def arrive_at(loop: EventLoop, at_ms: float, task: Task) -> None:
    """A request arriving from I/O at ``at_ms``: ``task`` starts in that poll phase."""
    if at_ms <= loop.now:
        loop.deliver(task)
    else:
        loop.env.timeout(at_ms - loop.now).callbacks.append(lambda _event: loop.deliver(task))


# --------------------------------------------------------------------------- actors


def workspace_names(actor: ActorSpec, copy: int, rng: np.random.Generator) -> Iterator[str]:
    """The workspaces one copy of an actor activates, in order."""
    form, arg = parse_workspaces(actor.workspaces)
    n = 0
    while True:
        if form == "unique":
            yield f"{actor.name}#{copy}/{n}"
        elif form == "cycle":
            yield f"{actor.name}/{n % arg}"
        elif form == "random":
            yield f"{actor.name}/{int(rng.integers(arg))}"
        else:
            yield arg
        n += 1


def activation(world: World, actor: ActorSpec, names: Iterator[str]) -> Task:
    """One agent turn or cron run: set the global, look its workspace up, do its work."""
    workspace = next(names)
    now = world.loop.now
    world.registry.set(workspace, now)
    world.stats.actor_activations += 1
    t = now
    for j in range(actor.lookups):
        hit, _stale, cost = world.lookup(workspace, world.key(workspace, j), t)
        t += cost
        world.stats.actor_scans += not hit
    yield Work(t - now + actor.work_ms)


def start_actor(world: World, actor: ActorSpec, copy: int, rng: np.random.Generator) -> None:
    """Arm one copy of an actor on the loop (or, for poisson, as an external source)."""
    loop = world.loop
    names = workspace_names(actor, copy, rng)
    if actor.kind == "immediate":

        def reflipper() -> Task:  # the PR's flipper: re-arms with setImmediate
            if actor.start_ms:
                yield Sleep(actor.start_ms)
            while True:
                yield from activation(world, actor, names)
                yield IMMEDIATE

        loop.set_immediate(reflipper())
    elif actor.kind == "interval":
        loop.set_interval(actor.period_ms, lambda: activation(world, actor, names), start_ms=actor.start_ms)
    else:

        def arrivals() -> Iterator:  # agent turns triggered by inbound messages (poll phase)
            yield loop.env.timeout(actor.start_ms)
            mean_gap_ms = 1000.0 / actor.rate_per_s
            while True:
                yield loop.env.timeout(float(rng.exponential(mean_gap_ms)))
                loop.deliver(activation(world, actor, names))

        loop.env.process(arrivals())
