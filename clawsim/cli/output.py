"""Printing a results table: every record as JSON or CSV, or a terminal table that fits."""

from __future__ import annotations

import json
import math
import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from ..console import number, print_table, terminal_width, yaml_value

if TYPE_CHECKING:  # the scenario package (pydantic) is imported when a command runs
    from ..scenario import Scenario

HEADLINE = ["scans", "hits", "lookups", "flips", "changes", "distinct_workspaces", "yields", "list_ms"]
SUMMARY = ["scans", "flips", "stale_hits", "list_ms", "loop_delay_p99_ms", "loop_delay_max_ms"]
SAVED = ["scans", "stale_hits", "list_ms", "loop_delay_p99_ms", "loop_delay_max_ms"]
HINT = "widen the terminal, or use --format csv"  # how to see the columns a narrow table leaves out
TABLE_ROW_LIMIT = 60  # more lists than this without replications: one row per sweep point


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def print_records(frame: Any, format: Format, scenario: Scenario, per_run: bool = False) -> None:
    """The records in ``format``: json and csv give every record. The table is the summary
    first: one row per sweep point (mean ± 95 % CI, min–max) whenever a point has
    replications or there are too many lists to read, then, for a scenario with paired
    dimensions (``Scenario.paired_dimensions``), what each option saves; ``per_run`` (or a
    few unreplicated lists) prints one row per list instead."""
    if format is Format.json:
        if frame.isna().any().any():  # --analytic leaves NaN where no closed form applies
            frame = frame.astype(object).where(frame.notna(), None)
        print(json.dumps(frame.to_dict(orient="records"), indent=1, default=_json_default, allow_nan=False))
    elif format is Format.csv:
        from ..store import csv_text

        sys.stdout.write(csv_text(frame))
    elif per_run or (len(frame) <= TABLE_ROW_LIMIT and not _replicated(frame)):
        params = list(scenario.dimensions)
        columns = with_expected(["run", *params, "list_index", *HEADLINE], frame)
        rows = [{c: _cell(c, r[c], params) for c in columns} for r in frame.to_dict(orient="records")]
        keep = ["run", *params, *with_expected(["scans", "list_ms", "flips", "hits", "yields"], frame)]
        print_table(rows, columns, params, terminal_width(), keep, HINT)
        if not per_run:
            print_saved(frame, scenario)
    else:
        print_summary(frame, scenario)
        print_saved(frame, scenario)


def _replicated(frame: Any) -> bool:
    return "point" in frame.columns and bool((frame.groupby("point")["run"].nunique() > 1).any())


def _metrics(frame: Any, names: list[str]) -> list[str]:
    """``names`` in the table (stale_hits only where some list served one), with expected_* after."""
    shown = [m for m in names if m != "stale_hits" or ("stale_hits" in frame and frame["stale_hits"].any())]
    return with_expected(shown, frame)


def print_summary(frame: Any, scenario: Scenario) -> None:
    """One row per sweep point: runs, the offered load where known, and each metric as mean
    ± the half-width of its 95 % confidence interval (Student t) and min–max over the runs
    that finished every list (a run's lists averaged first); a saturated point says so."""
    from ..report import summarize
    from ..report.numbers import summary_cell
    from ..report.stats import load_table

    params = list(scenario.dimensions) or ["point"]
    metrics = _metrics(frame, SUMMARY)
    table = summarize(frame, params, metrics)
    loads = load_table(scenario, params)
    if loads is not None:
        table = table.merge(loads, on=params, how="left")
    rows = []
    for r in table.to_dict(orient="records"):
        row = {p: _cell(p, r[p], params) for p in params} | {"runs": _runs_cell(r["runs"], r["completed"])}
        if loads is not None:
            row["load"] = _load_cell(r["load"])
        saturated = r["completed"] == 0
        row |= {
            m: "saturated" if saturated else summary_cell(r[f"{m}_mean"], r[f"{m}_ci95"], r[f"{m}_min"], r[f"{m}_max"])
            for m in metrics
        }
        rows.append(row)
    halted = "" if (table["completed"] == table["runs"]).all() else " that finished every list (runs: finished of all)"
    load = "; load: the actors' offered load of the thread (>= 1: it cannot keep up)" if loads is not None else ""
    print(
        f"{len(frame)} lists; one row per sweep point: mean ± 95 % CI (Student t) and min–max over its runs"
        f"{halted}{load}; every record: runs.csv, --per-run or --format csv"
    )
    columns = [*params, "runs", *(["load"] if loads is not None else []), *metrics]
    keep = [
        *params,
        *with_expected(["scans", "list_ms"], frame),
        "runs",
        *(["stale_hits"] if "stale_hits" in metrics else []),
    ]
    print_table(rows, columns, params, terminal_width(), keep, HINT)


