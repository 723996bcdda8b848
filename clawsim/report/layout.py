"""Where each swept field goes in a chart: the x axis, one line per value, one panel per value, or held.

A chart shows a few fields (its x axis, and one line per option: variant and fix). Every
other swept field is placed so that no case is dropped silently:

- if the chart would otherwise draw a single line and the field has at most ``MAX_LINES``
  values, one line per value (``alternatives-no-yields``: yields on and off);
- else, for the first such field with at most ``MAX_PANELS`` values, one panel per value
  (small multiples, sharing the y axis);
- else it is held at one value, its largest if numeric, else the last listed, and the
  caption says so (``rows-x-concurrency``: 6 agent counts, shown by the other charts).

The trade-off chart has one row per option; other fields join the option while the
options stay at most ``MAX_OPTIONS``, else they are held.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..scenario import Scenario
from .stats import FIX, line_keys

MAX_LINES = 6
MAX_PANELS = 4
MAX_OPTIONS = 12


@dataclass(frozen=True)
class Layout:
    """A chart's placement of the swept fields: columns that make a line, the panel column, held values."""

    lines: tuple[str, ...]
    panel: str | None = None
    held: dict[str, Any] = field(default_factory=dict)

    def held_text(self) -> str:
        """The caption's account of what is held, e.g. ``held: list.rows = 1000``."""
        if not self.held:
            return "every swept field shown"
        return "held: " + ", ".join(f"{p} = {v}" for p, v in self.held.items())


def _numeric(values: Sequence[Any]) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def held_value(values: Sequence[Any]) -> Any:
    """The value a field not shown is held at: its largest if numeric, else the last listed."""
    return max(values) if _numeric(values) else values[-1]


def held_values(scenario: Scenario, shown: tuple[str, ...]) -> dict[str, Any]:
    """The value each dimension not in ``shown`` is held at (``held_value``)."""
    return {path: held_value(values) for path, values in scenario.dimension_values.items() if path not in shown}


def _count(runs: pd.DataFrame, keys: tuple[str, ...]) -> int:
    return int(runs.groupby(list(keys), sort=False, dropna=False).ngroups) if keys else 1


def line_layout(scenario: Scenario, runs: pd.DataFrame, x_path: str) -> Layout:
    """Lines, panel and held values for a line chart of ``x_path`` (module docstring)."""
    lines, panel, held = tuple(line_keys(scenario)), None, {}
    for path, values in scenario.dimension_values.items():
        if path in (x_path, FIX, *lines):
            continue
        if _count(runs, lines) == 1 and len(values) <= MAX_LINES:
            lines += (path,)
        elif panel is None and len(values) <= MAX_PANELS:
            panel = path
        else:
            held[path] = held_value(values)
    return Layout(lines, panel, held)


def option_layout(scenario: Scenario, runs: pd.DataFrame, shown: tuple[str, ...] = ()) -> Layout:
    """Options (rows) of the trade-off chart: variant and fix, then other fields while they fit."""
    lines, held = tuple(line_keys(scenario)), {}
    for path, values in scenario.dimension_values.items():
        if path in (FIX, *lines, *shown):
            continue
        if _count(runs, lines) * len(values) <= MAX_OPTIONS:
            lines += (path,)
        else:
            held[path] = held_value(values)
    return Layout(lines, None, held)


def held_slice(runs: pd.DataFrame, held: dict[str, Any]) -> pd.DataFrame:
    """The rows of ``runs`` whose held fields have their held values."""
    keep = np.ones(len(runs), dtype=bool)
    for path, value in held.items():
        keep &= runs[path].map(lambda v, want=value: v == want).to_numpy(dtype=bool)
    return runs[keep]


def order_by(table: pd.DataFrame, keys: list[str], x: str, listed: Sequence[Any]) -> pd.DataFrame:
    """``table`` with groups of ``keys`` in first-appearance order, each sorted by ``x``.

    Numeric x sorts by value, other x by its position in ``listed`` (the scenario's order).
    """
    table = table.copy()
    group = table.groupby(keys, sort=False, dropna=False).ngroup() if keys else 0
    position = table[x] if _numeric(listed) else table[x].map(lambda v: listed.index(v) if v in listed else len(listed))
    order = pd.DataFrame({"group": group, "position": position}, index=table.index)
    return table.loc[order.sort_values(["group", "position"], kind="stable").index].reset_index(drop=True)
