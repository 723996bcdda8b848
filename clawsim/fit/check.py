"""Observed vs simulated: the fitted scenario (fix none) against the lists it was fitted to."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..scenario import Scenario, plan
from ..scenario.overrides import Override, apply_overrides
from ..timeline.evidence import ListEvidence


def compare_frame(scenario: Scenario, chosen: Sequence[ListEvidence]) -> Any:
    """Per fitted list: observed scans, hits and list_ms beside the fitted scenario's means
    (fix none, the scenario's replications, each list's own row count) and relative errors."""
    import pandas as pd

    from ..sweep import run_sweep

    rows = []
    for index, evidence in enumerate(chosen):
        point = apply_overrides(scenario, [Override("--set", "registry.fix", "none"),
                                           Override("--set", "list.rows", str(evidence.rows))])
        frame = run_sweep(point)
        sim = frame[frame.list_index == 0]
        row: dict[str, Any] = {"list": index, "rows": evidence.rows}
        for metric, observed in (("scans", evidence.misses), ("hits", evidence.hits), ("list_ms", evidence.list_ms)):
            mean = float(sim[metric].mean())
            row[f"observed_{metric}"] = observed
            row[f"simulated_{metric}"] = mean
            row[f"{metric}_rel_err"] = (mean - observed) / observed if observed else (0.0 if mean == 0 else float("inf"))
        rows.append(row)
    assert len(plan(scenario)) > 0
    return pd.DataFrame(rows)
