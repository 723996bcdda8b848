"""The run plan: variants x the cartesian product of the sweep x replications.

A ``Plan`` is a lazy sequence: it knows its length from the sweep's dimensions and
resolves a run's scenario only when that run is asked for, so a plan of 10^12 runs is
counted without being built. Variants and sweep keys are taken in file order, the last
sweep key varying fastest; run ``r`` is point ``r // replications``, replication
``r % replications``. The order never depends on anything but the file.

A resolved point is validated once per scenario object: every plan of the same scenario
(the check at load, the sweep, the report's per-point loads, the CLI's ETA) shares the
points resolved so far (up to ``POINT_CACHE`` of them, kept while the scenario lives).
"""

from __future__ import annotations

import copy
import math
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, overload

import yaml
from pydantic import ValidationError

from .origin import point_error
from .paths import set_path
from .schema import Scenario

POINT_CACHE = 256  # resolved points kept per scenario object (a point serves all its replications)
Resolved = tuple[tuple[tuple[str, Any], ...], "Scenario"]  # (params as recorded, the point's scenario)
_RESOLVED: dict[int, dict[int, Resolved]] = {}  # id(scenario) -> point -> Resolved; dropped when it is collected


@dataclass(frozen=True)
class RunSpec:
    """One run of a plan: a fully resolved scenario and where it sits in the plan."""

    run: int
    point: int
    replication: int
    params: tuple[tuple[str, Any], ...]
    scenario: Scenario
    stream: int  # the index its random streams derive from (see Plan.stream)


class Plan:
    """The runs of a scenario, resolved on demand; indexable, sliceable and iterable."""

    def __init__(self, scenario: Scenario):
        self.scenario = scenario
        self.paths = tuple(scenario.sweep)
        self.variants: tuple[tuple[str | None, dict[str, Any]], ...] = tuple(scenario.variants.items()) or ((None, {}),)
        self.radix = (len(self.variants), *(len(scenario.sweep[p]) for p in self.paths))
        self.points = math.prod(self.radix)
        self.replications = scenario.replications
        self.runs = self.points * self.replications
        self._paired = frozenset(scenario.paired_dimensions)
        # (stride, size) of each paired dimension in a point's index (the last key varies fastest)
        strides = [math.prod(self.radix[i + 1 :]) for i in range(len(self.radix))]
        names = ("variant", *self.paths)
        self._paired_strides = tuple(
            (stride, size)
            for name, size, stride in zip(names, self.radix, strides, strict=True)
            if name in self._paired
        )
        self._resolved = _resolved_of(scenario)

    def __len__(self) -> int:
        return self.runs

    @overload
    def __getitem__(self, index: int) -> RunSpec: ...
    @overload
    def __getitem__(self, index: slice) -> list[RunSpec]: ...
    def __getitem__(self, index: int | slice) -> RunSpec | list[RunSpec]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self.runs))]
        if index < 0:
            index += self.runs
        if not 0 <= index < self.runs:
            raise IndexError(f"run {index} is outside the plan's {self.runs} runs")
        point, rep = divmod(index, self.replications)
        params, resolved = self._resolve(point)
        return RunSpec(index, point, rep, params, resolved, self.stream(index))

    def __iter__(self) -> Iterator[RunSpec]:
        for index in range(self.runs):
            yield self[index]

    def digits(self, point: int) -> tuple[int, ...]:
        """The point's index along each dimension: (variant, sweep key 1, ..., last key)."""
        out = []
        for size in reversed(self.radix):
            point, digit = divmod(point, size)
            out.append(digit)
        return tuple(reversed(out))

    def stream(self, run: int) -> int:
        """The index run ``run``'s random streams derive from: the same replication at its point
        with every paired dimension (``Scenario.paired_dimensions``) at its first value. The
        variants of a point thus share their arrivals and costs (common random numbers); without
        paired dimensions it is the run index itself."""
        point, rep = divmod(run, self.replications)
        base = point
        for stride, size in self._paired_strides:  # that dimension's digit set to 0
            base -= point // stride % size * stride
        return base * self.replications + rep

    def assignment(self, point: int) -> tuple[tuple[tuple[str, Any], ...], dict[str, Any]]:
        """(params as recorded, dotted-path overrides) of one point."""
        variant_i, *value_i = self.digits(point)
        variant, overrides = self.variants[variant_i]
        values = tuple(self.scenario.sweep[p][i] for p, i in zip(self.paths, value_i, strict=True))
        params: tuple[tuple[str, Any], ...] = (("variant", variant),) if variant is not None else ()
        params += tuple(zip(self.paths, values, strict=True))
        return params, {**overrides, **dict(zip(self.paths, values, strict=True))}

    def _resolve(self, point: int) -> Resolved:
        """The point, from the scenario's resolved points or resolved now (the oldest one out
        when ``POINT_CACHE`` are kept)."""
        found = self._resolved.pop(point, None)  # re-inserted last: the most recently used
        if found is None:
            found = self._resolve_point(point)
            if len(self._resolved) >= POINT_CACHE:
                self._resolved.pop(next(iter(self._resolved)), None)
        self._resolved[point] = found
        return found

    def _resolve_point(self, point: int) -> Resolved:
        params, assignment = self.assignment(point)
        try:
            return params, point_scenario(self.scenario, assignment)
        except (KeyError, ValidationError) as err:  # values valid alone, not together (see check.py)
            raise point_error(self, point, err) from None


def _resolved_of(scenario: Scenario) -> dict[int, Resolved]:
    """The points of ``scenario`` resolved so far, shared by its plans while it lives (a
    point holds no reference to the scenario it came from, so nothing keeps it alive)."""
    key = id(scenario)
    found = _RESOLVED.get(key)
    if found is None:
        found = _RESOLVED[key] = {}
        weakref.finalize(scenario, _RESOLVED.pop, key, None)
    return found


def plan(scenario: Scenario) -> Plan:
    """The run plan of a scenario (see ``Plan``)."""
    return Plan(scenario)


def point_scenario(base: Scenario, assignment: dict[str, Any]) -> Scenario:
    """``base`` with the dotted-path ``assignment`` applied, sweep and variants removed."""
    data = base.model_dump(mode="python", exclude={"sweep", "variants"})
    for path, value in assignment.items():
        set_path(Scenario, data, path, copy.deepcopy(value))
    return Scenario.model_validate(data)


def resolved_yaml(scenario: Scenario) -> str:
    """The scenario with every default filled in, as YAML (written beside results)."""
    text: str = yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False)
    return text
