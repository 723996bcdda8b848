"""What common random numbers buy: each option's saving with its paired and its unpaired interval.

Run: python validation/pairing.py [SCENARIO.yaml ...]   (default: the busy gateway, the alternatives)

The variants of a plan point share their random streams (``RunSpec.stream``), so the difference
baseline minus option is taken replication by replication (``clawsim.report.paired_differences``).
For each scenario and option this prints the mean saving, the half-width of its 95 % interval
from the paired differences, and Welch's half-width for the same two samples taken as
independent: the interval a comparison of independent runs would give.
"""

from __future__ import annotations

import sys

import clawsim
from clawsim.report.stats import paired_differences

DEFAULT = ("scenarios/busy-gateway.yaml", "scenarios/alternatives.yaml")
METRICS = ("scans", "list_ms", "loop_delay_max_ms")


def main(paths: list[str]) -> None:
    for path in paths:
        scenario = clawsim.load_scenario(path)
        table = paired_differences(clawsim.simulate(scenario), scenario, METRICS)
        keys = [c for c in table.columns if c in scenario.dimensions]
        print(f"{path} ({scenario.replications} replications): saved, ± paired / ± unpaired 95 % half-width")
        for row in table.to_dict(orient="records"):
            cells = [
                f"{m} {row[f'{m}_saved']:,.1f} ± {row[f'{m}_ci95']:,.1f} / ± {row[f'{m}_ci95_unpaired']:,.1f}"
                for m in METRICS
            ]
            print("  " + ", ".join(str(row[k]) for k in keys) + ": " + "; ".join(cells))


if __name__ == "__main__":
    main(sys.argv[1:] or list(DEFAULT))
