"""The offered load of the thread: how much of each second the actors ask it to work.

rho = sum over poisson actors of rate_per_s x count x work_ms / 1000, plus sum over interval
actors of count x work_ms / period_ms, and over burst actors of count x size x work_ms / period_ms
(timer actors' periods only lengthen when the loop is late, so theirs is an upper bound). With rho >= 1 the actors alone ask for more than the
one thread can give: arrivals queue without bound and a run halts (``completed: false``)
instead of finishing its lists. The list's own work comes on top (it is one finite job, not
a rate), so a load just below 1 may still saturate during a long list.
"""

from __future__ import annotations

from typing import assert_never

from ..errors import NotAnalytic
from ..scenario import BurstActor, ImmediateActor, IntervalActor, PoissonActor, Scenario


def offered_load(scenario: Scenario) -> float:
    """rho of one resolved scenario (see the module); NotAnalytic where no rate is known: an
    immediate actor (it takes every loop iteration it can) or an actor doing its own lookups
    (their scans depend on the memo's state)."""
    if not scenario.resolved:
        raise NotAnalytic("the scenario has a sweep or variants: pass one resolved point")
    rho = 0.0
    for actor in scenario.active_actors:
        if actor.lookups > 0:
            raise NotAnalytic(f"actor {actor.name!r} does its own lookups, whose scans depend on the memo")
        match actor:
            case PoissonActor():
                rho += actor.rate_per_s * actor.count * actor.work_ms / 1000.0
            case IntervalActor():
                rho += actor.count * actor.work_ms / max(actor.period_ms, 1.0)  # Node clamps to 1 ms
            case BurstActor():
                rho += actor.count * actor.size * actor.work_ms / actor.period_ms
            case ImmediateActor():
                raise NotAnalytic(f"immediate actor {actor.name!r} runs in every loop iteration: no rate")
            case _:
                assert_never(actor)
    return rho
