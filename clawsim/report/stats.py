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


def line_keys(scenario: Scenario) -> list[str]:
    """The columns that tell options apart: the fix, and the variant if any."""
    return ["variant", "fix"] if scenario.variants else ["fix"]


def concurrency_path(scenario: Scenario) -> str | None:
    """The first swept actor parameter (rate_per_s, count or period_ms), or None."""
    return next((p for p in scenario.sweep if CONCURRENCY.match(p)), None)


def per_run(frame: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """One row per run: ``run``, its dimensions, a ``fix`` column, each metric averaged over its
    lists, and ``completed`` (whether it finished every list; see ``summarize``).

    ``fix`` is the swept ``registry.fix``; else what the lists ran with (``pinned``), so
    a variant that sets the fix is honoured; else the scenario's fix.
    """
    dims = list(scenario.dimensions)
    metrics = [m for m in METRICS if m in frame.columns]
    spec: dict[str, str] = {**{p: "first" for p in dims}, **{m: "mean" for m in metrics}}
    if "pinned" in frame.columns:
        spec["pinned"] = "first"
    if "completed" in frame.columns:
        spec["completed"] = "min"
    runs = frame.groupby("run", sort=True).agg(spec).reset_index()
    runs["completed"] = runs["completed"].astype(bool) if "completed" in runs else True
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
    run counts once. A run that halted (a list with ``completed`` false: the loop could not
    keep up, or the run hit ``loop.max_sim_ms``) is never averaged with the runs that
    finished: its counts stop where it halted. Returns one row per group (in order of first
    appearance): the ``by`` columns, ``runs`` (all), ``completed`` (the runs that finished
    every list, which every statistic is over; a group with none is *saturated* and its
    statistics are NaN), then for each metric ``m``: ``m_mean``, ``m_ci95`` (half-width of the
    95 % Student t interval; NaN with one run), ``m_lo`` and ``m_hi`` (mean -/+ half-width),
    ``m_min`` and ``m_max`` (over runs). The mean is clipped into [min, max] (rounding can
    put the mean of identical values one ulp outside), so every band and bar is >= 0 long.
    Raises ReportError naming a missing column.
    """
    by, metrics = list(by), list(metrics)
    missing = [c for c in (*by, *metrics) if c not in frame.columns]
    if missing:
        raise ReportError(f"summarize: no column {', '.join(missing)} in the table")
    done = "completed" in frame.columns
    if "run" in frame.columns and "run" not in by:
        spec = {**{c: "first" for c in by}, **{m: "mean" for m in metrics}, **({"completed": "min"} if done else {})}
        frame = frame.groupby("run", sort=False).agg(spec)
    finished = frame["completed"].astype(bool) if done else pd.Series(True, index=frame.index)
    keys: Any = by if by else np.zeros(len(frame), dtype=int)
    masked = frame.assign(**{m: frame[m].where(finished) for m in metrics}, _finished=finished.astype(int))
    grouped = masked.groupby(keys, sort=False, dropna=False)
    table = grouped.size().rename("runs").reset_index() if by else pd.DataFrame({"runs": [len(frame)]})
    table["completed"] = grouped["_finished"].sum().to_numpy()
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
    others = [p for p in scenario.dimensions if p != ROWS]
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


def _run_table(frame: pd.DataFrame, keys: Sequence[str], metrics: Sequence[str]) -> pd.DataFrame:
    """One row per run (in run order): ``keys`` (first value), ``metrics`` (mean over its lists)
    and ``completed`` (whether it finished every list; True when the table does not say)."""
    spec: dict[str, str] = {**{k: "first" for k in keys}, **{m: "mean" for m in metrics}}
    if "completed" in frame.columns:
        spec["completed"] = "min"
    runs = frame.groupby("run", sort=True).agg(spec)
    runs["completed"] = runs["completed"].astype(bool) if "completed" in runs else True
    return runs


def paired_differences(
    frame: pd.DataFrame, scenario: Scenario, metrics: Sequence[str] = ("scans", "list_ms", "loop_delay_max_ms")
) -> pd.DataFrame:
    """What each option saves against the first, per situation, paired by replication.

    The options are the values of ``Scenario.paired_dimensions`` (the variant, a swept
    ``registry.fix``), the first in plan order the baseline; a situation is a combination of
    the other swept fields. The runs of one replication of a situation share their random
    streams (common random numbers), so each replication gives one difference, baseline minus
    option, per metric (a run's lists averaged first). One row per situation and option
    (plan order): the other dimensions, the option's paired values, ``pairs`` (replications
    where both runs finished every list; the others are left out and counted in ``halted``),
    then per metric ``<m>_saved`` (the mean difference), ``<m>_ci95`` (half-width of its 95 %
    Student t interval over the pairs) and ``<m>_ci95_unpaired`` (Welch's interval of the two
    samples as if they were independent: what pairing buys). Empty without a paired dimension.
    """
    paired = list(scenario.paired_dimensions)
    metrics = [m for m in metrics if m in frame.columns]
    if not paired:
        return pd.DataFrame()
    others = [d for d in scenario.dimensions if d not in paired]
    key = [*others, "replication"]
    runs = _run_table(frame, [*paired, *key], metrics)
    options = list(dict.fromkeys(runs[paired].itertuples(index=False, name=None)))
    by_option = {o: runs[(runs[paired] == pd.Series(o, index=paired)).all(axis=1)].set_index(key) for o in options}
    base = by_option[options[0]]
    situations = list(dict.fromkeys(base.index.droplevel("replication"))) if others else [()]
    rows = []
    for situation in situations:
        for option in options[1:]:
            rows.append(_pair_row(base, by_option[option], others, situation, paired, option, metrics))
    return pd.DataFrame(rows)


def _pair_row(
    base: pd.DataFrame,
    alt: pd.DataFrame,
    others: list[str],
    situation: Any,
    paired: list[str],
    option: tuple[Any, ...],
    metrics: list[str],
) -> dict[str, Any]:
    """One row of ``paired_differences``: one option against the baseline in one situation."""
    situation = situation if isinstance(situation, tuple) else (situation,)
    if others:
        base, alt = base.xs(situation, level=others, drop_level=True), alt.xs(situation, level=others, drop_level=True)
    both = base.add_suffix("_base").join(alt.add_suffix("_alt"), how="inner")
    done = both["completed_base"] & both["completed_alt"]
    row: dict[str, Any] = {**dict(zip(others, situation, strict=True)), **dict(zip(paired, option, strict=True))}
    row |= {"pairs": int(done.sum()), "halted": int((~done).sum())}
    for m in metrics:
        a, b = both.loc[done, f"{m}_base"].to_numpy(float), both.loc[done, f"{m}_alt"].to_numpy(float)
        row[f"{m}_saved"] = float(np.mean(a - b)) if len(a) else float("nan")
        row[f"{m}_ci95"] = float(ci95_half_width(np.std(a - b, ddof=1) if len(a) > 1 else np.nan, len(a)))
        row[f"{m}_ci95_unpaired"] = welch_half_width(a, b)
    return row


def welch_half_width(a: np.ndarray, b: np.ndarray) -> float:
    """Half-width of Welch's 95 % interval of mean(a) - mean(b) for independent samples; NaN
    with fewer than 2 values in either; 0 when both are constant."""
    if len(a) < 2 or len(b) < 2:
        return float("nan")
    va, vb = np.var(a, ddof=1) / len(a), np.var(b, ddof=1) / len(b)
    if va + vb == 0:
        return 0.0
    dof = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    return float(stats.t.ppf(0.5 + CONFIDENCE / 2, dof) * np.sqrt(va + vb))


LOAD_POINTS = 10_000  # plans with more points get no load column (it is computed per point)


def load_table(scenario: Scenario, by: Sequence[str]) -> pd.DataFrame | None:
    """Per sweep point: the ``by`` columns (``point`` or the point's dimensions) and ``load``,
    the actors' offered load of the thread (``clawsim.analytic.offered_load``; NaN where it
    cannot say). None when no point has one, or the plan has more than ``LOAD_POINTS`` points."""
    from ..analytic import NotAnalytic, offered_load
    from ..scenario import plan

    runs = plan(scenario)
    if runs.points > LOAD_POINTS:
        return None
    rows = []
    for point in range(runs.points):
        spec = runs[point * runs.replications]
        try:
            load = offered_load(spec.scenario)
        except NotAnalytic:
            load = float("nan")
        rows.append({"point": point, **dict(spec.params), "load": load})
    table = pd.DataFrame(rows)
    if not np.isfinite(table["load"]).any() or not set(by) <= set(table.columns):
        return None
    return table[[*by, "load"]].drop_duplicates(subset=list(by))


def saturation(frame: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """The groups of ``by`` (sweep points) where a run did not finish its lists (``completed``
    false: the loop could not keep up, or the run hit ``loop.max_sim_ms``), in order of first
    appearance: the ``by`` columns, ``halted`` and ``runs``. Empty when every run finished."""
    if "completed" not in frame.columns or frame["completed"].all():
        return pd.DataFrame(columns=[*by, "halted", "runs"])
    runs = frame.groupby("run", sort=True).agg({**{c: "first" for c in by}, "completed": "min"})
    runs["halted"] = (~runs["completed"].astype(bool)).astype(int)
    table = runs.groupby(list(by), sort=False, dropna=False).agg(halted=("halted", "sum"), runs=("halted", "size"))
    return table[table["halted"] > 0].reset_index()


def overloaded(frame: pd.DataFrame, scenario: Scenario, by: Sequence[str]) -> pd.DataFrame:
    """The points whose runs all finished although the actors' offered load is >= 1 (the
    backlog grows for as long as a run lasts, so its numbers depend on the run's length):
    the ``by`` columns and ``load``. Empty when there is none, or no load is known."""
    loads = load_table(scenario, by)
    if loads is None:
        return pd.DataFrame(columns=[*by, "load"])
    halted = saturation(frame, by)
    high = loads[loads["load"] >= 1]
    if not halted.empty:
        high = high.merge(halted[list(by)], on=list(by), how="left", indicator=True)
        high = high[high["_merge"] == "left_only"].drop(columns="_merge")
    return high.reset_index(drop=True)
