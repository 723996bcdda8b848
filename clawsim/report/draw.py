"""Drawing a ``Chart`` to PNG bytes: line charts (with panels), the heatmap, the trade-off rows.

Deterministic: a Figure with its own Agg canvas (pyplot and the global backend are never
touched, so a notebook keeps its inline plots), matplotlib's default style, sizes fixed
by the chart's shape, no ``Software`` text chunk. Bands and error bars are drawn from
half-widths and min/max that ``stats.summarize`` guarantees are never negative.

A categorical x axis (e.g. ``list.yield_every``, whose 0 means "never yields") has no
in-between values, so its points are never joined by a line: each is a marker with its
95 % interval (thick bar) and min to max (thin bar). An affine fit that makes no sense
(a negative fixed cost) is named as such in the legend, and neither printed nor drawn.
"""

from __future__ import annotations

import textwrap
from io import BytesIO
from typing import Any

import matplotlib.style
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from .numbers import plus_minus
from .select import Chart
from .stats import YIELD_EVERY, implausible_affine
from .tradeoff import SATURATED, draw_tradeoff, tradeoff_size

DPI = 100
FIGSIZE_IN = (8.0, 5.6)
MARKERS = "osD^vP*Xh<>p"
STYLES = ("-", "--", "-.", ":")


def _line_label(chart: Chart, line: tuple[Any, ...], part: pd.DataFrame) -> str:
    names = [f"{k} {v}" if k in ("fix", "variant") else f"{k} = {v}" for k, v in zip(chart.lines, line, strict=True)]
    label = ", ".join(names)
    first = part.iloc[0]
    if chart.fit == "power":
        label += f": exponent {plus_minus(first['exponent'], first['exponent_se'])}"
    elif chart.fit == "affine" and (why := implausible_affine(first["fixed_ms"], first["per_row_ms"])):
        label += f": {why}"
    elif chart.fit == "affine":
        label += (
            f": {plus_minus(first['fixed_ms'], first['fixed_ms_se'], 0)} ms"
            f" + {plus_minus(first['per_row_ms'], first['per_row_ms_se'], 3)} ms/row"
        )
    return label


def _draw_points(ax: Axes, part: pd.DataFrame, x: Any, index: int, lines: int, label: str) -> None:
    """A categorical series: markers with their intervals, side by side per line, never joined."""
    shift = (index - (lines - 1) / 2) * min(0.12, 0.6 / max(lines, 1))
    x = np.asarray(x, dtype=float) + shift
    mean = part["mean"].to_numpy(dtype=float)
    (drawn,) = ax.plot(x, mean, marker=MARKERS[index % len(MARKERS)], linestyle="none", label=label, zorder=3)
    color = drawn.get_color()
    ax.vlines(x, part["min"], part["max"], color=color, linewidth=1, alpha=0.5, zorder=2)
    if part["ci95"].notna().any():
        ax.vlines(x, part["lo"], part["hi"], color=color, linewidth=4, alpha=0.5, zorder=2)


def _draw_line(ax: Axes, chart: Chart, part: pd.DataFrame, x: Any, index: int, label: str) -> None:
    (drawn,) = ax.plot(
        x,
        part["mean"],
        marker=MARKERS[index % len(MARKERS)],
        linestyle=STYLES[index % len(STYLES)],
        label=label,
        zorder=3,
    )
    color = drawn.get_color()
    ax.fill_between(x, part["min"], part["max"], color=color, alpha=0.10, linewidth=0)
    if part["ci95"].notna().any():
        ax.fill_between(x, part["lo"], part["hi"], color=color, alpha=0.30, linewidth=0)
    if chart.fit == "affine" and not implausible_affine(part.iloc[0]["fixed_ms"], part.iloc[0]["per_row_ms"]):
        first = part.iloc[0]
        grid = np.geomspace(part["x"].min(), part["x"].max(), 50)
        ax.plot(
            grid,
            first["fixed_ms"] + first["per_row_ms"] * grid,
            color=color,
            linewidth=1,
            alpha=0.8,
            linestyle=(0, (2, 2)),
            zorder=2,
        )


def _draw_saturated(ax: Axes, data: pd.DataFrame, xs: list[Any], categorical: bool) -> None:
    """Mark the points where a run did not finish its lists: its numbers are in no mean. A
    point where none finished has no mean to draw: an X at the top of the axes says so."""
    if "completed" not in data:
        return
    marked = data[data["completed"] < data["runs"]]
    position = {x: i for i, x in enumerate(xs)}
    label: str | None = "saturated: runs that did not finish the list (left out of the mean)"
    for row in marked.to_dict("records"):
        x = position[row["x"]] if categorical else row["x"]
        text = f"saturated: {row['runs'] - row['completed']}/{row['runs']} runs did not finish the list"
        if row["completed"] == 0:
            ax.plot(
                [x],
                [0.96],
                marker="X",
                markersize=11,
                color=SATURATED,
                linestyle="none",
                label=label,
                transform=ax.get_xaxis_transform(),
                clip_on=False,
                zorder=4,
            )
            ax.annotate(
                text,
                (x, 0.96),
                xycoords=ax.get_xaxis_transform(),
                textcoords="offset points",
                xytext=(-6, -14),
                ha="right",
                fontsize=7,
                color=SATURATED,
            )
        else:
            ax.plot(
                [x],
                [row["mean"]],
                marker="o",
                markersize=13,
                markerfacecolor="none",
                color=SATURATED,
                linestyle="none",
                label=label,
                zorder=4,
            )
        label = None  # one legend entry


