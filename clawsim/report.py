"""PNG charts and ``index.md`` for a result folder; the charts follow what the sweep varies.

Which charts a folder gets depends on the swept fields (``scenario.sweep``):

- ``list.rows``: scans vs rows and list_ms vs rows, log-log, one line per fix, each with
  its fitted growth exponent (the slope of log y on log rows: about 1 is O(rows), about 0
  is O(1));
- an actor's ``rate_per_s``, ``count`` or ``period_ms`` (the first one swept): scans vs
  that concurrency parameter, one line per fix;
- ``list.rows``, a concurrency parameter and ``registry.fix`` with ``none`` and ``pin``:
  a heatmap of the scan ratio (mean scans with fix none / mean scans with fix pin);
- ``list.yield_every``: loop_delay_max_ms vs yield_every, one line per fix;
- ``variants`` or ``registry.fix``: the trade-off at a glance, one point per option
  (variant and fix): mean scans against mean loop_delay_max_ms, bars from min to max.

How the numbers are made (the captions say the same): the lists of one run are first
averaged into one value per run; a line is the mean over the runs at each x (the
replications), its band the minimum to maximum over those runs. Every swept field that a
chart does not show is held at one value: its largest if numeric, else the last listed.

``charts(frame, scenario)`` returns every chart with the tidy table it plots, so tests
and notebooks can check the exact numbers; ``write_report(folder)`` draws them. PNGs are
deterministic for a given matplotlib and FreeType: drawn by the Agg renderer (a Figure
with its own FigureCanvasAgg; pyplot and the global backend are never touched, so a
notebook keeps its inline plots), matplotlib's default style, fixed size and dpi, no
``Software`` text chunk. Times are ms of simulated time.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import matplotlib.style
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from .errors import ReportError
from .scenario import Scenario
from .store import atomic_write, atomic_write_text, read_results

ROWS = "list.rows"
FIX = "registry.fix"
YIELD_EVERY = "list.yield_every"
CONCURRENCY = re.compile(r"^actors\.(\d+)\.(rate_per_s|count|period_ms)$")
FIGSIZE_IN = (8.0, 5.6)
DPI = 100
INDEX_MD = "index.md"
BAND = "line: mean over runs; band: min to max over runs (each run's lists averaged first)"
CHARTABLE = f"{ROWS}, {YIELD_EVERY} or an actor's rate_per_s, count or period_ms"


@dataclass(frozen=True)
class Chart:
    """One chart: its PNG file name, labels, and the tidy table of what it plots.

    ``kind`` is ``lines`` (``data`` columns: [variant,] fix, x, mean, lo, hi, runs, and for
    growth charts exponent and skipped), ``heatmap`` (columns: rows, concurrency, none,
    pin, ratio) or ``tradeoff`` (columns: [variant,] fix, then mean/lo/hi of scans,
    loop_delay_max_ms and list_ms, and runs). ``note`` says what is held and how the line and band are made.
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


# --------------------------------------------------------------------------- data


