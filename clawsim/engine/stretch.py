"""Stretches of batches under aggregated arrivals, run in one Python loop (issue 17).

A list alone on the loop whose yields meet poisson arrivals (a busy gateway's agents) runs each
batch as: end the iteration and begin the next (``EventLoop.resume_in_place``), run the poll
phase's arrivals collapsed (``Arrivals.poll_alone``) and hold their work, then the batch's rows
(``listing.build_rows``) and hold their work. Nothing else runs meanwhile, so one bound (the first
SimPy event, read or timer) decides every step, as for ``EventLoop.batches_in_place``; this loop
also takes the arrivals and rows that read a new workspace: the rows hit in place (the current
snapshot or the memo's most recent entries), or scan a workspace none of whose keys the memo
holds (its first row scans every key, the rest hit), or miss on every lookup (more keys than
slots: ``listing._scanned_rows``); runs of fresh batches that each meet arrivals of a unique
source are done at once and checked afterwards (``fresh.FreshRuns``). The clock, the counters,
the delay probe, the memo, the registry, the random draws and every float are those of the
steps one by one (the oracle tests: tests/test_in_place.py, tests/test_rows_fast_path.py,
tests/test_stretch.py).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from functools import reduce
from itertools import accumulate, islice
from operator import add

import numpy as np

from .fresh import fresh_runs
from .loop import MAX_ITERATIONS, MAX_WAITING, PROBE_RESOLUTION_MS, STALL_ITERATIONS
from .memo import DrawnAhead, MetadataCache
from .metrics import ListStats
from .registry import AsyncContext
from .sources import PoissonSource
from .world import World

ScannedRows = Callable[[World, ListStats, str, tuple[Hashable, ...], int, float, float], float]


def runs_stretches(world: World, lookups: int) -> bool:
    """Whether this run's lists may run stretches (checked once per list): exact fast paths on,
    nothing traced or scripted, a keyed memo in LRU order that no TTL expires and whose hits are
    never stale, a scan all a miss costs (``scans_alone``), and arrivals (if aggregated) from one source without lookups."""
    cache, arrivals = world.cache, world.loop.arrivals
    return (
        lookups > 0
        and world.fast_rows
        and world.tracer is None
        and world.chooser is None
        and world.loop.in_place
        and cache.lru_order
        and cache.fingerprinted
        and cache.memo.ttl_ms is None
        and cache.scans_alone
        and (arrivals is None or (len(arrivals.sources) <= 1 and arrivals.all_collapsible))
    )


def batches_through_arrivals(
    world: World,
    stats: ListStats,
    rows: Sequence[int],
    first: int,
    context: AsyncContext,
    lookups: int,
    row_cost_ms: float,
    scanned_rows: ScannedRows,
) -> tuple[int, float]:
    """The running callback's ``await setImmediate`` then a batch of ``rows[first]`` rows, then
    the same for ``rows[first + 2]``, ... (up to a 0), while each yield would resume in place
    (its poll phase may run aggregated arrivals) and each batch's rows are one of the kinds above;
    the arrivals' and the rows' work held in place. ``runs_stretches`` must hold.

    Returns (steps done: a yield, or a yield and its rows, each counting one; ms of work left
    to hold: the caller yields ``Work`` of them and goes on with the next step). (0, 0.0): none.
    """
    loop = world.loop
    if not (loop._last_callback and loop.in_place) or loop._immediates or loop._arrived or loop.stopped:
        return 0, 0.0
    if loop._last_polled and loop._in_check:  # resume_in_place's other case: the loop takes it
        return 0, 0.0
    if loop.iterations >= MAX_ITERATIONS:
        return 0, 0.0
    env, probe, iteration_ms = loop.env, loop.probe, loop.iteration_ms
    queue, io, timers = env._queue, loop._io, loop._timers
    held_below = min(queue[0][0] if queue else math.inf, io[0][0] if io else math.inf)
    resumed_below = min(held_below, timers[0][0] if timers else math.inf)
    now, still, began = env._now, loop._still, loop._began
    due, max_ms, sample = probe.due, probe.max_ms, probe.samples.append  # the probe's, written back
    stop = min(len(rows), first + 2 * (MAX_ITERATIONS - loop.iterations))  # one iteration a batch

    # the arrivals' source and the registry's fields, in locals (written back at the end)
    arrivals, source = loop.arrivals, None
    next_ms = deadline_ms = last_ms = math.inf
    work_ms, unique, name, copies, serial, times, head = 0.0, False, "", 1, 0, _NO_TIMES, 0
    if arrivals is not None and arrivals.sources:
        source = arrivals.sources[0]
        next_ms, deadline_ms, work_ms = arrivals.next_ms, arrivals.deadline_ms, source.work_ms
        unique, name, copies, serial = source.form == "unique", source.actor.name, source.copies, source.serial
        times, head, last_ms = source.times, source.head, source.last_ms
        # an activation after the deadline does not run (Arrivals.collapse): no batch resumes there
        resumed_below = min(resumed_below, deadline_ms)
    registry = world.registry
    workspace_now = registry.workspace
    flips = changes = 0
    changed = None  # (when, last change's index) of the last streak that changed the global
    ours = False  # the live global is a name this (unique) source gave: any later one differs from it

    cache = world.cache
    entries, slots = cache.memo.entries, cache.memo.slots
    snapshot, hit_ms = cache.current_snapshot, cache.hit_ms
    drawn = getattr(cache.scan_cost, "__self__", None)
    ahead = drawn.ahead if isinstance(drawn, DrawnAhead) else []
    scan_cost = cache.scan_cost
    scans_first_row = slots is None or slots >= lookups  # else every lookup misses (all-miss)
    # what rows of ``recent`` do again: hit in place, or miss on every key (the memo holds the
    # last ``slots`` keys of its last row in order: each is evicted before its lookup comes)
    again = _HIT if scans_first_row else _ALL_MISS
    key_range, from_ahead = range(lookups), -lookups - 1  # ahead[:from_ahead:-1]: the next draws
    hit_costs = [hit_ms] * lookups
    free_row_ms = 0.0 + row_cost_ms  # a row whose lookups cost nothing: ((t + 0.0 ...) - t) + row_cost_ms
    pinned = context.pinned
    add_workspace = stats.workspaces.add
    # The scans of fresh workspaces are stored when something looks at the memo (_store_logged):
    # ``log`` holds (workspace, [the row's start, when each key was stored]), ``known`` every
    # workspace that may have keys in the memo; ``recent``: the one whose keys are its most
    # recent entries in lookup order (``again``).
    log: list[tuple[str, list[float]]] = []
    known = _workspaces(entries)
    recent: str | None = None
    total = stats.scan_ms_total

    # runs of fresh batches at once (fresh.py), where every batch meets an arrival
    runs = fresh_runs(source, drawn, pinned is None and not hit_ms, slots, lookups, iteration_ms, row_cost_ms)
    busy_ms = runs.busy_ms if runs is not None else math.inf

    batches = half = fresh = hit_rows = 0
    left = 0.0
    ks = iter(range(first, stop, 2))
    for k in ks:
        batch = rows[k]
        if not batch:
            break
        end = now + iteration_ms  # resume_in_place: the iteration's overhead
        if end >= resumed_below:
            break
        if end == began:
            if still + 1 >= STALL_ITERATIONS:
                break
            still += 1
        else:
            still = 0
        if next_ms <= end:  # its poll phase runs the arrivals since the last one (poll_alone)
            # a run of fresh batches from this one's start (only its clock and stall count are read yet)
            if runs is not None and now - began >= busy_ms and ours and k >= runs.next_k:
                got = runs.take(
                    k,
                    rows,
                    stop,
                    now,
                    now - began,
                    (resumed_below, held_below),
                    (due, max_ms, probe.samples),
                    head,
                    serial,
                    total,
                    (known, log, recent, snapshot),
                    stats,
                )
                times, head, last_ms = runs.source.times, runs.source.head, runs.source.last_ms
                if got is not None:  # its batches done: the locals as the steps would leave them
                    now, began, still, due, max_ms = got.now, got.began, 0, got.due, got.max_ms
                    head, next_ms, serial, total = got.head, got.next_ms, got.serial, got.total
                    workspace_now = recent = got.workspace
                    flips, changes, changed = flips + got.arrived, changes + got.arrived, (got.began, got.last_n - 1)
                    batches, fresh, hit_rows, half = (
                        batches + got.batches,
                        fresh + got.batches,
                        hit_rows + got.hit_rows,
                        0,
                    )
                    next(islice(ks, got.batches - 1, got.batches - 1), None)  # skip the batches it did
                    continue
            if last_ms <= end:  # more to draw first (arrivals_until)
                times, head, last_ms = _drawn_past(source, head, end)
            cut = int(times.searchsorted(end, "right"))  # as arrivals_until counts them
            n = cut - head
            if n > MAX_WAITING:  # the loop halts the run there: let it
                break
        else:
            n = 0
        now = began = end
        batches += 1
        half = 1  # the yield is done, not yet the rows
        if now >= due:  # DelayProbe.timers_phase
            late = now - due
            sample((now, late, 1))
            if late > max_ms:
                max_ms = late
            due = now + PROBE_RESOLUTION_MS
        if n:  # Arrivals.collapse of one streak from now (before the deadline: see resumed_below)
            assert source is not None, "arrivals come from the source"
            head = cut
            next_ms = float(times[head])
            if work_ms and now + (n - 1) * work_ms > deadline_ms:
                n = int((deadline_ms - now) // work_ms) + 1
            if unique and ours:  # PoissonSource.advance, inline: every name new
                serial += n
                number = serial - 1
                workspace_now = f"{name}#{number % copies}/{number // copies}"
                changes += n  # the first differs from the global, each next from the one before
                changed = (now, n - 1)
            else:
                source.serial = serial
                first_name, last_name, within, last_change = source.advance(n)
                serial = source.serial
                if first_name != workspace_now:
                    changes += 1
                    changed = (now, 0)
                if within:
                    changes += within
                    changed = (now, last_change)
                workspace_now, ours = last_name, unique
            flips += n
            if work_ms:  # the activations hold the thread (EventLoop.held)
                held = (now + n * work_ms) - now
                if now + held >= held_below:
                    left = held
                    break
                now = now + held

        workspace = pinned if pinned is not None else workspace_now
        t = now
        if workspace == recent:
            kind = again
        elif workspace == snapshot:
            kind = _HIT
        elif workspace not in known:  # none of its keys in the memo: its first row misses on every key
            kind = _FRESH if scans_first_row else _ALL_MISS
        else:  # look at the memo itself
            if log:
                _store_logged(entries, slots, lookups, log)
            keys = cache.keys(workspace, lookups)
            found = _kind(cache, workspace, keys, scans_first_row)
            if found is None:  # another kind of batch: the caller runs it
                break
            kind = found
            if kind == _HIT:
                recent = workspace
            known = _workspaces(entries)
        if kind == _HIT:  # every lookup hits and leaves the memo as it is (_repeated_hit_rows)
            if workspace == snapshot or not hit_ms:
                row_ms = free_row_ms
            else:
                row_ms = (reduce(add, hit_costs, t) - t) + row_cost_ms
            t += row_ms
            if batch > 1:
                t += (batch - 1) * row_ms
            hit_rows += batch
        elif kind == _FRESH:  # the first row scans every key (look_up), the rest hit (_hit_rows)
            if len(ahead) >= lookups:  # DrawnAhead.one, lookup by lookup
                costs = ahead[:from_ahead:-1]
                del ahead[from_ahead + 1 :]
            else:
                costs = [scan_cost() for _ in key_range]
            ends = list(accumulate(costs, initial=t))  # when Memo.store stores each key
            log.append((workspace, ends))
            known.add(workspace)
            recent = workspace
            total = reduce(add, costs, total)
            t += (ends[-1] - t) + row_cost_ms
            fresh += 1
            if batch > 1:
                row_ms = (reduce(add, hit_costs, t) - t) + row_cost_ms if hit_ms else free_row_ms
                t = (t + row_ms) + (batch - 2) * row_ms
                hit_rows += batch - 1
        else:  # every lookup misses: the memo ends holding the last row's last keys, its own
            stats.scan_ms_total = total
            t = scanned_rows(world, stats, workspace, cache.keys(workspace, lookups), batch, t, row_cost_ms)
            total = stats.scan_ms_total
            known, recent = ({workspace} if entries else set()), workspace
        add_workspace(workspace)
        half = 0
        ms = t - now
        if ms > 0:  # the rows hold the thread (EventLoop.held)
            after = now + ms
            if after >= held_below:
                left = ms
                break
            now = after

    if log:
        _store_logged(entries, slots, lookups, log)
    if batches:
        env._now, loop._still, loop._began = now, still, began
        loop.iterations += batches
        probe.due, probe.max_ms = due, max_ms
        stats.yields += batches
        stats.hits += hit_rows * lookups
        stats.scans += fresh * lookups
        stats.lookups += (hit_rows + fresh) * lookups
        stats.scan_ms_total = total
        registry.workspace = workspace_now
        registry.flips += flips
        registry.changes += changes
        if changed is not None:
            at, last_change = changed
            registry.changed_at = at + last_change * work_ms if last_change else at
        world.stats.actor_activations += flips
        if arrivals is not None and source is not None:
            source.head, source.next_ms, source.serial = head, next_ms, serial
            arrivals.next_ms = next_ms
    return 2 * batches - half, left


_HIT, _FRESH, _ALL_MISS = 0, 1, 2  # the kinds of batch a stretch runs
_NO_TIMES = np.empty(0)  # a run without aggregated arrivals


def _workspaces(entries: OrderedDict[Hashable, tuple[float, str]]) -> set[object]:
    """The workspaces the memo holds keys of (a keyed memo's keys are (workspace, j))."""
    return {key[0] for key in entries}  # type: ignore[index]


def _kind(cache: MetadataCache, workspace: str, keys: tuple[Hashable, ...], scans_first_row: bool) -> int | None:
    """What rows of ``keys`` do in the memo as it is: hit in place, scan (a first row that misses
    on every key, then hits), miss on every lookup; None for anything else."""
    if scans_first_row:
        if cache.hits_in_place(workspace, keys):
            return _HIT
        entries = cache.memo.entries
        for key in keys:
            if key in entries:
                return None
        return _FRESH
    return _ALL_MISS if cache.first_row_misses(workspace, keys) else None


def _drawn_past(source: PoissonSource | None, head: int, end: float) -> tuple[np.ndarray, int, float]:
    """``source`` (there is one: arrivals are due), told that ``head`` arrivals were delivered,
    drawn as ``arrivals_until`` draws: past ``end`` unless more than ``MAX_WAITING`` wait. Its
    times, the head and the last time drawn (past ``end``, or more than
    ``MAX_WAITING`` arrived: so arrivals are left to deliver, as ``arrivals_until`` makes sure)."""
    assert source is not None, "arrivals come from the source"
    source.head = head
    while source.last_ms <= end and len(source.times) - source.head <= MAX_WAITING:
        source._draw_block()
    return source.times, source.head, source.last_ms


def _store_logged(
    entries: OrderedDict[Hashable, tuple[float, str]],
    slots: int | None,
    lookups: int,
    log: list[tuple[str, list[float]]],
) -> None:
    """Store the keys of the logged fresh workspaces as ``Memo.store`` would have, one by one:
    every key is new, so it goes at the end and the oldest go past ``slots``. Only the last
    batches' keys can survive: the others (and all the memo held) are dropped unstored."""
    if slots is not None and len(log) * lookups >= slots:
        del log[: len(log) - -(-slots // lookups)]
        entries.clear()
    for workspace, ends in log:
        for j in range(len(ends) - 1):
            entries[(workspace, j)] = (ends[j + 1], workspace)
    if slots is not None:
        while len(entries) > slots:
            entries.popitem(last=False)
    log.clear()
