"""The trade-off chart: one row per option, one panel per metric, every point labelled with its value.

Options are rows (so none can hide another, however close their numbers), labelled by
name on the left; the panels share those rows: full scans per list, the list's duration,
the longest event-loop delay, and stale hits per list when any option served one (a panel
of zeros says nothing). An option that served stale hits (an entry made for another
workspace, or before the registry last changed) is drawn in red and its label says so: a
cache that is fast because it is wrong must not look like the pin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .numbers import plus_minus
from .stats import stale_options

if TYPE_CHECKING:
    from .select import Chart

PANELS = (
    ("scans", "full scans per list\n(memo misses)"),
    ("list_ms", "list duration\nlist_ms (ms)"),
    ("loop_delay_max_ms", "longest event-loop delay\nloop_delay_max_ms (ms)"),
    ("stale_hits", "stale hits per list\n(served a wrong or outdated entry)"),
)
ROW_IN, TOP_IN, BOTTOM_IN, WIDTH_IN = 0.42, 0.75, 1.7, 10.5
STALE = "tab:red"
SATURATED = "tab:purple"  # points where a run did not finish its lists (its numbers left out)


def _lines_per_row(chart: Chart) -> int:
    return max(label.count("\n") + 1 for label in labels(chart))


def _left_in(chart: Chart) -> float:
    """Room for the longest label line: about 0.065 in per character at 8 pt."""
    longest = max(len(line) for label in labels(chart) for line in label.split("\n"))
    return min(max(0.35 + 0.065 * longest, 1.4), 4.0)


def tradeoff_size(chart: Chart) -> tuple[float, float]:
    """Inches: fixed width, one strip per option, as tall as its label's lines."""
    row = ROW_IN * max(1.0, 0.7 * _lines_per_row(chart))
    return (WIDTH_IN, TOP_IN + BOTTOM_IN + row * max(len(chart.data), 2))


def option_label(keys: tuple[str, ...], row: dict[str, Any], stale: bool) -> str:
    """``variant · fix F`` then one line per other field (``field = value``); ``(stale hits)`` if so,
    and ``(saturated: k/n halted)`` when runs did not finish their lists (left out of its numbers)."""
    head = [str(row["variant"])] if "variant" in keys else []
    head += [f"fix {row['fix']}"] if "fix" in keys else []
    lines = [" · ".join(head)] if head else []
    lines += [f"{k} = {row[k]}" for k in keys if k not in ("variant", "fix")]
    halted = int(row.get("runs", 0)) - int(row.get("completed", row.get("runs", 0)))
    return "\n".join(
        lines
        + (["(stale hits)"] if stale else [])
        + ([f"(saturated: {halted}/{row['runs']} halted)"] if halted else [])
    )


def labels(chart: Chart) -> list[str]:
    """The row labels, top to bottom."""
    data = chart.data.reset_index(drop=True)
    return [
        option_label(chart.lines, row, bool(s))
        for row, s in zip(data.to_dict("records"), stale_options(data), strict=True)
    ]


def _draw_metric(ax: Any, data: pd.DataFrame, metric: str, stale: np.ndarray) -> None:
    y = np.arange(len(data))
    mean, half = data[f"{metric}_mean"].to_numpy(), data[f"{metric}_ci95"].to_numpy()
    low, high = data[f"{metric}_min"].to_numpy(), data[f"{metric}_max"].to_numpy()
    finite = np.concatenate([high, mean + np.nan_to_num(half)])
    right = float(np.nanmax(finite)) if np.isfinite(finite).any() else 1.0
    right = right or 1.0
    for i in y[::2]:
        ax.axhspan(i - 0.5, i + 0.5, color="0.94", linewidth=0, zorder=0)
    ax.hlines(y, low, high, color="0.55", linewidth=1, zorder=1)
    saturated = (data["completed"] == 0).to_numpy() if "completed" in data else np.zeros(len(data), dtype=bool)
    for i in y:
        if saturated[i]:  # no run finished: there is no mean to draw
            ax.text(0, i, "saturated: no run finished", va="center", ha="left", fontsize=8, color=SATURATED)
            continue
        color = STALE if stale[i] else "tab:blue"
        ax.errorbar(
            [mean[i]],
            [i],
            xerr=[[np.nan_to_num(half[i])], [np.nan_to_num(half[i])]],
            fmt="o",
            color=color,
            markersize=6,
            capsize=3,
            zorder=3,
        )
        edge = max(high[i], mean[i] + np.nan_to_num(half[i]))
        ax.text(
            edge + 0.03 * right, i, plus_minus(mean[i], half[i], 1), va="center", ha="left", fontsize=8, color=color
        )
    lowest = np.concatenate([low, mean - np.nan_to_num(half)])
    ax.set_xlim(min(0.0, float(np.nanmin(lowest)) if np.isfinite(lowest).any() else 0.0), right * 1.8)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=4))  # room between panels for large numbers
    ax.set_ylim(len(data) - 0.5, -0.5)
    ax.grid(True, axis="x", alpha=0.3)


def draw_tradeoff(fig: Figure, chart: Chart) -> list[Any]:
    """Draw the option rows into ``fig``; returns the axes (one per metric present in the data)."""
    data = chart.data.reset_index(drop=True)
    width, height = fig.get_size_inches()
    stale = stale_options(data)
    panels = [(m, label) for m, label in PANELS if f"{m}_mean" in data and (m != "stale_hits" or stale.any())]
    left_in = _left_in(chart)
    left, span = left_in / width, (width - left_in - 0.2) / width
    bottom, tall = BOTTOM_IN / height, (height - TOP_IN - BOTTOM_IN) / height
    axes = []
    for i, (metric, label) in enumerate(panels):
        ax = fig.add_axes((left + i * span / len(panels), bottom, span / len(panels) - 0.015, tall))
        _draw_metric(ax, data, metric, stale)
        ax.set_xlabel(label, fontsize=9)
        ax.set_yticks(range(len(data)))
        ax.tick_params(axis="y", labelleft=i == 0, length=0)
        axes.append(ax)
    axes[0].set_yticks(range(len(data)), labels(chart), fontsize=8)
    for tick, s in zip(axes[0].get_yticklabels(), stale, strict=True):
        tick.set_color(STALE if s else "black")
    return axes
