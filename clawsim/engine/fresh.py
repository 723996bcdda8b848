"""Runs of fresh batches done at once inside a stretch (issue 17: 128 agents / 1 agent).

Under one poisson source of unique workspaces whose activations hold nothing (``work_ms: 0``),
unpinned, with a memo that keeps a row's keys (slots >= lookups) and hits that cost nothing, a
batch that meets at least one arrival reads a name never seen: its first row scans every key,
the others hit, and its times depend on nothing but its scan costs. ``FreshRuns.take`` computes
the times of up to ``size`` such batches in one short loop (``_afters``), assuming that each
meets an arrival, then checks the assumption for all of them at once (the arrivals counted by
one ``searchsorted``, the delay probe firing at each, the names new to the memo) and keeps the
longest prefix for which it holds; the stretch runs the batch that broke it step by step.

The draws are those of the steps: the scan costs are peeked from ``DrawnAhead`` and only the
kept ones taken; the arrivals are drawn ahead by the source (the same times whenever drawn).
Every float is computed by the same operations in the same order as ``stretch``'s steps (numpy's
element-wise float64 operations are Python's): tests/test_stretch.py compares the records with
the step-by-step oracle and checks that these lines run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import reduce
from itertools import accumulate, repeat
from operator import add
from typing import NamedTuple

import numpy as np

from .loop import MAX_WAITING, PROBE_RESOLUTION_MS
from .memo import DrawnAhead
from .metrics import ListStats, Numbered, spelled_number
from .sources import PoissonSource

Memo = tuple[set[object], list[tuple[str, list[float]]], object, object]  # known, log, recent, snapshot
MIN_RUN, MAX_RUN = 16, 1024  # batches a run tries at once (x4 while every one is kept)
BUSY_GAPS = 3.0  # a run is tried after a batch that lasted this many mean gaps between arrivals
MAX_DRAWN = 4 * MAX_WAITING  # arrivals drawn ahead for a run's checks, at most (past this, fewer kept)


class Taken(NamedTuple):
    """What a run of fresh batches did: the stretch's locals after its last batch."""

    batches: int  # fresh batches done (>= 1), each a yield and its rows
    now: float  # the clock after the last one's rows
    began: float  # the last one's iteration start (its poll phase)
    due: float  # the delay probe's next firing
    max_ms: float  # the probe's largest lateness
    head: int  # the source's first arrival not delivered
    next_ms: float  # its time
    serial: int  # the source's activations so far
    arrived: int  # activations over the run: setter calls, each a change (every name is new)
    last_n: int  # activations in the last batch
    workspace: str  # the last one's name: the global
    total: float  # the list's scan_ms_total after their scans
    hit_rows: int  # their rows after the first


