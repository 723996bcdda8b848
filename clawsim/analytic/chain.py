"""Poisson and interval actors: a Markov chain over the list's batches (vectorized).

A batch misses iff a flip happened in its window; a miss lengthens the batch, which
lengthens the next window. The chain carries that feedback by propagating the
distribution of the state (``chain_state``) through the list: each batch is a read
(``read``: free, hit or miss with its scan cost), each yield an iteration and each awaited
I/O a wait (``chain_loop``). After every step equal states are merged (``merge``) so the
population stays small. See docs/analytic.md for where this is exact.
"""

from __future__ import annotations

import math
from typing import assert_never

import numpy as np

from ..engine.walk import AwaitIO, HoistedLookups, Pin, Rows, Setup, Yield, list_steps
from ..scenario import PoissonActor, Scenario
from .chain_loop import advance, io_wait, iteration
from .chain_params import ChainParams, chain_params
from .chain_state import Flag, Population, Totals, Walk, has, without
from .costs import scan_mean
from .coverage import check_ttl_chain
from .expectation import Expectation

MAX_STATES = 1500  # chain states kept per step before coarser merging
PRUNE = 1e-10  # chain states less likely than this are dropped (their mass renormalized)


def merge(walk: Walk, pop: Population) -> Population:
    """Sum the probability of states equal up to the grid; keep the likeliest one's times.
    Copies of one timer are interchangeable: their dues are sorted first. Coarsens the
    walk's grid (and marks it inexact) while more than ``MAX_STATES`` states remain."""
    k = walk.params.k
    pop = pop.take(pop.p > PRUNE)
    for lo, hi in walk.params.same_timers:
        pop.due_ms[:, lo:hi] = np.sort(pop.due_ms[:, lo:hi], axis=1)
    while True:
        grid = walk.grid
        cols = [
            np.round(pop.since_poll_ms / grid),
            *(np.round(pop.due_ms[:, i] / grid) for i in range(k)),
            pop.flags.astype(float),
        ]
        if k:
            cols.append(np.round(pop.clock_fraction_ms / grid))
        keys = np.stack(cols, axis=1)
        _, group = np.unique(keys, axis=0, return_inverse=True)
        group = group.ravel()
        n = group.max() + 1 if len(group) else 0
        if n <= MAX_STATES:
            break
        walk.exact = False  # too many distinct times: merge on a coarser grid
        walk.grid *= 2
    mass = np.bincount(group, weights=pop.p, minlength=n)
    order = np.lexsort((-pop.p, group))  # by group, likeliest first
    first = order[np.r_[True, group[order][1:] != group[order][:-1]]] if len(order) else order
    rep = pop.take(first)
    rep.p = mass[group[first]]
    rep.p = rep.p / rep.p.sum()
    rep.since_row_end_ms = np.zeros(len(rep))
    return rep


def _free(params: ChainParams, pop: Population) -> np.ndarray:
    """Per state: whether the list's lookups are free hits (the current snapshot's workspace)."""
    if not params.snapshot:
        return np.zeros(len(pop), dtype=bool)
    return has(pop.flags, Flag.PINNED_DEFAULT) if params.pin else ~has(pop.flags, Flag.CHANGED_EVER)


def read(walk: Walk, pop: Population, rows: int, lookups: int, row_ms: float) -> Population:
    """Build ``rows`` rows that each do ``lookups`` lookups; charge scans, hits and time."""
    params, acc, h = walk.params, walk.acc, walk.params.hit_ms
    if lookups == 0:
        advance(walk, pop, rows * row_ms)
        return pop
    snap = _free(params, pop)
    free = pop.take(snap)
    acc.hits += float(free.p.sum()) * rows * lookups
    advance(walk, free, rows * row_ms)
    parts = [free]
    rest = pop.take(~snap)
    if params.all_miss:
        acc.scans += float(rest.p.sum()) * rows * lookups
        busy = rows * row_ms + rows * lookups * params.overhead_ms + params.pre_ms  # pre: before the batch's first scan
        parts.extend(_scan_branches(walk, rest, rows * lookups, busy))
        return Population.concat(parts, params.k)
    bit = Flag.UNKEYED_HELD if not params.keyed else (Flag.PINNED_HELD if params.pin else Flag.LIVE_HELD)
    held = has(rest.flags, bit)
    hit = rest.take(held)
    acc.hits += float(hit.p.sum()) * rows * lookups
    if params.stale_possible:
        acc.stale += float(hit.p[has(hit.flags, Flag.CHANGED_SINCE_STORE)].sum()) * rows * lookups
    advance(walk, hit, rows * (row_ms + lookups * h))
    parts.append(hit)
    miss = rest.take(~held)
    acc.scans += float(miss.p.sum()) * lookups
    acc.hits += float(miss.p.sum()) * (rows - 1) * lookups
    stored = without(miss.flags | bit, Flag.CHANGED_SINCE_STORE)
    if params.keyed and params.pin:  # the pinned value is the live one if nothing changed since the list began
        stored = np.where(~has(miss.flags, Flag.CHANGED_SINCE_LIST), stored | Flag.LIVE_HELD, stored)
    miss.flags = stored
    parts.extend(
        _scan_branches(
            walk, miss, lookups, rows * row_ms + (rows - 1) * lookups * h + lookups * params.overhead_ms + params.pre_ms
        )
    )
    return Population.concat(parts, params.k)


