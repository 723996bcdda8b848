"""``clawsim fit``: a scenario fitted to a real gateway's diagnostics timeline."""

from __future__ import annotations

import math
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
    help="""Fit a scenario to a real gateway's diagnostics timeline.

Fits the sessions.list calls of a diagnostics timeline (the file a
gateway writes with OPENCLAW_DIAGNOSTICS=1 OPENCLAW_DIAGNOSTICS_TIMELINE_PATH=FILE, or one from
`clawsim trace`). Derives rows, lookups per row, scan and hit costs, the per-row cost, whether the
memo keeps entries at all, and the rate of workspace-changing setter calls, each with its evidence
and interval; writes a scenario with sweep registry.fix: [none, pin], so `clawsim run` on it says
what the pin buys on this install; prints observed vs simulated scans, hits and list_ms.

**Examples**

    clawsim fit gateway.timeline.jsonl -o mine.yaml && clawsim run mine.yaml
    clawsim fit tests/data/timelines/2026.6.8-rows30-flipperon.jsonl \\
        --list 0 -o /tmp/fit.yaml
""",
)
def fit(
    timeline: Annotated[Path, typer.Argument(help="Diagnostics timeline (JSON Lines).", show_default=False)],
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
    force: Annotated[
        bool, typer.Option("--force", help="Replace the output file if it exists (replaced whole, under a lock).")
    ] = False,
    replications: Annotated[
        int,
        typer.Option("--replications", "-n", min=2, help="Runs per point of the fitted scenario (and of the check)."),
    ] = 20,
) -> None:
    from ..folder import locked

    target = out if out is not None else Path(f"fit-{timeline.name.removesuffix('.jsonl')}.yaml")
    target.parent.mkdir(parents=True, exist_ok=True)
    with locked(target, "choose another --out"):  # one clawsim writes a file at a time
        existed = target.exists() or target.is_symlink()
        if existed and not force:
            raise UsageError(f"{target}: exists; pass --force to replace it, or --out another file")
        _fit_and_write(timeline, target, _list_index(list_), replications, existed)
    note(f"fitted scenario written to {target}; `clawsim run {target}` compares registry.fix none and pin")


def _fit_and_write(timeline: Path, target: Path, list_index: int | None, replications: int, existed: bool) -> None:
    """Fit, print the fit's tables, write ``target`` whole (its previous bytes stay on any error)."""
    from ..fitting import fit as fit_api
    from ..store import write_file

    result = fit_api(timeline, list_index=list_index, replications=replications)
    _print_fit(result)
    try:
        write_file(target, result.yaml.encode("utf-8"))
    except OSError as exc:
        kept = f"the previous {target.name} is as it was" if existed else "nothing was written"
        raise ResultsError(f"{target}: cannot write it: {exc.strerror or exc}; {kept}") from None


def _print_fit(result: Any) -> None:
    width = terminal_width()
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
    columns = [
        "list",
        "rows",
        "observed_scans",
        "simulated_scans",
        "observed_hits",
        "simulated_hits",
        "observed_list_ms",
        "simulated_list_ms",
        "list_ms_rel_err",
    ]
    check = [
        {c: (f"{r[c]:+.1%}" if c.endswith("rel_err") else number(r[c])) for c in columns}
        for r in result.check.to_dict(orient="records")
    ]
    # narrow: keep the comparison (scans, then list_ms, observed beside simulated); hits go first
    print_table(check, columns, [], width, [*columns[:4], *columns[6:], "rows"])
