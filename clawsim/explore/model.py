"""The abstract state of one list under every schedule, and its transitions.

A list is the walk of ``engine.walk.list_steps``: a batch of rows runs synchronously, and
between two batches (a setImmediate yield, an awaited read, or both) the loop may run any
actor. Before the first batch lies the gap in which the list is awaited (the pin captures
the global at its end); after a last batch that awaits a read lies one more gap. Each gap
is one *step* of the search: the actors' activations in it (and, for a TTL memo, which
entries expire), then the batch that follows.

The state between steps holds everything that decides the rest of the list, nothing more:

- ``current``: the global active workspace; ``pinned``: what the pin captured (or None);
- ``memo``: the entries, least recently used first, each ``(key workspace or None, lookup
  index j, workspace it was computed for, fresh, store rank, age)``; ``fresh`` is False once the
  registry changed after the entry was stored (what makes a TTL or unkeyed hit stale);
  ``rank`` orders entries by store time (TTL expiry removes the oldest first), renumbered;
  ``age`` counts the steps a TTL entry has lived through, capped where it may have expired;
- ``cycles``: the position of each ``cycle:K`` actor in its cycle;
- ``activations``: setter calls so far, only when a total bound F is given.

Workspaces are tokens: ``("n", name)`` for a named one (the initial workspace, ``fixed:``),
``("c", actor, i)`` for a cycle member, ``("u", k)`` for a never-seen one (``unique``) and
``("p", actor, k)`` for a member of a ``random:K`` pool. The last two are interchangeable
within their class (a never-seen workspace is like any other never-seen one; pool members are
drawn alike), so ``canonical`` renames them by first appearance (symmetry reduction).
``unique`` tokens that are neither current nor pinned can never be read again: entries of
such workspaces are dropped from an unbounded keyed memo and renamed ``("d",)`` elsewhere.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import assert_never

from ..engine import walk as list_walk
from ..errors import NotExplorable
from ..scenario import ActorSpec, Scenario, distribution

Token = tuple
Entry = tuple  # (key workspace | None, j, workspace, fresh, rank)
State = tuple  # (current, pinned, memo, cycles, activations)
Choice = tuple  # (expired entries, ((actor index, token), ...))
DEAD: Token = ("d",)

# Metrics along a schedule, in this order: the list's counters, the setter calls and activations
# in the list (flips) and in all (activations), and list_ms with every scan at the low / high cost.
METRICS = ("scans", "hits", "stale_hits", "flips", "activations", "list_ms_lo", "list_ms_hi")
Increments = tuple[float, ...]


@dataclass(frozen=True)
class Actor:
    """What the search needs of one active actor."""

    index: int
    name: str
    form: str
    k: int
    fixed: str
    lookups: int
    work_ms: float


@dataclass(frozen=True)
class Step:
    """One gap and the batch after it: ``gap`` is start, yield, io, yield+io or end (after the
    last batch, which awaited a read); ``rows`` of the batch (0 for end); ``io_ms`` the awaited
    read before it (None if none); ``hoisted`` lookups once before the rows (first step)."""

    gap: str
    rows: int
    io_ms: float | None
    hoisted: int


@dataclass(frozen=True)
class Bounds:
    """What the search bounds: activations of one actor in one gap (``per_gap``: 0, 1 or up
    to this many), and setter calls over the whole schedule (``total``, None: no bound)."""

    per_gap: int = 2
    total: int | None = None


DEFAULT_BOUNDS = Bounds()


class Model:
    """The transition system of one resolved scenario (one sweep point).

    ``steps`` are the gaps of the list walk; ``transitions(state, step)`` lists every choice
    in that gap with the canonical state after the step's batch and the metrics it adds.
    Scan costs are the ``scan_q`` quantiles of ``memo.scan_ms`` (low, high).
    """

    def __init__(self, scenario: Scenario, bounds: Bounds = DEFAULT_BOUNDS, scan_q: tuple[float, float] = (0.05, 0.95)):
        check_explorable(scenario)
        self.scenario, self.bounds = scenario, bounds
        spec, memo = scenario.list, scenario.memo
        self.initial: Token = ("n", scenario.registry.initial_workspace)
        self.pin = scenario.registry.pinned
        self.keyed, self.fingerprinted, self.slots = memo.keyed, memo.fingerprinted, memo.slots
        self.ttl = memo.rules.expires
        self.refresh = memo.rules.refresh_on_hit  # a hit makes its entry the newest (all but fifo)
        self.snapshot = self.initial if memo.current_snapshot else None
        self.row_lookups, self.row_cost_ms, self.hit_ms = spec.row_lookups, spec.row_cost_ms, memo.hit_ms
        self.iteration_ms = scenario.loop.iteration_ms
        scan = distribution(memo.scan_ms)
        self.scan_ms = (scan.quantile(scan_q[0]), scan.quantile(scan_q[1]))
        self.actors = tuple(_actor(i, a) for i, a in enumerate(scenario.actors) if a.active)
        self.settable = {("n", a.fixed) for a in self.actors if a.form == "fixed"}
        self.cycle_of = {a.index: n for n, a in enumerate(x for x in self.actors if x.form == "cycle")}
        self.steps = tuple(_steps(scenario))
        self.expiry_age = self._expiry_age(memo.rules.ttl_ms)
        self._cache: dict[tuple[State, Step], list[tuple[Choice, State, Increments]]] = {}

    def _expiry_age(self, ttl_ms: float | None) -> int:
        """Steps an entry must have lived through before it may have expired: no step of any
        schedule lasts longer than ``longest`` ms (every lookup a scan at the high cost, every
        actor at its bound in the gap, the read's whole latency), so an entry stored in step s
        is younger than ttl_ms in every step t with (t - s + 1) * longest < ttl_ms."""
        if ttl_ms is None:
            return 0
        acts = self.bounds.per_gap * sum(a.work_ms + a.lookups * self.scan_ms[1] for a in self.actors)
        longest = max(
            s.rows * (self.row_cost_ms + self.row_lookups * max(self.scan_ms[1], self.hit_ms))
            + s.hoisted * self.scan_ms[1]
            + acts
            + (s.io_ms or 0.0)
            + self.iteration_ms
            for s in self.steps
        )
        return max(0, math.ceil(ttl_ms / longest) - 1) if longest > 0 else 0

    @property
    def start(self) -> State:
        """The state before the first gap: the initial workspace, an empty memo."""
        return (self.initial, None, (), tuple(0 for _ in self.cycle_of), 0 if self.bounds.total is not None else None)

    @property
    def list_lookups(self) -> int:
        """Keys one list reads from one workspace: the bound the pin promises on its scans."""
        return self.row_lookups or self.scenario.list.hoisted_lookups

    def transitions(self, state: State, step: Step) -> list[tuple[Choice, State, Increments]]:
        """Every choice of the gap before ``step``'s batch from canonical ``state``: the
        choice, the canonical state after the batch, and the metrics added (see METRICS)."""
        key = (state, step)
        cached = self._cache.get(key)
        if cached is None:
            cached = [(choice, canonical(self, after)[0], inc) for choice, after, inc in self.successors(state, step)]
            self._cache[key] = cached
        return cached

    def successors(self, state: State, step: Step) -> Iterator[tuple[Choice, State, Increments]]:
        """As ``transitions``, with the states after each batch not canonicalised."""
        for expired, mid in self._expiries(state, step):
            for acts, gap_state, gap_inc in self._gap(mid, step, (), (0.0,) * len(METRICS)):
                after, batch_inc = self.batch(gap_state, step)
                after = self._aged(after)
                yield (expired, acts), after, tuple(a + b for a, b in zip(gap_inc, batch_inc, strict=True))

    def apply(self, state: State, step: Step, choice: Choice) -> tuple[State, Increments]:
        """The state after ``step`` with this ``choice`` (tokens as in ``state``), and the metrics
        it adds: one schedule's step, for replaying a schedule found by the search."""
        expired, acts = choice
        mid = _expire(state, expired)
        inc = [0.0] * len(METRICS)
        for index, token in acts:
            mid, add = self.activate(mid, self.actor(index), token, step)
            inc = [a + b for a, b in zip(inc, add, strict=True)]
        gap_inc = self._gap_time(step, tuple(inc))
        after, batch_inc = self.batch(mid, step)
        return self._aged(after), tuple(a + b for a, b in zip(gap_inc, batch_inc, strict=True))

    def actor(self, index: int) -> Actor:
        """The active actor at ``index`` in the scenario's list."""
        return next(a for a in self.actors if a.index == index)

    def gone(self, token: Token) -> bool:
        """Whether a workspace, once neither current nor pinned, can never be set again: a
        never-seen one, or a name no actor sets (the initial workspace, unless ``fixed:`` to it)."""
        return token[0] in ("u", "d") or (token[0] == "n" and token not in self.settable)

    def _aged(self, state: State) -> State:
        """One step later: TTL entries' ages (steps lived through) grow, capped where expiry
        becomes possible (``expiry_age``), so that ages never tell states apart past it."""
        if not self.ttl:
            return state
        cap = self.expiry_age
        memo = tuple((*e[:5], min(cap, e[5] + 1)) for e in state[2])
        return (state[0], state[1], memo, state[3], state[4])

    def _expiries(self, state: State, step: Step) -> Iterator[tuple[int, State]]:
        """TTL expiry before the gap's activations: the ``n`` oldest-stored entries, for any n up
        to the number of entries old enough to have expired (``expiry_age``)."""
        yield 0, state
        if self.ttl and step.gap != "start":
            old = sum(1 for e in state[2] if e[5] >= self.expiry_age)
            for n in range(1, old + 1):
                yield n, _expire(state, n)

    def _gap(self, state: State, step: Step, acts: tuple, inc: Increments) -> Iterator[tuple[tuple, State, Increments]]:
        """Every sequence of activations in one gap (each actor at most ``bounds.per_gap`` times)."""
        yield acts, state, self._gap_time(step, inc)
        total = state[4]
        if total is not None and total >= (self.bounds.total or 0):
            return
        for actor in self.actors:
            if sum(1 for i, _ in acts if i == actor.index) >= self.bounds.per_gap:
                continue
            for token in self.workspace_choices(state, actor, acts):
                after, add = self.activate(state, actor, token, step)
                yield from self._gap(
                    after, step, (*acts, (actor.index, token)), tuple(a + b for a, b in zip(inc, add, strict=True))
                )

    def _gap_time(self, step: Step, inc: Increments) -> Increments:
        """The gap's activations' time, turned into list time: the list waits for a read
        (``io_ms``) and for the thread, and a yield costs one loop iteration."""
        if step.gap == "start":
            return inc[:5] + (0.0, 0.0)
        wait = step.io_ms or 0.0
        yielded = self.iteration_ms if "yield" in step.gap else 0.0
        return inc[:5] + (max(wait, inc[5]) + yielded, max(wait, inc[6]) + yielded)

    def workspace_choices(self, state: State, actor: Actor, acts: tuple) -> list[Token]:
        """The workspaces an activation of ``actor`` may set from ``state``: a new one (unique),
        the next of its cycle, its fixed one, or any pool member (one unseen one stands for all)."""
        match actor.form:
            case "unique":
                used = [t[1] for t in _tokens(state) if t[0] == "u"] + [t[1] for _, t in acts if t[0] == "u"]
                return [("u", max(used, default=-1) + 1)]
            case "cycle":
                return [("c", actor.index, state[3][self.cycle_of[actor.index]])]
            case "fixed":
                return [("n", actor.fixed)]
            case _:
                seen = sorted({t[2] for t in _tokens(state) if t[0] == "p" and t[1] == actor.index})
                unseen = [("p", actor.index, max(seen, default=-1) + 1)] if len(seen) < actor.k else []
                return [("p", actor.index, k) for k in seen] + unseen

    def activate(self, state: State, actor: Actor, token: Token, step: Step) -> tuple[State, Increments]:
        """One activation: set the global to ``token``, look it up ``actor.lookups`` times, work."""
        current, pinned, memo, cycles, total = state
        if token != current and not self.fingerprinted:
            memo = tuple((*e[:3], False, *e[4:]) for e in memo)
        if actor.form == "cycle":
            n = self.cycle_of[actor.index]
            cycles = (*cycles[:n], (cycles[n] + 1) % actor.k, *cycles[n + 1 :])
        held = [actor.work_ms, actor.work_ms]
        for j in range(actor.lookups):
            memo, hit, _stale, paid = self.lookup(memo, token, j)
            for i in (0, 1):
                held[i] += (self.hit_ms if paid else 0.0) if hit else self.scan_ms[i]
        in_list = step.gap != "start"
        after = (token, pinned, memo, cycles, None if total is None else total + 1)
        return after, (0, 0, 0, int(in_list), 1, held[0], held[1])

    def lookup(self, memo: tuple, ws: Token, j: int) -> tuple[tuple, bool, bool, bool]:
        """One lookup of key j of ``ws``: (memo after, hit, stale, paid: a memo hit, not the snapshot)."""
        if ws == self.snapshot:
            return memo, True, False, False
        kw = ws if self.keyed else None
        for i, e in enumerate(memo):
            if e[1] == j and e[0] == kw:
                stale = not self.fingerprinted and (e[2] != ws or not e[3])
                return (memo[:i] + memo[i + 1 :] + (e,) if self.refresh else memo), True, stale, True
        if self.slots == 0:
            return memo, False, False, False
        rank = max((e[4] for e in memo), default=-1) + 1 if self.ttl else 0
        memo = (*memo, (kw, j, ws, True, rank, 0))
        if self.slots is not None and len(memo) > self.slots:
            memo = memo[1:]
        return memo, False, False, False

    def batch(self, state: State, step: Step) -> tuple[State, Increments]:
        """The batch after a gap: pin at the list's start, hoisted lookups, then the rows; a row
        that leaves the memo as it found it repeats exactly, so the rest are counted at once."""
        current, pinned, memo, cycles, total = state
        if step.gap == "start" and self.pin:
            pinned = current
        ws = pinned if pinned is not None else current
        counts = [0, 0, 0, 0]  # scans, hits, stale, paid hits
        for j in range(step.hoisted):
            memo = self._count(memo, ws, j, counts)
        rows_done = 0
        while rows_done < step.rows:
            before, row = memo, [0, 0, 0, 0]
            for j in range(self.row_lookups):
                memo = self._count(memo, ws, j, row)
            rows_done += 1
            repeat = step.rows - rows_done + 1 if _same(before, memo) else 1
            rows_done += repeat - 1
            counts = [c + repeat * r for c, r in zip(counts, row, strict=True)]
        scans, hits, stale, paid = counts
        fixed = step.rows * self.row_cost_ms + paid * self.hit_ms
        inc = (scans, hits, stale, 0, 0, fixed + scans * self.scan_ms[0], fixed + scans * self.scan_ms[1])
        return (current, pinned, memo, cycles, total), inc

    def _count(self, memo: tuple, ws: Token, j: int, counts: list[int]) -> tuple:
        memo, hit, stale, paid = self.lookup(memo, ws, j)
        counts[0] += not hit
        counts[1] += hit
        counts[2] += stale
        counts[3] += paid
        return memo


def _same(before: tuple, after: tuple) -> bool:
    """Whether a row left the memo as it found it (store ranks compared by order only)."""
    if len(before) != len(after):
        return False
    return all(a[:4] == b[:4] for a, b in zip(before, after, strict=True)) and _ranks(before) == _ranks(after)


def _ranks(memo: tuple) -> list[int]:
    order = sorted({e[4] for e in memo})
    return [order.index(e[4]) for e in memo]


def _expire(state: State, n: int) -> State:
    """The state with the ``n`` oldest-stored memo entries gone."""
    if n == 0:
        return state
    oldest = set(sorted(e[4] for e in state[2])[:n])
    memo = tuple(e for e in state[2] if e[4] not in oldest)
    return (state[0], state[1], memo, state[3], state[4])


def _tokens(state: State) -> Iterator[Token]:
    """The workspace tokens of a state, in canonical order: current, pinned, then the memo's."""
    yield state[0]
    if state[1] is not None:
        yield state[1]
    for e in state[2]:
        if e[0] is not None:
            yield e[0]
        yield e[2]


def canonical(model: Model, state: State) -> tuple[State, dict[Token, Token]]:
    """The representative of ``state``'s class: dead workspaces pruned, unique and pool tokens
    renamed by first appearance, store ranks renumbered; and the renaming (canonical -> given)."""
    current, pinned, memo, cycles, total = state
    live = {current, pinned}
    if model.keyed and model.slots is None:
        memo = tuple(e for e in memo if e[0] in live or not model.gone(e[0]))
    dead = {t for t in _tokens((current, pinned, memo, cycles, total)) if t not in live and model.gone(t)}
    names: dict[Token, Token] = {DEAD: DEAD}
    counters: dict[tuple, int] = {}

    def name(t: Token | None) -> Token | None:
        if t in dead:
            return DEAD
        if t is None or t[0] in ("n", "c"):
            return t
        if t not in names:
            cls = t[:-1]
            counters[cls] = counters.get(cls, -1) + 1
            names[t] = (*cls, counters[cls])
        return names[t]

    order = sorted({e[4] for e in memo})
    new_memo = []
    for e in memo:
        new_memo.append((name(e[0]), e[1], name(e[2]), e[3], order.index(e[4]) if model.ttl else 0, e[5]))
    result = (name(current), name(pinned), tuple(new_memo), cycles, total)
    return result, {v: k for k, v in names.items()}


def check_explorable(scenario: Scenario) -> None:
    """Refuse, in one line, what the search does not model."""
    if not scenario.resolved:
        raise NotExplorable("the scenario has a sweep or variants: pass one resolved point")
    spec = scenario.list
    if spec.polled or spec.count != 1:
        raise NotExplorable(
            "explore follows one list per run (list.count 1, no polling); lists that overlap or follow each other share the memo in ways its state does not hold"
        )
    if spec.setup_ms != 0 or scenario.memo.miss_overhead_ms != 0 or scenario.memo.pre_miss_ms != 0:
        raise NotExplorable(
            "explore does not model list.setup_ms, memo.miss_overhead_ms or memo.pre_miss_ms (their time moves the "
            "windows it searches); set them to 0"
        )


def _actor(index: int, spec: ActorSpec) -> Actor:
    """An actor as the search sees it. Copies of a ``cycle:K`` actor each keep their own place
    in the cycle, so their activations may set any of the K: they are searched as a pool."""
    form, arg = spec.workspaces.form, spec.workspaces.arg
    if form == "cycle" and spec.count > 1:
        form = "random"
    k = arg if isinstance(arg, int) else 1
    return Actor(index, spec.name, form, k, str(arg), spec.lookups, spec.work_ms)


def _steps(scenario: Scenario) -> Iterator[Step]:
    """The list's batches as the search steps through them (``engine.walk.list_steps``): each
    with the gap before it (start, yield, io or both) and the hoisted lookups before the first."""
    gap, yielded, io, hoisted = "start", False, None, 0
    for step in list_walk.list_steps(scenario.list, scenario.registry.pinned):
        match step:
            case list_walk.Rows(rows=rows):
                if gap != "start":
                    gap = "+".join(p for p, on in (("yield", yielded), ("io", io is not None)) if on)
                yield Step(gap, rows, io, hoisted)
                gap, yielded, io, hoisted = "", False, None, 0
            case list_walk.Yield():
                yielded = True
            case list_walk.AwaitIO(ms=ms):
                io = ms
            case list_walk.HoistedLookups(lookups=lookups):
                hoisted = lookups
            case list_walk.Pin():
                pass  # the search holds the pinned value in its state (``Model.pin``)
            case list_walk.Setup():
                raise NotExplorable("explore does not model list.setup_ms (check_explorable refuses it)")
            case _:
                assert_never(step)
    if io is not None:
        yield Step("end", 0, io, 0)
