"""``sessions.list``: openclaw's ``listSessionsFromStoreAsync`` row loop, and how lists start.

The steps of a list are ``walk.list_steps`` (shared with the analytic models); this module
runs them on the loop: a batch's rows as one callback (docs/event-loop.md §4), their lookups
in the memo (``build_rows``, with exact fast paths), the yields and the awaited reads (§9).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Hashable
from functools import reduce
from itertools import accumulate
from operator import add
from typing import assert_never

from ..scenario import ListSpec
from ..timeline import names
from .identity import ByIdentity
from .loop import IMMEDIATE, IO, EventLoop, Sleep, Task, Work
from .memo import MetadataCache
from .metrics import ListStats
from .registry import ROOT_CONTEXT, AsyncContext
from .stretch import batches_through_arrivals, runs_stretches
from .walk import AwaitIO, HoistedLookups, Pin, Rows, Setup, Step, Yield, list_steps
from .world import World


def build_rows(
    world: World,
    stats: ListStats,
    workspace: str,
    n: int,
    lookups_per_row: int,
    row_cost_ms: float,
    parent: str | None,
    start: float,
) -> float:
    """When ``n`` consecutive rows that all read ``workspace`` end if they start at ``start`` (ms
    since the run began; their synchronous cost is this minus ``start``); a batch that scans is
    counted in ``stats.scan_batches``.

    Once a row hits on every lookup and the cache guarantees those keys stay put, the
    remaining rows repeat that row exactly: they are counted in one step, so a batch
    costs O(lookups) Python work, not O(rows) (a traced run still records every lookup).
    When the memo holds fewer entries than a row has keys, every lookup after the first
    row misses (each key is evicted before it comes back): those rows are ``_scanned_rows``
    (the first row too when none of its keys survives to its lookup); after a row that scanned,
    rows that the cache guarantees to hit are ``_hit_rows``.
    """
    scans = stats.scans
    try:  # (the batch's scans counted at whichever return)
        cache = world.cache
        keys = cache.keys(workspace, lookups_per_row)
        t = start
        fast = world.fast_rows and world.tracer is None and len(keys) > 0 and cache.lru_order
        # work around a scan is drawn lookup by lookup (look_up): no miss fast path with it
        plain = cache.scans_alone
        all_miss, first = False, 1
        if fast and plain and cache.holds_none(workspace, keys):
            # a workspace new to the memo (an actor just set it): the first row scans every key
            slots = cache.memo.slots
            if slots is not None and slots < len(keys):  # and so does every row after it (always_misses)
                return _scanned_rows(world, stats, workspace, keys, n, t, row_cost_ms)
            t = _fresh_row(cache, stats, workspace, keys, t, row_cost_ms)
            if n == 1:
                return t
            if cache.memo.ttl_ms is None and cache.fingerprinted:  # the rest hit what it stored
                return _fresh_hits(cache.hit_ms, stats, len(keys), n - 1, t, row_cost_ms)
            end = _hit_rows(world, stats, workspace, keys, n - 1, t, row_cost_ms)
            if end is not None:
                return end
            first = 2
        else:
            all_miss = fast and plain and cache.always_misses(workspace, len(keys))
            if all_miss and cache.first_row_misses(workspace, keys):
                return _scanned_rows(world, stats, workspace, keys, n, t, row_cost_ms)
            if fast and cache.hits_in_place(workspace, keys):
                return _repeated_hit_rows(cache, stats, workspace, len(keys), n, t, row_cost_ms)
        first_scan = first == 1  # the batch has not scanned yet (memo.pre_miss_ms)
        for done in range(first, n + 1):
            before_hits, before_stale, before_scans = stats.hits, stats.stale_hits, stats.scans
            row_ms = look_up(world, stats, workspace, keys, t, parent, first_scan) + row_cost_ms
            first_scan = first_scan and stats.scans == before_scans
            t += row_ms
            rest = n - done
            if rest and all_miss:
                t = _scanned_rows(world, stats, workspace, keys, rest, t, row_cost_ms)
                break
            if rest and stats.hits - before_hits == len(keys) and cache.steady(workspace, keys, t, t + rest * row_ms):
                stats.hits += rest * len(keys)
                stats.lookups += rest * len(keys)
                stats.stale_hits += rest * (stats.stale_hits - before_stale)
                if world.tracer is not None:
                    _trace_repeated_rows(world, workspace, len(keys), rest, t, row_ms, parent)
                t += rest * row_ms
                break
            if rest and fast:
                end = _hit_rows(world, stats, workspace, keys, rest, t, row_cost_ms)
                if end is not None:
                    t = end
                    break
        return t
    finally:
        stats.scan_batches += stats.scans > scans


def _repeated_hit_rows(
    cache: MetadataCache, stats: ListStats, workspace: str, lookups: int, rows: int, t: float, row_cost_ms: float
) -> float:
    """Time at the end of ``rows`` rows from ``t`` whose lookups all hit and leave the memo as it
    is (``MetadataCache.hits_in_place``): the same floats and counts as looking the first row up
    and counting the rest as steady, with no lookup made."""
    hit_ms = 0.0 if cache.current_snapshot == workspace else cache.hit_ms
    stats.hits += rows * lookups
    stats.lookups += rows * lookups
    return _hits_end(lookups, hit_ms, row_cost_ms, t, rows)


def _hits_end(lookups: int, hit_ms: float, row_cost_ms: float, t: float, rows: int) -> float:
    """When ``rows`` rows from ``t`` end whose ``lookups`` lookups all hit at ``hit_ms``: the
    first row's lookups summed one by one, the rest repeating it (as ``steady`` rows). The
    row's terms come first, so that ``partial`` binds them for a chain of batches."""
    if hit_ms:
        inner = t
        for _ in range(lookups):
            inner += hit_ms
        row_ms = (inner - t) + row_cost_ms
    else:  # hits that cost 0 (t finite): ((t + 0.0 ...) - t) is 0.0
        row_ms = 0.0 + row_cost_ms
    end = t + row_ms
    if rows > 1:
        end += (rows - 1) * row_ms
    return end


