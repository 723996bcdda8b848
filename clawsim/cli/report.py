"""``clawsim report``: redraw the charts, index.md and (optionally) index.html of a result folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from . import app


@app.command(
    rich_help_panel="Simulate",
    help="""Redraw the report of a result folder (PNG charts, index.md, index.html).

Draws the PNG charts and index.md of a result folder written by `clawsim run`; the
charts follow what the sweep varies, and every mean carries its 95 % confidence interval.

**Examples**

    clawsim report results/rows-x-concurrency
    # one self-contained index.html to attach to an issue
    clawsim report results/alternatives --html
""",
)
def report(
    folder: Annotated[
        Path,
        typer.Argument(
            help="A result folder written by `clawsim run`, or results/NAME for its latest what-if.",
            show_default=False,
        ),
    ],
    html: Annotated[
        bool, typer.Option("--html", help="Also write a self-contained index.html (images embedded).")
    ] = False,
) -> None:
    from ..folder import latest
    from ..report import write_report

    folder = latest(folder)
    for png in write_report(folder, html=html):
        print(png)
    if html:
        print(folder / "index.html")
