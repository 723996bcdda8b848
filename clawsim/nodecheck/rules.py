"""How each metric of a scenario is judged against Node: ``Rule`` and ``rules(scenario)``.

The bounds are justified in validation/README.md ("The rules and their bounds").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, assert_never

from ..scenario import ActorSpec, BurstActor, ImmediateActor, IntervalActor, MemoSpec, PoissonActor, Scenario

#: Metrics compared per list, in this order.
METRICS = ("scans", "hits", "stale_hits", "flips", "changes", "distinct_workspaces", "yields", "list_ms")
#: The counts (every metric but list_ms and yields) that timers, random draws or reads move.
COUNTS = ("scans", "hits", "stale_hits", "flips", "changes", "distinct_workspaces")

LIST_MS_REL = 0.10  # CPU-bound lists: CPU time within 10% of clawsim's list_ms...
LIST_MS_ABS = 1.0  # ... or within 1 ms
LIST_MS_IO_REL = 0.15  # lists that await I/O: wall time, given the I/O time Node measured
TIMER_REL, TIMER_ABS = 0.25, 2.0  # counts that depend on timers or TTLs
IO_FLIPS_RATIO = 4.0  # flips during awaited I/O: one per loop iteration, 1.4-5.5 us each on this VM
LIST_MS_POLLED_REL = 0.35  # overlapping polled lists: a tick one batch early lengthens every list beside it
SPREAD_SEEDS = 30  # simulations with other seeds that give clawsim's spread for random scenarios
SPREAD_SD = 3.5  # Node within this many of clawsim's standard deviations (plus one step)


@dataclass(frozen=True)
class Rule:
    """One metric's bound. ``str()`` is the text the comparison table shows.

    - ``exact``: Node must equal clawsim;
    - ``spread``: ``|node - mean| <= SPREAD_SD * sd + step`` (mean and sd over other seeds);
    - ``within``: ``|node - expected| <= max(atol, rtol * |expected|)``;
    - ``ratio``: within a factor ``factor`` (both sides at least 1).

    ``clock`` (list_ms only) says which of Node's times is judged: ``cpu`` or ``wall``.
    """

    kind: Literal["exact", "spread", "within", "ratio"]
    rtol: float = 0.0
    atol: float = 0.0
    factor: float = 1.0
    clock: Literal["cpu", "wall"] | None = None

    def __str__(self) -> str:
        if self.kind == "within":
            text = f"within {self.rtol:.0%}|{self.atol:g}"
        elif self.kind == "ratio":
            text = f"ratio {self.factor:g}"
        else:
            text = self.kind
        return f"{self.clock} {text}" if self.clock else text

    def judge(self, expected: float, got: float, *, sd: float = 0.0, step: float = 1.0) -> bool:
        """Whether Node's ``got`` passes against clawsim's ``expected`` (``sd``, ``step``: spread only)."""
        if self.kind == "exact":
            return got == expected
        if self.kind == "spread":
            return abs(got - expected) <= SPREAD_SD * sd + step
        if self.kind == "ratio":
            return max(expected, 1.0) / self.factor <= max(got, 1.0) <= max(expected, 1.0) * self.factor
        return abs(got - expected) <= max(self.atol, self.rtol * abs(expected))


EXACT = Rule("exact")
SPREAD = Rule("spread")
TIMED = Rule("within", rtol=TIMER_REL, atol=TIMER_ABS)
IO_FLIPS = Rule("ratio", factor=IO_FLIPS_RATIO)


def rules(scenario: Scenario) -> dict[str, Rule]:
    """How each metric of this (resolved) scenario is judged.

    ``exact``; ``spread`` (within clawsim's spread over other seeds); ``within R%|A`` (within R
    of clawsim's value or within A, whichever is wider); ``ratio F`` (within a factor F); for
    list_ms ``cpu within ...`` (the list's CPU time: lists that never wait for I/O keep the
    thread busy, so their CPU time is their length on an idle machine) or ``wall within ...``
    (lists that await I/O).

    Counts are exact when the order of callbacks is fixed: only immediate actors started at
    t = 0, lists started at t = 0 back to back, no polling, no ``gap_ms``, no TTL, no awaited
    I/O. Awaited I/O alone keeps scans, hits and distinct workspaces exact when every actor
    is immediate with ``unique`` workspaces (each awaited row then reads a new value, however
    many loop turns the wait lasted), but not flips: an immediate actor flips once per loop
    iteration while a row waits, and that number is a property of the machine.
    """
    lst, actors = scenario.list, scenario.active_actors
    orders = {_actor_order(a) for a in actors}
    poisson = "random" in orders
    random_ws = any(a.workspaces.form == "random" for a in actors)
    timers = "timed" in orders or lst.polled or bool(lst.gap_ms) or lst.start_ms > 0 or _memo_timed(scenario.memo)
    io = lst.io_rows > 0
    out = dict.fromkeys(METRICS, EXACT)
    if poisson:
        out.update(dict.fromkeys(COUNTS, SPREAD))
    elif timers or random_ws:
        out.update(dict.fromkeys(COUNTS, _timed(actors)))
    if io and not poisson and actors:
        out.update(dict.fromkeys(("flips", "changes"), IO_FLIPS))
        if not _unique_immediates(scenario):
            out.update(dict.fromkeys(("scans", "hits", "stale_hits", "distinct_workspaces"), TIMED))
    out["list_ms"] = _list_ms_rule(scenario)
    return out


def _timed(actors: Sequence[ActorSpec]) -> Rule:
    """``TIMED``, its absolute slack at least one timer firing's activations: a list that runs a
    little longer on Node than in clawsim (within its own rule) may see one firing more, and a
    burst's firing is ``size`` flips at once."""
    per_firing = max((_activations_per_firing(a) for a in actors), default=1)
    return Rule("within", rtol=TIMER_REL, atol=max(TIMER_ABS, float(per_firing)))


def _activations_per_firing(actor: ActorSpec) -> int:
    match actor:
        case BurstActor():
            return actor.size
        case ImmediateActor() | IntervalActor() | PoissonActor():
            return 1
        case _:
            assert_never(actor)


def _actor_order(actor: ActorSpec) -> Literal["fixed", "timed", "random"]:
    """When an actor's activations run against the list's callbacks: in a fixed order (immediate
    from t = 0), at times (timers, a late start) or at random (inbound turns)."""
    match actor:
        case ImmediateActor() if actor.start_ms == 0:
            return "fixed"
        case ImmediateActor() | IntervalActor() | BurstActor():
            return "timed"
        case PoissonActor():
            return "random"
        case _:
            assert_never(actor)


def _memo_timed(memo: MemoSpec) -> bool:
    """Whether the memo's answers depend on time (entries that expire)."""
    match memo.rules.name:
        case "ttl":
            return True
        case "none" | "single" | "lru" | "fifo":
            return False
        case _:
            assert_never(memo.rules.name)


def _list_ms_rule(scenario: Scenario) -> Rule:
    """Wall time for lists that await reads; CPU time otherwise (wider for overlapping polled lists)."""
    if scenario.list.io_rows > 0:
        return Rule("within", rtol=LIST_MS_IO_REL, atol=LIST_MS_ABS, clock="wall")
    rtol = LIST_MS_POLLED_REL if scenario.list.polled else LIST_MS_REL
    return Rule("within", rtol=rtol, atol=LIST_MS_ABS, clock="cpu")


def _unique_immediates(scenario: Scenario) -> bool:
    """Whether every active actor is immediate, started at t = 0, with ``unique`` workspaces."""
    return all(
        isinstance(a, ImmediateActor) and a.start_ms == 0 and a.workspaces.form == "unique"
        for a in scenario.active_actors
    )