def _in_place(
    world: World,
    stats: ListStats,
    chains: Chains,
    k: int,
    context: AsyncContext,
    lookups: int,
    row_cost_ms: float,
    io_ms: float | None,
) -> tuple[int, float]:
    """From step ``k`` on, steps that nothing else can run between, in one loop of the event
    loop: batches after a yield resumed in place with no arrival due (``batches_in_place``,
    from a yield), or batches each followed by a read resumed in place (``reads_in_place``,
    from rows; ``io_ms`` the reads' latency), as long as their rows all hit in place
    (``MetadataCache.hits_in_place``): the global and the memo stay as they are. Outside a
    pin, batches after yields that share their check phases with immediate actors only
    (``EventLoop.activations_queued``) read the global those set and look their rows up
    (``_rows_at``). The same floats and counts as step by step. Returns (steps done, ms of
    work left to hold)."""
    after_yield, before_read = chains
    if after_yield[k] and not world.loop.quiet_iteration():  # the first yield cannot resume so
        return 0, 0.0
    if after_yield[k] and context.pinned is None and world.loop.activations_queued():
        # immediate actors set the global before each batch: each batch reads it and looks its rows up
        fresh = _fresh_rules(world, lookups)
        chained = _fresh_batches(world, stats, after_yield, k, lookups, row_cost_ms) if fresh else None
        if chained is not None:
            stats.yields += chained[0]
            return 2 * chained[0], chained[1]
        rows_at = functools.partial(_rows_at, world, stats, lookups, row_cost_ms, fresh)
        done, left = world.loop.batches_in_place(after_yield, k, rows_at)
        stats.yields += done
        return 2 * done, left
    cache = world.cache
    workspace = world.registry.read(context)  # what each of these batches reads
    keys = cache.keys(workspace, lookups)  # nothing runs before their first lookup: checked now
    if not (keys and cache.lru_order and cache.hits_in_place(workspace, keys)):
        return 0, 0.0
    hit_ms = 0.0 if cache.current_snapshot == workspace else cache.hit_ms
    batch_end = functools.partial(_hits_end, lookups, hit_ms, row_cost_ms)  # (t, rows) -> when they end

    if after_yield[k]:
        done, left = world.loop.batches_in_place(after_yield, k, batch_end, False)  # (reads_global)
        batches, steps = done, 2 * done
    else:
        assert io_ms is not None, "a read follows these rows"
        steps, left = world.loop.reads_in_place(before_read, k, io_ms, batch_end)
        batches = (steps + 1) // 2
    if steps:
        rows = sum((after_yield if after_yield[k] else before_read)[k : k + 2 * batches : 2])
        stats.yields += batches if after_yield[k] else 0
        stats.hits += rows * lookups
        stats.lookups += rows * lookups
        stats.workspaces.add(workspace)
    return steps, left


