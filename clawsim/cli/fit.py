"""``clawsim fit``: a scenario fitted to a real gateway's diagnostics timeline."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import Annotated, Any

import typer

from ..console import number, print_table, terminal_width
from ..errors import ResultsError, UsageError
from . import app
from .options import note


def _interval(lo: Any, hi: Any) -> str:
    def one(v: Any) -> str:
        return "" if v is None or (isinstance(v, float) and math.isnan(v)) else number(v)

    return "" if one(lo) == one(hi) == "" else f"{one(lo)} .. {one(hi)}"


def _list_index(value: str) -> int | None:
    if value == "all":
        return None
    if not value.isdigit():
        raise UsageError(f"--list {value}: give a list index (0, 1, ...) or 'all'")
    return int(value)


@app.command(
    rich_help_panel="Real gateways",
    help="""Fit a scenario to a real gateway's diagnostics timeline(s).

Fits the sessions.list calls of one or more diagnostics timelines of one install (the file a
gateway writes with OPENCLAW_DIAGNOSTICS=1 OPENCLAW_DIAGNOSTICS_TIMELINE_PATH=FILE, or one from
`clawsim trace`). Derives rows, lookups per row, scan and hit costs, the per-row cost, whether the
memo keeps entries at all, and the rate of workspace-changing setter calls, each with its evidence
and interval; regresses the list's time on its terms (fixed, per row, per hit, per miss and the
work after it, per yield) and prints their decomposition; flags cold lists (the first of their
process) with their one-off cost; writes a scenario with sweep registry.fix: [none, pin]; prints
observed vs simulated scans and list_ms per list size (--per-list: per list), and with --predict
the list_ms of the install elsewhere with a 95 % prediction interval.

**Examples**

    clawsim fit gateway.timeline.jsonl -o mine.yaml && clawsim run mine.yaml
    clawsim fit a.jsonl b.jsonl --predict rows=300 --predict fix=pin
    clawsim fit a.jsonl --predict actors=none --per-list
""",
)
def fit(
    timelines: Annotated[
        list[Path], typer.Argument(help="Diagnostics timeline(s) of one install (JSON Lines).", show_default=False)
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Write the fitted scenario here [default: fit-TIMELINE.yaml in the current folder].",
            show_default=False,
        ),
    ] = None,
    list_: Annotated[
        str, typer.Option("--list", help="Fit one list (its index among the timeline's lists) or all of them.")
    ] = "all",
    force: Annotated[bool, typer.Option("--force", help="Replace the output file if it exists.")] = False,
    replications: Annotated[
        int,
        typer.Option("--replications", "-n", min=2, help="Runs per point of the fitted scenario (and of the check)."),
    ] = 20,
    predict: Annotated[
        list[str] | None,
        typer.Option(
            "--predict",
            help="Predict list_ms at SETTINGS: rows=300, fix=pin, actors=none, or any PATH=VALUE; "
            "comma-separated settings make one prediction, each --predict another.",
            show_default=False,
        ),
    ] = None,
    per_list: Annotated[bool, typer.Option("--per-list", help="Print the check for every list, not per size.")] = False,
) -> None:
    from ..folder import held

    first = timelines[0]
    target = out if out is not None else Path(f"fit-{first.name.removesuffix('.gz').removesuffix('.jsonl')}.yaml")
    target.parent.mkdir(parents=True, exist_ok=True)
    with held(target):  # one clawsim writes a file at a time; a killed fit's temporary file removed
        existed = target.exists() or target.is_symlink()
        if existed and not force:
            raise UsageError(f"{target}: exists; pass --force to replace it, or --out another file")
        source = timelines[0] if len(timelines) == 1 else timelines
        _fit_and_write(source, target, _list_index(list_), replications, existed, predict or [], per_list)
    note(f"fitted scenario written to {target}; `clawsim run {target}` compares registry.fix none and pin")


def _fit_and_write(
    source: Any, target: Path, list_index: int | None, replications: int, existed: bool, predict: list[str],
    per_list: bool,
) -> None:  # fmt: skip
    """Fit, predict, print the fit's tables, write ``target`` whole (its previous bytes stay on any error)."""
    from ..fitting import fit as fit_api
    from ..store import write_file

    result = fit_api(source, list_index=list_index, replications=replications)
    predictions = [result.predict(setting) for setting in predict]
    width = terminal_width()
    _parameters(result, width)
    _decomposition(result, width)
    _check(result, per_list, width)
    _predictions(result, predictions, width)
    print(flush=True)
    try:
        write_file(target, result.yaml.encode("utf-8"))
    except OSError as exc:
        kept = f"the previous {target.name} is as it was" if existed else "nothing was written"
        raise ResultsError(f"{target}: cannot write it: {exc.strerror or exc}; {kept}") from None


