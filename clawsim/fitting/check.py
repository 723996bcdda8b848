"""Observed vs simulated: the fitted scenario (fix none) against the lists it was fitted to."""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import fmean
from typing import Any

import numpy as np

from ..scenario import Scenario
from ..timeline.evidence import ListEvidence
from .predict import Prediction, predict, simulated_counts
from .terms import COUNTS, ListCounts, Terms, stretches


def compare_frame(
    scenario: Scenario, chosen: Sequence[ListEvidence], terms: Terms | None = None, warm: bool = False
) -> Any:
    """Per fitted list: observed scans, hits and list_ms beside the fitted scenario's (fix none,
    the scenario's replications, each list's own row count; simulated once per row count) and
    relative errors. With ``terms``, simulated list_ms is the terms' prediction on the simulated
    counts, with its 95 % prediction interval (``simulated_lo``/``_hi``); else the engine's mean."""
    import pandas as pd

    per_size: dict[int, tuple[list[ListCounts], Prediction | None]] = {}
    for rows in sorted({e.rows or 1 for e in chosen}):
        counts = simulated_counts(scenario, {"list.rows": rows}, warm)
        per_size[rows] = (counts, predict(terms, counts, f"rows={rows}") if terms is not None else None)
    out = []
    for index, evidence in enumerate(chosen):
        counts, prediction = per_size[evidence.rows or 1]
        sim_ms = prediction.list_ms if prediction else fmean(c.list_ms for c in counts)
        row: dict[str, Any] = {"list": index, "rows": evidence.rows}
        for metric, observed, mean in (
            ("scans", evidence.misses, fmean(c.misses for c in counts)),
            ("hits", evidence.hits, fmean(c.hits for c in counts)),
            ("list_ms", evidence.list_ms, sim_ms),
        ):
            row[f"observed_{metric}"] = observed
            row[f"simulated_{metric}"] = mean
            row[f"{metric}_rel_err"] = _rel(mean, observed)
        row["simulated_lo"] = prediction.lo_ms if prediction else None
        row["simulated_hi"] = prediction.hi_ms if prediction else None
        out.append(row)
    return pd.DataFrame(out)


def _rel(mean: float, observed: float) -> float:
    return (mean - observed) / observed if observed else (0.0 if mean == 0 else float("inf"))


def summary_frame(check: Any) -> Any:
    """The check per list size: how many lists, their observed scans and list_ms (median,
    min..max) beside the simulated ones (with the 95 % prediction interval of one list), and
    the relative error of the simulated list_ms against the observed median."""
    import pandas as pd

    out = []
    for rows, group in check.groupby("rows", sort=True):
        median = float(group.observed_list_ms.median())
        first = group.iloc[0]
        out.append(
            {
                "rows": int(rows),
                "lists": len(group),
                "observed_scans": float(group.observed_scans.mean()),
                "simulated_scans": float(first.simulated_scans),
                "observed_list_ms": median,
                "observed_min": float(group.observed_list_ms.min()),
                "observed_max": float(group.observed_list_ms.max()),
                "simulated_list_ms": float(first.simulated_list_ms),
                "simulated_lo": first.simulated_lo,
                "simulated_hi": first.simulated_hi,
                "list_ms_rel_err": _rel(float(first.simulated_list_ms), median),
            }
        )
    return pd.DataFrame(out)


TERM_NAMES = {
    "setup_ms": ("fixed per list", "the list's time minus its rows' terms, mean over the lists"),
    "per_row_ms": ("per row", "outside the row's lookup spans (stretch regression)"),
    "hit_ms": ("per hit", "mean cacheHit span"),
    "scan_ms": ("per miss: scan", "mean full-scan span"),
    "miss_overhead_ms": ("per miss: after", "right after the scan's span (stretch regression)"),
    "yield_ms": ("per yield", "the loop's turn and what ran in it (stretch regression)"),
    "pre_miss_ms": ("per scanning batch: before", "right before the batch's first scan (stretch regression)"),
}
FOLDED = "every yield was followed by its batch's first miss: booked before the miss, none of its own"


def decomposition_frame(terms: Terms) -> Any:
    """One row per term: its value with a 95 % interval (from the terms' covariance and
    ``Terms.quantile``: Student's t over the lists when several), the
    ms it contributes to the fitted lists on average, and its share of their mean list_ms."""
    import pandas as pd

    theta, cov = terms.vector(), terms.covariance()
    mean_counts = np.mean([terms.count_vector(c) for c in terms.counts], axis=0)
    mean_list = fmean(c.list_ms for c in terms.counts)
    seen = {
        key: any(getattr(c, attr) for c in terms.counts) for key, attr in (("hit_ms", "hits"), ("scan_ms", "misses"))
    }
    identified = {
        "miss_overhead_ms": terms.value("miss_overhead_ms"),
        "yield_ms": terms.value("yield_ms"),
        "pre_miss_ms": terms.value("pre_miss_ms"),
        **{key: 0.0 if was else None for key, was in seen.items()},
    }
    out = []
    for i, key in enumerate(COUNTS):
        name, how = TERM_NAMES[key]
        known = identified.get(key, 0.0) is not None
        if key == "yield_ms" and terms.yield_folded:
            how = FOLDED
        half = terms.quantile * math.sqrt(max(float(cov[i, i]), 0.0))
        ms = float(mean_counts[i] * theta[i])
        out.append(
            {
                "term": name,
                "value_ms": float(theta[i]) if known else None,
                "lo": float(theta[i]) - half if known else None,
                "hi": float(theta[i]) + half if known else None,
                "count": float(mean_counts[i]),
                "ms_per_list": ms,
                "share": ms / mean_list if mean_list else None,
                "how": how if known or how == FOLDED else "not identified: the lists have none",
            }
        )
    return pd.DataFrame(out)


def cold_frame(terms: Terms, cold: Sequence[ListEvidence], per_row: int) -> Any:
    """The cold lists (the first of their process, left out of the terms): observed list_ms, what
    the warm terms predict for their own counts, and the difference, their one-off cost."""
    import pandas as pd

    out = []
    for e in cold:
        counts = stretches(e, per_row)[2]
        expected = terms.predicted_ms(counts)
        out.append(
            {"rows": e.rows, "scans": e.misses, "observed_list_ms": e.list_ms, "warm_model_ms": expected,
             "one_off_ms": e.list_ms - expected}
        )  # fmt: skip
    return pd.DataFrame(out, columns=["rows", "scans", "observed_list_ms", "warm_model_ms", "one_off_ms"])


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
