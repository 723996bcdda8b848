"""``clawsim validate`` (the run plan of a scenario) and ``clawsim schema`` (its JSON Schema)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from . import app
from .options import ReplicationsOption, ScenarioFile, SeedOption, SetOption, SweepOption, scenario_from

SHOWN_VALUES = 8  # values of a sweep dimension printed before "..."


def _values(values: list[Any]) -> str:
    from ..console import yaml_value

    shown = ", ".join(map(yaml_value, values[:SHOWN_VALUES]))
    return shown + (f", ... ({len(values)} values)" if len(values) > SHOWN_VALUES else "")


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def plan_lines(scenario: Any) -> list[str]:
    """The run plan in words: dimensions and their values, points, replications, runs."""
    from ..console import yaml_value
    from ..scenario import plan

    runs = plan(scenario)
    lines = [
        f"  plan: {runs.points:,} points x {runs.replications:,} replications = {runs.runs:,} runs "
        f"(seed {scenario.seed}; each run's streams come from (seed, run index))"
    ]
    if scenario.paired_dimensions:
        lines[0] = lines[0][:-2] + (
            f" of its first {' and '.join(scenario.paired_dimensions)}: paired, common random numbers)"
        )
    if scenario.variants:
        lines.append(f"  variants ({len(scenario.variants)}, the outer dimension):")
        width = max(map(len, scenario.variants))
        for name, overrides in scenario.variants.items():
            text = ", ".join(f"{k}={yaml_value(v)}" for k, v in overrides.items()) or "(the scenario as written)"
            lines.append(f"    {name:<{width}}  {text}")
    if scenario.sweep:
        lines.append("  sweep (file order; the last key varies fastest):")
        width = max(map(len, scenario.sweep))
        for path, values in scenario.sweep.items():
            lines.append(f"    {path:<{width}}  {len(values)} values: {_values(values)}")
    if not scenario.variants and not scenario.sweep:
        lines.append("  no sweep and no variants: one point")
    return lines


@app.command(
    rich_help_panel="Simulate",
    help="""Check a scenario file and print its run plan.

Prints the swept fields and their values, the variants, points, replications and runs. Exit 2 with FILE:LINE: FIELD on an error.

**Examples**

    clawsim validate scenarios/rows-x-concurrency.yaml
    # what a run with these options would do
    clawsim validate FILE --sweep list.rows=10,100,1000 -n 5
""",
)
def validate(
    file: ScenarioFile,
    set_: SetOption = None,
    sweep: SweepOption = None,
    seed: SeedOption = None,
    replications: ReplicationsOption = None,
) -> None:
    scenario, given = scenario_from(file, set_, sweep, seed, replications)
    extra = f" (with {'; '.join(map(str, given))})" if given else ""
    print(f"{file}: ok: scenario {scenario.name!r}{extra}")
    print("\n".join(plan_lines(scenario)))


def schema_json() -> str:
    """The JSON Schema of the scenario format (pydantic), as clawsim writes it."""
    from ..scenario import Scenario

    document = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **Scenario.model_json_schema(),
        "title": "clawsim scenario",
    }
    return json.dumps(document, indent=2, sort_keys=False) + "\n"


@app.command(
    rich_help_panel="Editors",
    help="""Print the JSON Schema of the scenario format.

Point your editor at it for completion and inline errors: save it (or use the committed docs/scenario.schema.json) and start a scenario
with the line

    # yaml-language-server: $schema=../docs/scenario.schema.json

**Examples**

    clawsim schema > clawsim.schema.json
    clawsim schema -o docs/scenario.schema.json
""",
)
def schema(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write it to this file [default: stdout].")] = None,
) -> None:
    text = schema_json()
    if out is None:
        sys.stdout.write(text)
        return
    from ..store import atomic_write_text

    atomic_write_text(out, text)
    print(f"clawsim: schema written to {out}", file=sys.stderr)