def growth_exponent(x: Any, y: Any) -> tuple[float, int]:
    """Least-squares slope of log y on log x, and how many points were skipped.

    Points with x <= 0 or y <= 0 have no logarithm and are skipped (never shifted);
    with fewer than two distinct x left the slope is NaN.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = (x > 0) & (y > 0) & np.isfinite(y)
    if len(np.unique(x[keep])) < 2:
        return float("nan"), int((~keep).sum())
    slope = np.polyfit(np.log10(x[keep]), np.log10(y[keep]), 1)[0]
    return float(slope), int((~keep).sum())


def concurrency_path(scenario: Scenario) -> str | None:
    """The first swept actor parameter (rate_per_s, count or period_ms), or None."""
    return next((p for p in scenario.sweep if CONCURRENCY.match(p)), None)


def dimensions(scenario: Scenario) -> list[str]:
    """The columns that tell sweep points apart: ``variant`` (if any variants), then the swept paths."""
    return (["variant"] if scenario.variants else []) + list(scenario.sweep)


def line_keys(scenario: Scenario) -> list[str]:
    """The columns that make one line of a chart: the fix, and the variant if any."""
    return ["variant", "fix"] if scenario.variants else ["fix"]


def per_run(frame: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """One row per run: its dimensions, a ``fix`` column, and each metric averaged over its lists.

    ``fix`` is the swept ``registry.fix``; else what the lists ran with (``pinned``), so
    a variant that sets the fix is honoured; else the scenario's fix.
    """
    dims = dimensions(scenario)
    metrics = [m for m in ("scans", "list_ms", "loop_delay_max_ms", "pinned") if m in frame.columns]
    spec = {**{p: "first" for p in dims}, **{m: "mean" for m in metrics if m != "pinned"}}
    if "pinned" in metrics:
        spec["pinned"] = "first"
    runs = frame.groupby("run", sort=True).agg(spec).reset_index()
    if FIX in scenario.sweep:
        runs["fix"] = runs[FIX]
    elif "pinned" in runs:
        runs["fix"] = np.where(runs["pinned"].astype(bool), "pin", "none")
    else:
        runs["fix"] = scenario.registry.fix
    return runs


def held_values(scenario: Scenario, shown: tuple[str, ...]) -> dict[str, Any]:
    """The value each dimension not in ``shown`` is held at: largest if numeric, else last listed."""
    choices = {"variant": list(scenario.variants)} if scenario.variants else {}
    held = {}
    for path, values in {**choices, **scenario.sweep}.items():
        if path in shown:
            continue
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        held[path] = max(values) if numeric else values[-1]
    return held


def _held_slice(runs: pd.DataFrame, held: dict[str, Any]) -> pd.DataFrame:
    keep = np.ones(len(runs), dtype=bool)
    for path, value in held.items():
        keep &= runs[path].map(lambda v, want=value: v == want).to_numpy(dtype=bool)
    return runs[keep]


def _held_text(held: dict[str, Any]) -> str:
    if not held:
        return "nothing else swept"
    return "held: " + ", ".join(f"{p} = {v}" for p, v in held.items())


def series(frame: pd.DataFrame, scenario: Scenario, x_path: str, metric: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Points of ``metric`` vs ``x_path``, one line per fix (and variant): (table, held values).

    Table columns: [variant,] fix, x, mean, lo, hi, runs; sorted by line then x. ``mean``,
    ``lo`` and ``hi`` are the mean, minimum and maximum over the runs at that x.
    """
    keys = line_keys(scenario)
    held = held_values(scenario, (x_path, FIX, *keys))
    runs = _held_slice(per_run(frame, scenario), held)
    grouped = runs.groupby([*keys, x_path], sort=True)[metric]
    table = grouped.agg(mean="mean", lo="min", hi="max", runs="count").reset_index()
    return table.rename(columns={x_path: "x"}), held


