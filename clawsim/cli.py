"""The ``clawsim`` command: a thin layer over the Python API.

Exit codes: 0 success, 1 a check failed (``check-node``), 2 bad input (a scenario, a
result folder or an option), 130 interrupted.
"""

from __future__ import annotations

import json
import os
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from . import __version__
from .api import DEFAULT_ROOT
from .cluster import TIMEOUT_S
from .errors import ClawsimError, Interrupted, ResultsError, ScenarioError
from .scenario import load_scenario, plan

EXAMPLE = """\
name: pr90819-harness
seed: 1
memo: {policy: lru, capacity: 8, scan_ms: 2.5}
list: {rows: 200, yield_every: 10, lookups_per_row: 2, row_cost_ms: 0.28}
registry: {initial_workspace: /gateway, fix: none}
actors:
  - {name: flipper, kind: immediate, workspaces: unique}
sweep:
  registry.fix: [none, pin]
"""

HELP = f"""\
clawsim simulates Node's `sessions.list` racing concurrent `setActivePluginRegistry`
calls: a memo keyed on a mutable global misses on every yield, and each miss is a
synchronous full scan. Times are milliseconds of simulated time.

A scenario file looks like this (all fields are in the README's format reference):

\b
{EXAMPLE}
\b
  clawsim validate scenarios/pr90819-harness.yaml   # check a file, print its run plan
  clawsim run scenarios/pr90819-harness.yaml        # simulate, print a table, write {DEFAULT_ROOT}/<name>/
  clawsim run FILE --format json                    # the records as JSON on stdout
  clawsim report reports/rows-x-concurrency         # redraw the PNG report of a result folder
"""



class _Commands(TyperGroup):
    """The command group; its ``invoke`` is the one place where errors become exit codes."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (ClawsimError, KeyboardInterrupt, OSError) as exc:
            raise typer.Exit(exit_code(exc)) from None


def exit_code(exc: BaseException) -> int:
    """Print ``clawsim: <what happened>`` on stderr and return the exit code: a ClawsimError's
    ``exit_code`` (2), 130 for Ctrl-C, 2 for stdout that cannot be written. Any other error
    is a bug and is re-raised with its traceback."""
    if isinstance(exc, ClawsimError):
        _stderr(f"clawsim: {exc}")
        return exc.exit_code
    if isinstance(exc, KeyboardInterrupt):  # an Interrupted says what was kept
        _stderr(f"clawsim: {exc}" if isinstance(exc, Interrupted) else "clawsim: interrupted")
        return 130
    if isinstance(exc, OSError) and exc.filename is None:  # a write to stdout: closed, full or a broken pipe
        _stderr(f"clawsim: cannot write to stdout: {exc.strerror or exc}")
        _silence_stdout()
        return 2
    raise exc


def _stderr(line: str) -> None:
    try:
        print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError, AttributeError):
        pass  # stderr itself is closed: the exit code is all that is left


def _silence_stdout() -> None:
    """Point fd 1 at /dev/null so that the interpreter's last flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    except OSError:
        pass


app = typer.Typer(help=HELP, no_args_is_help=True, add_completion=False, rich_markup_mode=None,
                  pretty_exceptions_enable=False, cls=_Commands)
err = Console(stderr=True, highlight=False)

HEADLINE = ["run", "list_index", "scans", "hits", "lookups", "flips", "changes", "distinct_workspaces", "yields", "list_ms"]
TABLE_ROW_LIMIT = 60


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def note(message: str) -> None:
    """A progress or status line on stderr; stdout stays the data channel."""
    print(f"clawsim: {message}", file=sys.stderr)


def fail(message: str, code: int = 2) -> None:
    """Print ``clawsim: message`` on stderr (unwrapped: it names FILE:LINE) and exit."""
    print(f"clawsim: {message}", file=sys.stderr)
    raise typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        print(f"clawsim {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")] = False,
) -> None:
    """clawsim: a deterministic discrete-event simulator of sessions.list under concurrency."""


