"""The report page of a result folder: ``index.md`` and, on request, a self-contained ``index.html``.

Both say what was run, show each chart with its caption, and give the tables: how scans
and list_ms grow with rows (exponent ± standard error; fixed ms + ms per row) and one row
per sweep point with every mean ± the half-width of its 95 % confidence interval. The HTML
page embeds the PNGs as ``data:`` URIs and the resolved scenario, so it is one file that
can be attached to an issue or opened from a CI artifact.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..folder import is_link, latest, read_bytes, update
from ..scenario import Scenario, resolved_yaml
from ..store import RESOLVED_YAML, read_results, write_file
from .draw import render
from .numbers import fmt, plus_minus
from .select import Chart, charts
from .stats import (
    growth_table,
    implausible_affine,
    load_table,
    overloaded,
    paired_differences,
    saturation,
    summarize,
)

INDEX_MD = "index.md"
INDEX_HTML = "index.html"
POINT_METRICS = ("scans", "list_ms", "loop_delay_max_ms", "stale_hits")


def replications_text(scenario: Scenario) -> str:
    count = scenario.replications
    return f"{count} replication" + ("s" if count != 1 else "")


def caption(chart: Chart, scenario: Scenario, runs: int) -> str:
    """The text under a chart: scenario, seed, run count, and how the numbers are made."""
    return (
        f"Scenario {scenario.name}, seed {scenario.seed}, {runs} runs "
        f"({replications_text(scenario)} per point). {chart.note}."
    )


def _cell(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return fmt(float(value))
    return str(value)


def markdown_table(table: pd.DataFrame) -> str:
    """A DataFrame as a GitHub markdown table (floats with 2 decimals, fewer when large)."""
    lines = ["| " + " | ".join(map(str, table.columns)) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines)


def point_table(frame: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Per sweep point (plan order): its dimensions, runs, and ``summarize`` of scans, list_ms, delay, stale hits."""
    metrics = [m for m in POINT_METRICS if m in frame.columns]
    return summarize(frame, ["point", *scenario.dimensions], metrics).sort_values("point", kind="stable")


