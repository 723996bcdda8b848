"""The numbers behind every table and chart: per-run values, means with 95 % confidence intervals, fits.

A run may hold several lists; its lists are averaged first, so that a run is one
observation. A mean over the runs of a point (its replications) gets a 95 % confidence
interval from Student's t with ``runs - 1`` degrees of freedom (``scipy.stats.t``); with a
single run there is no interval (NaN). Fits of a metric against rows are least squares on
the means: a power law (``power_fit``: the growth exponent and its standard error) and an
affine law (``affine_fit``: a fixed cost plus a cost per row, with standard errors).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import ReportError
from ..scenario import Scenario

ROWS = "list.rows"
FIX = "registry.fix"
YIELD_EVERY = "list.yield_every"
CONCURRENCY = re.compile(r"^actors\.(\d+)\.(rate_per_s|count|period_ms)$")
METRICS = ("scans", "list_ms", "loop_delay_max_ms", "stale_hits")
CONFIDENCE = 0.95


def dimensions(scenario: Scenario) -> list[str]:
    """The columns that tell sweep points apart: ``variant`` (if any variants), then the swept paths."""
    return (["variant"] if scenario.variants else []) + list(scenario.sweep)


def line_keys(scenario: Scenario) -> list[str]:
    """The columns that tell options apart: the fix, and the variant if any."""
    return ["variant", "fix"] if scenario.variants else ["fix"]


def concurrency_path(scenario: Scenario) -> str | None:
    """The first swept actor parameter (rate_per_s, count or period_ms), or None."""
    return next((p for p in scenario.sweep if CONCURRENCY.match(p)), None)


def per_run(frame: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """One row per run: ``run``, its dimensions, a ``fix`` column, and each metric averaged over its lists.

    ``fix`` is the swept ``registry.fix``; else what the lists ran with (``pinned``), so
    a variant that sets the fix is honoured; else the scenario's fix.
    """
    dims = dimensions(scenario)
    metrics = [m for m in METRICS if m in frame.columns]
    spec: dict[str, str] = {**{p: "first" for p in dims}, **{m: "mean" for m in metrics}}
    if "pinned" in frame.columns:
        spec["pinned"] = "first"
    runs = frame.groupby("run", sort=True).agg(spec).reset_index()
    if FIX in scenario.sweep:
        runs["fix"] = runs[FIX]
    elif "pinned" in runs:
        runs["fix"] = np.where(runs["pinned"].astype(bool), "pin", "none")
    else:
        runs["fix"] = scenario.registry.fix
    return runs


def ci95_half_width(std: Any, count: Any) -> np.ndarray:
    """Half-width of the 95 % Student t interval of a mean: t(0.975, n-1) * std / sqrt(n); NaN if n < 2.

    ``std`` is the sample standard deviation (ddof 1). Never negative.
    """
    std, count = np.asarray(std, dtype=float), np.asarray(count, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = stats.t.ppf(0.5 + CONFIDENCE / 2, np.where(count >= 2, count - 1, np.nan))
        return np.abs(t * std / np.sqrt(count))


def summarize(frame: pd.DataFrame, by: Sequence[str], metrics: Sequence[str] = METRICS[:3]) -> pd.DataFrame:
    """Mean over runs of each metric, with its 95 % confidence interval, per group of ``by``.

    If ``frame`` has a ``run`` column, each run's rows (its lists) are averaged first, so a
    run counts once. Returns one row per group (in order of first appearance): the ``by``
    columns, ``runs``, then for each metric ``m``: ``m_mean``, ``m_ci95`` (half-width of the
    95 % Student t interval; NaN with one run), ``m_lo`` and ``m_hi`` (mean -/+ half-width),
    ``m_min`` and ``m_max`` (over runs). The mean is clipped into [min, max] (rounding can
    put the mean of identical values one ulp outside), so every band and bar is >= 0 long.
    Raises ReportError naming a missing column.
    """
    by, metrics = list(by), list(metrics)
    missing = [c for c in (*by, *metrics) if c not in frame.columns]
    if missing:
        raise ReportError(f"summarize: no column {', '.join(missing)} in the table")
    if "run" in frame.columns and "run" not in by:
        frame = frame.groupby("run", sort=False).agg({**{c: "first" for c in by}, **{m: "mean" for m in metrics}})
    keys: Any = by if by else np.zeros(len(frame), dtype=int)
    grouped = frame.groupby(keys, sort=False, dropna=False)
    table = grouped.size().rename("runs").reset_index() if by else pd.DataFrame({"runs": [len(frame)]})
    for m in metrics:
        agg = grouped[m].agg(["mean", "std", "min", "max", "count"]).reset_index(drop=True)
        mean = agg["mean"].clip(agg["min"], agg["max"])
        half = ci95_half_width(agg["std"], agg["count"])
        table[f"{m}_mean"], table[f"{m}_ci95"] = mean.to_numpy(), half
        table[f"{m}_lo"], table[f"{m}_hi"] = mean.to_numpy() - half, mean.to_numpy() + half
        table[f"{m}_min"], table[f"{m}_max"] = agg["min"].to_numpy(), agg["max"].to_numpy()
    return table


@dataclass(frozen=True)
class PowerFit:
    """y ~ c * x**exponent, fitted on log-log axes: the exponent, its standard error, points skipped."""

    exponent: float
    stderr: float
    skipped: int


@dataclass(frozen=True)
class AffineFit:
    """y ~ fixed + slope * x: the fixed cost, the cost per unit of x, and their standard errors."""

    fixed: float
    slope: float
    fixed_se: float
    slope_se: float

    @property
    def implausible(self) -> str | None:
        """Why the fit cannot describe a list's cost (a negative fixed cost or cost per row:
        the means are not affine in rows), or None."""
        return implausible_affine(self.fixed, self.slope)


def stale_options(data: pd.DataFrame) -> np.ndarray:
    """True for each option (a row of a ``summarize`` table) whose mean stale hits per list is above 0."""
    if "stale_hits_mean" not in data:
        return np.zeros(len(data), dtype=bool)
    return (data["stale_hits_mean"] > 0).to_numpy()


def implausible_affine(fixed: float, slope: float) -> str | None:
    """Why an affine fit of a duration, ``fixed`` ms + ``slope`` ms per row, makes no sense, or None."""
    if fixed < 0:
        return "not affine: the fit's fixed cost is below 0"
    if slope < 0:
        return "not affine: the fit's cost per row is below 0"
    return None


def power_fit(x: Any, y: Any) -> PowerFit:
    """Least-squares slope of log10 y on log10 x with its standard error (sqrt(SSR / (n - 2) / Sxx)).

    Points with x <= 0 or y <= 0 have no logarithm and are skipped (never shifted); fewer
    than two distinct x left give a NaN exponent, fewer than three a NaN standard error.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = (x > 0) & (y > 0) & np.isfinite(y)
    skipped = int((~keep).sum())
    if len(np.unique(x[keep])) < 2:
        return PowerFit(float("nan"), float("nan"), skipped)
    lx, ly = np.log10(x[keep]), np.log10(y[keep])
    slope, intercept = np.polyfit(lx, ly, 1)
    dof = len(lx) - 2
    if dof < 1:
        return PowerFit(float(slope), float("nan"), skipped)
    residual = ly - (intercept + slope * lx)
    stderr = np.sqrt(float(residual @ residual) / dof / float(((lx - lx.mean()) ** 2).sum()))
    return PowerFit(float(slope), float(stderr), skipped)


