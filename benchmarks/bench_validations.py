"""How many times one `clawsim run` validates a Scenario, and each plan point (issue 16).

Runs `clawsim run FILE -w 1 -f csv` in this process under cProfile for each shipped sweep
(and the busy gateway with one --set) and prints the calls of ``Scenario._runnable`` (once
per Scenario validation: the file's scenario, each override, each plan point) and of
``point_scenario`` (one plan point resolved and validated). In-process (-w 1), so a pool
worker's own resolutions are not counted. Usage: PYTHONPATH=. python benchmarks/bench_validations.py
"""

from __future__ import annotations

import contextlib
import cProfile
import io
import pstats
import tempfile
from pathlib import Path

from clawsim.cli import app
from clawsim.scenario import load_scenario, plan

CASES = [
    ("scenarios/pr90819-harness.yaml",),
    ("scenarios/busy-gateway.yaml",),
    ("scenarios/busy-gateway.yaml", "--set", "list.rows=50"),
    ("scenarios/alternatives.yaml",),
    ("scenarios/rows-x-concurrency.yaml",),
]
COUNTED = {"_runnable": "scenarios validated", "point_scenario": "points resolved"}


def count(file: str, *options: str) -> dict[str, int]:
    out = Path(tempfile.mkdtemp()) / "o"
    profile = cProfile.Profile()
    profile.enable()
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            app(["run", file, "-w", "1", "-o", str(out), "-f", "csv", *options], standalone_mode=False)
    finally:
        profile.disable()
    stats = pstats.Stats(profile, stream=io.StringIO()).stats  # type: ignore[attr-defined]
    found = dict.fromkeys(COUNTED, 0)
    for (path, _, name), (_, calls, *_) in stats.items():
        if name in COUNTED and "clawsim" in path:
            found[name] += calls
    return found


def main() -> None:
    rows = []
    for file, *options in CASES:
        points = plan(load_scenario(file)).points
        found = count(file, *options)
        rows.append((" ".join([file, *options]), points, found["_runnable"], found["point_scenario"]))
    print(f"{'clawsim run':50} {'points':>6} {'validations':>11} {'per point':>9}")
    for name, points, validations, resolved in rows:
        print(f"{name:50} {points:6} {validations:11} {resolved / points:9.1f}")


if __name__ == "__main__":
    main()