def _with_exponents(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    table = table.copy()
    for _, part in table.groupby(keys, sort=True):
        slope, skipped = growth_exponent(part["x"], part["mean"])
        table.loc[part.index, "exponent"] = slope
        table.loc[part.index, "skipped"] = skipped
    return table.astype({"skipped": int})


def exponent_table(frame: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Growth exponents of scans and list_ms vs rows for every combination of the other dimensions.

    One row per combination (in plan order): the other dimensions' values, then
    ``scans_exponent`` and ``list_ms_exponent`` (slopes of log mean over runs on log rows).
    Empty when ``list.rows`` is not swept.
    """
    if ROWS not in scenario.sweep:
        return pd.DataFrame()
    others = [p for p in dimensions(scenario) if p != ROWS]
    runs = per_run(frame, scenario)
    means = runs.groupby([*others, ROWS], sort=False)[["scans", "list_ms"]].mean().reset_index()
    rows = []
    for key, part in (means.groupby(others, sort=False) if others else [((), means)]):
        key = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(others, key)),
                     "scans_exponent": growth_exponent(part[ROWS], part["scans"])[0],
                     "list_ms_exponent": growth_exponent(part[ROWS], part["list_ms"])[0]})
    return pd.DataFrame(rows)


def ratio_table(frame: pd.DataFrame, scenario: Scenario, conc: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Mean scans with fix none and pin, and their ratio, per rows x concurrency: (table, held).

    Table columns: rows, concurrency, none, pin, ratio (NaN where pin has 0 scans).
    """
    held = held_values(scenario, (ROWS, conc, FIX))
    runs = _held_slice(per_run(frame, scenario), held)
    means = runs.groupby([ROWS, conc, "fix"], sort=True)["scans"].mean().unstack("fix")
    table = means[["none", "pin"]].reset_index().rename(columns={ROWS: "rows", conc: "concurrency"})
    table.columns.name = None
    table["ratio"] = table["none"] / table["pin"].where(table["pin"] > 0)
    return table, held


# --------------------------------------------------------------------------- chart set


def _conc_label(scenario: Scenario, path: str) -> str:
    index, field = CONCURRENCY.match(path).groups()
    actor = scenario.actors[int(index)].name if int(index) < len(scenario.actors) else f"#{index}"
    what = {"rate_per_s": "activations per second per copy (1/s)", "count": "concurrent copies",
            "period_ms": "period (ms)"}[field]
    return f"actor '{actor}': {what} [{path}]"


def _growth_chart(frame, scenario, metric, file, ylabel) -> Chart:
    table, held = series(frame, scenario, ROWS, metric)
    note = (f"{BAND}; {_held_text(held)}; legend: fitted growth exponent (slope of log mean on log rows; "
            "~1 = O(rows), ~0 = O(1); points <= 0 skipped)")
    title = f"{ylabel.split(' (')[0].capitalize()} vs rows, by fix"
    return Chart(file, "lines", title, f"rows per list [{ROWS}]", ylabel, _with_exponents(table, line_keys(scenario)),
                 note, "log", True)


def _concurrency_chart(frame, scenario, conc) -> Chart:
    table, held = series(frame, scenario, conc, "scans")
    return Chart("scans-vs-concurrency.png", "lines", "Full scans per list vs concurrency, by fix",
                 _conc_label(scenario, conc), "full scans per list (memo misses)", table,
                 f"{BAND}; {_held_text(held)}", "linear", True)


def _heatmap_chart(frame, scenario, conc) -> Chart:
    table, held = ratio_table(frame, scenario, conc)
    return Chart("scan-ratio-heatmap.png", "heatmap", "Scan ratio: mean scans with fix none / with fix pin",
                 _conc_label(scenario, conc), f"rows per list [{ROWS}]", table,
                 f"cell: mean scans over runs with fix none divided by that with fix pin; {_held_text(held)}")


def _yield_chart(frame, scenario) -> Chart:
    table, held = series(frame, scenario, YIELD_EVERY, "loop_delay_max_ms")
    return Chart("loop-delay-vs-yield-every.png", "lines", "Worst event-loop delay vs yield batch size, by fix",
                 f"rows between yields [{YIELD_EVERY}] (0 = never yields)", "max event-loop delay (ms)", table,
                 f"{BAND}; {_held_text(held)}; x positions evenly spaced", "categorical", True)


def tradeoff_table(frame: pd.DataFrame, scenario: Scenario) -> tuple[pd.DataFrame, dict[str, Any]]:
    """One row per option (variant and fix): mean, min and max over runs of scans,
    loop_delay_max_ms and list_ms, with other swept fields held; (table, held values)."""
    keys = line_keys(scenario)
    held = held_values(scenario, (FIX, *keys))
    runs = _held_slice(per_run(frame, scenario), held)
    spec = {f"{m}_{stat}": (m, how) for m in ("scans", "loop_delay_max_ms", "list_ms")
            for stat, how in (("mean", "mean"), ("lo", "min"), ("hi", "max"))}
    table = runs.groupby(keys, sort=False).agg(**spec, runs=("scans", "count")).reset_index()
    return table, held


def _tradeoff_chart(frame, scenario) -> Chart:
    table, held = tradeoff_table(frame, scenario)
    return Chart("tradeoff.png", "tradeoff", "Scans vs responsiveness, per option",
                 "longest event-loop delay, loop_delay_max_ms (ms)", "full scans per list (memo misses)",
                 table, f"point: mean over runs; bars: min to max over runs; {_held_text(held)}")


def charts(frame: pd.DataFrame, scenario: Scenario) -> list[Chart]:
    """Every chart the sweep calls for, with the data it plots; ReportError if there is none."""
    if not scenario.sweep and not scenario.variants:
        raise ReportError(f"scenario {scenario.name!r} sweeps nothing; the charts need {CHARTABLE} in its sweep")
    conc, found = concurrency_path(scenario), []
    if ROWS in scenario.sweep:
        found.append(_growth_chart(frame, scenario, "scans", "scans-vs-rows.png",
                                   "full scans per list (memo misses)"))
        found.append(_growth_chart(frame, scenario, "list_ms", "list-ms-vs-rows.png",
                                   "list duration (ms of simulated time)"))
    if conc:
        found.append(_concurrency_chart(frame, scenario, conc))
    fixes = set(scenario.sweep.get(FIX, ()))
    if ROWS in scenario.sweep and conc and {"none", "pin"} <= fixes:
        found.append(_heatmap_chart(frame, scenario, conc))
    if YIELD_EVERY in scenario.sweep:
        found.append(_yield_chart(frame, scenario))
    if scenario.variants or FIX in scenario.sweep:
        found.append(_tradeoff_chart(frame, scenario))
    if not found:
        swept = ", ".join(scenario.sweep)
        raise ReportError(f"scenario {scenario.name!r} sweeps only {swept}; nothing to chart: "
                          f"the charts need {CHARTABLE}")
    return found


# --------------------------------------------------------------------------- drawing


def caption(chart: Chart, scenario: Scenario, runs: int) -> str:
    """The text under a chart: scenario, seed, run count, and how the numbers are made."""
    return (f"Scenario {scenario.name}, seed {scenario.seed}, {runs} runs "
            f"({_replications(scenario)} per point). {chart.note}.")


def _replications(scenario: Scenario) -> str:
    count = scenario.replications
    return f"{count} replication" + ("s" if count != 1 else "")


def _draw_lines(ax, chart: Chart) -> None:
    data = chart.data
    xs = sorted(data["x"].unique())
    position = {x: i for i, x in enumerate(xs)}
    keys = [k for k in ("variant", "fix") if k in data]
    for line, part in data.groupby(keys, sort=True):
        x = part["x"].map(position) if chart.xscale == "categorical" else part["x"]
        label = ", ".join(f"{k} {v}" for k, v in zip(keys, line))
        if "exponent" in part:
            slope = part["exponent"].iloc[0]
            label += f": exponent {_two_places(slope)}"
        (drawn,) = ax.plot(x, part["mean"], marker="o", label=label)
        ax.fill_between(x, part["lo"], part["hi"], color=drawn.get_color(), alpha=0.2, linewidth=0)
    ax.set_xscale("log" if chart.xscale == "log" else "linear")
    if chart.xscale == "categorical":
        ax.set_xticks(range(len(xs)), [str(x) for x in xs])
    ax.set_yscale("log" if chart.logy and (data["lo"] > 0).all() else "linear")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(title="growth exponent: ~1 O(rows), ~0 O(1)" if "exponent" in data else None)


def _draw_heatmap(fig, ax, chart: Chart) -> None:
    grid = chart.data.pivot(index="rows", columns="concurrency", values="ratio").sort_index()
    values = grid.to_numpy(dtype=float)
    finite = values[np.isfinite(values) & (values > 0)]
    norm = LogNorm(vmin=finite.min(), vmax=max(finite.max(), finite.min() * 10)) if finite.size else None
    image = ax.imshow(np.ma.masked_invalid(values), origin="lower", aspect="auto", cmap="viridis", norm=norm)
    ax.set_xticks(range(grid.shape[1]), [str(c) for c in grid.columns])
    ax.set_yticks(range(grid.shape[0]), [str(r) for r in grid.index])
    middle = np.sqrt(norm.vmin * norm.vmax) if norm else 1.0
    for (i, j), value in np.ndenumerate(values):
        text = f"{value:.3g}" if np.isfinite(value) else "n/a"
        ax.text(j, i, text, ha="center", va="center", fontsize=8, color="white" if value < middle else "black")
    fig.colorbar(image, ax=ax, label="legend: scan ratio none / pin (log colour scale)")


def _draw_tradeoff(ax, chart: Chart) -> None:
    data = chart.data
    keys = [k for k in ("variant", "fix") if k in data]
    markers = "osD^vP*Xh<>p"
    for i, row in enumerate(data.to_dict("records")):
        x, y = row["loop_delay_max_ms_mean"], row["scans_mean"]
        xerr = [[x - row["loop_delay_max_ms_lo"]], [row["loop_delay_max_ms_hi"] - x]]
        yerr = [[y - row["scans_lo"]], [row["scans_hi"] - y]]
        label = " / ".join(str(row[k]) for k in keys)
        ax.errorbar([x], [y], xerr=xerr, yerr=yerr, marker=markers[i % len(markers)], markersize=8,
                    capsize=3, linestyle="none", alpha=0.85, label=label)
    ax.set_yscale("symlog", linthresh=1.0)
    ax.set_ylim(bottom=0)
    if (data["loop_delay_max_ms_lo"] > 0).all():
        ax.set_xscale("log")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, title=" / ".join(keys))


def render(chart: Chart, text: str) -> bytes:
    """The chart as PNG bytes, with ``text`` as its caption; same inputs, same bytes.

    Drawn on a Figure with its own Agg canvas, never through pyplot, so the global
    backend (a notebook's inline one, say) is left alone and no figure is kept open.
    """
    with matplotlib.style.context("default"):
        fig = Figure(figsize=FIGSIZE_IN, dpi=DPI)
        FigureCanvasAgg(fig)
        ax = fig.add_axes((0.1, 0.23, 0.8 if chart.kind == "heatmap" else 0.86, 0.69))
        if chart.kind == "heatmap":
            _draw_heatmap(fig, ax, chart)
        elif chart.kind == "tradeoff":
            _draw_tradeoff(ax, chart)
        else:
            _draw_lines(ax, chart)
        ax.set_title(chart.title)
        ax.set_xlabel(chart.xlabel)
        ax.set_ylabel(chart.ylabel)
        fig.text(0.02, 0.02, textwrap.fill(text, 112), fontsize=8, va="bottom", ha="left")
        buffer = BytesIO()
        fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


# --------------------------------------------------------------------------- index.md


def _two_places(value: float) -> str:
    """``value`` with 2 decimals, never ``-0.00``; ``n/a`` if not finite."""
    return f"{round(float(value), 2) + 0.0:.2f}" if np.isfinite(value) else "n/a"


def _cell(value: Any) -> str:
    return _two_places(value) if isinstance(value, (float, np.floating)) else str(value)


def markdown_table(table: pd.DataFrame) -> str:
    """A DataFrame as a GitHub markdown table (floats with 2 decimals)."""
    lines = ["| " + " | ".join(map(str, table.columns)) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines)


def point_table(frame: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Per sweep point: its dimensions, runs, and means over runs of scans, list_ms, loop_delay_max_ms."""
    runs = per_run(frame, scenario)
    runs["point"] = frame.groupby("run", sort=True)["point"].first().to_numpy()
    spec = {**{p: (p, "first") for p in dimensions(scenario)}, "runs": ("scans", "count"),
            "mean scans": ("scans", "mean"), "mean list_ms": ("list_ms", "mean"),
            "mean loop_delay_max_ms": ("loop_delay_max_ms", "mean")}
    return runs.groupby("point", sort=True).agg(**spec).reset_index()


def index_markdown(frame: pd.DataFrame, scenario: Scenario, meta: dict[str, Any], found: list[Chart]) -> str:
    """The report page: what was run, each chart with its caption, exponents, a table per point."""
    runs = int(frame["run"].nunique())
    source = meta.get("source", f"scenarios/{scenario.name}.yaml")
    swept = ", ".join(f"`{p}` ({len(v)} values)" for p, v in scenario.sweep.items())
    if scenario.variants:
        swept += "; variants " + ", ".join(f"`{v}`" for v in scenario.variants)
    parts = [f"# {scenario.name}: report", "",
             f"{scenario.description or 'No description.'}", "",
             f"Scenario `{scenario.name}`, seed {scenario.seed}: {runs} runs, {_replications(scenario)} "
             f"per point; sweeps {swept}. Times are ms of simulated time. The numbers are in `runs.csv`; "
             f"regenerate with `clawsim run {source}` and redraw with `clawsim report <this folder>`.", ""]
    for chart in found:
        parts += [f"## {chart.title}", "", f"![{chart.title}]({chart.file})", "", caption(chart, scenario, runs), ""]
    exponents = exponent_table(frame, scenario)
    if not exponents.empty:
        parts += ["## Growth exponents vs rows", "",
                  "Slope of log(mean over runs) on log(rows), for each combination of the other swept fields "
                  "(~1 = O(rows), ~0 = O(1)).", "", markdown_table(exponents), ""]
    parts += ["## Per sweep point", "", markdown_table(point_table(frame, scenario)), ""]
    return "\n".join(parts)


def write_report(folder: str | Path) -> list[Path]:
    """Draw a result folder's charts and index.md into it, each written atomically.

    Returns the PNG paths written. Raises store.ResultsError for a missing or unreadable
    folder and ReportError when the sweep gives nothing to chart.
    """
    folder = Path(folder)
    frame, scenario, meta = read_results(folder)
    found = charts(frame, scenario)
    runs = int(frame["run"].nunique())
    written = []
    for chart in found:
        png = render(chart, caption(chart, scenario, runs))
        atomic_write(folder / chart.file, lambda handle, data=png: handle.write(data))
        written.append(folder / chart.file)
    atomic_write_text(folder / INDEX_MD, index_markdown(frame, scenario, meta, found))
    return written
