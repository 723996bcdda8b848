"""Checking a scenario's variants and sweep: each path alone, then the points they make together.

A variant and a sweep value may each be valid and still clash (``memo.policy: none`` with
``memo.capacity: 4``). At validation every point of the plan is checked when it has at most
``CHECK_ALL_POINTS`` points; a larger plan has each value of each dimension checked with the
other dimensions at their first value, and its remaining points are checked as the run
resolves them, with the same message (``point_error``). The plan is never materialised.

Where each variant and sweep value sits in its file is remembered (``origin.origin``) for as
long as the scenario object lives, so a run-time message names the same lines.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from typing import Any

from ..errors import ScenarioError
from .bounds import CHECK_ALL_POINTS
from .origin import Origin
from .paths import set_path, valid_path
from .plan import Plan
from .schema import Scenario


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
