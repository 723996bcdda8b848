"""Expected scans, flips and list_ms of a scenario, computed without simulating it.

Two models, chosen by the kind of the actors (see ``docs/analytic.md`` for the formulas
and for how far each is from the engine):

* **Immediate actors, or none** (``_Deterministic``): nothing is random but the scan
  cost, and the counts do not depend on it. The list is walked batch by batch with the
  ordering rules of EVENT-LOOP.md (K immediate actors flip K times per check phase,
  just before the list's batch; an awaited I/O lasts a whole number of loop iterations);
  each batch is charged in closed form by the memo's reuse-distance rule (a group of L
  keys hits iff it was used before and ``(D + 1) * L <= capacity``, D distinct other
  groups since). Exact: counts equal the engine's, list_ms equals it up to float
  rounding (in expectation when scan costs are drawn).
* **Poisson and interval actors** (``_Chain``): a Markov chain over the list's batches.
  A batch misses iff a flip happened in its *window* (the loop time between the cut-off
  of the previous batch and its own: for a batch resumed in a check phase, the interval
  between two poll-phase starts); a poisson stream flips in a window of length w with
  probability ``1 - exp(-rate * w)``, a timer flips when it is due at a timers phase.
  A miss lengthens its batch by the scans, which lengthens the next window: the chain
  carries that feedback (state: time since the last poll start, the timers' remaining
  times, and whether the memo holds the current key). Exact in distribution for
  constant scan costs without awaited I/O; awaited I/O with timers or busy actors, and
  drawn scan costs, are approximated (documented, and measured by the tests).

``expectations(scenario)`` takes one resolved scenario (no ``sweep:``/``variants:``; see
``clawsim.plan``) and returns one dict per list; it raises ``NotAnalytic`` naming the
reason when neither model covers the scenario. ``add_expectations(frame, scenario)``
puts ``expected_*`` columns beside a results table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .engine.actors import workspace_names
from .engine.listing import batches
from .errors import NotAnalytic
from .scenario import CostMs, Empirical, Lognormal, Scenario, Uniform, distribution, plan
from .scenario.costs import Z95

# Columns ``add_expectations`` adds, each placed right after the simulated column.
EXPECTED_COLUMNS = {"scans": "expected_scans", "flips": "expected_flips", "list_ms": "expected_list_ms"}

_EPS = 1e-9          # times closer than this are the same time (ties are engine-order dependent)
_TAIL = 1e-12        # probability mass of Poisson tails and of pruned chain states
_POINTS = 24         # points of a discretized scan-cost distribution
_MAX_STATES = 1500   # chain states kept per step before coarser merging
_CHAIN_POINTS = 16   # points of a scan-cost sum inside the chain (timer thresholds need ~16)
_RANDOM_GRID = 0.25  # ms: with drawn scan costs, states whose times agree this closely merge
_PRUNE = 1e-10       # chain states less likely than this are dropped (their mass renormalized)
_LUMP = 4            # poisson arrival counts above this share one branch (at their conditional mean)


# --------------------------------------------------------------------------- list structure


# --------------------------------------------------------------------------- scan costs


def scan_mean(cost: CostMs) -> float:
    """Mean of one scan's cost."""
    return distribution(cost).mean


def _requantize(values: np.ndarray, probs: np.ndarray, m: int = _POINTS) -> tuple[np.ndarray, np.ndarray]:
    """At most ``m`` equal-mass points with the same mean (conditional means of bins)."""
    order = np.argsort(values)
    values, probs = values[order], probs[order]
    if len(values) <= m:
        return values, probs
    edges = np.searchsorted(np.cumsum(probs), np.linspace(0, 1, m + 1)[1:-1])
    out_v, out_p = [], []
    for chunk in np.split(np.arange(len(values)), edges):
        if len(chunk):
            p = probs[chunk].sum()
            if p > 0:
                out_v.append(float((values[chunk] * probs[chunk]).sum() / p))
                out_p.append(float(p))
    return np.asarray(out_v), np.asarray(out_p)