@app.command()
def validate(file: Annotated[Path, typer.Argument(help="Scenario YAML file.")]) -> None:
    """Check a scenario file and print its run plan; exit 2 with FILE:LINE: FIELD on errors."""
    try:
        scenario = load_scenario(file)
        runs = plan(scenario)
    except ScenarioError as exc:
        fail(str(exc))
    swept = ", ".join(f"{k} ({len(v)})" for k, v in scenario.sweep.items()) or "nothing"
    print(f"{file}: ok: scenario {scenario.name!r}, {len(runs)} runs "
          f"({len(runs) // scenario.replications} points x {scenario.replications} replications; sweeps {swept})")


@app.command()
def run(
    file: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    format: Annotated[Format, typer.Option("--format", "-f", help="table: headline columns; json: every record on stdout; csv: every record on stdout.")] = Format.table,
    out: Annotated[Path | None, typer.Option("--out", "-o", help=f"Result folder [default: {DEFAULT_ROOT}/<scenario name>]; replaced as a whole.")] = None,
    workers: Annotated[int, typer.Option("--workers", "-w", min=1, help="Worker processes for a sweep [default: the machine's cores; more is capped]; plans under 16 runs stay in-process.", show_default=False)] = os.cpu_count() or 1,
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="Dask scheduler address (tcp://host:8786) to run the sweep on a cluster; needs clawsim[dask].")] = None,
    scheduler_timeout: Annotated[float, typer.Option("--scheduler-timeout", min=0.1, help="Seconds to wait for the Dask scheduler to answer, and for a worker when the cluster has none.")] = TIMEOUT_S,
    resume: Annotated[bool, typer.Option("--resume", help="Reuse the finished runs of an interrupted sweep in the result folder.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Discard an interrupted sweep in the result folder and start again.")] = False,
    report: Annotated[bool, typer.Option("--report/--no-report", help="Draw the PNG report after a sweep.")] = True,
    analytic: Annotated[bool, typer.Option("--analytic", help="Add expected_scans, expected_flips and expected_list_ms (clawsim.analytic: computed, not simulated) beside scans, flips and list_ms, and an 'analytic' column: exact, approximate or 'n/a: <reason>'.")] = False,
) -> None:
    """Simulate a scenario (every point of its sweep) and write its result folder.

    Writes runs.parquet, runs.csv, scenario.resolved.yaml, meta.json and, after a sweep,
    the PNG report and index.md into a new folder, then swaps it in for the old one as a
    whole. One clawsim at a time writes a folder. Same scenario and seed give byte-identical
    runs.parquet and runs.csv, whatever --workers.

    \b
    Examples:
      clawsim run scenarios/pr90819-harness.yaml            # 40 vs 2 scans, as in the PR
      clawsim run scenarios/rows-x-concurrency.yaml -w 2    # the headline sweep and its charts
      clawsim run FILE --format csv > runs.csv              # every record, for other tools
      clawsim run FILE --resume                             # finish an interrupted sweep
    """
    from .cluster import connect

    cluster = connect(scheduler, scheduler_timeout) if scheduler is not None else None
    try:
        result = _run_with_progress(file, out, workers=workers, executor=cluster,
                                    resume=resume, force=force, analytic=analytic, report=report)
    finally:
        if cluster is not None:
            cluster.close()
    _print_records(result.frame, format)
    if result.report:
        charts = len(result.report) - 1
        note(f"report: {result.out / 'index.md'} ({charts} chart{'s' if charts != 1 else ''})")
    simulated = result.runs - result.resumed
    note(f"{simulated} runs in {result.wall_s:.2f} s; results in {result.out}/")


def _run_with_progress(file: Path, out: Path | None, **options):
    """``clawsim.api.run`` with its status lines on stderr and, on a terminal, a progress bar."""
    from .api import run as run_api

    if not err.is_terminal:
        return run_api(file, out, notify=note, **options)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("runs"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
               TimeRemainingColumn())
    started = time.perf_counter()
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("runs", total=None, rate="")

        def advance(done: int, total: int) -> None:
            rate = done / max(time.perf_counter() - started, 1e-9)
            bar.update(task, completed=done, total=total, rate=f"{rate:,.0f} runs/s")

        return run_api(file, out, notify=lambda line: bar.console.print(f"clawsim: {line}", markup=False),
                       progress=advance, **options)


