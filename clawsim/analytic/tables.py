"""Expectations beside a results table: the ``expected_*`` columns of ``clawsim run --analytic``."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ..errors import NotAnalytic
from ..scenario import Scenario, plan
from .models import expectations

# Columns ``add_expectations`` adds, each placed right after the simulated column.
EXPECTED_COLUMNS = {"scans": "expected_scans", "flips": "expected_flips", "list_ms": "expected_list_ms"}


def _by_point(scenario: Scenario) -> dict[int, list[dict[str, Any]] | str]:
    """Each plan point's records, or ``n/a: <reason>`` where no model covers it."""
    by_point: dict[int, list[dict[str, Any]] | str] = {}
    for spec in plan(scenario):
        if spec.point in by_point:
            continue
        try:
            by_point[spec.point] = expectations(spec.scenario)
        except NotAnalytic as exc:
            by_point[spec.point] = f"n/a: {exc}"
    return by_point


def add_expectations(frame: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """``frame`` (a results table of ``scenario``, with ``point`` and ``list_index``) with
    expected_scans, expected_flips and expected_list_ms right after scans, flips
    and list_ms, and an ``analytic`` column: ``exact``, ``approximate`` or ``n/a: <reason>``
    (NaN expectations)."""
    out = frame.copy()
    by_point = _by_point(scenario)
    values: dict[str, list[float]] = {col: [] for col in EXPECTED_COLUMNS.values()}
    notes = []
    for point, index in zip(out["point"], out["list_index"], strict=True):
        found = by_point.get(int(point))
        if isinstance(found, list) and int(index) < len(found):
            rec = found[int(index)]
            for col in values:
                values[col].append(rec[col])
            notes.append("exact" if rec["exact"] else "approximate")
        else:
            for col in values:
                values[col].append(math.nan)
            notes.append(found if isinstance(found, str) else "n/a: no such list")
    for sim_col, exp_col in EXPECTED_COLUMNS.items():
        position = out.columns.get_loc(sim_col) + 1
        out.insert(position, exp_col, values[exp_col])
    out["analytic"] = notes
    return out
