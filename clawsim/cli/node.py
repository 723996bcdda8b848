"""``clawsim check-node`` and ``clawsim calibrate``: the same scenario on the real Node.js loop."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..console import print_table, terminal_width, yaml_value
from . import app
from .options import ScenarioFile, note

if TYPE_CHECKING:
    from ..scenario import Scenario

_Runs = Annotated[
    list[int] | None,
    typer.Option(
        "--run", "-r", show_default=False, help="Check only this run of the plan (repeatable) [default: every run]."
    ),
]
_Calibration = Annotated[
    Path | None,
    typer.Option(
        "--calibration",
        "-c",
        show_default=False,
        help=("Costs written by `clawsim calibrate` [default: measure this machine first, ~6 s]."),
    ),
]
_Uncalibrated = Annotated[bool, typer.Option("--uncalibrated", help="Simulate with the scenario's own costs.")]
_Attempts = Annotated[
    int,
    typer.Option(
        "--attempts",
        min=1,
        help=("Node runs per plan entry while a busy machine leaves timing rows outside their bounds."),
    ),
]
_Realtime = Annotated[
    bool, typer.Option("--realtime", help="Run Node under chrt -f 5 (root): other processes cannot take its CPU.")
]
_Strict = Annotated[
    bool, typer.Option("--strict", help="Also fail on timing rows excused because the machine was busy.")
]
_All = Annotated[bool, typer.Option("--all", help="Print every metric, not only scans, flips and list_ms.")]
_Schedule = Annotated[
    Path | None,
    typer.Option(
        "--schedule",
        show_default=False,
        help="Drive Node through this schedule (a `clawsim explore` file): the actors fire only in the gaps it names.",
    ),
]


@app.command(
    "check-node",
    rich_help_panel="Real gateways",
    help="""Run a scenario on the real Node.js event loop and compare, per list.

Runs the scenario on Node and in clawsim. Counts fixed by the order of callbacks must be equal; the others are judged
within the bounds of validation/README.md. A timing row outside its bound while other processes
held the CPU is reported `busy` and does not fail the check unless --strict. Exit 1 if a metric
is outside its rule; 2 on a bad scenario or when Node cannot run.

**Examples**

    clawsim check-node validation/scenarios/pr-harness.yaml
    clawsim calibrate -o node.yaml
    clawsim check-node FILE --calibration node.yaml --all
""",
)
def check_node(
    file: ScenarioFile,
    run: _Runs = None,
    calibration: _Calibration = None,
    uncalibrated: _Uncalibrated = False,
    attempts: _Attempts = 3,
    realtime: _Realtime = False,
    strict: _Strict = False,
    all_metrics: _All = False,
    schedule: _Schedule = None,
) -> None:
    from ..nodecheck import compare, load_calibration, passed
    from ..scenario import load_scenario

    scenario = load_scenario(file)
    if schedule is not None:
        _check_schedule(scenario, schedule)
        return
    cal = {} if uncalibrated else (load_calibration(calibration) if calibration else None)
    if cal is None:
        note("calibrating this machine's Node first (~6 s; keep it with `clawsim calibrate -o FILE`)")
    frame = compare(scenario, calibration=cal, runs=run, attempts=attempts, realtime=realtime)
    shown = frame if all_metrics else frame[frame.metric.isin(["lists", "scans", "flips", "list_ms"])]
    params = list(scenario.dimensions)
    columns = ["run", *params, "list", "metric", "clawsim", "node", "rel_err", "rule", "status", "note"]
    rows = [
        {
            "run": str(r["run"]),
            **{p: yaml_value(r[p]) for p in params},
            "list": "" if r["list_index"] < 0 else str(r["list_index"]),
            "metric": r["metric"],
            "clawsim": _measure(r["clawsim"]),
            "node": _measure(r["node"]),
            "rel_err": f"{r['rel_err']:.1%}",
            "rule": str(r["rule"]),
            "status": r["status"],
            "note": r["note"],
        }
        for r in shown.to_dict(orient="records")
    ]
    # narrow: keep the comparison (clawsim beside node, its error and verdict); the rule and note go first
    keep = ["run", *params, "list", "metric", "clawsim", "node", "rel_err", "status"]
    print_table(rows, columns, [*params, "metric", "rule", "status", "note"], terminal_width(), keep)
    counts = frame.status.value_counts()
    print(
        f"{file}: {len(frame)} metrics: {counts.get('pass', 0)} pass, {counts.get('fail', 0)} fail, "
        f"{counts.get('busy', 0)} busy (Node {frame.attrs['node']})"
    )
    if counts.get("busy", 0):
        note("busy: other processes held the CPU during those lists; rerun with --realtime or on a quiet machine")
    if not passed(frame, strict=strict):
        raise typer.Exit(1)


@app.command(
    "calibrate",
    rich_help_panel="Real gateways",
    help="""Measure this machine's Node.js costs, as scenario YAML (~6 s).

Writes the costs that make clawsim match this machine's Node. `loop.iteration_ms` can be pasted into a scenario; `overhead_ms` is
what `clawsim check-node --calibration FILE` adds to a scenario's costs. Exit 2 when Node
cannot run.

**Example**

    clawsim calibrate -o node.yaml
""",
)
def calibrate(
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write the YAML to this file [default: stdout].", show_default=False),
    ] = None,
    realtime: Annotated[
        bool, typer.Option("--realtime", help="Measure under chrt -f 5 (root): other processes cannot take Node's CPU.")
    ] = False,
) -> None:
    from ..nodecheck import cached_calibration, calibration_yaml

    text = calibration_yaml(cached_calibration(realtime=realtime))  # a check-node in this process reuses it
    if out is None:
        sys.stdout.write(text)
        return
    from ..store import atomic_write_text

    atomic_write_text(out, text)
    note(f"calibration written to {out}")


def _check_schedule(scenario: Scenario, path: Path) -> None:
    """Replay a schedule on Node; its counts must equal the model's (exit 1 if not)."""
    from ..explore.replay import node_check
    from ..explore.schedule import load_schedule

    loaded = load_schedule(scenario, path)
    rows = node_check(loaded)
    cells = [
        {
            "metric": r.metric,
            "model": _measure(r.model),
            "node": _measure(r.node),
            "status": "pass" if r.equal else "fail",
        }
        for r in rows
    ]
    print_table(cells, ["metric", "model", "node", "status"], ["metric", "status"], terminal_width())
    failed = sum(not r.equal for r in rows)
    print(
        f"{path}: {len(rows)} counts, {len(rows) - failed} equal on Node ({loaded.schedule.activations} activations replayed)"
    )
    if failed:
        raise typer.Exit(1)


def _measure(value: float) -> str:
    """A count without decimals, a time with one."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