def _rows_at(
    world: World, stats: ListStats, lookups: int, row_cost_ms: float, fresh: bool, t: float, rows: int
) -> float:
    """When a batch of ``rows`` rows starting at ``t`` ends, as the ``Rows`` step of a list
    outside a pin runs it then (the live global read at ``t``, ``build_rows``); a
    ``batches_in_place`` batch under actors. ``fresh``: ``_fresh_rules`` hold, so a workspace
    new to the memo (an actor just set it) goes where ``build_rows`` would take it (``_fresh_row``
    then ``_fresh_hits``) without its other checks."""
    workspace = world.registry.workspace  # registry.read outside a pin
    if lookups:
        stats.workspaces.add(workspace)
    cache = world.cache
    if fresh and rows > 1:
        keys = cache.keys(workspace, lookups)
        if cache.holds_none(workspace, keys):
            t = _fresh_row(cache, stats, workspace, keys, t, row_cost_ms)
            stats.scan_batches += 1
            return _fresh_hits(cache.hit_ms, stats, lookups, rows - 1, t, row_cost_ms)
    return build_rows(world, stats, workspace, rows, lookups, row_cost_ms, None, t)


def _fresh_batches(
    world: World, stats: ListStats, rows: list[int], first: int, lookups: int, row_cost_ms: float
) -> tuple[int, float] | None:
    """``batches_in_place`` from the yield at ``first`` when one immediate actor alone shares its
    check phases (``EventLoop.activation_alone``) and the workspaces it sets next, one a batch
    (its ``ahead``), are new to the memo (``MetadataCache.holds_none_of``); ``_fresh_rules`` must
    hold. Each batch's first row scans every key, the rest hit what it stored (``_rows_at``'s
    ``_fresh_row`` then ``_fresh_hits``): the batches' ends are computed one by one, the same
    floats, and the rest once at the end, for the batches done, as step by step: the actor's
    setter calls (``fire_many``), the counters, the scan total (summed in scan order), the
    memo's stores (``stored_fresh``). None (nothing changed but names drawn ahead): not this case.
    Else (batches done, ms of the last one's work left to hold), as ``batches_in_place``."""
    cache, activation = world.cache, world.loop.activation_alone()
    if activation is None or cache.scan_ahead is None:
        return None
    chain = rows[first::2]  # the batches from here, up to the first 0 (the end of the chain)
    most = chain.index(0) if 0 in chain else len(chain)
    workspaces = activation[3](most)
    if not cache.holds_none_of(workspaces):
        return None
    peek, drop = cache.scan_ahead
    costs = peek(most * lookups)  # every scan's cost, in scan order: those of the batches done are taken
    next_cost, ends = iter(costs).__next__, []  # (ends: when each scan ended, its entry's time)
    hit_ms, lookup_range = cache.hit_ms, range(lookups)
    free_row_ms = None if hit_ms else 0.0 + row_cost_ms  # hits that cost 0: ((t + 0.0 ...) - t) + row_cost_ms

    def batch_end(t: float, batch: int) -> float:
        inner = t
        for _ in lookup_range:  # _fresh_row
            inner += next_cost()
            ends.append(inner)
        t = t + ((inner - t) + row_cost_ms)
        if batch > 1:  # _fresh_hits of the batch's other rows
            row_ms = free_row_ms
            if row_ms is None:
                inner = t
                for _ in lookup_range:
                    inner += hit_ms
                row_ms = (inner - t) + row_cost_ms
            t = (t + row_ms) + (batch - 2) * row_ms
        return t

    done, left = world.loop.batches_in_place(rows, first, batch_end, False)  # (names given ahead)
    if done:
        drop(done * lookups)
        _fresh_counted(stats, workspaces[:done], sum(chain[:done]), lookups, costs[: done * lookups])
        cache.stored_fresh(workspaces[:done], lookups, ends)
    return done, left


def _fresh_counted(stats: ListStats, read: list[str], rows: int, lookups: int, costs: list[float]) -> None:
    """The counters after ``rows`` rows of batches that read ``read`` in turn, each scanning every
    key on its first row and hitting on the others; ``costs``: their scans' costs, in order
    (summed left to right into the total, as one by one)."""
    stats.workspaces.update(read)
    stats.scans += len(read) * lookups
    stats.hits += (rows - len(read)) * lookups
    stats.lookups += rows * lookups
    stats.scan_batches += len(read)
    stats.scan_ms_total = reduce(add, costs, stats.scan_ms_total)


