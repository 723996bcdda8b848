"""Checking a scenario's variants and sweep: each path alone, then the points they make together.

A variant and a sweep value may each be valid and still clash (``memo.policy: none`` with
``memo.capacity: 4``). At validation every point of the plan is checked when it has at most
``CHECK_ALL_POINTS`` points; a larger plan has each value of each dimension checked with the
other dimensions at their first value, and its remaining points are checked as the run
resolves them, with the same message (``point_error``). The plan is never materialised.

Where each variant and sweep value sits in its file is remembered (``origin``) for as long
as the scenario object lives, so a run-time message names the same lines.
"""

from __future__ import annotations

import copy
import math
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import ValidationError

from ..errors import ScenarioError
from .bounds import CHECK_ALL_POINTS
from .messages import one_line
from .paths import set_path, valid_path
from .plan import Plan
from .schema import Scenario
from .yamlsafe import line_of, short


@dataclass(frozen=True)
class Origin:
    """Where a scenario came from: its source and the line of each variant and sweep value."""

    source: str
    variant_lines: dict[str, int]
    override_lines: dict[tuple[str, str], int]
    value_lines: dict[str, tuple[int, ...]]
    sweep_lines: dict[str, int]

    def at(self, line: int) -> str:
        return f"{self.source}:{line}"


_ORIGINS: dict[int, Origin] = {}  # id(scenario) -> Origin, dropped when the scenario is collected


def origin(source: str, root: yaml.Node | None, scenario: Scenario) -> Origin:
    """The lines of ``scenario``'s variants and sweep values in ``root``; remembered for it."""
    found = Origin(
        source,
        {name: line_of(root, ("variants", name)) for name in scenario.variants},
        {(n, p): line_of(root, ("variants", n, p)) for n, overrides in scenario.variants.items() for p in overrides},
        {path: tuple(line_of(root, ("sweep", path, i)) for i in range(len(v))) for path, v in scenario.sweep.items()},
        {path: line_of(root, ("sweep", path)) for path in scenario.sweep},
    )
    _ORIGINS[id(scenario)] = found
    weakref.finalize(scenario, _ORIGINS.pop, id(scenario), None)
    return found


def point_error(plan: Plan, point: int, err: KeyError | ValidationError) -> ScenarioError:
    """The error of a plan point whose variant and sweep values do not go together: it names
    each of them (with its line when the scenario was read from a file) and the point."""
    where = _ORIGINS.get(id(plan.scenario))
    variant_i, *value_i = plan.digits(point)
    parts: list[tuple[str, int | None]] = []
    name = plan.variants[variant_i][0]
    if name is not None:
        parts.append((f"variants.{name}", where.variant_lines.get(name) if where else None))
    for path, i in zip(plan.paths, value_i, strict=True):
        value = plan.scenario.sweep[path][i]
        parts.append((f"sweep.{path}[{i}] = {short(value)}", where.value_lines[path][i] if where else None))
    lead, lead_line = parts[-1]
    others = ", ".join(f"{text} (line {line})" if line else text for text, line in parts[:-1])
    problem = f"no such element {err.args[0]!r}" if isinstance(err, KeyError) else one_line(err)
    prefix = f"{where.at(lead_line)}: " if where and lead_line else ""
    together = f" together with {others}" if others else ""
    return ScenarioError(f"{prefix}{lead}{together}: {problem} (plan point {point} of {plan.points})")


def _missing(scenario: Scenario, assignment: dict[str, Any]) -> str | None:
    """The first part of an assigned path that names no element of the scenario, if any."""
    data = scenario.model_dump(mode="python", exclude={"sweep", "variants"})
    try:
        for path, value in assignment.items():
            set_path(Scenario, data, path, copy.deepcopy(value))
    except KeyError as exc:
        return str(exc.args[0])
    return None


def check_sweep(scenario: Scenario, where: Origin) -> None:
    """Check the variants' and sweep's paths, then their points (see the module docstring)."""
    for name, overrides in scenario.variants.items():
        here = f"{where.at(where.variant_lines[name])}: variants.{name}"
        for path in overrides:
            if not valid_path(Scenario, path):
                raise ScenarioError(
                    f"{where.at(where.override_lines[name, path])}: variants.{name}.{path}: "
                    "not a scenario field that a variant can set"
                )
        if (missing := _missing(scenario, overrides)) is not None:
            raise ScenarioError(f"{here}: no such element {missing!r}")
    for path, values in scenario.sweep.items():
        here = f"{where.at(where.sweep_lines[path])}: sweep.{path}"
        if not valid_path(Scenario, path):
            raise ScenarioError(f"{here}: not a scenario field that can be swept")
        if (missing := _missing(scenario, {path: values[0]})) is not None:
            raise ScenarioError(f"{here}: no such element {missing!r}")
    plan = Plan(scenario)
    for point in checked_points(plan):
        plan[point * plan.replications]  # resolving a point raises point_error's ScenarioError


def checked_points(plan: Plan) -> Iterator[int]:
    """Every point of a plan of at most ``CHECK_ALL_POINTS`` points; else the points that take
    each value of one dimension with every other dimension at its first value."""
    if plan.points <= CHECK_ALL_POINTS:
        yield from range(plan.points)
        return
    yield 0
    for d, size in enumerate(plan.radix):
        stride = math.prod(plan.radix[d + 1 :])
        for j in range(1, size):
            yield j * stride
