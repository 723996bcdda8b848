"""Immediate actors (or none): the exact walk of the list, batch by batch.

Nothing is random but the scan cost, and the counts do not depend on it. The walk
follows the loop's ordering rules (docs/event-loop.md): K immediate actors flip K times
per check phase, just before the list's batch; an awaited I/O lasts a whole number of
loop iterations. Each batch is charged in closed form by the memo's reuse-distance rule
(``TokenMemo``). Counts equal the engine's; list_ms equals it up to float rounding (in
expectation when scan costs are drawn). Coincidences the engine decides by float rounding
are flagged (``exact`` False), not guessed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import assert_never

import numpy as np

from ..engine.actors import workspace_names
from ..engine.walk import AwaitIO, HoistedLookups, Pin, Rows, Setup, Yield, list_steps
from ..scenario import Scenario
from .costs import scan_mean
from .coverage import check_ttl_immediate
from .expectation import EPS, Expectation


class TokenMemo:
    """The memo in closed form: groups of ``lookups`` keys, one per workspace (or one if unkeyed).

    A group hits iff it was looked up before and, LRU, ``(distinct + 1) * lookups <= capacity``
    where ``distinct`` is the number of other groups looked up since (all keys of a group then
    hit or miss together). Entries remember the registry change count when stored: a
    hit is stale (TTL or unkeyed memo) iff the entry's workspace differs or a change
    happened since.
    """

    def __init__(self, scenario: Scenario, scan_ms: float, overhead_ms: float = 0.0, pre_ms: float = 0.0):
        memo = scenario.memo
        self.slots = memo.slots
        self.keyed = memo.keyed
        self.fingerprinted = memo.fingerprinted
        self.snapshot = scenario.registry.initial_workspace if memo.current_snapshot else None
        self.scan_ms, self.hit_ms = scan_ms, memo.hit_ms
        self.overhead_ms = overhead_ms  # memo.miss_overhead_ms: after each scan, outside it
        self.pre_ms = pre_ms  # memo.pre_miss_ms: before a batch's first scan, outside it
        self.recency: list[str] = []
        self.entries: dict[str, tuple[int, str]] = {}

    def group(
        self, workspace: str, rows: int, lookups: int, row_ms: float, changes: int
    ) -> tuple[int, int, int, float]:
        """(scans, hits, stale hits, ms) of ``rows`` rows that each look ``lookups`` keys up (one
        batch: its first scan follows the pre-miss work)."""
        miss_ms, hit_ms = self.scan_ms + self.overhead_ms, self.hit_ms
        if lookups == 0:
            return 0, 0, 0, rows * row_ms
        if workspace == self.snapshot:
            return 0, rows * lookups, 0, rows * row_ms
        if self.slots == 0 or (self.slots is not None and lookups > self.slots):
            return rows * lookups, 0, 0, rows * (row_ms + lookups * miss_ms) + self.pre_ms
        key = workspace if self.keyed else "*"
        hit = key in self.recency
        if hit and self.slots is not None:
            distinct_since = len(self.recency) - 1 - self.recency.index(key)
            hit = (distinct_since + 1) * lookups <= self.slots
        if key in self.recency:
            self.recency.remove(key)
        self.recency.append(key)
        if hit:
            stored_changes, stored_ws = self.entries[key]
            stale = not self.fingerprinted and (stored_ws != workspace or stored_changes < changes)
            return 0, rows * lookups, rows * lookups if stale else 0, rows * (row_ms + lookups * hit_ms)
        self.entries[key] = (changes, workspace)
        return (
            lookups,
            (rows - 1) * lookups,
            0,
            rows * row_ms + lookups * miss_ms + (rows - 1) * lookups * hit_ms + self.pre_ms,
        )


@dataclass
class _Tally:
    """Counts of one list so far."""

    scans: int = 0
    hits: int = 0
    stale: int = 0
    lookups: int = 0
    yields: int = 0


class ImmediateWalk:
    """One replication of a scenario with immediate actors only (``coverage.model_for``)."""

    def __init__(self, scenario: Scenario):
        self.scenario = scenario
        # never drawn from: random: workspaces are outside this model (coverage)
        rng = np.random.default_rng(0)
        self.copies = [(a, c) for a in scenario.active_actors for c in range(a.count)]
        self.gens = [workspace_names(a, c, rng=rng) for a, c in self.copies]
        self.spinning = scenario.spinning
        self.iteration_ms = scenario.loop.iteration_ms
        self.global_ws = scenario.registry.initial_workspace
        self.flips = self.changes = 0
        self.now_ms = 0.0
        memo = scenario.memo
        self.memo = TokenMemo(
            scenario, scan_mean(memo.scan_ms), scan_mean(memo.miss_overhead_ms), scan_mean(memo.pre_miss_ms)
        )
        self.tie = False
        self.last_store = -math.inf  # when the last memo entry was stored

    def check_phase(self) -> None:
        """The actors' immediates: each sets the global and works, before the list's batch."""
        for (actor, _), gen in zip(self.copies, self.gens, strict=True):
            name = next(gen)
            self.flips += 1
            if name != self.global_ws:
                if not self.scenario.memo.fingerprinted and abs(self.now_ms - self.last_store) <= EPS:
                    # a store and a registry change at the same instant (free rows and
                    # hits): the engine's strict "stored before the change" test decides
                    self.tie = True
                self.changes += 1
                self.global_ws = name
            self.now_ms += actor.work_ms

    def io_wait(self, latency: float, phase: str) -> None:
        """An awaited I/O from the end of a row: it resumes in the first poll phase at or after completion."""
        done = self.now_ms + latency
        if not self.spinning:  # idle loop: blocks in poll until the I/O arrives
            self.now_ms = max(done, self.now_ms + self.iteration_ms)
            return
        if phase == "poll":  # this iteration's check phase still runs the actors
            self.check_phase()
        self.now_ms += self.iteration_ms
        while self.now_ms < done - EPS:
            self.check_phase()
            self.now_ms += self.iteration_ms
        if abs(self.now_ms - done) <= EPS * 1000:
            self.tie = True  # completion and poll phase at the same time: float rounding decides

    def arrive(self) -> None:
        """Move to the first list's start: the first poll phase at/after ``start_ms`` if actors spin."""
        start = self.scenario.list.start_ms
        if start > 0 and self.spinning:
            while self.now_ms < start - EPS:
                self.check_phase()
                self.now_ms += self.iteration_ms
            self.tie = self.tie or abs(self.now_ms - start) <= EPS * 1000
        else:
            self.now_ms = start

    def read(self, tally: _Tally, workspace: str, rows: int, lookups: int, row_ms: float) -> None:
        """``rows`` rows of ``lookups`` lookups each, reading ``workspace``: counted and timed."""
        scans, hits, stale, ms = self.memo.group(workspace, rows, lookups, row_ms, self.changes)
        tally.scans, tally.hits, tally.stale = tally.scans + scans, tally.hits + hits, tally.stale + stale
        tally.lookups += rows * lookups
        if scans:  # the last scan's entry is stored at its end, before its overhead (after the pre-miss work)
            memo = self.memo
            self.last_store = self.now_ms + memo.pre_ms + scans * (memo.scan_ms + memo.overhead_ms) - memo.overhead_ms
        self.now_ms += ms

    def one_list(self, index: int, phase: str) -> tuple[Expectation, str]:
        """Walk list ``index`` whose first batch runs in ``phase``; returns its figures and
        the phase the next list starts in (it runs right after this one's last batch)."""
        t0, flips0, tally = self.now_ms, self.flips, _Tally()
        pinned: str | None = None
        for step in list_steps(self.scenario.list, self.scenario.registry.pinned):
            match step:
                case Rows(rows=rows, lookups=lookups, row_cost_ms=row_cost_ms):
                    self.read(tally, pinned or self.global_ws, rows, lookups, row_cost_ms)
                case Yield():
                    tally.yields += 1
                    if phase == "check":
                        self.now_ms += self.iteration_ms
                    self.check_phase()
                    phase = "check"
                case AwaitIO(ms=ms):
                    self.io_wait(ms, phase)
                    phase = "poll"
                case Pin():
                    pinned = self.global_ws
                case Setup(cost=cost):
                    self.now_ms += scan_mean(cost)
                case HoistedLookups(lookups=lookups):
                    self.read(tally, pinned or self.global_ws, 1, lookups, 0.0)
                case _:
                    assert_never(step)
        figures = Expectation(
            index,
            tally.scans,
            tally.hits,
            tally.stale,
            tally.lookups,
            self.flips - flips0,
            tally.yields,
            self.now_ms - t0,
            not self.tie,
            "immediate",
        )
        return figures, phase


def immediate_expectations(scenario: Scenario) -> list[Expectation]:
    """The exact walk's figures for every list of a scenario ``coverage.model_for`` gave it."""
    walk = ImmediateWalk(scenario)
    walk.arrive()
    phase, out, first_start = "poll", [], walk.now_ms
    for index in range(scenario.list.count):
        figures, phase = walk.one_list(index, phase)
        out.append(figures)
    check_ttl_immediate(scenario.memo, walk.now_ms - first_start)
    return out
