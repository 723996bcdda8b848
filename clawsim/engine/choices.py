"""Every nondeterministic decision of a run, through one chooser.

What a run leaves open is who sets the global when: how many activations of each actor land
in each gap of a list (before it starts, at each setImmediate yield, during each awaited read),
which workspace each one sets, and when TTL entries expire relative to the lookups. A
``Chooser`` decides all of it:

- ``Seeded`` (the default) leaves it to the seeded random streams and the event loop: each
  actor copy is armed with its own stream (``actors.start_actor``), arrivals and random
  workspaces are drawn, TTL entries expire by the clock. Runs are what they always were.
- ``Scheduled`` replays a schedule (``clawsim explore``'s files): no actor arms itself; in gap
  g of the list the schedule's oldest-stored TTL entries are dropped and its activations run,
  in order, queued ahead of the list's continuation (a list resuming from a read runs any
  that have not run yet first), so any run of the search replays exactly.

The list asks ``gap(world, g)`` once per gap (``listing.session_list``): for the seeded
chooser that is one call returning None per yield, nothing per row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from .actors import Stream, activate, armed_copies, start_actor
from .loop import Task, Work

if TYPE_CHECKING:
    from ..scenario import ActorSpec, Scenario
    from .world import World


class Chooser(Protocol):
    """The one interface through which a run's open decisions are made (see the module)."""

    def arm(self, world: World, scenario: Scenario, stream: Callable[[int], Stream]) -> None:
        """Arm what acts on its own before the loop starts; ``stream(k)`` is random stream k."""

    def gap(self, world: World, index: int) -> Task | None:
        """The activations scripted for gap ``index`` of the list, or None."""


class Seeded:
    """The seeded random draws: stream k (k >= 1) drives the k-th actor copy, in file order."""

    def arm(self, world: World, scenario: Scenario, stream: Callable[[int], Stream]) -> None:
        first = 1  # stream of the actor's copy 0: copies are numbered on over all actors
        aggregated = world.loop.arrivals is not None
        for actor in scenario.actors:
            for copy in range(armed_copies(actor, aggregated)):
                start_actor(world, actor, copy, stream(first + copy))
            first += actor.count

    def gap(self, world: World, index: int) -> Task | None:
        return None


SEEDED = Seeded()


@dataclass(frozen=True)
class ScheduledGap:
    """Gap ``index``: drop the ``expire`` oldest-stored memo entries, then run ``activations``
    (actor name, workspace) in order."""

    expire: int
    activations: tuple[tuple[str, str], ...]


class Scheduled:
    """A schedule replayed: the actors never arm themselves; gap g runs ``gaps[g]``."""

    def __init__(self, gaps: Mapping[int, ScheduledGap], actors: Mapping[str, ActorSpec]):
        self.gaps, self.actors = dict(gaps), dict(actors)

    def arm(self, world: World, scenario: Scenario, stream: Callable[[int], Stream]) -> None:
        return None

    def gap(self, world: World, index: int) -> Task | None:
        scheduled = self.gaps.get(index)
        return None if scheduled is None else self._run(world, scheduled)

    def _run(self, world: World, scheduled: ScheduledGap) -> Task:
        entries = world.cache.memo.entries
        for key in sorted(entries, key=lambda k: entries[k][0])[: scheduled.expire]:
            del entries[key]
        for name, workspace in scheduled.activations:
            yield Work(activate(world, self.actors[name], workspace, world.loop.now))
