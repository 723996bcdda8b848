"""The chain's fixed parameters, read once from a scenario the chain covers.

Everything here is a property of the scenario, not of a state: the poisson stream
(rate, work, the M/D/1 residual), the timers (period re-armed on Node's whole-millisecond
clock, work, which copies are interchangeable), the memo's rules and the scan-cost sums.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..scenario import IntervalActor, PoissonActor, Scenario, distribution
from .costs import ScanSums, scan_mean

CHAIN_POINTS = 16  # points of a scan-cost sum inside the chain (timer thresholds need ~16)
RANDOM_GRID = 0.25  # ms: with drawn scan costs, states whose times agree this closely merge
EXACT_GRID = 1e-6  # ms: with constant costs only float noise is merged


@dataclass(frozen=True)
class Timer:
    """One copy of an interval actor."""

    period_ms: float
    work_ms: float
    start_ms: float

    @property
    def armed_ms(self) -> float:
        """Node arms a timer on libuv's whole-millisecond clock: due = floor(now) + trunc(delay), >= 1."""
        return float(max(1, math.trunc(self.period_ms)))


def arrival_rate_per_ms(scenario: Scenario) -> float:
    """Total rate of the active poisson actors, per ms."""
    return sum(a.rate_per_s * a.count for a in scenario.active_actors if isinstance(a, PoissonActor)) / 1000.0


def poisson_work_ms(scenario: Scenario) -> float:
    """The ``work_ms`` the poisson actors share (coverage rejects different ones); 0 without any."""
    works = {a.work_ms for a in scenario.active_actors if isinstance(a, PoissonActor)}
    return works.pop() if works else 0.0


def _same_runs(timers: tuple[Timer, ...]) -> tuple[tuple[int, int], ...]:
    """Index ranges [lo, hi) of consecutive equal timers (copies of one actor): interchangeable."""
    runs, i = [], 0
    while i < len(timers):
        j = i
        while j + 1 < len(timers) and timers[j + 1] == timers[i]:
            j += 1
        if j > i:
            runs.append((i, j + 1))
        i = j + 1
    return tuple(runs)


@dataclass(frozen=True, eq=False)
class ChainParams:
    """What the chain's phases read; ``exact`` is whether the model is exact before any
    merging had to coarsen its grid (see ``chain_params``)."""

    iteration_ms: float  # loop.iteration_ms
    arrivals_per_ms: float  # poisson arrivals per ms
    arrival_work_ms: float  # work_ms of one poisson arrival
    residual_ms: float  # mean residual work at an I/O completion (M/D/1)
    timers: tuple[Timer, ...]
    same_timers: tuple[tuple[int, int], ...]
    armed_ms: np.ndarray  # Timer.armed_ms per timer
    timer_work_ms: np.ndarray  # Timer.work_ms per timer
    pin: bool
    keyed: bool
    all_miss: bool  # every lookup scans (no memo, or a row larger than it)
    stale_possible: bool
    snapshot: bool  # memo.current_snapshot
    hit_ms: float
    overhead_ms: float  # mean of memo.miss_overhead_ms: after each scan, outside it
    pre_ms: float  # mean of memo.pre_miss_ms: before a batch's first scan, outside it
    ttl_ms: float | None
    sums: ScanSums
    exact: bool
    grid: float

    @property
    def k(self) -> int:
        """Number of timers (copies of interval actors)."""
        return len(self.timers)


def chain_params(scenario: Scenario) -> ChainParams:
    """The parameters of a scenario ``coverage.model_for`` gave to the chain."""
    spec, memo = scenario.list, scenario.memo
    timers = tuple(
        Timer(a.period_ms, a.work_ms, a.start_ms)
        for a in scenario.active_actors
        if isinstance(a, IntervalActor)
        for _ in range(a.count)
    )
    arrivals_per_ms, arrival_work_ms = arrival_rate_per_ms(scenario), poisson_work_ms(scenario)
    load = arrivals_per_ms * arrival_work_ms
    sums = ScanSums(memo.scan_ms, CHAIN_POINTS)
    slots, lookups = memo.slots, spec.lookups_per_row
    return ChainParams(
        iteration_ms=scenario.loop.iteration_ms,
        arrivals_per_ms=arrivals_per_ms,
        arrival_work_ms=arrival_work_ms,
        residual_ms=load * arrival_work_ms / (2 * (1 - load)),
        timers=timers,
        same_timers=_same_runs(timers),
        armed_ms=np.array([t.armed_ms for t in timers]),
        timer_work_ms=np.array([t.work_ms for t in timers]),
        pin=scenario.registry.pinned,
        keyed=memo.keyed,
        all_miss=slots == 0 or (slots is not None and lookups > slots),
        stale_possible=not memo.fingerprinted,
        snapshot=memo.current_snapshot,
        hit_ms=memo.hit_ms,
        overhead_ms=scan_mean(memo.miss_overhead_ms),
        pre_ms=scan_mean(memo.pre_miss_ms),
        ttl_ms=memo.rules.ttl_ms,
        sums=sums,
        exact=_exact(scenario, sums, arrival_work_ms, timers),
        grid=EXACT_GRID if sums.constant else RANDOM_GRID,
    )


def _exact(scenario: Scenario, sums: ScanSums, arrival_work_ms: float, timers: tuple[Timer, ...]) -> bool:
    """Whether the chain follows the scenario exactly (see docs/analytic.md for the rest)."""
    if not sums.constant:
        return False  # drawn costs: scan sums on a few points, states merged on a grid
    memo = scenario.memo
    if any(distribution(c).drawn for c in (scenario.list.setup_ms, memo.miss_overhead_ms, memo.pre_miss_ms)):
        return False  # a drawn setup, overhead or pre-miss work is charged at its mean
    if scenario.list.io_rows > 0:
        # awaited I/O: an arrival waking the blocked loop near the completion delays the
        # resume by an iteration (~1e-4 of list_ms); with timers or busy actors, timer
        # lateness and busy residuals are approximated as well (a few %)
        return False
    # the list may arrive while an activation runs: start delayed, flips queued behind it
    return not (scenario.list.start_ms > 0 and (arrival_work_ms > 0 or any(t.work_ms > 0 for t in timers)))