def _parameters(result: Any, width: int | None) -> None:
    rows = [
        {
            "parameter": r["parameter"],
            "value": number(r["value"]),
            "95% interval": _interval(r["lo"], r["hi"]),
            "evidence": str(r["evidence"]),
        }
        for r in result.parameters.to_dict(orient="records")
    ]
    print_table(rows, ["parameter", "value", "95% interval", "evidence"], ["parameter", "evidence"], width)
    print()


def _decomposition(result: Any, width: int | None) -> None:
    if result.decomposition is None:
        return
    which = "warm lists (cold first lists left out)" if result.warm else "lists"
    _say(f"The time of the fitted {which}, per term (95 % intervals; {result.terms.stretches} stretches):", width)
    rows = [
        {
            "term": r["term"],
            "ms each": number(r["value_ms"]) if r["value_ms"] is not None else "-",
            "95% interval": _interval(r["lo"], r["hi"]),
            "x count": number(r["count"]),
            "ms per list": number(r["ms_per_list"]),
            "share": f"{r['share']:.1%}" if r["share"] is not None else "",
            "how": str(r["how"]),
        }
        for r in result.decomposition.to_dict(orient="records")
    ]
    print_table(rows, list(rows[0]), ["term", "how"], width)
    if result.cold is not None and len(result.cold):
        costs = ", ".join(number(v) for v in result.cold.one_off_ms)
        _say(f"cold: {len(result.cold)} first list(s) of a process, left out; one-off cost beyond the warm "
             f"terms: {costs} ms", width)  # fmt: skip
    elif not result.warm:
        _say(
            "cold: every list is the first of its process; one-off costs of a fresh process are inside the terms", width
        )
    print()


def _say(text: str, width: int | None) -> None:
    """A line of prose, wrapped to the terminal."""
    print(textwrap.fill(text, width or 100))


def _check(result: Any, per_list: bool, width: int | None) -> None:
    if per_list or result.summary is None:
        columns = ["list", "rows", "observed_scans", "simulated_scans", "observed_hits", "simulated_hits",
                   "observed_list_ms", "simulated_list_ms", "list_ms_rel_err"]  # fmt: skip
        frame = result.check
        narrow = [*columns[:4], *columns[6:], "rows"]  # keep scans and list_ms beside each other; hits go first
    else:
        columns = ["rows", "lists", "observed_scans", "simulated_scans", "observed_list_ms", "observed_min",
                   "observed_max", "simulated_list_ms", "simulated_lo", "simulated_hi", "list_ms_rel_err"]  # fmt: skip
        frame = result.summary
        narrow = ["rows", "lists", "observed_scans", "simulated_scans", "observed_list_ms", "simulated_list_ms",
                  "list_ms_rel_err"]  # fmt: skip
    rows = [
        {c: (f"{r[c]:+.1%}" if c.endswith("rel_err") else number(r[c])) for c in columns}
        for r in frame.to_dict(orient="records")
    ]
    print_table(rows, columns, [], width, narrow)


def _predictions(result: Any, predictions: list, width: int | None) -> None:
    if not predictions:
        return
    print()
    rows = [
        {
            "prediction": p.label,
            "rows": number(p.rows),
            "scans": number(p.misses),
            "hits": number(p.hits),
            "list_ms": number(p.list_ms),
            "95% prediction interval": _interval(p.lo_ms, p.hi_ms),
        }
        for p in predictions
    ]
    print_table(rows, list(rows[0]), ["prediction"], width, ["prediction", "list_ms", "95% prediction interval"])
    if not predictions[0].spread_seen:
        _say(
            "the interval holds the terms' uncertainty only: one list shows no run-to-run spread "
            "(fit several lists or timelines of the install to see it)",
            width,
        )