def growth_exponent(x: Any, y: Any) -> tuple[float, int]:
    """(exponent, points skipped) of ``power_fit``: about 1 is O(rows), about 0 is O(1)."""
    fit = power_fit(x, y)
    return fit.exponent, fit.skipped


def affine_fit(x: Any, y: Any) -> AffineFit:
    """Weighted least squares of y = fixed + slope * x, each point weighted by 1 / y**2.

    The weights make every point count by its relative error, so on rows spaced by powers
    of ten the small lists fix the fixed cost and the long ones the cost per row (plain
    least squares would let the longest list decide both). Unweighted if some y <= 0.
    Standard errors need at least three distinct x (else NaN), the estimates two.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if len(np.unique(x)) < 2:
        return AffineFit(*(float("nan"),) * 4)
    weights = 1.0 / y**2 if (y > 0).all() else np.ones_like(y)
    design = np.column_stack([np.ones_like(x), x])
    normal = design.T @ (design * weights[:, None])
    beta = np.linalg.solve(normal, design.T @ (weights * y))
    dof = len(x) - 2
    if dof < 1:
        return AffineFit(float(beta[0]), float(beta[1]), float("nan"), float("nan"))
    residual = y - design @ beta
    cov = np.linalg.inv(normal) * float(weights @ residual**2) / dof
    return AffineFit(float(beta[0]), float(beta[1]), float(np.sqrt(cov[0, 0])), float(np.sqrt(cov[1, 1])))


def growth_table(frame: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """How scans and list_ms grow with rows, for every combination of the other dimensions.

    One row per combination (in plan order): the other dimensions' values, then
    ``scans_exponent`` and ``scans_exponent_se`` (slope of log mean scans on log rows and
    its standard error), and ``list_ms_fixed_ms``, ``list_ms_per_row_ms`` with their
    ``_se`` (the affine fit of mean list_ms on rows). Empty when ``list.rows`` is not swept.
    """
    if ROWS not in scenario.sweep:
        return pd.DataFrame()
    others = [p for p in dimensions(scenario) if p != ROWS]
    runs = per_run(frame, scenario)
    means = runs.groupby([*others, ROWS], sort=False)[["scans", "list_ms"]].mean().reset_index()
    rows = []
    for key, part in means.groupby(others, sort=False) if others else [((), means)]:
        key = key if isinstance(key, tuple) else (key,)
        power, affine = power_fit(part[ROWS], part["scans"]), affine_fit(part[ROWS], part["list_ms"])
        rows.append(
            {
                **dict(zip(others, key, strict=True)),
                "scans_exponent": power.exponent,
                "scans_exponent_se": power.stderr,
                "list_ms_fixed_ms": affine.fixed,
                "list_ms_fixed_ms_se": affine.fixed_se,
                "list_ms_per_row_ms": affine.slope,
                "list_ms_per_row_ms_se": affine.slope_se,
            }
        )
    return pd.DataFrame(rows)