def _print_records(frame, format: Format) -> None:
    if format is Format.json:
        if frame.isna().any().any():  # --analytic leaves NaN where no closed form applies
            frame = frame.astype(object).where(frame.notna(), None)
        records = frame.to_dict(orient="records")
        print(json.dumps(records, indent=1, default=_json_default, allow_nan=False))
        return
    if format is Format.csv:
        sys.stdout.write(frame.to_csv(index=False, lineterminator="\n"))
        return
    params = [c for c in frame.columns if "." in c or c == "variant"]
    if len(frame) <= TABLE_ROW_LIMIT:
        _print_table(frame, _with_expected(["run", *params, *HEADLINE[1:]], frame), params)
        return
    metrics = _with_expected(["scans", "flips", "distinct_workspaces", "list_ms", "loop_delay_max_ms"], frame)
    summary = frame.groupby(params or ["point"], sort=False).agg(
        runs=("run", "nunique"), lists=("list_index", "size"), **{m: (m, "mean") for m in metrics},
    ).reset_index()
    print(f"{len(frame)} lists; one row per sweep point, means over its runs and lists "
          "(every record: runs.csv, or --format csv)")
    _print_table(summary, list(summary.columns), params)


def _with_expected(columns: list[str], frame) -> list[str]:
    """``columns`` with each expected_<metric> column of --analytic right after <metric>."""
    return [name for c in columns for name in (c, f"expected_{c}") if name in frame.columns]


def _print_table(frame, columns: list[str], left: list[str]) -> None:
    table = Table(show_edge=False, pad_edge=False)
    for name in columns:
        table.add_column(name, justify="left" if name in left else "right")
    for values in frame.to_dict(orient="records"):
        table.add_row(*(_cell(values[c]) for c in columns))
    Console(highlight=False, width=None if sys.stdout.isatty() else 200).print(table)


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)


def _json_default(value):
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"not JSON serialisable: {value!r}")


def _draw_report(out: Path) -> None:
    from .errors import ReportError
    from .report import write_report

    try:
        pngs = write_report(out)
    except ReportError as exc:
        note(f"no report: {exc}")
        return
    note(f"report: {out / 'index.md'} ({len(pngs)} chart{'s' if len(pngs) != 1 else ''})")


@app.command("report")
def report_cmd(folder: Annotated[Path, typer.Argument(help="A result folder written by `clawsim run`.")]) -> None:
    """Draw the PNG charts and index.md of a result folder; the charts follow what the sweep varies."""
    from .errors import ReportError
    from .report import write_report

    try:
        pngs = write_report(folder)
    except (ReportError, ResultsError) as exc:
        fail(str(exc))
    for png in pngs:
        print(png)


