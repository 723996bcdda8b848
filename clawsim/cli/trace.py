"""``clawsim trace``: chosen runs as a diagnostics timeline, a Perfetto trace and a Gantt PNG."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..folder import DEFAULT_ROOT
from . import app

if TYPE_CHECKING:
    from ..scenario import Scenario
from .options import ReplicationsOption, ScenarioFile, SeedOption, SetOption, SweepOption, note, scenario_from

_OUT = "choose another --out"


@app.command(
    rich_help_panel="Simulate",
    help=f"""See chosen runs as a timeline: a diagnostics timeline, a Perfetto trace and a PNG.

Writes, per run N: run-N.timeline.jsonl (openclaw's
diagnostics timeline format), run-N.trace.json (Chrome Trace Event format: open it in
https://ui.perfetto.dev or chrome://tracing) and run-N.timeline.png (a Gantt chart of the event
loop); runs that differ only in registry.fix also get one before/after PNG. The trace comes from
the same engine run as the run's record, so its counts equal the record's. Default: the first
run of every sweep point (at most 6), into the traces/ folder of the what-if's result folder,
{DEFAULT_ROOT}/NAME/HASH/traces/ (`clawsim run` of the same what-if keeps them). The new trace files
replace the old ones as a set, under the folder's lock (as `clawsim run` writes).

**Examples**

    # runs 0 and 1: before and after the pin
    clawsim trace scenarios/pr90819-harness.yaml
    clawsim trace scenarios/busy-gateway.yaml --run 3 --from 1000 --to 3000
    clawsim trace FILE --set actors.0.count=16 --out /tmp/traces
""",
)
def trace(
    file: ScenarioFile,
    run: Annotated[
        list[int] | None,
        typer.Option(
            "--run",
            "-r",
            help="Trace this run of the plan (repeatable) [default: the first run of each point].",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help=f"Folder for the files [default: {DEFAULT_ROOT}/NAME/HASH/traces].", show_default=False
        ),
    ] = None,
    start_ms: Annotated[
        float | None,
        typer.Option(
            "--from",
            help="Start of the PNG's time window, ms of simulated time [default: the first list's start].",
            show_default=False,
        ),
    ] = None,
    end_ms: Annotated[
        float | None,
        typer.Option(
            "--to", help="End of the PNG's time window, ms [default: the last list's end].", show_default=False
        ),
    ] = None,
    schedule: Annotated[
        Path | None,
        typer.Option(
            "--schedule",
            help="Replay this schedule (a `clawsim explore` file) instead of the seeded draws "
            "[default folder: beside it, NAME.trace/].",
            show_default=False,
        ),
    ] = None,
    set_: SetOption = None,
    sweep: SweepOption = None,
    seed: SeedOption = None,
    replications: ReplicationsOption = None,
) -> None:
    from ..api import TRACES, default_out
    from ..folder import update
    from ..tracing import is_trace_file, write_traces

    scenario, _ = scenario_from(file, set_, sweep, seed, replications)
    if schedule is not None:
        _trace_schedule(scenario, schedule, out, run, start_ms, end_ms)
        return

    def traces(into: Path) -> list[Path]:
        return write_traces(scenario, run, into, start_ms=start_ms, end_ms=end_ms)

    if out is None:  # the traces/ folder of the what-if's result folder, which is replaced whole
        folder = default_out(scenario) / TRACES
        drawn = update(folder.parent, lambda name: name != TRACES, lambda staging: traces(staging / TRACES), _OUT)
    else:  # the trace files in --out, as a set; other files there are kept
        folder = out
        drawn = update(folder, lambda name: not is_trace_file(name), traces, _OUT)
    written = [folder / path.name for path in drawn]
    for path in written:
        print(path)
    note(f"{len(written)} files in {folder}/; open the .trace.json files in https://ui.perfetto.dev")


def _trace_schedule(
    scenario: Scenario,
    path: Path,
    out: Path | None,
    run: list[int] | None,
    start_ms: float | None,
    end_ms: float | None,
) -> None:
    """Trace the first run of the schedule's sweep point, replayed through the schedule."""
    from ..errors import UsageError
    from ..explore.replay import chooser
    from ..explore.schedule import load_schedule, schedule_run
    from ..folder import update
    from ..tracing import is_trace_file, write_traces

    if run:
        raise UsageError("--run and --schedule: a schedule names its own sweep point; leave out --run")
    loaded = load_schedule(scenario, path)
    index = schedule_run(scenario, loaded.schedule)
    folder = (
        out if out is not None else path.parent / (path.name.removesuffix(".json").removesuffix(".schedule") + ".trace")
    )

    def traces(into: Path) -> list[Path]:
        return write_traces(scenario, [index], into, start_ms=start_ms, end_ms=end_ms, chooser=chooser(loaded))

    drawn = update(folder, lambda name: not is_trace_file(name), traces, _OUT)
    for written in drawn:
        print(folder / written.name)
    note(
        f"run {index} replayed through {path} ({loaded.schedule.activations} activations; the model gives "
        f"{loaded.expect['scans']:g} scans, {loaded.expect['stale_hits']:g} stale hits); files in {folder}/"
    )
