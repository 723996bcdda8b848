"""Where the models apply: every reason a scenario is "not analytic", in one place.

``model_for(scenario)`` runs the checks that need only the scenario, in a fixed order (so a
scenario outside the models always gets the same reason), and names the model that covers
it. Two limits depend on the walk itself and are checked as it goes: TTL entries that could
expire within the run (``check_ttl_*``), and an awaited I/O the chain cannot follow
(``too_long_wait``). Each raises ``NotAnalytic`` with a one-line reason.
"""

from __future__ import annotations

from typing import assert_never

from ..errors import NotAnalytic
from ..scenario import ActorSpec, BurstActor, CostMs, ImmediateActor, IntervalActor, MemoSpec, PoissonActor, Scenario
from ..scenario.costs import distribution
from .chain_params import arrival_rate_per_ms, poisson_work_ms
from .expectation import Model


def model_for(scenario: Scenario) -> Model:
    """``immediate`` (immediate actors, or none) or ``chain`` (interval and poisson actors).

    Raises ``NotAnalytic`` naming the first reason neither model covers the scenario.
    """
    _check_common(scenario)
    if {_model_of(a) for a in scenario.active_actors} <= {"immediate"}:
        _check_immediate(scenario)
        return "immediate"
    _check_chain(scenario)
    return "chain"


def _model_of(actor: ActorSpec) -> Model:
    """The model that follows an actor kind (an allow-list: a new kind must be placed here)."""
    match actor:
        case ImmediateActor():
            return "immediate"
        case IntervalActor() | PoissonActor():
            return "chain"
        case BurstActor():
            raise NotAnalytic(f"burst actor {actor.name!r}: neither model follows bursts of activations")
        case _:
            assert_never(actor)


def _check_memo(memo: MemoSpec) -> None:
    """The memo policies the models know (an allow-list: a new policy must be placed here)."""
    match memo.rules.name:
        case "none" | "single" | "lru" | "ttl" | "fifo":  # fifo: only where it is an LRU (below)
            pass
        case _:
            assert_never(memo.rules.name)
    if not memo.rules.evicts_in_lru_order:  # TokenMemo's reuse distance and the chain's held bits
        raise NotAnalytic(f"memo.policy {memo.policy} does not evict least recently used first")


def _check_common(scenario: Scenario) -> None:
    if not scenario.resolved:
        raise NotAnalytic(
            "the scenario has a sweep or variants: pass one resolved point (clawsim.plan(scenario)[i].scenario)"
        )
    _check_memo(scenario.memo)
    spec = scenario.list
    if spec.polled:
        raise NotAnalytic("lists started by polling overlap; no closed form for overlapping lists")
    if spec.gap_ms and spec.count > 1:
        raise NotAnalytic("lists gap_ms apart start in a timers phase; only back-to-back lists (no gap_ms) are covered")
    if any(a.lookups > 0 for a in scenario.active_actors):
        raise NotAnalytic("actors do their own lookups, which store and evict the list's memo entries")
    if scenario.spinning and len(scenario.actor_kinds) > 1:
        raise NotAnalytic("immediate actors mixed with timer or poisson actors")


def _check_immediate(scenario: Scenario) -> None:
    for a in scenario.active_actors:
        if a.start_ms > 0:
            raise NotAnalytic(f"immediate actor {a.name!r} starts late (start_ms > 0): its first flip is a timer")
        if a.workspaces.form == "random":
            raise NotAnalytic(f"immediate actor {a.name!r} draws random workspaces: the keys are random")


def _check_chain(scenario: Scenario) -> None:
    spec, memo, actors = scenario.list, scenario.memo, scenario.active_actors
    pin = scenario.registry.pinned
    unique = all(a.workspaces.form == "unique" for a in actors)
    # one pinned list with a keyed memo reads one value: a restored key cannot matter
    if not unique and not (pin and spec.count == 1 and memo.fingerprinted and not memo.current_snapshot):
        raise NotAnalytic(
            "timer/poisson actors with repeating workspaces: a flip may restore a key the memo holds "
            "(covered only with workspaces: unique, or one pinned list with a keyed memo)"
        )
    poisson = [a for a in actors if isinstance(a, PoissonActor)]
    if len({a.work_ms for a in poisson}) > 1:
        raise NotAnalytic("poisson actors with different work_ms: the window then depends on which actor arrived")
    for a in poisson:
        if a.start_ms > spec.start_ms:
            raise NotAnalytic(f"poisson actor {a.name!r} starts after the list (start_ms): the rate changes mid-list")
    rho = arrival_rate_per_ms(scenario) * poisson_work_ms(scenario)
    if rho >= 1:
        raise NotAnalytic(f"poisson actors keep the loop busy (rate x work_ms = {rho:.2f} >= 1): no steady state")


def check_ttl_immediate(memo: MemoSpec, duration_ms: float) -> None:
    """No TTL entry may expire within the walk's ``duration_ms`` (half the TTL if scans are drawn:
    the walk charges mean costs, a run may take longer)."""
    ttl_ms = memo.rules.ttl_ms
    if ttl_ms is not None and duration_ms >= ttl_ms * _ttl_margin(memo.scan_ms):
        raise NotAnalytic(
            f"TTL entries can expire during the run (ttl_ms {memo.ttl_ms} < the run's {duration_ms:.1f} ms)"
        )


def _ttl_margin(scan_ms: CostMs) -> float:
    return 0.5 if distribution(scan_ms).drawn else 1


def check_ttl_chain(ttl_ms: float | None, total_ms: float) -> None:
    """No TTL entry may expire within ``total_ms``, the expected time of all lists (with a
    factor 2 of margin: the chain's times are random)."""
    if ttl_ms is not None and total_ms >= ttl_ms * 0.5:
        raise NotAnalytic(f"TTL entries can expire during the run (ttl_ms {ttl_ms} vs ~{total_ms:.1f} ms of lists)")


def too_long_wait() -> NotAnalytic:
    """The error for an awaited I/O the chain gave up following (more loop passes than it allows)."""
    return NotAnalytic("an awaited I/O spans too many loop iterations for the chain")