def _fresh_rules(world: World, lookups: int) -> bool:
    """Whether ``build_rows`` takes any row of ``lookups`` keys that the memo holds none of
    (``holds_none``) to ``_fresh_row`` then ``_fresh_hits``: at least one key and no more than
    the memo holds, the fast paths on, untraced, LRU order, a scan all a miss costs
    (``scans_alone``), no TTL, fingerprinted."""
    cache = world.cache
    slots = cache.memo.slots
    return bool(
        lookups > 0
        and (slots is None or slots >= lookups)
        and world.fast_rows
        and world.tracer is None
        and cache.lru_order
        and cache.scans_alone
        and cache.memo.ttl_ms is None
        and cache.fingerprinted
    )


Chains = tuple[list[int], list[int]]


def _make_chains(steps: tuple[Step, ...]) -> Chains:
    """Per step: the rows of the batch a yield there starts (a yield, then rows with no read
    after them), else 0; the rows of the batch starting there if a read follows it, else 0."""
    after_yield, before_read = [0] * len(steps), [0] * len(steps)
    for j in range(len(steps) - 1):
        this, after = steps[j], steps[j + 1]
        if type(this) is Yield and type(after) is Rows:
            if j + 2 >= len(steps) or type(steps[j + 2]) is not AwaitIO:
                after_yield[j] = after.rows
        elif type(this) is Rows and type(after) is AwaitIO:
            before_read[j] = this.rows
    return after_yield, before_read


# ``_make_chains``, once per steps tuple (``list_steps`` shares one between a point's runs)
_chains: ByIdentity[tuple[Step, ...], Chains] = ByIdentity(_make_chains, 16)


def _hit_rows(
    world: World, stats: ListStats, workspace: str, keys: tuple[Hashable, ...], rows: int, t: float, row_cost_ms: float
) -> float | None:
    """Time at the end of ``rows`` rows from ``t`` if the cache guarantees that every lookup of
    them hits (None, and nothing changed, if not): after a row that scanned, the next row hits
    what it stored. The same floats as looking the next row up and repeating it as above; the
    hits leave the memo as it is (they touch its keys in the order the last row did).
    """
    cache = world.cache
    hit_ms = 0.0 if cache.current_snapshot == workspace else cache.hit_ms
    inner = t
    for _ in keys:
        inner += hit_ms
    row_ms = (inner - t) + row_cost_ms
    end = (t + row_ms) + (rows - 1) * row_ms
    stale = cache.repeated_stale(workspace, keys, end)
    if stale is None:
        return None
    stats.hits += rows * len(keys)
    stats.lookups += rows * len(keys)
    stats.stale_hits += rows * stale
    return end


def _fresh_row(
    cache: MetadataCache, stats: ListStats, workspace: str, keys: tuple[Hashable, ...], t: float, row_cost_ms: float
) -> float:
    """Time at the end of one row from ``t`` whose every lookup scans (``holds_none``; the memo
    holds at least as many entries as the row has keys, or is unbounded): the same floats,
    draws and stores as ``look_up``, without asking the memo for each key. The keys are new, so
    each goes in last; evicting the oldest past capacity once they are all in removes the entries
    that evicting after each one would (none of the row's)."""
    memo = cache.memo
    entries, slots = memo.entries, memo.slots
    inner, total = t, stats.scan_ms_total
    draws = cache.scan_draws  # (the same numbers as scan_cost one at a time, in one call)
    costs = draws(len(keys)) if draws is not None else cache.scan_costs(len(keys))
    for key, cost in zip(keys, costs, strict=True):
        entries[key] = (inner + cost, workspace)
        inner += cost
        total += cost
    if slots is not None:
        while len(entries) > slots:
            entries.popitem(False)  # the oldest
    stats.scan_ms_total = total
    stats.scans += len(keys)
    stats.lookups += len(keys)
    return t + ((inner - t) + row_cost_ms)


def _fresh_hits(hit_ms: float, stats: ListStats, lookups: int, rows: int, t: float, row_cost_ms: float) -> float:
    """Time at the end of ``rows`` rows from ``t`` that hit what the row before them stored
    (``_fresh_row``; no TTL, fingerprinted: they cannot expire or be stale): ``_hit_rows``'
    floats and counts, without asking the memo."""
    inner = t
    for _ in range(lookups):
        inner += hit_ms
    row_ms = (inner - t) + row_cost_ms
    stats.hits += rows * lookups
    stats.lookups += rows * lookups
    return (t + row_ms) + (rows - 1) * row_ms


