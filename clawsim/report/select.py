"""Which charts a result folder gets, each with the tidy table it plots.

The charts follow what the sweep varies (``scenario.sweep`` and ``variants``):

- ``list.rows``: scans vs rows (log-log, legend: growth exponent ± standard error) and
  list_ms vs rows (legend and dashed line: the affine fit, fixed ms + ms per row);
- an actor's ``rate_per_s``, ``count`` or ``period_ms`` (the first one swept): scans vs it;
- ``list.rows``, a concurrency parameter and fixes ``none`` and ``pin``: a heatmap of the
  scan ratio (mean scans with fix none / with fix pin);
- ``list.yield_every``: loop_delay_max_ms vs yield_every;
- ``variants`` or ``registry.fix``: the trade-off, one row per option (variant and fix)
  with scans, list duration, the longest event-loop delay and (if any option served one)
  stale hits side by side;
- any other sweep: scans and list_ms vs each swept field.

Line charts draw one line per option; fields a chart does not show become more lines,
panels or held values (``layout``). Every mean carries its 95 % confidence interval
(``stats.summarize``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..errors import ReportError
from ..scenario import Scenario
from .layout import Layout, held_slice, held_values, line_layout, option_layout, order_by
from .stats import (
    CONCURRENCY,
    FIX,
    ROWS,
    YIELD_EVERY,
    affine_fit,
    concurrency_path,
    per_run,
    power_fit,
    stale_options,
    summarize,
)

SCANS_LABEL = "full scans per list (memo misses)"
STATS = ("mean", "ci95", "lo", "hi", "min", "max")


@dataclass(frozen=True)
class Chart:
    """One chart: its PNG file name, labels, and the tidy table of what it plots.

    ``kind`` is ``lines`` (``data`` columns: the ``lines`` keys, the ``panel`` column if
    any, x, mean, ci95, lo, hi, min, max, runs; growth charts add exponent and exponent_se
    (``fit == "power"``) or fixed_ms, per_row_ms and their _se (``fit == "affine"``)),
    ``heatmap`` (rows, concurrency, none, pin, ratio) or ``tradeoff`` (the option keys,
    runs, then mean, ci95, lo, hi, min, max of scans, loop_delay_max_ms, list_ms and
    stale_hits). ``note`` says what is held and how lines and bands are made.
    """

    file: str
    kind: str
    title: str
    xlabel: str
    ylabel: str
    data: pd.DataFrame
    note: str
    xscale: str = "linear"  # linear, log, or categorical (evenly spaced, labelled by value)
    logy: bool = False
    lines: tuple[str, ...] = ()
    panel: str | None = None
    fit: str = ""
    x_path: str = ""  # the swept field on the x axis of a line chart
    conditions: str = ""  # the held values in words ("16 copies of 'agent', 10,000 rows"), under the title

    @property
    def heading(self) -> str:
        """The title with its conditions, as index.md and index.html head the chart."""
        return f"{self.title} ({self.conditions})" if self.conditions else self.title


def condition(scenario: Scenario, path: str, value: Any) -> str:
    """A held value in words: ``10,000 rows``, ``16 copies of 'agent'``, ``never yields``."""
    from ..console import yaml_value

    if (match := CONCURRENCY.match(path)) is not None:
        index, name = int(match.group(1)), match.group(2)
        actor = scenario.actors[index].name if index < len(scenario.actors) else f"#{index}"
        return {
            "count": f"{value:,} copies of '{actor}'",
            "rate_per_s": f"'{actor}' at {value:g}/s",
            "period_ms": f"'{actor}' every {value:g} ms",
        }[name]
    if path == ROWS:
        return f"{value:,} rows"
    if path == YIELD_EVERY:
        return "never yields" if value == 0 else f"a yield every {value:,} rows"
    if path == FIX:
        return f"fix {value}"
    if path == "variant":
        return f"variant {value}"
    return f"{path} = {yaml_value(value)}"


def conditions(scenario: Scenario, layout: Layout) -> str:
    """What a chart holds fixed, in words, for its title."""
    return ", ".join(condition(scenario, path, value) for path, value in layout.held.items())


def _band_note(scenario: Scenario) -> str:
    count = scenario.replications
    if count < 2:
        return "line: mean over runs (1 replication per point: no confidence interval); each run's lists averaged first"
    return (
        f"line: mean over runs; dark band: 95 % CI, Student t over {count} replications; "
        "light band: min to max over runs; each run's lists averaged first"
    )


def _point_note(scenario: Scenario) -> str:
    count = scenario.replications
    if count < 2:
        return (
            "marker: mean over runs (1 replication per point: no confidence interval); each run's lists averaged first"
        )
    return (
        f"marker: mean over runs; thick bar: 95 % CI, Student t over {count} replications; "
        "thin bar: min to max over runs; each run's lists averaged first"
    )


def series(runs: pd.DataFrame, scenario: Scenario, x_path: str, metric: str) -> tuple[pd.DataFrame, Layout]:
    """Points of ``metric`` vs ``x_path`` from per-run values: (table, layout); see ``Chart``."""
    layout = line_layout(scenario, runs, x_path)
    keys = [*layout.lines, *([layout.panel] if layout.panel else [])]
    table = summarize(held_slice(runs, layout.held), [*keys, x_path], [metric])
    table = table.rename(columns={x_path: "x", **{f"{metric}_{s}": s for s in STATS}})
    return order_by(table, keys, "x", scenario.dimension_values[x_path]), layout


def _with_fits(table: pd.DataFrame, keys: list[str], fit: str) -> pd.DataFrame:
    table = table.copy()
    for _, part in table.groupby(keys, sort=False, dropna=False):
        if fit == "power":
            power = power_fit(part["x"], part["mean"])
            table.loc[part.index, ["exponent", "exponent_se"]] = power.exponent, power.stderr
        else:
            affine = affine_fit(part["x"], part["mean"])
            table.loc[part.index, ["fixed_ms", "per_row_ms", "fixed_ms_se", "per_row_ms_se"]] = (
                affine.fixed,
                affine.slope,
                affine.fixed_se,
                affine.slope_se,
            )
    return table


def _conc_label(scenario: Scenario, path: str) -> str:
    match = CONCURRENCY.match(path)
    assert match is not None
    index, name = int(match.group(1)), match.group(2)
    actor = scenario.actors[index].name if index < len(scenario.actors) else f"#{index}"
    what = {
        "rate_per_s": "activations per second per copy (1/s)",
        "count": "concurrent copies",
        "period_ms": "period (ms)",
    }[name]
    return f"actor '{actor}': {what} [{path}]"


def _growth_chart(runs: pd.DataFrame, scenario: Scenario, metric: str) -> Chart:
    table, layout = series(runs, scenario, ROWS, metric)
    keys = [*layout.lines, *([layout.panel] if layout.panel else [])]
    if metric == "scans":
        fit, file, ylabel = "power", "scans-vs-rows.png", SCANS_LABEL
        legend = (
            "legend: growth exponent ± its standard error (slope of log mean on log rows; "
            "~1 = O(rows), ~0 = O(1); points <= 0 skipped)"
        )
    else:
        fit, file, ylabel = "affine", "list-ms-vs-rows.png", "list duration (ms of simulated time)"
        legend = (
            "legend and dashed line: affine fit of the means, fixed ms + ms per row "
            "(weighted by 1/mean^2), ± standard errors"
        )
    title = f"{ylabel.split(' (')[0].capitalize()} vs rows"
    return Chart(
        file,
        "lines",
        title,
        f"rows per list [{ROWS}]",
        ylabel,
        _with_fits(table, keys, fit),
        f"{_band_note(scenario)}; {layout.held_text()}; {legend}",
        "log",
        True,
        layout.lines,
        layout.panel,
        fit,
        ROWS,
        conditions(scenario, layout),
    )


def _line_chart(
    runs: pd.DataFrame, scenario: Scenario, x_path: str, metric: str, labels: tuple[str, str, str], xscale: str
) -> Chart:
    table, layout = series(runs, scenario, x_path, metric)
    title, xlabel, ylabel = labels
    short = {"scans": "scans", "list_ms": "list-ms", "loop_delay_max_ms": "loop-delay"}[metric]
    what = "concurrency" if CONCURRENCY.match(x_path) else re.sub(r"[^a-z0-9]+", "-", x_path.split(".")[-1].lower())
    file = f"{short}-vs-{what}.png"
    note = f"{_band_note(scenario)}; {layout.held_text()}"
    if xscale == "categorical":  # points, not lines (draw.py): say so in the points' terms
        note = f"{_point_note(scenario)}; {layout.held_text()}; x: the values swept, evenly spaced, not joined"
    return Chart(
        file,
        "lines",
        title,
        xlabel,
        ylabel,
        table,
        note,
        xscale,
        metric == "scans",
        layout.lines,
        layout.panel,
        x_path=x_path,
        conditions=conditions(scenario, layout),
    )


def ratio_table(runs: pd.DataFrame, scenario: Scenario, conc: str) -> tuple[pd.DataFrame, Layout]:
    """Mean scans with fix none and pin, and their ratio, per rows x concurrency: (table, layout).

    Table columns: rows, concurrency, none, pin, ratio (NaN where pin has 0 scans, or where no
    run finished its list: halted runs are in no mean).
    """
    layout = Layout(("fix",), None, held_values(scenario, (ROWS, conc, FIX)))
    held = held_slice(runs, layout.held)
    scans = held["scans"].where(held["completed"])
    means = scans.groupby([held[ROWS], held[conc], held["fix"]], sort=True).mean().unstack("fix")
    table = means[["none", "pin"]].reset_index().rename(columns={ROWS: "rows", conc: "concurrency"})
    table.columns.name = None
    table["ratio"] = table["none"] / table["pin"].where(table["pin"] > 0)
    return table, layout


def _heatmap_chart(runs: pd.DataFrame, scenario: Scenario, conc: str) -> Chart:
    table, layout = ratio_table(runs, scenario, conc)
    return Chart(
        "scan-ratio-heatmap.png",
        "heatmap",
        "Scan ratio: mean scans with fix none / with fix pin",
        _conc_label(scenario, conc),
        f"rows per list [{ROWS}]",
        table,
        f"cell: mean scans over runs with fix none divided by that with fix pin (n/a: the pin made no scan, or "
        f"a saturated cell, where no run finished its list); {layout.held_text()}",
        conditions=conditions(scenario, layout),
    )


def tradeoff_table(runs: pd.DataFrame, scenario: Scenario) -> tuple[pd.DataFrame, Layout]:
    """One row per option (plan order): summaries of scans, loop_delay_max_ms, list_ms, stale_hits."""
    layout = option_layout(scenario, runs)
    metrics = [m for m in ("scans", "loop_delay_max_ms", "list_ms", "stale_hits") if m in runs]
    return summarize(held_slice(runs, layout.held), list(layout.lines), metrics), layout


def _tradeoff_chart(runs: pd.DataFrame, scenario: Scenario) -> Chart:
    table, layout = tradeoff_table(runs, scenario)
    bar = (
        f"bar: 95 % CI, Student t over {scenario.replications} replications; "
        if scenario.replications >= 2
        else "1 replication per point: no confidence interval; "
    )
    stale = (
        "red: options that served stale hits (an entry made for another workspace or before the registry changed)"
        if stale_options(table).any()
        else "no option served a stale hit (no stale-hit panel)"
    )
    note = (
        f"dot: mean over runs (each run's lists averaged first); {bar}thin line: min to max over runs; "
        f"{stale}; {layout.held_text()}"
    )
    return Chart(
        "tradeoff.png",
        "tradeoff",
        "The options side by side: scans, list duration, responsiveness"
        + (", stale hits" if stale_options(table).any() else ""),
        "",
        "",
        table,
        note,
        lines=layout.lines,
        conditions=conditions(scenario, layout),
    )


def _known_charts(runs: pd.DataFrame, scenario: Scenario) -> list[Chart]:
    conc, found = concurrency_path(scenario), []
    if ROWS in scenario.sweep:
        found += [_growth_chart(runs, scenario, "scans"), _growth_chart(runs, scenario, "list_ms")]
    if conc:
        found.append(
            _line_chart(
                runs,
                scenario,
                conc,
                "scans",
                ("Full scans per list vs concurrency", _conc_label(scenario, conc), SCANS_LABEL),
                "linear",
            )
        )
    if ROWS in scenario.sweep and conc and {"none", "pin"} <= set(scenario.sweep.get(FIX, ())):
        found.append(_heatmap_chart(runs, scenario, conc))
    if YIELD_EVERY in scenario.sweep:
        found.append(
            _line_chart(
                runs,
                scenario,
                YIELD_EVERY,
                "loop_delay_max_ms",
                (
                    "Worst event-loop delay vs yield batch size",
                    f"rows between yields [{YIELD_EVERY}]",
                    "max event-loop delay (ms)",
                ),
                "categorical",
            )
        )
    if scenario.variants or FIX in scenario.sweep:
        found.append(_tradeoff_chart(runs, scenario))
    return found


def _field_charts(runs: pd.DataFrame, scenario: Scenario) -> list[Chart]:
    """Scans and list_ms vs every swept field, for sweeps the named charts do not cover."""
    found = []
    for path, values in scenario.sweep.items():
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        for metric, ylabel in (("scans", SCANS_LABEL), ("list_ms", "list duration (ms of simulated time)")):
            title = f"{ylabel.split(' (')[0].capitalize()} vs {path}"
            found.append(
                _line_chart(
                    runs, scenario, path, metric, (title, f"[{path}]", ylabel), "linear" if numeric else "categorical"
                )
            )
    return found


def charts(frame: pd.DataFrame, scenario: Scenario) -> list[Chart]:
    """Every chart the sweep calls for, with the data it plots; ReportError if the scenario sweeps nothing."""
    if not scenario.sweep and not scenario.variants:
        raise ReportError(
            f"scenario {scenario.name!r} sweeps nothing: a report compares the points of a sweep "
            "(add a sweep: or variants: section)"
        )
    runs = per_run(frame, scenario)
    return _known_charts(runs, scenario) or _field_charts(runs, scenario)