def _draw_panel(ax: Axes, chart: Chart, data: pd.DataFrame, xs: list[Any], colors: dict[tuple, int]) -> None:
    position = {x: i for i, x in enumerate(xs)}
    for line, part in data.groupby(list(chart.lines), sort=False, dropna=False):
        line = line if isinstance(line, tuple) else (line,)
        if chart.xscale == "categorical":
            x = part["x"].map(position)
            _draw_points(ax, part, x, colors[line], len(colors), _line_label(chart, line, part))
        else:
            _draw_line(ax, chart, part, part["x"], colors[line], _line_label(chart, line, part))
    _draw_saturated(ax, data, xs, chart.xscale == "categorical")
    ax.set_xscale("log" if chart.xscale == "log" else "linear")
    if chart.xscale == "categorical":
        ax.set_xticks(range(len(xs)), [_tick(chart, x) for x in xs])
        ax.set_xlim(-0.5, len(xs) - 0.5)
    positive = (chart.data["min"] > 0).all() and (chart.data["lo"].fillna(1) > 0).all()
    ax.set_yscale("log" if chart.logy and positive else "linear")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8 if chart.panel else 9)


def _tick(chart: Chart, value: Any) -> str:
    """A categorical tick as the scenario writes the value; ``never`` for yield_every 0."""
    from ..console import yaml_value

    return "never" if chart.x_path == YIELD_EVERY and value == 0 else yaml_value(value)


def draw_lines(fig: Figure, chart: Chart) -> list[Axes]:
    """One axes per panel value (or one), each with one line per ``chart.lines`` combination."""
    data = chart.data
    xs = list(dict.fromkeys(data["x"]))
    if chart.xscale != "categorical":
        xs = sorted(xs)
    keys = data.groupby(list(chart.lines), sort=False, dropna=False).ngroup()
    colors = {tuple(row): int(k) for row, k in zip(data[list(chart.lines)].itertuples(index=False), keys, strict=True)}
    panels = list(dict.fromkeys(data[chart.panel])) if chart.panel else [None]
    width = 0.86 / len(panels)
    axes: list[Axes] = []
    for i, value in enumerate(panels):
        ax = fig.add_axes((0.09 + i * width, 0.23, width - 0.03, 0.67), sharey=axes[0] if axes else None)
        part = data[data[chart.panel] == value] if chart.panel else data
        _draw_panel(ax, chart, part, xs, colors)
        ax.set_xlabel(chart.xlabel, fontsize=9 if chart.panel else 10)
        if chart.panel:
            ax.set_title(f"{chart.panel} = {value}", fontsize=10)
        axes.append(ax)
    axes[0].set_ylabel(chart.ylabel)
    return axes


def draw_heatmap(fig: Figure, chart: Chart) -> Axes:
    """The scan ratio grid, log colour scale, each cell labelled with its value."""
    ax = fig.add_axes((0.1, 0.23, 0.8, 0.67))
    grid = chart.data.pivot(index="rows", columns="concurrency", values="ratio").sort_index()
    values = grid.to_numpy(dtype=float)
    finite = values[np.isfinite(values) & (values > 0)]
    norm = LogNorm(vmin=finite.min(), vmax=max(finite.max(), finite.min() * 10)) if finite.size else None
    image = ax.imshow(np.ma.masked_invalid(values), origin="lower", aspect="auto", cmap="viridis", norm=norm)
    ax.set_xticks(range(grid.shape[1]), [str(c) for c in grid.columns])
    ax.set_yticks(range(grid.shape[0]), [str(r) for r in grid.index])
    middle = float(np.sqrt(finite.min() * max(finite.max(), finite.min() * 10))) if finite.size else 1.0
    for (i, j), value in np.ndenumerate(values):
        text = f"{value:.3g}" if np.isfinite(value) else "n/a"
        ax.text(j, i, text, ha="center", va="center", fontsize=8, color="white" if value < middle else "black")
    fig.colorbar(image, ax=ax, label="legend: scan ratio none / pin (log colour scale)")
    ax.set_xlabel(chart.xlabel)
    ax.set_ylabel(chart.ylabel)
    return ax


def figure_size(chart: Chart) -> tuple[float, float]:
    """Inches: wider with panels, taller with many trade-off options; fixed by the chart's shape."""
    if chart.kind == "tradeoff":
        return tradeoff_size(chart)
    panels = chart.data[chart.panel].nunique() if chart.kind == "lines" and chart.panel else 1
    return (FIGSIZE_IN[0] + 3.2 * (panels - 1), FIGSIZE_IN[1])


def render(chart: Chart, text: str) -> bytes:
    """The chart as PNG bytes, with ``text`` as its caption; same inputs, same bytes."""
    with matplotlib.style.context("default"):
        size = figure_size(chart)
        fig = Figure(figsize=size, dpi=DPI)
        FigureCanvasAgg(fig)
        if chart.kind == "heatmap":
            draw_heatmap(fig, chart)
        elif chart.kind == "tradeoff":
            draw_tradeoff(fig, chart)
        else:
            draw_lines(fig, chart)
        fig.suptitle(chart.title, y=0.975)
        if chart.conditions:
            fig.text(0.5, 0.975 - 0.3 / size[1], chart.conditions, ha="center", va="top", fontsize=10)
        fig.text(0.02, 0.1 / size[1], textwrap.fill(text, int(14 * size[0])), fontsize=8, va="bottom", ha="left")
        buffer = BytesIO()
        fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()
