"""What common random numbers buy: each option's saving with its paired and its unpaired interval.

Run: python validation/pairing.py [SCENARIO.yaml ...]   (default: the busy gateway, the alternatives)

The variants of a plan point share their random streams (``RunSpec.stream``), so the difference
baseline minus option is taken replication by replication (``clawsim.report.paired_differences``).
For each scenario and option this prints the mean saving, the half-width of its 95 % interval
from the paired differences, and Welch's half-width for the same two samples taken as
independent: the interval a comparison of independent runs would give.

Then, per option and metric, how far pairing could go at all: the correlation r of the two
runs of a replication, and the narrowest paired half-width any pairing of these two samples
could give, t * |s_base - s_option| / sqrt(n) (reached at r = 1: the variance of a difference is
s_b^2 + s_o^2 - 2 r s_b s_o >= (s_b - s_o)^2). Where the option hardly varies (the pin's 2
scans), that floor is the unpaired interval itself: no pairing can narrow it.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

import clawsim
from clawsim.report.stats import ci95_half_width, paired_differences

DEFAULT = ("scenarios/busy-gateway.yaml", "scenarios/alternatives.yaml")
METRICS = ("scans", "list_ms", "loop_delay_max_ms")


def floors(frame: pd.DataFrame, scenario: clawsim.Scenario, metrics=METRICS) -> pd.DataFrame:
    """Per situation, option and metric: ``r`` (correlation over completed replication pairs)
    and ``floor`` (the narrowest paired 95 % half-width these two samples allow)."""
    paired = list(scenario.paired_dimensions)
    others = [d for d in scenario.dimensions if d not in paired]
    runs = frame.groupby("run").agg(
        {**{k: "first" for k in [*paired, *others, "replication"]}, **{m: "mean" for m in metrics}, "completed": "min"}
    )
    runs = runs[runs["completed"].astype(bool)]
    options = list(dict.fromkeys(runs[paired].itertuples(index=False, name=None)))
    key = [*others, "replication"]
    table = {o: runs[(runs[paired] == pd.Series(o, index=paired)).all(axis=1)].set_index(key) for o in options}
    rows = []
    for option in options[1:]:
        both = table[options[0]].merge(table[option], left_index=True, right_index=True, suffixes=("_b", "_o"))
        for situation, group in both.groupby(others) if others else [((), both)]:
            for m in metrics:
                b, o = group[f"{m}_b"].to_numpy(float), group[f"{m}_o"].to_numpy(float)
                sb, so = np.std(b, ddof=1), np.std(o, ddof=1)
                r = float(np.corrcoef(b, o)[0, 1]) if sb > 0 and so > 0 else float("nan")
                floor = float(ci95_half_width(abs(sb - so), len(b)))
                rows.append({"situation": situation, "option": option, "metric": m, "r": r, "floor": floor})
    return pd.DataFrame(rows)


def main(paths: list[str]) -> None:
    for path in paths:
        scenario = clawsim.load_scenario(path)
        frame = clawsim.simulate(scenario)
        table = paired_differences(frame, scenario, METRICS)
        keys = [c for c in table.columns if c in scenario.dimensions]
        print(f"{path} ({scenario.replications} replications): saved, ± paired / ± unpaired 95 % half-width")
        for row in table.to_dict(orient="records"):
            cells = [
                f"{m} {row[f'{m}_saved']:,.1f} ± {row[f'{m}_ci95']:,.1f} / ± {row[f'{m}_ci95_unpaired']:,.1f}"
                for m in METRICS
            ]
            print("  " + ", ".join(str(row[k]) for k in keys) + ": " + "; ".join(cells))
        print("  how far pairing could go: r, and the narrowest paired ± any pairing of these samples allows")
        for option, group in floors(frame, scenario).groupby("option", sort=False):
            cells = [f"{g.metric} r={g.r:+.2f} floor ± {g.floor:,.1f}" for g in group.itertuples()]
            print(f"  {', '.join(map(str, option))}: " + "; ".join(cells))


if __name__ == "__main__":
    main(sys.argv[1:] or list(DEFAULT))
