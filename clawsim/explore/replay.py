"""A schedule file replayed: by the model, on the real Node.js loop, and (``trace``) by the engine.

``node_check`` drives the Node harness through the schedule's interleaving (no actor arms
itself; each gap's activations are queued ahead of the list's continuation) and sets its
counts beside the model's: scans, hits, stale hits and flips are fixed by the order of the
callbacks alone, so they must be equal.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..engine.choices import Scheduled, ScheduledGap
from .schedule import Loaded, engine_gaps

COUNTED = ("scans", "hits", "stale_hits", "flips")


@dataclass(frozen=True)
class Row:
    """One metric: what the model says the schedule gives, what Node gave, and whether equal."""

    metric: str
    model: float
    node: float

    @property
    def equal(self) -> bool:
        return self.model == self.node


def node_check(loaded: Loaded, timeout: float | None = None) -> list[Row]:
    """Run the schedule's point on Node with the schedule; the counts beside the model's."""
    from ..nodecheck import run_resolved

    records = run_resolved(loaded.scenario, 0, timeout=timeout, schedule=engine_gaps(loaded.schedule))
    record = records[0]
    return [Row(m, loaded.expect[m], float(record[m])) for m in COUNTED]


def chooser(loaded: Loaded) -> Scheduled:
    """The engine's chooser that replays the schedule (``engine.choices.Scheduled``)."""
    actors = {a.name: a for a in loaded.scenario.actors}
    gaps = {g.index: ScheduledGap(g.expire, g.activations) for g in loaded.schedule.gaps}
    return Scheduled(gaps, actors)


def engine_replay(loaded: Loaded) -> dict[str, float]:
    """The schedule run by the engine (no random draw decides anything but scan costs): the
    list's record."""
    from ..engine.run import simulate_once

    return simulate_once(loaded.scenario, 0, chooser=chooser(loaded))[0]
