"""A schedule file replayed: by the model, on the real Node.js loop, and (``trace``) by the engine.

``node_check`` drives the Node harness through the schedule's interleaving (no actor arms
itself; each gap's activations are queued ahead of the list's continuation) and sets its
counts beside the model's: scans, hits, stale hits and flips are fixed by the order of the
callbacks alone, so they must be equal.
"""

from __future__ import annotations

from dataclasses import dataclass

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
