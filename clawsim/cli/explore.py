"""``clawsim explore``: every schedule of a small scenario, its worst case, and counterexamples."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..folder import DEFAULT_ROOT
from . import app
from .options import ScenarioFile, SetOption, SweepOption, note, scenario_from


@app.command(
    rich_help_panel="Simulate",
    help=f"""Search every schedule of a scenario: best and worst case per sweep point, and counterexamples.

A schedule is every choice a run leaves open: which actors activate in each gap of the list
(before it, at each yield, during each awaited read), which workspace each sets, which TTL
entries expire. The search merges schedules that reach the same state (docs/explore.md), so it
is exhaustive within the bounds it prints; past --max-states it samples --samples random
schedules instead and says so. Checked for every point: `stale_hits == 0`, with the pin
`scans <= lookups per row`, and each --property. A property that fails gets a counterexample
schedule file (the fewest activations for counts).
Writes {DEFAULT_ROOT}/NAME.explore/ (or --out): explore.md, explore.csv, explore.json, the
schedules and worst-vs-sampled.png (the worst case beside the seeded runs' mean ± 95 % CI).

**Examples**

    clawsim explore scenarios/pr90819-harness.yaml          # the pin's 2 scans, proved; 40 without it
    clawsim explore scenarios/alternatives.yaml --property 'scans <= 4'
    clawsim explore FILE --per-gap 1 --max-activations 10 --no-sample
""",
)
def explore(
    file: ScenarioFile,
    prop: Annotated[
        list[str] | None,
        typer.Option(
            "--property",
            "-p",
            metavar="'METRIC OP NUMBER'",
            help="Also check this for every schedule, e.g. 'scans <= 4'. Repeatable.",
        ),
    ] = None,
    per_gap: Annotated[
        int, typer.Option("--per-gap", min=0, max=8, help="Activations of one actor in one gap: 0 up to this many.")
    ] = 2,
    total: Annotated[
        int | None,
        typer.Option(
            "--max-activations",
            min=0,
            help="Setter calls in a whole schedule, at most [default: no bound].",
            show_default=False,
        ),
    ] = None,
    max_states: Annotated[
        int,
        typer.Option(
            "--max-states",
            min=1,
            max=5_000_000,
            help="States an exhaustive search may visit before it samples instead.",
        ),
    ] = 200_000,
    samples: Annotated[
        int, typer.Option("--samples", min=1, max=1_000_000, help="Random schedules when sampling.")
    ] = 2_000,
    no_sample: Annotated[
        bool, typer.Option("--no-sample", help="Do not run the seeded engine for the mean ± CI beside the worst case.")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help=f"Result folder [default: {DEFAULT_ROOT}/NAME.explore].", show_default=False),
    ] = None,
    set_: SetOption = None,
    sweep: SweepOption = None,
) -> None:
    from ..console import number, print_table, terminal_width
    from ..explore import Bounds, parse_property
    from ..explore import explore as run_explore
    from ..explore.report import SHOWN, sample, sampled_cell, table, write

    scenario, _ = scenario_from(file, set_, sweep)
    props = tuple(parse_property(p) for p in prop or [])
    bounds = Bounds(per_gap, total)
    results = run_explore(scenario, bounds, props, max_states, samples)
    sampled = None if no_sample else sample(scenario)
    frame = table(results, sampled)
    folder = out if out is not None else DEFAULT_ROOT / f"{scenario.name}.explore"
    written = write(scenario, results, sampled, bounds, folder, note)
    rows = []
    for i, r in enumerate(results):
        row = frame.iloc[i]
        cells = {
            "point": r.label,
            "search": r.search.mode,
            "schedules": f"{r.search.schedules:.3g}",
            "states": number(r.search.states),
        }
        for m in SHOWN:
            cells[m] = f"{_value(row[f'{m}_best'])}..{_value(row[f'{m}_worst'])}"
            if sampled is not None:
                cells[f"{m} sampled"] = sampled_cell(row, m)
        cells["properties"] = ", ".join(("" if v.holds else "FAILS ") + v.property.text for v in r.verdicts)
        rows.append(cells)
    columns = list(rows[0])
    print_table(
        rows,
        columns,
        left=("point", "search", "properties"),
        width=terminal_width(),
        keep=("point", "scans", "properties"),
    )
    for path in written.schedules:
        print(path)
    if sampled is not None:
        below = [
            f"{r.label} ({frame.iloc[i]['below_sampled']})"
            for i, r in enumerate(results)
            if frame.iloc[i]["below_sampled"]
        ]
        if below:
            note(f"a seeded run went past the explored worst case (the bounds leave schedules out): {'; '.join(below)}")
    failed = sum(not v.holds for r in results for v in r.verdicts)
    note(f"bounds: {_short(bounds)}; {failed} properties fail; results in {written.folder}/")


def _value(value: float) -> str:
    """A count without its ``.0``; a time with one decimal."""
    from ..console import number

    return number(int(value)) if float(value).is_integer() else number(float(value))


def _short(bounds: object) -> str:
    from ..explore.report import bounds_text

    return bounds_text(bounds).split(";")[0]  # type: ignore[arg-type]