class ScanSums:
    """Discretized distribution of the sum of k scans (cached by k)."""

    def __init__(self, cost: CostMs, points: int = _POINTS):
        self.points = points
        self.mean = scan_mean(cost)
        self.constant = isinstance(cost, (int, float))
        if self.constant:
            base = (np.array([float(cost)]), np.array([1.0]))
        elif isinstance(cost, Lognormal):
            mu, sigma = math.log(cost.p50), (math.log(cost.p95) - math.log(cost.p50)) / Z95
            # equal-mass bins, each represented by its conditional mean (keeps the mean exact)
            from statistics import NormalDist

            z = [NormalDist().inv_cdf(q) for q in np.linspace(0, 1, points + 1)[1:-1]]
            edges = [-math.inf, *z, math.inf]
            nd = NormalDist()
            vals = []
            for lo, hi in zip(edges[:-1], edges[1:]):
                # E[e^{mu+sigma Z} | lo < Z < hi] * P = e^{mu+sigma^2/2} (Phi(hi - sigma) - Phi(lo - sigma))
                mass = nd.cdf(hi - sigma) - nd.cdf(lo - sigma)
                vals.append(math.exp(mu + sigma * sigma / 2) * mass * points)
            base = (np.asarray(vals), np.full(points, 1 / points))
        elif isinstance(cost, Uniform):
            width = (cost.high - cost.low) / points
            base = (cost.low + width * (np.arange(points) + 0.5), np.full(points, 1 / points))
        else:
            vals = np.asarray(cost.values, dtype=float)
            base = _requantize(vals, np.full(len(vals), 1 / len(vals)), points)
        self._cache = {1: base}

    def of(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        if k <= 0:
            return np.array([0.0]), np.array([1.0])
        if k not in self._cache:
            half = self.of(k // 2)
            rest = self.of(k - k // 2)
            v = (half[0][:, None] + rest[0][None, :]).ravel()
            p = (half[1][:, None] * rest[1][None, :]).ravel()
            self._cache[k] = _requantize(v, p, self.points)
        return self._cache[k]


# --------------------------------------------------------------------------- checks


def _kinds(scenario: Scenario) -> set[str]:
    return {a.kind for a in scenario.actors if a.count > 0}


def _check_common(scenario: Scenario) -> None:
    if scenario.sweep or scenario.variants:
        raise NotAnalytic("the scenario has a sweep or variants: pass one resolved point (clawsim.plan(scenario)[i].scenario)")
    spec = scenario.list
    if spec.poll_every_ms is not None:
        raise NotAnalytic("lists started by polling overlap; no closed form for overlapping lists")
    if spec.gap_ms and spec.count > 1:
        raise NotAnalytic("lists gap_ms apart start in a timers phase; only back-to-back lists (no gap_ms) are covered")
    if any(a.lookups > 0 for a in scenario.actors if a.count > 0):
        raise NotAnalytic("actors do their own lookups, which store and evict the list's memo entries")
    kinds = _kinds(scenario)
    if "immediate" in kinds and len(kinds) > 1:
        raise NotAnalytic("immediate actors mixed with timer or poisson actors")


# --------------------------------------------------------------------------- outputs


def _record(index: int, scans, hits, stale, lookups, flips, yields, list_ms, exact: bool, model: str) -> dict:
    return {
        "list_index": index,
        "expected_scans": float(scans),
        "expected_hits": float(hits),
        "expected_stale_hits": float(stale),
        "expected_lookups": float(lookups),
        "expected_flips": float(flips),
        "expected_yields": float(yields),
        "expected_list_ms": float(list_ms),
        "exact": bool(exact),
        "model": model,
    }


def expectations(scenario: Scenario) -> list[dict]:
    """Expected figures of every list of one resolved scenario (one replication).

    Each dict has ``list_index``, ``expected_scans``, ``expected_hits``,
    ``expected_stale_hits``, ``expected_lookups``, ``expected_flips``,
    ``expected_yields``, ``expected_list_ms``, ``exact`` (the engine must agree
    exactly, up to float rounding of times and, for drawn scan costs, in expectation)
    and ``model`` (``immediate`` or ``chain``). Raises ``NotAnalytic`` with the reason
    when the scenario is outside both models.
    """
    _check_common(scenario)
    if _kinds(scenario) <= {"immediate"}:
        return _Deterministic(scenario).run()
    return _Chain(scenario).run()


# --------------------------------------------------------------------------- immediate actors


class _TokenMemo:
    """The memo in closed form: groups of L keys, one per workspace (or one if unkeyed).

    A group hits iff it was looked up before and, LRU, ``(D + 1) * L <= capacity`` where D
    is the number of distinct other groups looked up since (all L keys of a group then
    hit or miss together). Entries remember the registry change count when stored: a
    hit is stale (TTL or unkeyed memo) iff the entry's workspace differs or a change
    happened since.
    """

    def __init__(self, scenario: Scenario, scan_ms: float):
        memo = scenario.memo
        self.slots = memo.slots
        self.keyed = memo.key == "workspace"
        self.fingerprinted = memo.fingerprinted
        self.snapshot = scenario.registry.initial_workspace if memo.current_snapshot else None
        self.scan_ms, self.hit_ms = scan_ms, memo.hit_ms
        self.recency: list[str] = []
        self.entries: dict[str, tuple[int, str]] = {}

    def group(self, workspace: str, rows: int, lookups: int, row_ms: float, changes: int) -> tuple[int, int, int, float]:
        """(scans, hits, stale hits, ms) of ``rows`` rows that each look ``lookups`` keys up."""
        L, S, h = lookups, self.scan_ms, self.hit_ms
        if L == 0:
            return 0, 0, 0, rows * row_ms
        if workspace == self.snapshot:
            return 0, rows * L, 0, rows * row_ms
        if self.slots == 0 or (self.slots is not None and L > self.slots):
            return rows * L, 0, 0, rows * (row_ms + L * S)
        key = workspace if self.keyed else "*"
        hit = key in self.recency
        if hit and self.slots is not None:
            distinct_since = len(self.recency) - 1 - self.recency.index(key)
            hit = (distinct_since + 1) * L <= self.slots
        if key in self.recency:
            self.recency.remove(key)
        self.recency.append(key)
        if hit:
            stored_changes, stored_ws = self.entries[key]
            stale = not self.fingerprinted and (stored_ws != workspace or stored_changes < changes)
            return 0, rows * L, rows * L if stale else 0, rows * (row_ms + L * h)
        self.entries[key] = (changes, workspace)
        return L, (rows - 1) * L, 0, rows * row_ms + L * S + (rows - 1) * L * h


class _Deterministic:
    """Immediate actors (or none): the exact batch walk."""

    def __init__(self, scenario: Scenario):
        self.sc = scenario
        actors = [a for a in scenario.actors if a.count > 0]
        for a in actors:
            if a.start_ms > 0:
                raise NotAnalytic(f"immediate actor {a.name!r} starts late (start_ms > 0): its first flip is a timer")
            form = a.workspaces.form
            if form == "random":
                raise NotAnalytic(f"immediate actor {a.name!r} draws random workspaces: the keys are random")
        self.copies = [(a, c) for a in actors for c in range(a.count)]
        self.gens = [workspace_names(a, c, rng=None) for a, c in self.copies]  # no random:K here
        self.delta = scenario.loop.iteration_ms
        self.global_ws = scenario.registry.initial_workspace
        self.flips = self.changes = 0
        self.t = 0.0
        self.memo = _TokenMemo(scenario, scan_mean(scenario.memo.scan_ms))
        self.tie = False
        self.last_store = -math.inf  # when the last memo entry was stored

    def check_phase(self) -> None:
        """The actors' immediates: each sets the global and works, before the list's batch."""
        for (actor, _), gen in zip(self.copies, self.gens):
            name = next(gen)
            self.flips += 1
            if name != self.global_ws:
                if not self.sc.memo.fingerprinted and abs(self.t - self.last_store) <= _EPS:
                    # a store and a registry change at the same instant (free rows and
                    # hits): the engine's strict "stored before the change" test decides
                    self.tie = True
                self.changes += 1
                self.global_ws = name
            self.t += actor.work_ms

    def io_wait(self, latency: float, phase: str) -> None:
        """An awaited I/O from the end of a row: it resumes in the first poll phase at or after completion."""
        done = self.t + latency
        if not self.copies:  # idle loop: blocks in poll until the I/O arrives
            self.t = max(done, self.t + self.delta)
            return
        if phase == "poll":  # this iteration's check phase still runs the actors
            self.check_phase()
        self.t += self.delta
        while self.t < done - _EPS:
            self.check_phase()
            self.t += self.delta
        if abs(self.t - done) <= _EPS * 1000:
            self.tie = True  # completion and poll phase at the same time: float rounding decides

    def run(self) -> list[dict]:
        sc, spec = self.sc, self.sc.list
        L = spec.lookups_per_row
        per_row = L if spec.lookup_mode == "per_row" else 0
        if spec.start_ms > 0 and self.copies:  # the list arrives in the first poll phase at/after start_ms
            while self.t < spec.start_ms - _EPS:
                self.check_phase()
                self.t += self.delta
            self.tie = self.tie or abs(self.t - spec.start_ms) <= _EPS * 1000
        else:
            self.t = spec.start_ms
        phase, out, first_start = "poll", [], self.t
        plan_ = list(batches(spec))
        for index in range(spec.count):
            t0, flips0 = self.t, self.flips
            scans = hits = stale = lookups = yields = 0
            pinned = self.global_ws if sc.registry.fix == "pin" else None
            if spec.lookup_mode == "hoisted":
                s, h, st, ms = self.memo.group(pinned or self.global_ws, 1, L, 0.0, self.changes)
                scans, hits, stale, lookups = scans + s, hits + h, stale + st, lookups + L
                if s:
                    self.last_store = self.t + s * self.memo.scan_ms
                self.t += ms
            for b in plan_:
                if b.yield_before:
                    yields += 1
                    if phase == "check":
                        self.t += self.delta
                    self.check_phase()
                    phase = "check"
                workspace = pinned or self.global_ws
                s, h, st, ms = self.memo.group(workspace, b.rows, per_row, spec.row_cost_ms, self.changes)
                scans, hits, stale, lookups = scans + s, hits + h, stale + st, lookups + b.rows * per_row
                if s:
                    self.last_store = self.t + s * self.memo.scan_ms
                self.t += ms
                if b.io_ms is not None:
                    self.io_wait(b.io_ms, phase)
                    phase = "poll"
            out.append(_record(index, scans, hits, stale, lookups, self.flips - flips0, yields, self.t - t0,
                               not self.tie, "immediate"))
        self._check_ttl(self.t - first_start)
        return out

    def _check_ttl(self, duration: float) -> None:
        memo = self.sc.memo
        if memo.policy == "ttl" and duration >= memo.ttl_ms * (1 if isinstance(memo.scan_ms, (int, float)) else 0.5):
            raise NotAnalytic(f"TTL entries can expire during the run (ttl_ms {memo.ttl_ms} < the run's {duration:.1f} ms)")


# --------------------------------------------------------------------------- poisson and interval actors


# Flag bits of a chain state.
_EVER = 1        # the global changed since time 0 (so it is not the default workspace)
_CIM = 2         # the live global's keys are in the memo
_AIM = 4         # the unkeyed memo holds its entries
_CHG = 8         # a change happened since the last store (a hit now is stale)
_SINCE = 16      # a change happened since this list started (pin)
_PDEF = 32       # the pinned value is the default workspace
_PIM = 64        # the pinned value's keys are in the memo


class _Pop:
    """A population of chain states, as arrays: probability, ms since the last poll phase
    began (the poisson window so far), each timer's ms until due, flag bits, the fraction
    of a millisecond of the loop clock (timers are armed on whole milliseconds), and ``x``
    (a scratch clock: ms since the row ended, inside an I/O wait)."""

    __slots__ = ("p", "sp", "due", "flags", "tf", "x")

    def __init__(self, p, sp, due, flags, tf, x=None):
        self.p, self.sp, self.due, self.flags, self.tf = p, sp, due, flags, tf
        self.x = np.zeros(len(p)) if x is None else x

    def __len__(self) -> int:
        return len(self.p)

    def take(self, idx) -> _Pop:
        return _Pop(self.p[idx], self.sp[idx], self.due[idx], self.flags[idx], self.tf[idx], self.x[idx])

    def copy(self) -> _Pop:
        return _Pop(self.p.copy(), self.sp.copy(), self.due.copy(), self.flags.copy(), self.tf.copy(), self.x.copy())

    @staticmethod
    def concat(pops: list[_Pop], timers: int) -> _Pop:
        pops = [q for q in pops if len(q)]
        if not pops:
            return _Pop(np.zeros(0), np.zeros(0), np.zeros((0, timers)), np.zeros(0, dtype=np.int64), np.zeros(0))
        return _Pop(np.concatenate([q.p for q in pops]), np.concatenate([q.sp for q in pops]),
                    np.concatenate([q.due for q in pops]), np.concatenate([q.flags for q in pops]),
                    np.concatenate([q.tf for q in pops]), np.concatenate([q.x for q in pops]))


class _Acc:
    """Expected totals of one list."""

    def __init__(self) -> None:
        self.scans = self.hits = self.stale = self.flips = self.ms = 0.0


class _Chain:
    """Poisson and interval actors: a Markov chain over the list's batches (vectorized)."""

    def __init__(self, scenario: Scenario):
        self.sc = scenario
        spec, memo = scenario.list, scenario.memo
        actors = [a for a in scenario.actors if a.count > 0]
        pin = scenario.registry.fix == "pin"
        unique = all(a.workspaces.form == "unique" for a in actors)
        if not unique and not (pin and spec.count == 1 and memo.fingerprinted and not memo.current_snapshot):
            raise NotAnalytic("timer/poisson actors with repeating workspaces: a flip may restore a key the memo holds "
                              "(covered only with workspaces: unique, or one pinned list with a keyed memo)")
        poisson = [a for a in actors if a.kind == "poisson"]
        works = {a.work_ms for a in poisson}
        if len(works) > 1:
            raise NotAnalytic("poisson actors with different work_ms: the window then depends on which actor arrived")
        self.wp = works.pop() if works else 0.0
        for a in poisson:
            if a.start_ms > spec.start_ms:
                raise NotAnalytic(f"poisson actor {a.name!r} starts after the list (start_ms): the rate changes mid-list")
        self.lam = sum(a.rate_per_s * a.count for a in poisson) / 1000.0
        self.timers = [(a.period_ms, a.work_ms, a.start_ms) for a in actors if a.kind == "interval" for _ in range(a.count)]
        self.k = len(self.timers)
        self.same_timers, i = [], 0  # index ranges of interchangeable timers (copies of one actor)
        while i < self.k:
            j = i
            while j + 1 < self.k and self.timers[j + 1][:2] == self.timers[i][:2] and self.timers[j + 1][2] == self.timers[i][2]:
                j += 1
            if j > i:
                self.same_timers.append((i, j + 1))
            i = j + 1
        self.period = np.array([t[0] for t in self.timers])
        # Node arms a timer on libuv's whole-millisecond clock: due = floor(now) + trunc(delay), >= 1
        self.armed = np.array([float(max(1, math.trunc(t[0]))) for t in self.timers])
        self.twork = np.array([t[1] for t in self.timers])
        self.delta = scenario.loop.iteration_ms
        self.pin = pin
        self.sums = ScanSums(memo.scan_ms, _CHAIN_POINTS)
        self.exact = self.sums.constant
        slots, L = memo.slots, spec.lookups_per_row
        self.all_miss = slots == 0 or (slots is not None and L > slots)
        self.keyed = memo.key == "workspace"
        self.stale_possible = not memo.fingerprinted
        self.snapshot = memo.current_snapshot
        self.ttl = memo.ttl_ms if memo.policy == "ttl" else None
        io = spec.per_row_io
        if io is not None and io.rows > 0:
            # awaited I/O: an arrival waking the blocked loop near the completion delays the
            # resume by an iteration (~1e-4 of list_ms); with timers or busy actors, timer
            # lateness and busy residuals are approximated as well (a few %)
            self.exact = False
        rho = self.lam * self.wp
        if rho >= 1:
            raise NotAnalytic(f"poisson actors keep the loop busy (rate x work_ms = {rho:.2f} >= 1): no steady state")
        self.residual = self.lam * self.wp * self.wp / (2 * (1 - rho))
        if spec.start_ms > 0 and (self.wp > 0 or any(w > 0 for _, w, _ in self.timers)):
            self.exact = False  # the list may arrive while an activation runs: start delayed, flips queued behind it
        self.grid = 1e-6 if self.sums.constant else _RANDOM_GRID

    # ------------------------------------------------------------ plumbing

    def _merge(self, pop: _Pop) -> _Pop:
        """Sum the probability of states equal up to the grid; keep the likeliest one's times.
        Copies of one timer are interchangeable: their dues are sorted first."""
        keep = pop.p > _PRUNE
        pop = pop.take(keep)
        for lo, hi in self.same_timers:
            pop.due[:, lo:hi] = np.sort(pop.due[:, lo:hi], axis=1)
        while True:
            cols = [np.round(pop.sp / self.grid), *(np.round(pop.due[:, i] / self.grid) for i in range(self.k)),
                    pop.flags.astype(float)]
            if self.k:
                cols.append(np.round(pop.tf / self.grid))
            keys = np.stack(cols, axis=1) if cols else np.zeros((len(pop), 0))
            _, group = np.unique(keys, axis=0, return_inverse=True)
            group = group.ravel()
            n = group.max() + 1 if len(group) else 0
            if n <= _MAX_STATES:
                break
            self.exact = False  # too many distinct times: merge on a coarser grid
            self.grid *= 2
        mass = np.bincount(group, weights=pop.p, minlength=n)
        order = np.lexsort((-pop.p, group))          # by group, likeliest first
        first = order[np.r_[True, group[order][1:] != group[order][:-1]]] if len(order) else order
        rep = pop.take(first)
        rep.p = mass[group[first]]
        rep.p = rep.p / rep.p.sum()
        rep.x = np.zeros(len(rep))
        return rep

    def _advance(self, pop: _Pop, dt) -> None:
        """Time passes by ``dt`` (a number or one per state), in place."""
        self.acc.ms += float(np.sum(pop.p * dt))
        pop.sp = pop.sp + dt
        if self.k:
            pop.due = pop.due - (dt[:, None] if np.ndim(dt) else dt)
            pop.tf = np.mod(pop.tf + dt, 1.0)

    @staticmethod
    def _flip(pop: _Pop, mask=None) -> None:
        if mask is None:
            pop.flags = (pop.flags | _EVER | _CHG | _SINCE) & ~_CIM
        else:
            pop.flags = np.where(mask, (pop.flags | _EVER | _CHG | _SINCE) & ~_CIM, pop.flags)

    def _timers_phase(self, pop: _Pop) -> np.ndarray:
        """Fire every timer due at this phase's start, in due order; each re-arms from its
        firing, then works. Returns the time each state's timers took."""
        spent = np.zeros(len(pop))
        if not self.k or not len(pop):
            return spent
        remaining = pop.due <= _EPS
        rows_all = np.arange(len(pop))
        while remaining.any():
            masked = np.where(remaining, pop.due, np.inf)
            i = np.argmin(masked, axis=1)
            has = remaining.any(axis=1)
            rows, idx = rows_all[has], i[has]
            self.acc.flips += float(pop.p[rows].sum())
            self._flip(pop, has)
            pop.due[rows, idx] = self.armed[idx] - pop.tf[rows]  # floor(now) + trunc(period) - now
            work = np.where(has, self.twork[i], 0.0)
            self._advance(pop, work)
            spent += work
            remaining[rows, idx] = False
        return spent

    def _poisson_branches(self, mean: np.ndarray) -> list[tuple[np.ndarray, float]]:
        """(probability per state, arrivals) branches; counts above ``_LUMP`` share a branch
        at their conditional mean (arrivals matter only through their work)."""
        p0 = np.exp(-mean)
        if self.wp == 0:
            return [(p0, 0.0), (1 - p0, 1.0)]
        out, pn, cum, head = [], p0, np.zeros_like(mean), np.zeros_like(mean)
        for n in range(_LUMP + 1):
            out.append((pn, float(n)))
            cum = cum + pn
            head = head + n * pn
            pn = pn * mean / (n + 1)
        tail = np.clip(1.0 - cum, 0.0, 1.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            nbar = np.where(tail > 1e-15, (mean - head) / np.maximum(tail, 1e-300), _LUMP + 1)
        out.append((tail, nbar))
        return out

    def _poll_busy(self, pop: _Pop) -> tuple[_Pop, np.ndarray]:
        """A poll phase of a busy loop: the arrivals since the last one run now. Returns
        the branched population and the time each state's arrivals took."""
        mean = self.lam * pop.sp
        self.acc.flips += float(np.sum(pop.p * mean))
        if self.lam == 0:
            pop = pop.copy()
            pop.sp = np.zeros(len(pop))
            return pop, np.zeros(len(pop))
        parts, works = [], []
        for q, n in self._poisson_branches(mean):
            b = pop.copy()
            b.p = b.p * q
            b.sp = np.zeros(len(b))
            work = np.broadcast_to(n * self.wp, (len(b),)).astype(float)
            if np.any(np.asarray(n) > 0):
                self._flip(b, np.broadcast_to(np.asarray(n) > 0, (len(b),)))
            self._advance(b, work)
            parts.append(b)
            works.append(work)
        return _Pop.concat(parts, self.k), np.concatenate(works)

    def _iteration(self, pop: _Pop) -> _Pop:
        """From the end of a check phase to the next check phase: overhead, timers, poll."""
        self._advance(pop, self.delta)
        self._timers_phase(pop)
        return self._poll_busy(pop)[0]

    def _io_wait(self, pop: _Pop, latency: float) -> _Pop:
        """An awaited I/O from the end of a row, with no immediates pending.

        The loop iterates (overhead, timers phase, poll phase) until a poll phase begins at
        or after the completion; that phase resumes the row (the arrivals of its window are
        taken to run before it). A poll phase that runs arrivals' work keeps the loop busy
        for another iteration; one that runs none lets the loop block: it wakes for the next
        timer due before the completion, or else at the completion, arrivals in between
        flipping as they come (their work is charged as the mean residual at completion,
        M/D/1: rate w^2 / (2 (1 - rho)); exact with work_ms 0).
        """
        pending, out = pop.copy(), []
        pending.x = np.zeros(len(pending))
        for _ in range(10_000):
            if not len(pending):
                break
            self._advance(pending, self.delta)
            spent = self._timers_phase(pending)
            pending.x = pending.x + self.delta + spent
            branched, work = self._poll_busy(pending)
            done = branched.x >= latency - _EPS
            out.append(branched.take(done))
            busy = ~done & (work > 0)
            nxt = branched.take(busy)
            nxt.x = nxt.x + work[busy]
            idle = branched.take(~done & (work == 0))
            woke, finished = self._block(idle, latency)
            out.extend(finished)
            pending = _Pop.concat([nxt, *woke], self.k)
        else:  # pragma: no cover - a wait longer than 10,000 loop iterations
            raise NotAnalytic("an awaited I/O spans too many loop iterations for the chain")
        return _Pop.concat(out, self.k)

    def _block(self, pop: _Pop, latency: float) -> tuple[list[_Pop], list[_Pop]]:
        """The loop blocks in poll: until a timer is due or the I/O completes; arrivals
        during the block flip. Returns (woken by a timer, resumed) populations."""
        if not len(pop):
            return [], []
        rest = latency - pop.x
        nxt = pop.due.min(axis=1) if self.k else np.full(len(pop), np.inf)
        window = np.minimum(rest, np.maximum(nxt, 0.0))
        self.acc.flips += float(np.sum(pop.p * self.lam * window))
        p0 = np.exp(-self.lam * window)
        woken = nxt < rest - _EPS
        results = []
        for mask, dt, sp in ((woken, np.maximum(nxt, 0.0), 0.0), (~woken, rest + self.residual, self.residual)):
            part = pop.take(mask)
            step = dt[mask]
            self._advance(part, step)
            part.sp = np.full(len(part), sp)
            part.x = part.x + step
            quiet, flipped = part.copy(), part.copy()
            quiet.p = quiet.p * p0[mask]
            flipped.p = flipped.p * (1 - p0[mask])
            self._flip(flipped)
            results.append([quiet, flipped])
        return results[0], results[1]

    # ------------------------------------------------------------ the batch

    def _read(self, pop: _Pop, rows: int, lookups: int, row_ms: float) -> _Pop:
        """Build ``rows`` rows that each do ``lookups`` lookups; charge scans, hits and time."""
        acc, h = self.acc, self.sc.memo.hit_ms
        if lookups == 0:
            self._advance(pop, rows * row_ms)
            return pop
        f = pop.flags
        if self.snapshot:
            snap = (f & _PDEF) > 0 if self.pin else (f & _EVER) == 0
        else:
            snap = np.zeros(len(pop), dtype=bool)
        parts = []
        free = pop.take(snap)
        acc.hits += float(free.p.sum()) * rows * lookups
        self._advance(free, rows * row_ms)
        parts.append(free)
        rest = pop.take(~snap)
        if self.all_miss:
            acc.scans += float(rest.p.sum()) * rows * lookups
            parts.extend(self._scan_branches(rest, rows * lookups, rows * row_ms))
            return _Pop.concat(parts, self.k)
        bit = _AIM if not self.keyed else (_PIM if self.pin else _CIM)
        held = (rest.flags & bit) > 0
        hit = rest.take(held)
        acc.hits += float(hit.p.sum()) * rows * lookups
        if self.stale_possible:
            acc.stale += float(hit.p[(hit.flags & _CHG) > 0].sum()) * rows * lookups
        self._advance(hit, rows * (row_ms + lookups * h))
        parts.append(hit)
        miss = rest.take(~held)
        acc.scans += float(miss.p.sum()) * lookups
        acc.hits += float(miss.p.sum()) * (rows - 1) * lookups
        stored = (miss.flags | bit) & ~_CHG
        if self.keyed and self.pin:  # the pinned value is the live one if nothing changed since the list began
            stored = np.where((miss.flags & _SINCE) == 0, stored | _CIM, stored)
        miss.flags = stored
        parts.extend(self._scan_branches(miss, lookups, rows * row_ms + (rows - 1) * lookups * h))
        return _Pop.concat(parts, self.k)

    def _scan_branches(self, pop: _Pop, scans: int, fixed: float) -> list[_Pop]:
        vals, probs = self.sums.of(scans)
        out = []
        for v, q in zip(vals, probs):
            b = pop.copy()
            b.p = b.p * q
            self._advance(b, fixed + v)
            out.append(b)
        return out

    # ------------------------------------------------------------ the run

    def _initial(self) -> _Pop:
        """States when the first list starts: the idle loop has fired the timers due before
        (each timers phase one overhead after the wake-up, re-armed from its firing) and the
        poisson actors may have flipped; the memo is empty."""
        spec = self.sc.list
        t0 = spec.start_ms
        armed = [float(max(1, math.trunc(period))) for period, _, _ in self.timers]
        dues = [math.floor(start) + a for (_, _, start), a in zip(self.timers, armed)]
        clock, fired = 0.0, False
        while dues:
            wake = max(min(dues), clock)
            if wake >= t0:
                break
            now = wake + self.delta
            for _, i in sorted((d, i) for i, d in enumerate(dues) if d <= now):
                dues[i] = math.floor(now) + armed[i]
                now += self.timers[i][1]
                fired = True
            clock = now
        started = max(t0, clock)
        poisson_mass = sum(a.rate_per_s * a.count / 1000.0 * (t0 - a.start_ms)
                           for a in self.sc.actors if a.kind == "poisson" and a.count > 0)
        p_quiet = 0.0 if fired else math.exp(-poisson_mass)
        due = np.array([[d - started for d in dues]] * 2).reshape(2, self.k)
        pop = _Pop(np.array([p_quiet, 1 - p_quiet]), np.zeros(2), due, np.array([0, _EVER | _CHG], dtype=np.int64),
                   np.full(2, math.fmod(started, 1.0)))
        self.acc = _Acc()
        return self._merge(pop)

    def run(self) -> list[dict]:
        spec = self.sc.list
        L = spec.lookups_per_row
        per_row = L if spec.lookup_mode == "per_row" else 0
        plan_ = list(batches(spec))
        pop, phase, out = self._initial(), "poll", []
        for index in range(spec.count):
            self.acc = _Acc()
            yields = 0
            if self.pin:  # the list pins the live global
                f = pop.flags & ~(_SINCE | _PDEF | _PIM)
                f = np.where((f & _EVER) == 0, f | _PDEF, f)
                pop.flags = np.where((f & _CIM) > 0, f | _PIM, f)
            if spec.lookup_mode == "hoisted":
                pop = self._merge(self._read(pop, 1, L, 0.0))
            for b in plan_:
                if b.yield_before:
                    yields += 1
                    if phase == "check":
                        pop = self._merge(self._iteration(pop))
                    phase = "check"
                pop = self._merge(self._read(pop, b.rows, per_row, spec.row_cost_ms))
                if b.io_ms is not None:
                    pop = self._merge(self._io_wait(pop, b.io_ms))
                    phase = "poll"
            a = self.acc
            lookups = spec.rows * per_row + (L if spec.lookup_mode == "hoisted" else 0)
            out.append(_record(index, a.scans, a.hits, a.stale, lookups, a.flips, yields, a.ms, self.exact, "chain"))
        if self.ttl is not None:
            total = sum(r["expected_list_ms"] for r in out)
            if total >= self.ttl * 0.5:
                raise NotAnalytic(f"TTL entries can expire during the run (ttl_ms {self.ttl} vs ~{total:.1f} ms of lists)")
        return out


# --------------------------------------------------------------------------- results tables


def add_expectations(frame: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """``frame`` (a results table of ``scenario``) with expected_scans, expected_flips and
    expected_list_ms beside scans, flips and list_ms, and an ``analytic`` column:
    ``exact``, ``approximate`` or ``n/a: <reason>`` (NaN expectations)."""
    out = frame.copy()
    by_point: dict[int, list[dict] | str] = {}
    for spec in plan(scenario):
        if spec.point in by_point:
            continue
        try:
            by_point[spec.point] = expectations(spec.scenario)
        except NotAnalytic as exc:
            by_point[spec.point] = f"n/a: {exc}"
    values = {col: [] for col in EXPECTED_COLUMNS.values()}
    notes = []
    for point, index in zip(out["point"], out["list_index"]):
        found = by_point.get(int(point))
        if isinstance(found, list) and int(index) < len(found):
            rec = found[int(index)]
            for col in values:
                values[col].append(rec[col])
            notes.append("exact" if rec["exact"] else "approximate")
        else:
            for col in values:
                values[col].append(math.nan)
            notes.append(found if isinstance(found, str) else "n/a: no such list")
    for sim_col, exp_col in EXPECTED_COLUMNS.items():
        position = out.columns.get_loc(sim_col) + 1
        out.insert(position, exp_col, values[exp_col])
    out["analytic"] = notes
    return out
