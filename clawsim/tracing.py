"""See one run: trace chosen runs of a scenario and write them in the formats users read.

For each traced run ``N``: ``run-N.timeline.jsonl`` (the openclaw diagnostics timeline),
``run-N.trace.json`` (Chrome Trace Event format, for Perfetto and chrome://tracing) and
``run-N.timeline.png`` (a Gantt chart of the event loop); when the chosen runs differ
only in ``registry.fix``, also one before/after PNG on a shared time axis. A trace is
made by the same engine run that makes the run's record, so its counts equal the record's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .engine.run import simulate_once
from .engine.trace import TraceInstant, TraceSpan, Tracer
from .errors import UsageError
from .scenario import Plan, RunSpec, Scenario, plan

DEFAULT_RUNS = 6  # runs traced by default: the first run of each sweep point, at most this many


@dataclass(frozen=True)
class TracedRun:
    """One traced run: its plan entry, its records (as ``clawsim.simulate`` gives them) and events."""

    spec: RunSpec
    records: list[dict]
    spans: tuple[TraceSpan, ...]
    instants: tuple[TraceInstant, ...]


def trace_run(spec: RunSpec) -> TracedRun:
    """Simulate one planned run with a tracer attached."""
    tracer = Tracer(hit_spans=spec.scenario.memo.hit_spans)
    keys = {"run": spec.run, "point": spec.point, "replication": spec.replication, **dict(spec.params)}
    records = [{**keys, **r} for r in simulate_once(spec.scenario, spec.run, tracer)]
    return TracedRun(spec, records, tuple(tracer.spans), tuple(tracer.instants))


def default_runs(runs: Plan, limit: int = DEFAULT_RUNS) -> list[int]:
    """The first run of every sweep point, at most ``limit`` of them."""
    return [p * runs.replications for p in range(min(runs.points, limit))]


def events_frame(traced: TracedRun) -> Any:
    """A traced run's spans and instants as one DataFrame, ordered by time then kind.

    Columns: ``kind`` (span or instant), ``name``, ``start_ms``, ``duration_ms`` (0 for
    instants), ``end_ms``, ``track``, ``span_id``, ``parent_id`` and ``attributes`` (a dict).
    """
    import pandas as pd

    rows = [{"kind": "span", "name": s.name, "start_ms": s.start_ms, "duration_ms": s.duration_ms,
             "end_ms": s.start_ms + s.duration_ms, "track": s.track, "span_id": s.span_id,
             "parent_id": s.parent_id, "attributes": dict(s.attributes)} for s in traced.spans]
    rows += [{"kind": "instant", "name": i.name, "start_ms": i.at_ms, "duration_ms": 0.0, "end_ms": i.at_ms,
              "track": i.track, "span_id": None, "parent_id": None, "attributes": dict(i.attributes)}
             for i in traced.instants]
    frame = pd.DataFrame(rows, columns=["kind", "name", "start_ms", "duration_ms", "end_ms", "track", "span_id",
                                        "parent_id", "attributes"])
    return frame.sort_values(["start_ms", "kind"], kind="stable").reset_index(drop=True)


def trace(scenario: Scenario, run: int = 0) -> Any:
    """The events of run ``run`` of the scenario's plan, as a DataFrame (see ``events_frame``)."""
    if not isinstance(scenario, Scenario):
        raise UsageError(f"clawsim.trace needs a Scenario (from clawsim.load_scenario), not {type(scenario).__name__}")
    runs = plan(scenario)
    if not isinstance(run, int) or not 0 <= run < len(runs):
        raise UsageError(f"run must be a run index of the plan, 0..{len(runs) - 1}; got {run!r}")
    return events_frame(trace_run(runs[run]))


def differ_only_in_fix(specs: Sequence[RunSpec]) -> bool:
    """Whether the runs' params differ in ``registry.fix`` and nothing else (a before/after pair)."""
    if len(specs) < 2:
        return False
    others = [tuple(p for p in s.params if p[0] != "registry.fix") for s in specs]
    fixes = [s.scenario.registry.fix for s in specs]
    return len(set(others)) == 1 and len(set(fixes)) == len(fixes)


def window_of(traced: Sequence[TracedRun], start_ms: float | None, end_ms: float | None) -> tuple[float, float]:
    """The time window to draw: the given bounds, else the span of the runs' lists."""
    lists = [s for t in traced for s in t.spans if s.name == "gateway.sessions.list"]
    lo = min((s.start_ms for s in lists), default=0.0)
    hi = max((s.start_ms + s.duration_ms for s in lists), default=1.0)
    return (lo if start_ms is None else start_ms, hi if end_ms is None else end_ms)