@app.command("check-node")
def check_node(
    file: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    run: Annotated[list[int] | None, typer.Option("--run", "-r", help="Check only this run of the plan (repeatable) [default: every run].")] = None,
    calibration: Annotated[Path | None, typer.Option("--calibration", "-c", help="Costs written by `clawsim calibrate` [default: measure this machine first, ~6 s].")] = None,
    uncalibrated: Annotated[bool, typer.Option("--uncalibrated", help="Simulate with the scenario's own costs.")] = False,
    attempts: Annotated[int, typer.Option("--attempts", min=1, help="Node runs per plan entry while a busy machine leaves timing rows outside their bounds.")] = 3,
    realtime: Annotated[bool, typer.Option("--realtime", help="Run Node under chrt -f 5 (root): other processes cannot take its CPU.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Also fail on timing rows excused because the machine was busy.")] = False,
    all_metrics: Annotated[bool, typer.Option("--all", help="Print every metric, not only scans, flips and list_ms.")] = False,
) -> None:
    """Run a scenario on the real Node.js event loop and compare it with clawsim, per list.

    Counts fixed by the order of callbacks must be equal; the others are judged within the
    bounds of validation/README.md. A timing row outside its bound while other processes
    held the CPU is reported `busy` and does not fail the check unless --strict. Exit 1 if
    a metric is outside its rule; 2 on a bad scenario or when Node cannot run.

    \b
    Example:
      clawsim check-node validation/scenarios/pr-harness.yaml
    """
    from .errors import NodeCheckError
    from .nodecheck import compare, load_calibration, passed

    try:
        scenario = load_scenario(file)
    except ScenarioError as exc:
        fail(str(exc))
    try:
        cal = {} if uncalibrated else (load_calibration(calibration) if calibration else None)
        if cal is None:
            note("calibrating this machine's Node first (~6 s; keep it with `clawsim calibrate -o FILE`)")
        frame = compare(scenario, calibration=cal, runs=run, attempts=attempts, realtime=realtime)
    except NodeCheckError as exc:
        fail(str(exc))
    shown = frame if all_metrics else frame[frame.metric.isin(["lists", "scans", "flips", "list_ms"])]
    params = [c for c in frame.columns if "." in c or c == "variant"]
    columns = ["run", *params, "list", "metric", "clawsim", "node", "rel_err", "rule", "status", "note"]
    table = Table(show_edge=False, pad_edge=False)
    for name in columns:
        table.add_column(name, justify="right" if name in ("run", "list", "clawsim", "node", "rel_err") else "left")
    for r in shown.to_dict(orient="records"):
        table.add_row(str(r["run"]), *(str(r[p]) for p in params), "" if r["list_index"] < 0 else str(r["list_index"]),
                      r["metric"], _number(r["clawsim"]), _number(r["node"]), f"{r['rel_err']:.1%}", r["rule"],
                      r["status"], r["note"])
    Console(highlight=False, width=None if sys.stdout.isatty() else 250).print(table)
    counts = frame.status.value_counts()
    print(f"{file}: {len(frame)} metrics: {counts.get('pass', 0)} pass, {counts.get('fail', 0)} fail, "
          f"{counts.get('busy', 0)} busy (Node {frame.attrs['node']})")
    if counts.get("busy", 0):
        note("busy: other processes held the CPU during those lists; rerun with --realtime or on a quiet machine")
    if not passed(frame, strict=strict):
        raise typer.Exit(1)


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


@app.command("calibrate")
def calibrate_cmd(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the YAML to this file [default: stdout].")] = None,
    realtime: Annotated[bool, typer.Option("--realtime", help="Measure under chrt -f 5 (root): other processes cannot take Node's CPU.")] = False,
) -> None:
    """Measure this machine's Node.js and write the costs that make clawsim match it, as YAML (~6 s).

    `loop.iteration_ms` can be pasted into a scenario; `overhead_ms` is what
    `clawsim check-node --calibration FILE` adds to a scenario's costs. Exit 2 when Node
    cannot run.
    """
    from .errors import NodeCheckError
    from .nodecheck import cached_calibration, calibration_yaml

    try:  # measured once per process: a check-node in the same process reuses it
        text = calibration_yaml(cached_calibration(realtime=realtime))
    except NodeCheckError as exc:
        fail(str(exc))
    if out is None:
        sys.stdout.write(text)
    else:
        from .store import atomic_write_text

        atomic_write_text(out, text)
        note(f"calibration written to {out}")


def main() -> None:
    """Console entry point: refuses a closed stdout, and flushes stdout before exiting, so that
    a full disk or a closed pipe behind it is one line and exit 2, never a traceback."""
    for fd, name in ((1, "stdout"), (2, "stderr")):
        try:
            os.fstat(fd)
        except OSError:
            if fd == 1:  # without this, the first file clawsim opens would become fd 1
                _stderr(f"clawsim: {name} is closed; redirect it to a file or /dev/null")
            sys.exit(2)
    try:
        app()
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 2)
    except KeyboardInterrupt as exc:  # Ctrl-C before a command started (while parsing options)
        code = exit_code(exc)
    try:
        sys.stdout.flush()
    except OSError as exc:
        code = exit_code(exc)
    sys.exit(code)
