"""A traced run as a picture: a Gantt chart of the event loop (PNG, deterministic).

Lanes, top to bottom: one per list (start to end, with a tick at each yield); the
registry (a marker at each ``setActivePluginRegistry`` call: filled when the workspace
changed, hollow when it did not); the thread (what holds it: row batches, full scans,
memo hits, actor turns; blank is the loop idle). Below, the loop delay a client would
feel: a request arriving at time t waits until the callback holding the thread then ends.
Several runs (e.g. before and after the pin) are drawn as panels on one shared time axis.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from . import names as event_names
from .model import Instant, Span

COLOURS = {
    "batch": "#9db4d0",
    "scan": "#c0392b",
    "hit": "#27ae60",
    "turn": "#e67e22",
    "changed": "#6c3483",
    "same": "#bbbbbb",
    "list": "#34495e",
    "delay": "#2c3e50",
}
DPI = 100


@dataclass(frozen=True)
class Panel:
    """One run's events to draw, and the words that name it."""

    title: str
    spans: Sequence[Span]
    instants: Sequence[Instant]


def _visible(start: float, dur: float, window: tuple[float, float]) -> bool:
    return start + dur >= window[0] and start <= window[1]


def _bars(
    spans: Sequence[Span], window: tuple[float, float], names: set[str], hit: bool | None = None
) -> list[tuple[float, float]]:
    out = []
    for s in spans:
        if s.name in names and _visible(s.start_ms, s.duration_ms, window):
            served = s.name == event_names.SNAPSHOT or bool(dict(s.attributes).get("cacheHit"))
            if hit is None or served == hit:
                out.append((s.start_ms, max(s.duration_ms, 0.0)))
    return out


def _holders(spans: Sequence[Span]) -> list[tuple[float, float]]:
    """Callbacks that hold the thread: row batches, actor turns (scans lie inside them)."""
    return sorted((s.start_ms, s.duration_ms) for s in spans if s.name in (event_names.BATCH, event_names.TURN))


def delay_curve(spans: Sequence[Span]) -> tuple[list[float], list[float]]:
    """(t, ms a request arriving at t waits for the thread): a sawtooth over each callback."""
    xs: list[float] = []
    ys: list[float] = []
    for start, dur in _holders(spans):
        xs += [start, start, start + dur, start + dur]
        ys += [0.0, dur, 0.0, 0.0]
    return xs, ys


def _draw_panel(ax: Any, dax: Any, panel: Panel, window: tuple[float, float]) -> None:
    lists = sorted({s.track for s in panel.spans if s.name == event_names.LIST_SPAN}, key=lambda t: int(t.split()[-1]))
    lanes = {track: i + 2 for i, track in enumerate(reversed(lists))}
    thread_y, registry_y = 0, 1
    layers = [
        ({event_names.BATCH}, None, 0.35, "batch", "row batch"),
        ({event_names.TURN}, None, 0.35, "turn", "actor turn"),
        ({event_names.SCAN_SPAN}, False, 0.3, "scan", "full scan"),
        ({event_names.SCAN_SPAN, event_names.SNAPSHOT}, True, 0.15, "hit", "memo hit"),
    ]
    for names, hit, half, colour, label in layers:
        bars = _bars(panel.spans, window, names, hit)
        if bars:
            ax.broken_barh(bars, (thread_y - half, 2 * half), color=COLOURS[colour], label=label)
    for s in panel.spans:
        if s.name == event_names.LIST_SPAN and s.track in lanes:
            ax.broken_barh(
                [(s.start_ms, s.duration_ms)], (lanes[s.track] - 0.25, 0.5), color=COLOURS["list"], alpha=0.35
            )
    yields = [
        (i.at_ms, lanes[i.track])
        for i in panel.instants
        if i.name == event_names.YIELD and i.track in lanes and window[0] <= i.at_ms <= window[1]
    ]
    if yields:
        ax.scatter(
            [x for x, _ in yields],
            [y for _, y in yields],
            marker="|",
            s=120,
            color="black",
            linewidths=1,
            label="yield",
        )
    sets = [
        (i.at_ms, bool(dict(i.attributes).get("changed")))
        for i in panel.instants
        if i.name == event_names.SET and window[0] <= i.at_ms <= window[1]
    ]
    for changed, label in ((True, "set: workspace changed"), (False, "set: same workspace")):
        xs = [x for x, c in sets if c == changed]
        if xs:
            ax.scatter(
                xs,
                [registry_y] * len(xs),
                s=18,
                marker="o",
                label=label,
                facecolors=COLOURS["changed"] if changed else "none",
                edgecolors=COLOURS["changed" if changed else "same"],
            )
    ax.set_yticks([thread_y, registry_y, *lanes.values()], ["thread", "registry", *lanes.keys()])
    ax.set_ylim(-0.7, max([registry_y, *lanes.values()]) + 0.7)
    ax.set_title(panel.title, fontsize=10, loc="left")
    ax.grid(True, axis="x", alpha=0.3)
    xs, ys = delay_curve(panel.spans)
    dax.plot(xs, ys, color=COLOURS["delay"], linewidth=0.8)
    dax.set_ylabel("wait (ms)", fontsize=8)
    dax.set_ylim(bottom=0)
    dax.grid(True, alpha=0.3)


def render_gantt(panels: Sequence[Panel], title: str, caption: str, window: tuple[float, float]) -> bytes:
    """The panels as one PNG (shared time axis ``window`` in ms); same inputs, same bytes."""
    import matplotlib.style
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = []
    for _ in panels:
        rows += [3.0, 1.0]
    with matplotlib.style.context("default"):
        fig = Figure(figsize=(11.0, 1.2 + 2.4 * len(panels)), dpi=DPI)
        FigureCanvasAgg(fig)
        axes = fig.subplots(len(rows), 1, sharex=True, gridspec_kw={"height_ratios": rows, "hspace": 0.35})
        for k, panel in enumerate(panels):
            _draw_panel(axes[2 * k], axes[2 * k + 1], panel, window)
        axes[-1].set_xlim(*window)
        axes[-1].set_xlabel("simulated time (ms)")
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="upper right", fontsize=8, ncol=4, frameon=False)
        fig.suptitle(title, x=0.01, ha="left", fontsize=12)
        fig.text(0.01, 0.005, textwrap.fill(caption, 150), fontsize=8, va="bottom", ha="left")
        fig.subplots_adjust(left=0.08, right=0.98, top=1 - 0.9 / fig.get_figheight(), bottom=0.9 / fig.get_figheight())
        buffer = BytesIO()
        fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()