def _runs_cell(runs: int, completed: int) -> str:
    return number(int(runs)) if completed == runs else f"{int(completed)} of {int(runs)}"


def _load_cell(load: float) -> str:
    return "n/a" if not math.isfinite(load) else f"{load:.2f}"


def print_saved(frame: Any, scenario: Scenario) -> None:
    """What each option saves against the first, per situation, paired by replication
    (``report.stats.paired_differences``); nothing when the scenario has one option."""
    from ..report.numbers import plus_minus
    from ..report.stats import paired_differences

    metrics = [m for m in _metrics(frame, SAVED) if not m.startswith("expected_")]
    table = paired_differences(frame, scenario, metrics)
    if table.empty:
        return
    paired = list(scenario.paired_dimensions)
    others = [c for c in table.columns if c in scenario.dimensions and c not in paired]
    baseline = ", ".join(f"{d}={_cell(d, frame[d].iloc[0], paired)}" for d in paired)
    print()
    print(
        f"what each option saves against {baseline} (baseline minus option; paired by replication, "
        "common random numbers: mean ± 95 % CI over the pairs)"
    )
    rows = []
    for r in table.to_dict(orient="records"):
        row = {c: _cell(c, r[c], [*others, *paired]) for c in [*others, *paired]}
        row["pairs"] = number(r["pairs"]) + (f" ({r['halted']} halted)" if r["halted"] else "")
        none = r["pairs"] == 0 and r["halted"] > 0
        row |= {m: "saturated" if none else plus_minus(r[f"{m}_saved"], r[f"{m}_ci95"], 1) for m in metrics}
        rows.append(row)
    columns = [*others, *paired, "pairs", *metrics]
    print_table(rows, columns, [*others, *paired], terminal_width(), [*others, *paired, "scans", "list_ms"], HINT)


def saturated_points(frame: Any, scenario: Scenario) -> list[str]:
    """The sweep points where a run did not finish its lists, as ``path=value, ...: k/n runs
    did not finish the list`` (``report.stats.saturation``), then those whose runs finished
    under an offered load >= 1 (``report.stats.overloaded``)."""
    from ..report.stats import overloaded, saturation

    params = list(scenario.dimensions) or ["point"]

    def where(r: dict[str, Any]) -> str:
        return ", ".join(f"{p}={_cell(p, r[p], params)}" for p in params)

    halted = [
        f"{where(r)}: {r['halted']}/{r['runs']} runs did not finish the list (left out of every mean)"
        for r in saturation(frame, params).to_dict(orient="records")
    ]
    return halted + [
        f"{where(r)}: offered load {r['load']:.2f} >= 1, its lists finished but the backlog grows as long as a run lasts"
        for r in overloaded(frame, scenario, params).to_dict(orient="records")
    ]


SATURATED_SHOWN = 5  # sweep points a saturation warning names; a sweep of thousands names this many


def saturation_warning(points: list[str]) -> str:
    """One warning line for ``saturated_points``: the first few, then how many more (a sensitivity
    sweep can saturate at dozens of points; the summary table marks every one)."""
    more = len(points) - SATURATED_SHOWN
    tail = f"; and {more} more sweep points (each marked saturated in the summary table)" if more > 0 else ""
    return "warning: saturated, the loop could not keep up: " + "; ".join(points[:SATURATED_SHOWN]) + tail


def _cell(column: str, value: Any, params: list[str]) -> str:
    """A parameter as the user wrote it in the scenario (``null``, ``0.28``); a metric as a number."""
    return yaml_value(value) if column in params else number(value)


def with_expected(columns: list[str], frame: Any) -> list[str]:
    """``columns`` with each expected_<metric> column of --analytic right after <metric>."""
    return [name for c in columns for name in (c, f"expected_{c}") if name in frame.columns]


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"not JSON serialisable: {value!r}")