def _scanned_rows(
    world: World, stats: ListStats, workspace: str, keys: tuple[Hashable, ...], rows: int, t: float, row_cost_ms: float
) -> float:
    """Time at the end of ``rows`` rows from ``t`` in which every lookup scans.

    The same floats as ``look_up`` row by row: the scans are drawn in lookup order, each
    row's clock and the scan total are summed left to right (``reduce``, never ``sum``),
    and the memo ends holding what the last row stored.
    """
    lookups = len(keys)
    costs = world.cache.scan_costs(rows * lookups)
    for i in range(0, (rows - 1) * lookups, lookups):
        t += (reduce(add, costs[i : i + lookups], t) - t) + row_cost_ms
    ends = list(accumulate(costs[(rows - 1) * lookups :], initial=t))
    world.cache.stored_row(workspace, keys, ends[1:])
    t += (ends[-1] - t) + row_cost_ms
    stats.scans += rows * lookups
    stats.lookups += rows * lookups
    stats.scan_ms_total = reduce(add, costs, stats.scan_ms_total)
    return t


def _trace_repeated_rows(
    world: World, workspace: str, lookups: int, rows: int, t: float, row_ms: float, parent: str | None
) -> None:
    """The lookups of rows counted in one step, each at the time it would have run."""
    assert world.tracer is not None
    snapshot = world.cache.current_snapshot == workspace
    hit_ms = 0.0 if snapshot else world.cache.hit_ms
    world.tracer.repeated_hits(t, row_ms, rows, lookups, hit_ms, snapshot, parent)


def look_up(
    world: World,
    stats: ListStats,
    workspace: str,
    keys: tuple[Hashable, ...],
    now: float,
    parent: str | None = None,
    first_scan: bool = True,
) -> float:
    """The lookups of one row (or one hoisted preparation); their cost in ms. ``first_scan``: the
    batch has not scanned yet, so its first full scan follows ``memo.pre_miss_ms`` of work."""
    t = now
    tracer = world.tracer
    for key in keys:
        hit, stale, pre, cost = world.cache.lookup(workspace, key, t, first_scan)
        if pre:  # memo.pre_miss_ms: before the batch's first scan, outside its span
            if tracer is not None:
                tracer.span(names.PRE_MISS, t, pre, names.LOOP, parent)
            t += pre
        if not hit:
            first_scan = False
        if tracer is not None:
            tracer.lookup(t, cost, hit, world.cache.current_snapshot == workspace, parent)
        t += cost
        if hit:
            stats.hits += 1
            stats.stale_hits += stale
        else:
            stats.scans += 1
            stats.scan_ms_total += cost
            if world.cache.miss_overhead is not None:  # memo.miss_overhead_ms: outside the scan's span
                over = world.cache.miss_overhead()
                if tracer is not None:
                    tracer.span(names.MISS_OVERHEAD, t, over, names.LOOP, parent)
                t += over
    stats.lookups += len(keys)
    return t - now


