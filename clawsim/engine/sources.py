"""A poisson actor as one source of arrivals for the aggregated engine (``arrivals``).

All ``count`` copies of a poisson actor are one source: the superposition of ``count``
independent Poisson processes of rate ``rate_per_s`` is one Poisson process of rate
``count * rate_per_s``, each of whose points belongs to a copy chosen uniformly and
independently of everything else.

The arrivals are a fixed sequence drawn from the source's stream alone, in blocks of
``BLOCK``: each block's exponential gaps, then (where the workspace form needs them) each
arrival's copy or workspace number. When the loop polls never changes what is drawn, so
every variant of a plan point (none, pin, the alternatives), which shares its streams,
sees the same arrivals at the same times: common random numbers (``Plan``'s ``stream``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..scenario import PoissonActor
from .loop import MAX_WAITING

BLOCK = 64  # arrivals drawn at a time
AHEAD = 64  # at most this many blocks drawn at once by a source that draws only gaps (the same numbers)

# (first workspace, last workspace, value changes between consecutive ones, index of the last change or 0)
Stretch = tuple[str, str, int, int]


def _ranks(copies: np.ndarray, count: int) -> np.ndarray:
    """For each activation, how many earlier ones of the batch came from the same copy."""
    order = np.argsort(copies, kind="stable")
    per_copy = np.bincount(copies, minlength=count)
    first = np.cumsum(per_copy) - per_copy
    ranks = np.empty(len(copies), dtype=np.int64)
    ranks[order] = np.arange(len(copies)) - first[copies[order]]
    return ranks


class PoissonSource:
    """All copies of one poisson actor; ``activate(workspace, now)`` runs one activation
    that has lookups (it returns the ms it holds the thread).

    Workspaces follow ``workspace_names`` in law: ``cycle:K`` advances a counter per copy
    (the copy of each activation drawn uniformly), ``random:K`` draws uniformly, ``fixed``
    repeats its name. ``unique`` names are spelled ``name#c/n`` with ``n`` numbered over the
    source: every name is new, which is all a unique workspace can show (the reference
    numbers per copy; no observable depends on the spelling).

    ``times[head:]`` are the drawn arrivals not yet delivered (``next_ms`` the first);
    ``codes[used:]`` the copy or workspace numbers of delivered arrivals not yet activated.
    """

    def __init__(self, actor: PoissonActor, rng: np.random.Generator, activate: Callable[[str, float], float]):
        self.actor = actor
        self.rng = rng
        self.activate = activate
        self.mean_gap_ms = 1000.0 / (actor.rate_per_s * actor.count)
        self.work_ms = actor.work_ms
        self.collapsible = actor.lookups == 0  # its activations touch nothing but the global
        self.form = actor.workspaces.form
        arg = actor.workspaces.arg
        self.k = arg if isinstance(arg, int) else 1
        self.fixed = str(arg)
        self.copies = actor.count
        self.serial = 0  # activations so far (the one copy's counter when count is 1)
        self.counters = np.zeros(actor.count, dtype=np.int64)  # per copy, for cycle:K with copies
        self.coded = self.form == "random" or (self.form == "cycle" and self.copies > 1)
        self.times = np.empty(0)
        self.codes = np.empty(0, dtype=np.int64)
        self.head = self.used = 0
        self.blocks = 1  # blocks the next draw makes (a source that draws only gaps)
        self.last_ms = float(actor.start_ms)  # the last arrival drawn
        self._draw_block()
        self.next_ms = float(self.times[0])

    def _draw_block(self) -> None:
        """Draw the next ``BLOCK`` arrivals (dropping those delivered and activated); a source
        that draws only gaps draws several blocks at once (1, 2, 4, ... up to ``AHEAD``: a short
        run draws little): the same gaps, and the same times (each block summed from the last
        one's end, as one block at a time sums them)."""
        if self.coded:
            times = self.last_ms + np.cumsum(self.rng.exponential(self.mean_gap_ms, BLOCK))
            self.last_ms = float(times[-1])
        else:
            blocks, self.blocks = self.blocks, min(AHEAD, 2 * self.blocks)
            times = self._gap_times(blocks)
        cut = self.used if self.coded else self.head
        self.times = np.concatenate((self.times[cut:], times))
        if self.coded:
            bound = self.k if self.form == "random" else self.copies
            self.codes = np.concatenate((self.codes[cut:], self.rng.integers(bound, size=BLOCK, dtype=np.int64)))
        self.head, self.used = self.head - cut, 0

    def _gap_times(self, blocks: int, into: np.ndarray | None = None) -> np.ndarray:
        """The next ``blocks`` blocks' times (a source that draws only gaps), as one block at a
        time draws them: each block's gaps summed in order from its start, each start the last
        block's end plus its sum, added in order (accumulate is sequential). Drawn ``into`` a
        (blocks, BLOCK) C-ordered array if given (``draw_past``), as ``standard_exponential``
        scaled in place: the same gaps (``exponential(scale)`` is ``scale * standard_exponential()``
        draw by draw, and a C-ordered ``out`` is filled in draw order)."""
        if into is not None:
            sums = into
            self.rng.standard_exponential(out=sums)
            sums *= self.mean_gap_ms
        else:
            sums = self.rng.exponential(self.mean_gap_ms, (blocks, BLOCK))
        sums.cumsum(axis=1, out=sums)
        starts = np.add.accumulate(np.concatenate(([self.last_ms], sums[:, -1])))
        sums += starts[:-1, None]
        times = sums.ravel()
        self.last_ms = float(times[-1])
        return times

    def draw_past(self, end: float, most: int) -> None:
        """Draw blocks until an arrival after ``end`` is drawn or more than ``most`` are drawn and
        not delivered (``head`` told first). The times are the same whenever they are drawn; a
        source that draws only gaps draws the blocks it expects to need at once, into one array
        with the times not yet delivered."""
        if self.coded:
            while self.last_ms <= end and len(self.times) - self.head <= most:
                self._draw_block()
            return
        while self.last_ms <= end and (waiting := len(self.times) - self.head) <= most:
            blocks = min(int((end - self.last_ms) / (self.mean_gap_ms * BLOCK)) + 2, (most - waiting) // BLOCK + 1)
            times = np.empty(waiting + blocks * BLOCK)
            times[:waiting] = self.times[self.head :]
            self._gap_times(blocks, times[waiting:].reshape(blocks, BLOCK))
            self.times, self.head = times, 0

    def arrivals_until(self, now: float) -> np.ndarray:
        """Deliver what arrived by ``now`` (>= ``next_ms``): their times, in order. More than
        ``MAX_WAITING`` are not all drawn (the loop halts on that many: it cannot keep up)."""
        while self.last_ms <= now and len(self.times) - self.head <= MAX_WAITING:
            self._draw_block()
        end = int(self.times.searchsorted(now, side="right"))
        delivered, self.head = self.times[self.head : end], end
        if self.head == len(self.times):
            self._draw_block()
        self.next_ms = float(self.times[self.head])
        return delivered

    def count_until(self, now: float) -> int:
        """Deliver what arrived by ``now``, as ``arrivals_until``: how many."""
        return len(self.arrivals_until(now))

    def advance(self, n: int) -> Stretch:
        """The next ``n`` (>= 1) consecutive activations' workspaces, summarised."""
        if self.form == "fixed":
            return self.fixed, self.fixed, 0, 0
        if self.form == "unique":
            first, self.serial = self.serial, self.serial + n
            return self._unique(first), self._unique(first + n - 1), n - 1, n - 1
        if self.form == "cycle" and self.copies == 1:
            first, self.serial = self.serial, self.serial + n
            within = n - 1 if self.k > 1 else 0
            return self._named(first % self.k), self._named((first + n - 1) % self.k), within, within
        codes = self._codes(n)
        changed = np.flatnonzero(codes[1:] != codes[:-1])
        last_change = int(changed[-1]) + 1 if len(changed) else 0
        return self._named(int(codes[0])), self._named(int(codes[-1])), len(changed), last_change

    def _codes(self, n: int) -> np.ndarray:
        """Workspace numbers of ``random:K``, or of ``cycle:K`` across several copies, of the
        next ``n`` delivered arrivals (drawn with their times)."""
        drawn, self.used = self.codes[self.used : self.used + n], self.used + n
        if self.form == "random":
            return drawn
        copies = drawn
        number = self.counters[copies] + _ranks(copies, self.copies)
        self.counters += np.bincount(copies, minlength=self.copies)
        names: np.ndarray = number % self.k
        return names

    def _named(self, code: int) -> str:
        return f"{self.actor.name}/{code}"

    def unique_name(self, number: int) -> str:
        """The ``unique`` workspace of the activation numbered ``number`` (from 0, over the source)."""
        return self._unique(number)

    def _unique(self, number: int) -> str:
        return f"{self.actor.name}#{number % self.copies}/{number // self.copies}"
