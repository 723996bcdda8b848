"""See one run: trace chosen runs of a scenario and write them in the formats users read.

For each traced run ``N``: ``run-N.timeline.jsonl`` (the openclaw diagnostics timeline),
``run-N.trace.json`` (Chrome Trace Event format, for Perfetto and chrome://tracing) and
``run-N.timeline.png`` (a Gantt chart of the event loop); when the chosen runs differ
only in ``registry.fix``, also one before/after PNG on a shared time axis. A trace is
made by the same engine run that makes the run's record, so its counts equal the record's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .engine.choices import SEEDED, Chooser
from .engine.run import simulate_once
from .engine.tracer import Tracer
from .errors import UsageError
from .scenario import Plan, RunSpec, Scenario, plan
from .timeline.model import Instant, Span
from .timeline.names import LIST_SPAN

DEFAULT_RUNS = 6  # runs traced by default: the first run of each sweep point, at most this many


@dataclass(frozen=True)
class TracedRun:
    """One traced run: its plan entry, its records (as ``clawsim.simulate`` gives them) and events."""

    spec: RunSpec
    records: list[dict]
    spans: tuple[Span, ...]
    instants: tuple[Instant, ...]


def trace_run(spec: RunSpec, chooser: Chooser = SEEDED) -> TracedRun:
    """Simulate one planned run with a tracer attached (``chooser``: a schedule to replay)."""
    tracer = Tracer(hit_spans=spec.scenario.memo.hit_spans)
    keys = {"run": spec.run, "point": spec.point, "replication": spec.replication, **dict(spec.params)}
    records = [{**keys, **r} for r in simulate_once(spec.scenario, spec.stream, tracer=tracer, chooser=chooser)]
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

    rows = [
        {
            "kind": "span",
            "name": s.name,
            "start_ms": s.start_ms,
            "duration_ms": s.duration_ms,
            "end_ms": s.start_ms + s.duration_ms,
            "track": s.track,
            "span_id": s.span_id,
            "parent_id": s.parent_id,
            "attributes": dict(s.attributes),
        }
        for s in traced.spans
    ]
    rows += [
        {
            "kind": "instant",
            "name": i.name,
            "start_ms": i.at_ms,
            "duration_ms": 0.0,
            "end_ms": i.at_ms,
            "track": i.track,
            "span_id": None,
            "parent_id": None,
            "attributes": dict(i.attributes),
        }
        for i in traced.instants
    ]
    frame = pd.DataFrame(
        rows,
        columns=["kind", "name", "start_ms", "duration_ms", "end_ms", "track", "span_id", "parent_id", "attributes"],
    )
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
    lists = [s for t in traced for s in t.spans if s.name == LIST_SPAN]
    lo = min((s.start_ms for s in lists), default=0.0)
    hi = max((s.start_ms + s.duration_ms for s in lists), default=1.0)
    window = (lo if start_ms is None else start_ms, hi if end_ms is None else end_ms)
    if not window[0] < window[1]:
        raise UsageError(f"--from {window[0]:g} must be before --to {window[1]:g} (ms of simulated time)")
    return window


def _caption(scenario: Scenario, traced: Sequence[TracedRun]) -> str:
    parts = []
    for t in traced:
        swept = ", ".join(f"{k} = {v}" for k, v in t.spec.params) or "no swept values"
        rec = t.records[0] if t.records else {}
        parts.append(
            f"run {t.spec.run} (seed {scenario.seed}, replication {t.spec.replication}; {swept}): "
            f"{rec.get('scans', 0)} scans, {rec.get('hits', 0)} hits, {rec.get('flips', 0)} flips, "
            f"{rec.get('yields', 0)} yields, list_ms {rec.get('list_ms', 0.0):,.1f}"
        )
    return f"scenario {scenario.name}: " + "; ".join(parts) + ". Times in ms of simulated time."


def draw(scenario: Scenario, traced: Sequence[TracedRun], window: tuple[float, float]) -> bytes:
    """The Gantt PNG of one or more traced runs on a shared time axis."""
    from .timeline.gantt import Panel, render_gantt

    panels = [
        Panel(
            f"run {t.spec.run}: " + (", ".join(f"{k} = {v}" for k, v in t.spec.params) or scenario.name),
            t.spans,
            t.instants,
        )
        for t in traced
    ]
    title = f"{scenario.name}: the event loop, " + (
        "before and after the pin" if len(traced) > 1 else f"run {traced[0].spec.run}"
    )
    return render_gantt(panels, title, _caption(scenario, traced), window)


def write_traces(
    scenario: Scenario,
    runs: Sequence[int] | None,
    out: Path,
    *,
    start_ms: float | None = None,
    end_ms: float | None = None,
    chooser: Chooser = SEEDED,
) -> list[Path]:
    """Trace ``runs`` (default: ``default_runs``) and write their files into ``out``; returns the paths.
    ``chooser`` makes the runs' open decisions (``engine.choices``: a schedule to replay).

    Each file is written to a temporary name and renamed, so none is ever half-written; an
    OSError (a full disk) names the file. ``clawsim trace`` calls this on a new folder that it
    swaps in whole (``clawsim.folder.update``).
    """
    import io
    import json

    from .store import write_file
    from .timeline import chrome_trace, write_timeline

    whole = plan(scenario)
    chosen = list(runs) if runs else default_runs(whole)
    for run in chosen:
        if not 0 <= run < len(whole):
            raise UsageError(f"--run {run}: the plan has runs 0..{len(whole) - 1}")
    written: list[Path] = []
    traced = []
    for run in chosen:
        t = trace_run(whole[run], chooser)
        traced.append(t)
        stream = io.StringIO()
        write_timeline(t.spans, t.instants, stream)
        write_file(out / f"run-{run}.timeline.jsonl", stream.getvalue().encode("utf-8"))
        text = (
            json.dumps(
                chrome_trace(t.spans, t.instants, process_name=f"clawsim {scenario.name} run {run}"),
                separators=(",", ":"),
            )
            + "\n"
        )
        write_file(out / f"run-{run}.trace.json", text.encode("utf-8"))
        png = draw(scenario, [t], window_of([t], start_ms, end_ms))
        write_file(out / f"run-{run}.timeline.png", png)
        written += [out / f"run-{run}.{ext}" for ext in ("timeline.jsonl", "trace.json", "timeline.png")]
    for group in _fix_pairs(traced):
        name = "runs-" + "-".join(str(t.spec.run) for t in group) + ".timeline.png"
        png = draw(scenario, group, window_of(group, start_ms, end_ms))
        write_file(out / name, png)
        written.append(out / name)
    return written


TRACE_FILE = re.compile(r"runs?-[0-9-]+\.(timeline\.jsonl|trace\.json|timeline\.png)")


def is_trace_file(name: str) -> bool:
    """A file ``write_traces`` writes (run-N.timeline.jsonl, run-N.trace.json, run-N.timeline.png,
    runs-N-M.timeline.png)."""
    return TRACE_FILE.fullmatch(name) is not None


def _fix_pairs(traced: Sequence[TracedRun]) -> list[list[TracedRun]]:
    """Groups of traced runs that differ only in ``registry.fix`` (drawn before/after)."""
    groups: dict[tuple, list[TracedRun]] = {}
    for t in traced:
        key = (t.spec.replication, tuple(p for p in t.spec.params if p[0] != "registry.fix"))
        groups.setdefault(key, []).append(t)
    return [g for g in groups.values() if differ_only_in_fix([t.spec for t in g])]


def trace_counts(traced: TracedRun) -> list[dict]:
    """Per list, what its trace shows: scans, hits, yields, flips and list_ms, found only
    from the events (scan spans under its rows span, its yield marks, the setter calls
    strictly between its start and its end, its root span's duration). A setter call at the
    very moment a list starts or ends ran before it started or after it ended (the thread
    runs one callback at a time): the timeline file orders them so too."""
    from .timeline import names

    by_track = {s.track: s for s in traced.spans if s.name == names.LIST_SPAN}
    rows_of = {s.parent_id: s.span_id for s in traced.spans if s.name == names.ROWS_SPAN}
    out = []
    for track in sorted(by_track, key=lambda t: int(t.split()[-1])):
        root = by_track[track]
        rows_id = rows_of[root.span_id]
        lookups = [s for s in traced.spans if s.parent_id == rows_id and s.name in (names.SCAN_SPAN, names.SNAPSHOT)]
        scans = sum(1 for s in lookups if s.name == names.SCAN_SPAN and not s.attr("cacheHit"))
        end = root.start_ms + root.duration_ms
        out.append(
            {
                "list_index": int(track.split()[-1]),
                "scans": scans,
                "hits": len(lookups) - scans,
                "yields": sum(1 for i in traced.instants if i.name == names.YIELD and i.track == track),
                "flips": sum(
                    int(i.attr("count") or 1)
                    for i in traced.instants
                    if i.name == names.SET and root.start_ms < i.at_ms < end
                ),
                "list_ms": root.duration_ms,
            }
        )
    return out