def _scan_branches(walk: Walk, pop: Population, scans: int, fixed: float) -> list[Population]:
    """One branch per point of the sum of ``scans`` scans, each charged ``fixed`` ms more."""
    vals, probs = walk.params.sums.of(scans)
    out = []
    for v, q in zip(vals, probs, strict=True):
        b = pop.copy()
        b.p = b.p * q
        advance(walk, b, fixed + v)
        out.append(b)
    return out


def _idle_timers(params: ChainParams, t0: float) -> tuple[list[float], bool, float]:
    """The idle loop before the first list at ``t0``: each timers phase one overhead after
    the wake-up, timers re-armed from their firing. Returns (dues, whether one fired, clock)."""
    armed = [t.armed_ms for t in params.timers]
    dues = [math.floor(t.start_ms) + a for t, a in zip(params.timers, armed, strict=True)]
    clock, fired = 0.0, False
    while dues:
        wake = max(min(dues), clock)
        if wake >= t0:
            break
        now = wake + params.iteration_ms
        for _, i in sorted((d, i) for i, d in enumerate(dues) if d <= now):
            dues[i] = math.floor(now) + armed[i]
            now += params.timers[i].work_ms
            fired = True
        clock = now
    return dues, fired, clock


def initial(walk: Walk, scenario: Scenario) -> Population:
    """States when the first list starts: the idle loop has fired the timers due before
    and the poisson actors may have flipped; the memo is empty."""
    params, t0 = walk.params, scenario.list.start_ms
    dues, fired, clock = _idle_timers(params, t0)
    started = max(t0, clock)
    poisson_mass = sum(
        a.rate_per_s * a.count / 1000.0 * (t0 - a.start_ms)
        for a in scenario.active_actors
        if isinstance(a, PoissonActor)
    )
    p_quiet = 0.0 if fired else math.exp(-poisson_mass)
    due = np.array([[d - started for d in dues]] * 2).reshape(2, params.k)
    flags = np.array([0, Flag.CHANGED_EVER | Flag.CHANGED_SINCE_STORE], dtype=np.int64)
    pop = Population(np.array([p_quiet, 1 - p_quiet]), np.zeros(2), due, flags, np.full(2, math.fmod(started, 1.0)))
    return merge(walk, pop)


def _pin_list(pop: Population) -> None:
    """The list pins the live global: the pinned value is the default iff nothing changed
    yet, and is held iff the live global's keys are (in place)."""
    f = without(pop.flags, Flag.CHANGED_SINCE_LIST | Flag.PINNED_DEFAULT | Flag.PINNED_HELD)
    f = np.where(~has(f, Flag.CHANGED_EVER), f | Flag.PINNED_DEFAULT, f)
    pop.flags = np.where(has(f, Flag.LIVE_HELD), f | Flag.PINNED_HELD, f)


def _one_list(walk: Walk, scenario: Scenario, pop: Population, phase: str) -> tuple[Population, str, int, int]:
    """Walk one list (``list_steps``) from ``phase`` (where its first batch runs); returns the
    states at its end, the phase the next list starts in, the list's yields and lookups.
    Totals go to ``walk.acc``."""
    yields = lookups_made = 0
    for step in list_steps(scenario.list, walk.params.pin):
        match step:
            case Rows(rows=rows, lookups=lookups, row_cost_ms=row_cost_ms):
                pop = merge(walk, read(walk, pop, rows, lookups, row_cost_ms))
                lookups_made += rows * lookups
            case Yield():
                yields += 1
                if phase == "check":
                    pop = merge(walk, iteration(walk, pop))
                phase = "check"
            case AwaitIO(ms=ms):
                pop = merge(walk, io_wait(walk, pop, ms))
                phase = "poll"
            case Pin():
                _pin_list(pop)
            case Setup(cost=cost):  # synchronous, before the first batch: time passes, nothing else
                advance(walk, pop, scan_mean(cost))
            case HoistedLookups(lookups=lookups):  # even with 0 lookups: the merge after a read renormalizes
                pop = merge(walk, read(walk, pop, 1, lookups, 0.0))
                lookups_made += lookups
            case _:
                assert_never(step)
    return pop, phase, yields, lookups_made


def chain_expectations(scenario: Scenario) -> list[Expectation]:
    """The chain's expectations for every list of a scenario ``coverage.model_for`` gave it."""
    spec = scenario.list
    walk = Walk.start(chain_params(scenario))
    pop, phase, out = initial(walk, scenario), "poll", []
    for index in range(spec.count):
        walk.acc = a = Totals()
        pop, phase, yields, lookups = _one_list(walk, scenario, pop, phase)
        out.append(Expectation(index, a.scans, a.hits, a.stale, lookups, a.flips, yields, a.ms, walk.exact, "chain"))
    check_ttl_chain(walk.params.ttl_ms, sum(e.list_ms for e in out))
    return out