class FreshRuns:
    """Runs of fresh batches for one stretch; ``next_k`` and ``busy_ms`` say when to try one."""

    def __init__(
        self,
        source: PoissonSource,
        drawn: DrawnAhead,
        iteration_ms: float,
        row_cost_ms: float,
        lookups: int,
        slots: int,
    ):
        self.source, self.drawn, self.lookups = source, drawn, lookups
        self.iteration_ms, self.row_cost_ms, self.free_row_ms = iteration_ms, row_cost_ms, 0.0 + row_cost_ms
        self.keep = -(-slots // lookups)  # the last batches whose keys may survive a store
        self.busy_ms = BUSY_GAPS * source.mean_gap_ms
        self.size, self.backoff, self.next_k = 0, 0, 0  # size: set by the first take
        self.prefix = f"{source.actor.name}#"  # of its names (as ``Numbered`` spells them)
        self.cleared: set[object] = set()  # workspaces that spell none of its next names (_clash)

    def take(
        self,
        k: int,
        rows: Sequence[int],
        stop: int,
        now: float,
        lasted: float,
        bounds: tuple[float, float],
        probe: tuple[float, float, list[tuple[float, float, int]]],
        head: int,
        serial: int,
        total: float,
        memo: Memo,
        stats: ListStats,
    ) -> Taken | None:
        """The batches ``rows[k]``, ``rows[k + 2]``, ... (before ``stop``) from ``now``, as many
        as are fresh, each meeting an arrival; None if the first is not. ``lasted``: how long the
        last batch took (the first take tries as many batches as that suggests). ``bounds``: (resumed
        below, held below) as in the stretch; ``probe``: (due, max_ms, samples); ``memo``:
        (known, log, recent, snapshot) as in the stretch; ``head`` and ``serial``: the source's, as
        the stretch has them. The probe's samples, the log, the known names and the list's
        workspaces are added to; the source's head is set to ``head`` and its arrivals may be
        drawn further (the caller reads its times and head again)."""
        self.source.head = head  # (the caller reads it again, and the source's times)
        if not self.size:
            self.size = _first_size(lasted / self.source.mean_gap_ms)
        batches = _even(rows[k : min(stop, k + 2 * self.size) : 2])
        if not batches:
            self._adapt(k, 0, 1)
            return None  # batches of one row: left to the steps
        costs = self.drawn.peek(len(batches) * self.lookups)
        args = (self.iteration_ms, self.row_cost_ms, self.free_row_ms, batches[0], self.lookups)
        afters = np.array(_afters(now, costs, *args))
        m, ends, dues, cuts, numbers = self._check(now, afters, bounds, probe[0], head, serial, memo)
        self._adapt(k, m, len(batches))
        if not m:
            return None  # the first batch is not one: the steps run it
        self.drawn.drop(m * self.lookups)
        late = ends[:m] - dues[:m]
        ends_m, lates = ends[:m].tolist(), late.tolist()
        probe[2].extend(zip(ends_m, lates, repeat(1)))
        last = self._named(numbers[:m], costs, ends_m, memo, stats)
        head, serial_after = int(cuts[m - 1]), int(numbers[m - 1]) + 1
        arrived = serial_after - serial
        return Taken(
            m,
            float(afters[m - 1]),
            ends_m[-1],
            ends_m[-1] + PROBE_RESOLUTION_MS,
            max(probe[1], float(late.max())),
            head,
            float(self.source.times[head]),
            serial_after,
            arrived,
            arrived if m == 1 else int(numbers[m - 1] - numbers[m - 2]),
            last,
            reduce(add, costs[: m * self.lookups], total),
            sum(batches[:m]) - m,
        )

    def _named(self, numbers: np.ndarray, costs: list[float], ends: list[float], memo: Memo, stats: ListStats) -> str:
        """The workspaces of the batches kept (numbered ``numbers``, beginning at ``ends``, their
        scans at ``costs``): counted by number in the list's workspaces, and by name in the memo's
        log and known names for those whose keys may survive. The last one's name."""
        m, lookups, source = len(numbers), self.lookups, self.source
        first = max(0, m - self.keep)  # _store_logged drops the others
        names = list(map(source.unique_name, numbers[first:].tolist()))
        for i, name in zip(range(first, m), names, strict=True):
            memo[1].append((name, list(accumulate(costs[i * lookups : (i + 1) * lookups], initial=ends[i]))))
        memo[0].update(names)  # known: the others' keys are gone once the log is stored
        self.cleared.update(names)  # numbered below the source's serial from now on
        if stats.numbered is None:
            stats.numbered = []
        stats.numbered.append(Numbered(self.prefix, source.copies, numbers))
        return names[-1]

    def _check(
        self,
        now: float,
        afters: np.ndarray,
        bounds: tuple[float, float],
        due: float,
        head: int,
        serial: int,
        memo: Memo,
    ) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(The source's head set to ``head``.) For the batches that end their rows at ``afters`` from ``now``: how many in a row from
        the first begin below ``bounds[0]``, end their rows after they begin and below
        ``bounds[1]``, meet between 1 and ``MAX_WAITING`` arrivals, fire the probe and read a
        name the stretch would take as fresh; and each one's iteration start, probe firing due,
        the source's head after its poll phase and its workspace's number (as ``Numbered``)."""
        source = self.source
        ends = np.empty(len(afters))
        ends[0], ends[1:] = now, afters[:-1]
        ends += self.iteration_ms  # each batch's iteration starts where the last one's rows end
        timely = (ends < bounds[0]) & (ends < afters) & (afters < bounds[1])
        source.draw_past(float(ends[-1]), MAX_DRAWN)
        cuts = source.times.searchsorted(ends, "right")  # as arrivals_until counts them
        arrived = cuts.copy()  # (drawing drops the delivered: the head moves)
        arrived[0] -= source.head
        arrived[1:] -= cuts[:-1]
        dues = np.empty(len(ends))
        dues[0], dues[1:] = due, ends[:-1] + PROBE_RESOLUTION_MS
        kept = timely & (arrived >= 1) & (arrived <= MAX_WAITING) & (ends >= dues) & (ends < source.last_ms)
        m = len(afters) if kept.all() else int(kept.argmin())
        numbers = cuts + (serial - 1 - source.head)  # the last activation's of each batch
        clash = self._clash(serial, memo)
        if clash:  # a name the memo may hold, or the last batch's or the snapshot's: not fresh
            hit = np.isin(numbers[:m], clash)
            if hit.any():
                m = int(hit.argmax())
        return m, ends, dues, cuts, numbers

    def _clash(self, serial: int, memo: Memo) -> list[int]:
        """The numbers (``serial`` and above) of the source's names among the workspaces the
        stretch would not take as fresh (``memo``'s known, recent and snapshot). Names found
        to spell no such number never will (``serial`` grows): they are not looked at again."""
        known, _, recent, snapshot = memo
        clash = []
        for workspace in (known - self.cleared) | {recent, snapshot}:
            if isinstance(workspace, str):
                number = spelled_number(workspace, self.prefix, self.source.copies)
                if number is not None and number >= serial:
                    clash.append(number)
                else:
                    self.cleared.add(workspace)
        return clash

    def _adapt(self, k: int, m: int, tried: int) -> None:
        """After a run kept ``m`` of ``tried`` batches from ``k``: longer runs while all are
        kept; after a short one, wait a few batches (more after each) before the next."""
        if m == tried:
            self.size, self.backoff = min(4 * self.size, MAX_RUN), 0
            return
        self.size = max(MIN_RUN, m)
        if m < MIN_RUN:  # few in a row: wait longer each time
            self.backoff = min(2 * self.backoff + 1, 64)
        else:
            self.backoff = 0
        self.next_k = k + 2 * (m + 1 + self.backoff)


def fresh_runs(
    source: PoissonSource | None,
    drawn: object,
    unpinned: bool,
    slots: int | None,
    lookups: int,
    iteration_ms: float,
    row_cost_ms: float,
) -> FreshRuns | None:
    """A stretch's ``FreshRuns``, where they apply: a source of unique workspaces whose
    activations hold nothing, ``unpinned`` (and hits that cost nothing), a memo of at least
    ``lookups`` slots, scan costs drawn ahead (``drawn``: the cost's ``DrawnAhead``, if so)."""
    if source is None or source.form != "unique" or source.work_ms or not unpinned:
        return None
    if slots is None or slots < lookups or not isinstance(drawn, DrawnAhead):
        return None
    return FreshRuns(source, drawn, iteration_ms, row_cost_ms, lookups, slots)


def _first_size(arrivals: float) -> int:
    """Batches a first run tries when batches meet ``arrivals`` arrivals on average: a quarter of
    the batches expected in a row before one meets none (e ** arrivals), within MIN_RUN .. MAX_RUN."""
    return int(min(MAX_RUN, max(MIN_RUN, 0.25 * math.exp(min(arrivals, 20.0)))))


def _even(batches: Sequence[int]) -> Sequence[int]:
    """The first of ``batches`` and those after it of the same size (a list's batches are
    ``yield_every`` rows but its last); none if they have fewer than 2 rows (``_afters``)."""
    if not batches or batches[0] < 2:
        return batches[:0]
    size, n = batches[0], len(batches)
    while batches[n - 1] != size:
        n -= 1
    if batches.count(size) != n:
        return batches[:1]  # not a list's batches: one at a time
    return batches[:n]


def _afters(
    now: float, costs: list[float], iteration_ms: float, row_cost_ms: float, row_ms: float, rows: int, lookups: int
) -> list[float]:
    """When each of ``len(costs) // lookups`` batches of ``rows`` (>= 2) rows ends its rows, run
    one after another from ``now`` as fresh batches (an iteration, then a first row scanning
    ``lookups`` keys at the next ``costs``, the other rows hitting for nothing, ``row_ms`` each),
    computed as the stretch's steps compute them, float by float; whatever the bounds."""
    afters: list[float] = []
    append = afters.append
    tail = (rows - 2) * row_ms
    if lookups == 2:
        pairs = iter(costs)
        for first, second in zip(pairs, pairs, strict=True):
            end = now + iteration_ms
            t = end + ((((end + first) + second) - end) + row_cost_ms)  # the first row: its scans, its work
            now = end + (((t + row_ms) + tail) - end)  # the rows that hit
            append(now)
        return afters
    for j in range(0, len(costs), lookups):
        end = t = now + iteration_ms
        for cost in costs[j : j + lookups]:
            t += cost
        t = end + ((t - end) + row_cost_ms)
        now = end + (((t + row_ms) + tail) - end)
        append(now)
    return afters
