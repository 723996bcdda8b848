"""Options several commands share: the scenario file and its command-line overrides."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:  # the scenario package (pydantic, PyYAML) is imported when a command runs
    from ..scenario import Scenario
    from ..scenario.overrides import Override

ScenarioFile = Annotated[Path, typer.Argument(help="Scenario YAML file.", show_default=False)]
SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        "-s",
        metavar="PATH=VALUE",
        help="Fix a field, e.g. --set list.rows=500 --set registry.fix=pin (any path a sweep accepts; "
        "a swept path leaves the sweep). Repeatable.",
    ),
]
SweepOption = Annotated[
    list[str] | None,
    typer.Option(
        "--sweep",
        metavar="PATH=V1,V2,...",
        help="Sweep a field over these values, e.g. --sweep list.rows=10,100,1000. Repeatable.",
    ),
]
SeedOption = Annotated[
    int | None, typer.Option("--seed", min=0, help="Override the scenario's seed.", show_default=False)
]
ReplicationsOption = Annotated[
    int | None,
    typer.Option("--replications", "-n", min=1, help="Override the runs per sweep point.", show_default=False),
]


def overrides(
    set_: list[str] | None, sweep: list[str] | None, seed: int | None, replications: int | None
) -> list[Override]:
    """The command line's overrides, in the order they apply (--seed and --replications last)."""
    from ..scenario.overrides import Override, parse_override

    given = [parse_override("--set", s) for s in set_ or []] + [parse_override("--sweep", s) for s in sweep or []]
    if seed is not None:
        given.append(Override("--seed", "seed", str(seed)))
    if replications is not None:
        given.append(Override("--replications", "replications", str(replications)))
    return given


def scenario_from(
    file: Path,
    set_: list[str] | None = None,
    sweep: list[str] | None = None,
    seed: int | None = None,
    replications: int | None = None,
) -> tuple[Scenario, list[Override]]:
    """The scenario file with the command line's overrides applied and validated."""
    from ..scenario import load_scenario
    from ..scenario.overrides import apply_overrides

    given = overrides(set_, sweep, seed, replications)
    return apply_overrides(load_scenario(file), given), given


def note(message: str) -> None:
    """A progress or status line on stderr; stdout stays the data channel."""
    print(f"clawsim: {message}", file=sys.stderr)
