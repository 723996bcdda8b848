"""Observed vs simulated: the fitted scenario (fix none) against the lists it was fitted to."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..scenario import Scenario
from ..timeline.evidence import ListEvidence


def compare_frame(scenario: Scenario, chosen: Sequence[ListEvidence]) -> Any:
    """Per fitted list: observed scans, hits and list_ms beside the fitted scenario's means
    (fix none, the scenario's replications, each list's own row count) and relative errors."""
    import pandas as pd

    from ..sweep import run_sweep

    rows = []
    for index, evidence in enumerate(chosen):
        point = scenario.with_values({"registry.fix": "none", "list.rows": evidence.rows})
        frame = run_sweep(point)
        sim = frame[frame.list_index == 0]
        row: dict[str, Any] = {"list": index, "rows": evidence.rows}
        for metric, observed in (("scans", evidence.misses), ("hits", evidence.hits), ("list_ms", evidence.list_ms)):
            mean = float(sim[metric].mean())
            row[f"observed_{metric}"] = observed
            row[f"simulated_{metric}"] = mean
            row[f"{metric}_rel_err"] = (
                (mean - observed) / observed if observed else (0.0 if mean == 0 else float("inf"))
            )
        rows.append(row)
    return pd.DataFrame(rows)


def simulated_scans(scenario: Scenario, rows: int, rate_per_s: float) -> float:
    """Mean scans of one list of ``rows`` rows (fix none) with the Poisson turns at ``rate_per_s``."""
    from ..sweep import run_sweep

    point = scenario.with_values({"registry.fix": "none", "list.rows": rows, "actors.0.rate_per_s": rate_per_s})
    frame = run_sweep(point)
    return float(frame[frame.list_index == 0]["scans"].mean())


def match_rate(
    scenario: Scenario, chosen: Sequence[ListEvidence], rate_per_s: float, tolerance: float = 0.05, steps: int = 16
) -> float:
    """The rate whose simulated mean scans equal the observed ones (bisection in log rate).

    Used where the batch-window inversion is off (work of other callbacks lengthens the
    windows it cannot see). The runs share seeds from step to step (common random numbers),
    so the mean is close to monotone in the rate.
    """
    observed = sum(e.misses for e in chosen) / len(chosen)
    rows = max(e.rows or 1 for e in chosen)
    lo, hi = rate_per_s / 64, rate_per_s * 64
    best = rate_per_s
    for _ in range(steps):
        got = simulated_scans(scenario, rows, best)
        if abs(got - observed) <= tolerance * observed:
            break
        lo, hi = (best, hi) if got < observed else (lo, best)
        best = (lo * hi) ** 0.5
    return best