def session_list(world: World, spec: ListSpec, index: int, context: AsyncContext = ROOT_CONTEXT) -> Task:
    """``listSessionsFromStoreAsync``: the steps of ``walk.list_steps`` on the loop, traced."""
    loop, registry, tracer, chooser = world.loop, world.registry, world.tracer, world.chooser
    if chooser is not None and (before := chooser.gap(world, 0)) is not None:  # gap 0: before it reads or pins
        yield from before
    stats = ListStats(index, spec.rows, float(loop.now), registry.flips, registry.changes, context.pinned is not None)
    gap, opened, pending = 0, True, None  # the gaps a chooser may script: one per yield and/or read
    world.stats.lists.append(stats)
    rows_id = tracer.open_list(index, stats.start_ms, spec.rows) if tracer is not None else None
    steps = list_steps(spec, world.pin)
    steady = tracer is None and chooser is None and world.fast_rows
    chains = _chains(steps) if steady and isinstance(steps, tuple) else None  # for _in_place
    stretches = None if chains is not None else False  # runs_stretches, asked when a yield first needs it
    io_ms = spec.per_row_io.latency_ms if spec.per_row_io else None
    walk = enumerate(steps)
    for k, step in walk:
        match step:
            case Rows(rows=rows, lookups=lookups, row_cost_ms=row_cost_ms):
                if chains and chains[1][k]:
                    done, left = _in_place(world, stats, chains, k, context, lookups, row_cost_ms, io_ms)
                    if done:  # steps k .. k + done - 1 were run by _in_place
                        next(itertools.islice(walk, done - 1, done - 1), None)
                        if left:
                            yield Work(left)
                        continue
                workspace = registry.read(context)  # getActivePluginRegistryWorkspaceDirFromState()
                if lookups:
                    stats.workspaces.add(workspace)
                ms = build_rows(world, stats, workspace, rows, lookups, row_cost_ms, rows_id, loop.now) - loop.now
                if tracer is not None:
                    tracer.span(names.BATCH, loop.now, ms, names.LOOP, rows_id, rows=rows, workspace=workspace)
                if not loop.held(ms):
                    yield Work(ms)
                opened = False
            case Yield(row=row):
                if chains and chains[0][k]:
                    done, left = _in_place(world, stats, chains, k, context, spec.row_lookups, spec.row_cost_ms, io_ms)
                    if not done and stretches is None:
                        stretches = runs_stretches(world, spec.row_lookups)
                    if not done and stretches:  # batches under arrivals, or reading new workspaces
                        done, left = batches_through_arrivals(
                            world, stats, chains[0], k, context, spec.row_lookups, spec.row_cost_ms, _scanned_rows
                        )
                    if done:  # steps k .. k + done - 1 were run by _in_place
                        next(itertools.islice(walk, done - 1, done - 1), None)
                        if left:
                            yield Work(left)
                        continue
                if chooser is not None and not opened:
                    gap, opened = gap + 1, True
                    _queue_gap(world, chooser.gap(world, gap))
                stats.yields += 1
                if tracer is not None:
                    tracer.instant(names.YIELD, loop.now, f"list {index}", rows_id, row=row)
                held = loop.resume_in_place()
                if held is None:
                    yield IMMEDIATE  # await new Promise<void>((resolve) => setImmediate(resolve))
                elif held and not loop.held(held):  # the poll phase's activations before it resumed
                    yield Work(held)
            case AwaitIO(ms=ms):
                if chooser is not None:
                    gap, opened = gap + 1, True
                    pending = _queue_gap(world, chooser.gap(world, gap))
                if not loop.read_in_place(ms):
                    yield IO(ms)  # await readSessionTitleFieldsFromTranscriptAsync(...)
                if pending:  # the read completed before the gap's activations ran: they run first
                    yield from pending.pop()
            case Pin():  # return withPinnedActivePluginRegistryWorkspaceDir(async () => { ... })
                context = registry.pin(context)
                stats.pinned = True
            case Setup():  # list.setup_ms: the list's fixed work before its rows
                ms = world.setup_cost() if world.setup_cost is not None else 0.0
                if tracer is not None:
                    tracer.span(names.SETUP, loop.now, ms, names.LOOP, rows_id)
                yield Work(ms)
            case HoistedLookups(lookups=lookups):  # resolved once before the row loop, reused by every row
                workspace = registry.read(context)
                stats.workspaces.add(workspace)
                keys = world.cache.keys(workspace, lookups)
                scans = stats.scans
                ms = look_up(world, stats, workspace, keys, loop.now, rows_id)
                stats.scan_batches += stats.scans > scans
                yield Work(ms)
            case _:
                assert_never(step)
    stats.finish(loop.now, registry.flips, registry.changes)
    if tracer is not None:
        tracer.close_list(index, loop.now)
    world.list_finished()


def _queue_gap(world: World, task: Task | None) -> list[Task] | None:
    """Queue a chooser's activations for a gap ahead of the list's continuation; the box they
    are taken from (empty once they ran), so that a list resuming first can run them itself."""
    if task is None:
        return None
    box = [task]

    def run_once() -> Task:
        if box:
            yield from box.pop()

    world.loop.set_immediate(run_once())
    return box


def start_lists(world: World, spec: ListSpec) -> None:
    """Arrange the lists: ``count`` back to back (or ``gap_ms`` apart), or a polling UI."""
    loop = world.loop
    counter = itertools.count()

    def one_list() -> Task:
        world.list_started()
        yield from session_list(world, spec, next(counter))

    def back_to_back() -> Task:
        for k in range(spec.count):
            world.more_lists = k + 1 < spec.count
            yield from one_list()
            if spec.gap_ms and world.more_lists:
                yield Sleep(spec.gap_ms)

    if spec.poll_every_ms is None or spec.duration_ms is None:
        arrive_at(loop, spec.start_ms, back_to_back())
        return
    end = spec.start_ms + spec.duration_ms

    def poll_tick() -> Task:
        if loop.now >= end:
            ticker.clear()
            world.no_more_lists()
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
