"""Where a scenario's variants and sweep values sit in its file, and the error of a plan point.

``origin`` remembers the lines for as long as the scenario object lives, so a message raised
when the plan resolves a point (``point_error``) names the same lines as one at load time.
Knows the plan only as a type: the plan imports this module, not the other way round.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

import yaml
from pydantic import ValidationError

from ..errors import ScenarioError
from .messages import one_line
from .schema import Scenario
from .yamlsafe import line_of, short

if TYPE_CHECKING:
    from .plan import Plan


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