def _point_cells(frame: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    table = point_table(frame, scenario)
    loads = load_table(scenario, ["point"])
    if loads is not None:
        table = table.merge(loads, on="point", how="left")
    cells = table[["point", *scenario.dimensions]].copy()
    cells["runs"] = [
        str(n) if done == n else f"{done} of {n}" for n, done in zip(table["runs"], table["completed"], strict=True)
    ]
    if loads is not None:
        cells["load"] = [fmt(v) for v in table["load"]]
    saturated = (table["completed"] == 0).to_numpy()
    for m in POINT_METRICS:
        if f"{m}_mean" in table:
            values = zip(table[f"{m}_mean"], table[f"{m}_ci95"], saturated, strict=True)
            cells[m] = ["saturated" if sat else plus_minus(v, e) for v, e, sat in values]
    return cells


def _saved_cells(frame: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """``paired_differences`` as text: each option's saving ± its paired 95 % CI."""
    metrics = [m for m in POINT_METRICS if m in frame.columns and (m != "stale_hits" or frame[m].any())]
    table = paired_differences(frame, scenario, metrics)
    if table.empty:
        return table
    paired = list(scenario.paired_dimensions)
    keys = [d for d in scenario.dimensions if d in table.columns and d not in paired] + paired
    cells = table[keys].copy()
    cells["pairs"] = [
        f"{p} ({h} halted)" if h else str(p) for p, h in zip(table["pairs"], table["halted"], strict=True)
    ]
    none = ((table["pairs"] == 0) & (table["halted"] > 0)).to_numpy()
    for m in metrics:
        values = zip(table[f"{m}_saved"], table[f"{m}_ci95"], none, strict=True)
        cells[f"{m} saved"] = ["saturated" if sat else plus_minus(v, e) for v, e, sat in values]
    return cells


def saturation_text(frame: pd.DataFrame, scenario: Scenario) -> str:
    """One paragraph naming the saturated points, or "" when every run finished its lists."""
    dims = list(scenario.dimensions) or ["point"]
    saturated = _points(
        saturation(frame, dims), dims, lambda r: f": {r['halted']}/{r['runs']} runs did not finish the list"
    )
    high = _points(overloaded(frame, scenario, dims), dims, lambda r: f" (load {r['load']:.2f})")
    parts = []
    if saturated:
        parts.append(
            f"**Saturated**: {saturated}. The loop could not keep up (the actors' offered load, or the list with "
            "them, asked for more than the thread can give), so those runs stopped before their lists ended; "
            "their counts and times are left out of every mean, table and chart (marked there)."
        )
    if high:
        parts.append(
            f"**Overloaded**: {high}: the actors' offered load is at least 1, so the loop's backlog grows for as "
            "long as a run lasts; these lists finished, but their numbers depend on how long they ran."
        )
    return "\n\n".join(parts)


def _points(table: pd.DataFrame, dims: list[str], tail: Callable[[dict[str, Any]], str]) -> str:
    """The table's points as "`d` = v, ...<tail>" joined by "; " ("" for an empty table)."""
    return "; ".join(", ".join(f"`{d}` = {r[d]}" for d in dims) + tail(r) for r in table.to_dict(orient="records"))


def _growth_cells(frame: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    table = growth_table(frame, scenario)
    if table.empty:
        return table
    cells = table[[c for c in table.columns if not c.startswith(("scans_", "list_ms_"))]].copy()
    pairs = {
        "scans exponent": ("scans_exponent", 2),
        "list_ms fixed (ms)": ("list_ms_fixed_ms", 0),
        "list_ms per row (ms)": ("list_ms_per_row_ms", 3),
    }
    for name, (column, digits) in pairs.items():
        cells[name] = [plus_minus(v, e, digits) for v, e in zip(table[column], table[f"{column}_se"], strict=True)]
    fits = zip(table["list_ms_fixed_ms"], table["list_ms_per_row_ms"], strict=True)
    for i, why in enumerate(implausible_affine(fixed, slope) for fixed, slope in fits):
        if why:  # a negative cost is no answer: name the misfit instead of printing it
            cells.loc[cells.index[i], ["list_ms fixed (ms)", "list_ms per row (ms)"]] = [why, "n/a"]
    return cells


def tables(frame: pd.DataFrame, scenario: Scenario) -> list[tuple[str, str, pd.DataFrame]]:
    """The page's tables: (heading, what the numbers are, cells as text)."""
    found = []
    growth = _growth_cells(frame, scenario)
    if not growth.empty:
        found.append(
            (
                "Growth with rows",
                (
                    "For each combination of the other swept fields: the growth exponent of mean scans (slope of "
                    "log mean on log rows, ~1 = O(rows), ~0 = O(1)) ± its standard error, and the affine fit of mean "
                    "list_ms = fixed ms + ms per row (weighted by 1/mean^2) ± standard errors. A list with the pin is "
                    "affine: a fixed cost (its cold scans) plus a cost per row; a fit with a negative cost is no such "
                    "line, and says so instead of printing it."
                ),
                growth,
            )
        )
    interval = (
        f"95 % confidence interval, Student t over {scenario.replications} replications"
        if scenario.replications >= 2
        else "one replication per point: no confidence interval"
    )
    halted = (
        ""
        if saturation(frame, ["point"]).empty
        else (
            " Runs that did not finish their lists are left out (runs: finished of all); a point where none "
            "finished is saturated."
        )
    )
    load = (
        " load: the actors' offered load of the thread (clawsim.analytic.offered_load; >= 1: it cannot keep up)."
        if load_table(scenario, ["point"]) is not None
        else ""
    )
    found.append(
        (
            "Per sweep point",
            f"Means over runs (each run's lists averaged first) ± the half-width of the {interval}.{halted}{load}",
            _point_cells(frame, scenario),
        )
    )
    saved = _saved_cells(frame, scenario)
    if not saved.empty:
        paired = " and ".join(f"`{d}`" for d in scenario.paired_dimensions)
        found.append(
            (
                "What each option saves",
                (
                    f"Each option of {paired} against the first (baseline minus option), per point of the other "
                    "swept fields. The runs of one replication share their random streams (common random numbers), "
                    "so the difference is taken replication by replication: mean ± the half-width of its 95 % "
                    "confidence interval over the pairs (Student t; a difference the option cannot make is exactly 0)."
                ),
                saved,
            )
        )
    return found


def _intro(frame: pd.DataFrame, scenario: Scenario, meta: dict[str, Any]) -> str:
    runs = int(frame["run"].nunique())
    source = meta.get("source", f"scenarios/{scenario.name}.yaml")
    swept = ", ".join(f"`{p}` ({len(v)} values)" for p, v in scenario.sweep.items()) or "nothing"
    if scenario.variants:
        swept += "; variants " + ", ".join(f"`{v}`" for v in scenario.variants)
    return (
        f"Scenario `{scenario.name}`, seed {scenario.seed}: {runs} runs, {replications_text(scenario)} "
        f"per point; sweeps {swept}. Times are ms of simulated time. The numbers are in `runs.csv`; "
        f"regenerate with `{meta.get('regenerate') or f'clawsim run {source}'}` and redraw with "
        "`clawsim report <this folder>`."
    )


def index_markdown(frame: pd.DataFrame, scenario: Scenario, meta: dict[str, Any], found: list[Chart]) -> str:
    """The report page as markdown: what was run, each chart with its caption, the tables."""
    runs = int(frame["run"].nunique())
    parts = [
        f"# {scenario.name}: report",
        "",
        scenario.description or "No description.",
        "",
        _intro(frame, scenario, meta),
        "",
    ]
    if text := saturation_text(frame, scenario):
        parts += [text, ""]
    for chart in found:
        parts += [
            f"## {chart.heading}",
            "",
            f"![{chart.heading}]({chart.file})",
            "",
            caption(chart, scenario, runs),
            "",
        ]
    for heading, text, cells in tables(frame, scenario):
        parts += [f"## {heading}", "", text, "", markdown_table(cells), ""]
    return "\n".join(parts)


STYLE = """body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
img{max-width:100%;height:auto;border:1px solid #ddd}figure{margin:1.5em 0}figcaption{font-size:.9em;color:#444}
table{border-collapse:collapse;font-size:.85em;margin:1em 0}th,td{border:1px solid #ccc;padding:.2em .5em;text-align:right}
th{background:#f3f3f3}pre{background:#f7f7f7;padding:1em;overflow:auto;font-size:.85em}code{background:#f3f3f3}"""


def _html_table(cells: pd.DataFrame) -> str:
    head = "".join(f"<th>{escape(str(c))}</th>" for c in cells.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(_cell(v))}</td>" for v in row) + "</tr>" for row in cells.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _code(text: str) -> str:
    """Markdown `code` spans as <code>, everything else escaped."""
    pieces = escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(pieces))


def index_html(
    frame: pd.DataFrame, scenario: Scenario, meta: dict[str, Any], found: list[Chart], pngs: list[bytes], resolved: str
) -> str:
    """The report page as one self-contained HTML file: PNGs as data: URIs, tables, the resolved scenario."""
    runs = int(frame["run"].nunique())
    title = escape(f"{scenario.name}: report")
    parts = [
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{title}</h1>",
        f"<p>{_code(scenario.description or 'No description.')}</p>",
        f"<p>{_code(_intro(frame, scenario, meta))}</p>",
    ]
    if text := saturation_text(frame, scenario):
        parts.append(f"<p>{_code(text.replace('**', ''))}</p>")
    for chart, png in zip(found, pngs, strict=True):
        data = base64.b64encode(png).decode("ascii")
        parts += [
            f"<h2>{escape(chart.heading)}</h2>",
            f'<figure><img alt="{escape(chart.heading)}" '
            f'src="data:image/png;base64,{data}"><figcaption>{escape(caption(chart, scenario, runs))}'
            "</figcaption></figure>",
        ]
    for heading, text, cells in tables(frame, scenario):
        parts += [f"<h2>{escape(heading)}</h2>", f"<p>{_code(text)}</p>", _html_table(cells)]
    parts += ["<h2>The scenario, resolved</h2>", f"<pre>{escape(resolved)}</pre>", "</body></html>", ""]
    return "\n".join(parts)


REPORT_FILES = (INDEX_MD, INDEX_HTML)  # with the charts (*.png): what a report replaces


def is_report_file(name: str) -> bool:
    """A file of a result folder that the report draws (charts, index.md, index.html)."""
    return name in REPORT_FILES or name.endswith(".png")


def write_report(folder: str | Path, html: bool = False) -> list[Path]:
    """Redraw the report of the result folder ``folder``: charts, ``index.md`` and, if ``html``,
    ``index.html`` replace the old report files as a set. The folder is locked and replaced as
    a whole (``clawsim.folder.update``), so a stop signal, a full disk or a kill leaves it as it
    was. Returns the PNG paths.

    ResultsError for a missing or unreadable folder, one that another clawsim is writing, or
    a file that cannot be written (it is named); ReportError when the scenario sweeps nothing.
    A scenario's folder of what-ifs (``results/<name>``) gets the report of the latest one run there.
    """
    folder = latest(Path(folder))  # results/<name>: its latest what-if
    if is_link(folder) or not folder.is_dir():
        read_results(folder)  # says what is wrong with it

    def build(staging: Path) -> list[Path]:
        frame, scenario, meta = read_results(folder)  # under the lock: no one changes it now
        resolved = read_bytes(folder / RESOLVED_YAML).decode("utf-8")
        return _draw(staging, frame, scenario, meta, resolved, html)

    drawn = update(folder, lambda name: not is_report_file(name), build)
    return [folder / png.name for png in drawn]


def draw_report(
    folder: str | Path, frame: pd.DataFrame, scenario: Scenario, meta: dict[str, Any], html: bool = False
) -> list[Path]:
    """Draw the report of ``frame``, the runs table of ``scenario`` (with its ``meta``), into
    ``folder`` file by file: charts and ``index.md`` (and ``index.html`` if ``html``). For a
    folder no one else sees yet, whose table and scenario the caller has in hand (a new result
    set, the gallery): nothing is read back or validated again. ``write_report`` redraws a
    result folder in place. Returns the PNG paths; OSError as it is."""
    return _draw(Path(folder), frame, scenario, meta, resolved_yaml(scenario), html)


def _draw(
    folder: Path, frame: pd.DataFrame, scenario: Scenario, meta: dict[str, Any], resolved: str, html: bool
) -> list[Path]:
    found = charts(frame, scenario)
    runs = int(frame["run"].nunique())
    pngs = [render(chart, caption(chart, scenario, runs)) for chart in found]
    for chart, png in zip(found, pngs, strict=True):
        write_file(folder / chart.file, png)
    write_file(folder / INDEX_MD, index_markdown(frame, scenario, meta, found).encode("utf-8"))
    if html:
        write_file(folder / INDEX_HTML, index_html(frame, scenario, meta, found, pngs, resolved).encode("utf-8"))
    return [folder / chart.file for chart in found]
