"""``clawsim run``: simulate a scenario and write its result folder."""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..cluster import TIMEOUT_S
from ..folder import DEFAULT_ROOT
from . import app, elapsed_s
from .options import ReplicationsOption, ScenarioFile, SeedOption, SetOption, SweepOption, note, overrides
from .output import Format, print_records, saturated_points, saturation_warning

if TYPE_CHECKING:  # the API (pandas, pyarrow) is imported when the command runs
    from ..api import RunOptions, RunResult
    from ..scenario import Scenario

EXAMPLES = """

**Examples**

    # 40 vs 2 scans, as in the PR
    clawsim run scenarios/pr90819-harness.yaml
    # the headline sweep and its charts
    clawsim run scenarios/rows-x-concurrency.yaml -w 2
    clawsim run FILE --set list.rows=500 --set registry.fix=pin
    # an ad-hoc sweep, 10 runs per point
    clawsim run FILE --sweep actors.0.count=0,4,16 -n 10
    # every record, for other tools
    clawsim run FILE --format csv > runs.csv
    # also traces/ and a self-contained index.html
    clawsim run FILE --trace --html
    # finish an interrupted sweep
    clawsim run FILE --resume
"""


CORES = os.cpu_count() or 1  # the default --workers
_Format = Annotated[
    Format, typer.Option("--format", "-f", help="table: headline columns; json or csv: every record on stdout.")
]
_Out = Annotated[
    Path | None,
    typer.Option(
        "--out",
        "-o",
        show_default=False,
        help=f"Result folder, replaced as a whole [default: {DEFAULT_ROOT}/NAME/HASH, one folder per what-if].",
    ),
]
_Workers = Annotated[
    int,
    typer.Option(
        "--workers",
        "-w",
        min=1,
        show_default=False,
        help=("Worker processes [default: the machine's cores; more is capped]; plans under 16 runs stay in-process."),
    ),
]
_Scheduler = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help=("Dask scheduler address (tcp://host:8786) to run the sweep on a cluster; needs clawsim[dask]."),
    ),
]
_SchedulerTimeout = Annotated[
    float,
    typer.Option(
        "--scheduler-timeout",
        min=0.1,
        help=("Seconds to wait for the Dask scheduler to answer, and for a worker when the cluster has none."),
    ),
]
_Resume = Annotated[
    bool, typer.Option("--resume", help="Reuse the finished runs of an interrupted sweep in the result folder.")
]
_Force = Annotated[
    bool, typer.Option("--force", help="Discard an interrupted sweep in the result folder and start again.")
]
_Report = Annotated[bool, typer.Option("--report/--no-report", help="Draw the PNG report after a sweep.")]
_Html = Annotated[
    bool, typer.Option("--html", help="Also write a self-contained index.html (images embedded) with the report.")
]
_Trace = Annotated[
    bool,
    typer.Option("--trace", help="Also trace the first run of each sweep point into traces/ (see `clawsim trace`)."),
]
_PerRun = Annotated[
    bool,
    typer.Option(
        "--per-run", help="Print one row per list instead of the per-point summary (every record: --format csv)."
    ),
]
_FailOnSaturation = Annotated[
    bool,
    typer.Option(
        "--fail-on-saturation",
        help="Exit 1 (after writing the results) when a run stopped before its lists ended: the loop could not keep up.",
    ),
]
_Analytic = Annotated[
    bool,
    typer.Option(
        "--analytic",
        help=(
            "Add expected_scans, expected_flips and expected_list_ms (clawsim.analytic: computed, not simulated) "
            "and an 'analytic' column: exact, approximate or 'n/a: REASON'."
        ),
    ),
]


