"""Printing a results table: every record as JSON or CSV, or a terminal table that fits."""

from __future__ import annotations

import json
import math
import sys
from enum import StrEnum
from typing import Any

from ..console import number, print_table, terminal_width, yaml_value

HEADLINE = ["scans", "hits", "lookups", "flips", "changes", "distinct_workspaces", "yields", "list_ms"]
SUMMARY = ["scans", "flips", "distinct_workspaces", "list_ms", "loop_delay_max_ms"]
HINT = "widen the terminal, or use --format csv"  # how to see the columns a narrow table leaves out
TABLE_ROW_LIMIT = 60  # more lists than this: one row per sweep point, with 95 % intervals


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def print_records(frame: Any, format: Format) -> None:
    """The records in ``format``: json and csv give every record; table the headline columns."""
    if format is Format.json:
        if frame.isna().any().any():  # --analytic leaves NaN where no closed form applies
            frame = frame.astype(object).where(frame.notna(), None)
        print(json.dumps(frame.to_dict(orient="records"), indent=1, default=_json_default, allow_nan=False))
    elif format is Format.csv:
        from ..store import csv_text

        sys.stdout.write(csv_text(frame))
    elif len(frame) <= TABLE_ROW_LIMIT:
        params = _params(frame)
        columns = with_expected(["run", *params, "list_index", *HEADLINE], frame)
        rows = [{c: _cell(c, r[c], params) for c in columns} for r in frame.to_dict(orient="records")]
        keep = ["run", *params, *with_expected(["scans", "list_ms", "flips", "hits", "yields"], frame)]
        print_table(rows, columns, params, terminal_width(), keep, HINT)
    else:
        print_summary(frame)


def print_summary(frame: Any) -> None:
    """One row per sweep point: runs, and each metric's mean ± the half-width of its 95 %
    confidence interval over the point's runs (Student t; a run's lists are averaged first)."""
    from ..report import summarize

    params = _params(frame) or ["point"]
    metrics = with_expected(SUMMARY, frame)
    table = summarize(frame, params, metrics)
    rows = []
    for r in table.to_dict(orient="records"):
        row = {p: _cell(p, r[p], params) for p in params} | {"runs": number(r["runs"])}
        row |= {m: _mean_ci(r[f"{m}_mean"], r[f"{m}_ci95"]) for m in metrics}
        rows.append(row)
    print(
        f"{len(frame)} lists; one row per sweep point: mean ± 95 % CI over its runs (Student t); "
        "every record: runs.csv, or --format csv"
    )
    print_table(
        rows,
        [*params, "runs", *metrics],
        params,
        terminal_width(),
        [*params, *with_expected(["scans", "list_ms"], frame), "runs"],
        HINT,
    )


def _cell(column: str, value: Any, params: list[str]) -> str:
    """A parameter as the user wrote it in the scenario (``null``, ``0.28``); a metric as a number."""
    return yaml_value(value) if column in params else number(value)


def _mean_ci(mean: float, half: float) -> str:
    if half is None or not math.isfinite(half) or half == 0:
        return number(float(mean))
    return f"{number(float(mean))} ± {number(float(half))}"


def _params(frame: Any) -> list[str]:
    return [c for c in frame.columns if "." in c or c == "variant"]


def with_expected(columns: list[str], frame: Any) -> list[str]:
    """``columns`` with each expected_<metric> column of --analytic right after <metric>."""
    return [name for c in columns for name in (c, f"expected_{c}") if name in frame.columns]


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"not JSON serialisable: {value!r}")
