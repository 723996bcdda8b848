"""``explore``: per sweep point of a scenario, the best and worst case over every schedule.

For each point of the plan (variants x sweep values; replications do not matter: no draw is
made), build the ``Model``, search it exhaustively (or, past ``max_states``, sample
``samples`` schedules), check the properties and find a counterexample for each that fails
(the fewest activations for a count, the worst schedule for list_ms).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..scenario import Scenario, plan
from .model import DEFAULT_BOUNDS, Bounds, Model
from .properties import COUNTS, Property, defaults
from .schedule import Schedule, concrete
from .search import Path, Search, TooLarge, exhaustive, minimal, sampled

MAX_STATES = 200_000
SAMPLES = 2_000


@dataclass(frozen=True)
class Verdict:
    """A property over every schedule searched; ``counterexample`` when it fails, ``minimal``
    when that schedule has the fewest activations of all that violate it."""

    property: Property
    holds: bool
    proved: bool
    counterexample: Schedule | None = None
    minimal: bool = False


@dataclass
class PointResult:
    """One sweep point: its label and params, the search and the verdicts."""

    label: str
    point: dict[str, Any]
    model: Model
    search: Search
    verdicts: list[Verdict] = field(default_factory=list)
    worst: Schedule | None = None


def explore(
    scenario: Scenario,
    bounds: Bounds = DEFAULT_BOUNDS,
    properties: tuple[Property, ...] = (),
    max_states: int = MAX_STATES,
    samples: int = SAMPLES,
    scan_q: tuple[float, float] = (0.05, 0.95),
) -> list[PointResult]:
    """Every point of ``scenario``'s plan searched; ``properties`` are checked beside the defaults."""
    runs = plan(scenario)
    results = []
    for p in range(runs.points):
        spec = runs[p * runs.replications]
        point = dict(spec.params)
        label = ", ".join(f"{v}" if k == "variant" else f"{k}={v}" for k, v in point.items()) or scenario.name
        results.append(explore_point(spec.scenario, label, point, bounds, properties, max_states, samples, scan_q))
    return results


def explore_point(
    scenario: Scenario,
    label: str,
    point: dict[str, Any],
    bounds: Bounds,
    properties: tuple[Property, ...],
    max_states: int,
    samples: int,
    scan_q: tuple[float, float],
) -> PointResult:
    """One resolved scenario: the search, the properties and their counterexamples."""
    model = Model(scenario, bounds, scan_q)
    try:
        search = exhaustive(model, max_states)
    except TooLarge as exc:
        search = sampled(model, samples, scenario.seed, note=str(exc))
    result = PointResult(label, point, model, search)
    ext = search.extremes
    result.worst = concrete(model, _worst_path(model, search, max_states), point, "worst scans")
    for prop in (*defaults(model.pin, model.list_lookups), *properties):
        metric, end = prop.series
        lo, hi = ext.metric(metric)
        holds = prop.holds(lo, hi)
        proved = search.mode == "exhaustive"
        if holds:
            result.verdicts.append(Verdict(prop, True, proved))
            continue
        path, is_min = None, False
        if prop.metric in COUNTS and search.mode == "exhaustive":
            try:
                path = minimal(model, prop.metric, prop.cap, lambda v, p=prop: not p.ok(v), max_states)
                is_min = path is not None
            except TooLarge:
                path = None
        if path is None:
            i = _index(metric)
            path = ext.hi_path[i] if end == "hi" else ext.lo_path[i]
        example = concrete(model, path, point, prop.text)
        result.verdicts.append(Verdict(prop, False, True, example, is_min))
    return result


def _worst_path(model: Model, search: Search, max_states: int) -> Path:
    """A schedule reaching the most scans: with the fewest activations where the search was
    exhaustive (the list of choices a reader has to follow is shortest)."""
    worst = search.extremes.metric("scans")[1]
    if search.mode == "exhaustive" and search.states * (worst + 1) <= max_states:  # else too costly to minimise
        try:
            path = minimal(model, "scans", int(worst), lambda v: v >= worst, max_states)
        except TooLarge:
            path = None
        if path is not None:
            return path
    return search.extremes.hi_path[_index("scans")]


def _index(metric: str) -> int:
    from .model import METRICS

    return METRICS.index(metric)