@app.command(
    rich_help_panel="Simulate",
    help=f"""Simulate a scenario (every point of its sweep) and write its result folder.

Writes runs.parquet, runs.csv, scenario.resolved.yaml (every default and override filled in)
and meta.json and, after a sweep, the PNG report and index.md into a new folder, then swaps it
in for the old one as a whole. Default folder: {DEFAULT_ROOT}/NAME/HASH, one per what-if (HASH:
of the resolved scenario, so --set, --seed or -n never replace another what-if's results),
and {DEFAULT_ROOT}/NAME/latest names the last one. One clawsim at a time
writes a folder. The same scenario and seed give byte-identical runs.parquet and runs.csv,
whatever --workers. On a terminal the table shows one row per list or, for many lists, one row
per sweep point with each mean ± its 95 % confidence interval."""
    + EXAMPLES,
)
def run(
    file: ScenarioFile,
    set_: SetOption = None,
    sweep: SweepOption = None,
    seed: SeedOption = None,
    replications: ReplicationsOption = None,
    format: _Format = Format.table,
    out: _Out = None,
    workers: _Workers = CORES,
    scheduler: _Scheduler = None,
    scheduler_timeout: _SchedulerTimeout = TIMEOUT_S,
    resume: _Resume = False,
    force: _Force = False,
    report: _Report = True,
    html: _Html = False,
    trace: _Trace = False,
    analytic: _Analytic = False,
    per_run: _PerRun = False,
    fail_on_saturation: _FailOnSaturation = False,
) -> None:
    from ..api import RunOptions
    from ..cluster import connect
    from ..scenario import load_scenario
    from ..scenario.overrides import apply_overrides

    scenario = load_scenario(file)
    given = overrides(set_, sweep, seed, replications)
    applied = apply_overrides(scenario, given)  # bad options exit 2 before a cluster is asked; run applies them
    options = RunOptions(
        workers=workers,
        resume=resume,
        force=force,
        analytic=analytic,
        report=report,
        html=html,
        trace=trace,
        overrides=tuple(map(str, given)),
        source=str(file),
    )
    cluster = connect(scheduler, scheduler_timeout) if scheduler is not None else None
    try:
        result = _run_with_progress(scenario, out, dataclasses.replace(options, executor=cluster), applied)
    finally:
        if cluster is not None:
            cluster.close()
    print_records(result.frame, format, result.scenario, per_run)
    saturated = saturated_points(result.frame, result.scenario)
    if saturated:
        note(saturation_warning(saturated))
    if result.report:
        charts = sum(1 for p in result.report if p.suffix == ".png")
        note(f"report: {result.out / 'index.md'} ({charts} chart{'s' if charts != 1 else ''})")
    simulated = result.runs - result.resumed
    whole = elapsed_s()
    note(
        f"done in {whole:.1f} s ({simulated} run{'s' if simulated != 1 else ''} simulated in {result.wall_s:.2f} s); "
        f"results in {result.out}/"
    )
    if saturated and fail_on_saturation:
        raise typer.Exit(1)


COSTED_POINTS = 20_000  # plans with more points have an ETA by run count (costing them would take seconds)


class _Costs:
    """The expected cost of the first ``done`` runs of a plan (``sweep.run_cost`` of each
    point), so that the time left weighs the runs still to come by what they cost, not by
    their number. Runs finish about in plan order (a pool works a few chunks ahead), so
    the first ``done`` runs stand for the ``done`` finished ones."""

    def __init__(self, scenario: Any):
        from ..scenario import plan
        from ..sweep import run_cost

        runs = plan(scenario)
        self.runs, self.replications = runs.runs, runs.replications
        self.cost: list[float] = []  # per point; empty: every run costs 1 (a plan too big to cost)
        if runs.points <= COSTED_POINTS:
            self.cost = [run_cost(runs[p * runs.replications].scenario) for p in range(runs.points)]
        self.before = [0.0]
        for cost in self.cost:
            self.before.append(self.before[-1] + cost * self.replications)

    @property
    def total(self) -> float:
        return self.before[-1] if self.cost else float(self.runs)

    def done(self, runs: int) -> float:
        if not self.cost:
            return float(runs)
        point, replication = divmod(runs, self.replications)
        return self.before[point] + (replication * self.cost[point] if point < len(self.cost) else 0.0)


def _run_with_progress(scenario: Scenario, out: Path | None, options: RunOptions, applied: Scenario) -> RunResult:
    """``clawsim.api.run`` with its status lines on stderr and, on a terminal, a progress bar
    whose time left weighs the remaining runs of ``applied`` (the scenario with the options'
    overrides) by their expected cost (``_Costs``)."""
    from rich.console import Console

    from ..api import run as run_api

    err = Console(stderr=True, highlight=False)
    if not err.is_terminal:
        return run_api(scenario, out, options=dataclasses.replace(options, notify=note))
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (
        TextColumn("runs"),
        BarColumn(),
        TextColumn("{task.fields[runs]}"),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
    )
    started = time.perf_counter()
    costs = _Costs(applied)
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("runs", total=None, rate="", runs="")
        first: list[int] = []  # runs already done when the bar started (resumed): no part of the rate

        def advance(done: int, total: int) -> None:
            if not first:  # resumed runs count as done, not as speed: the bar starts from them
                first.append(done)
                bar.reset(task, total=costs.total, completed=round(costs.done(done)))
            rate = (done - first[0]) / max(time.perf_counter() - started, 1e-9)
            bar.update(task, completed=costs.done(done), runs=f"{done:,}/{total:,}", rate=f"{rate:,.0f} runs/s")

        def say(line: str) -> None:
            bar.console.print(f"clawsim: {line}", markup=False)

        return run_api(scenario, out, options=dataclasses.replace(options, notify=say, progress=advance))
