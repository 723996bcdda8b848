"""The analytic model's approximate cases against simulation: prints the worst relative errors.

Run: python validation/analytic_fuzz.py [CONFIGS] [REPLICATIONS]   (default 40 x 300, a few minutes)

Random configurations the chain covers approximately (poisson and interval actors, awaited reads,
actor work, drawn scan costs, memo policies), drawn from a fixed seed; each is simulated
REPLICATIONS times, and the analytic expectation is compared with the simulated mean of flips
and list_ms (relative error), and of scans (in units of the mean's 95 % half-width).
"""

from __future__ import annotations

import sys

import numpy as np

import clawsim
from clawsim.analytic import NotAnalytic, expectations
from clawsim.scenario.overrides import Override, apply_overrides


def config(rng: np.random.Generator) -> str:
    kind = rng.choice(["poisson", "interval"])
    actor = (
        f"{{name: a, kind: {kind}, "
        + (
            f"rate_per_s: {int(rng.choice([20, 100, 400]))}"
            if kind == "poisson"
            else f"period_ms: {int(rng.choice([2, 5, 20]))}"
        )
        + f", work_ms: {float(rng.choice([0.0, 0.2, 1.0]))}, workspaces: unique}}"
    )
    scan = rng.choice(["2.5", "{dist: lognormal, p50: 2, p95: 4}", "{dist: uniform, low: 1, high: 4}"])
    policy = rng.choice(["lru", "single", "none"])
    io = f", per_row_io: {{rows: {int(rng.integers(1, 20))}, latency_ms: 0.5}}" if rng.random() < 0.5 else ""
    return (
        f"memo: {{policy: {policy}, scan_ms: {scan}}}\n"
        f"list: {{rows: {int(rng.integers(20, 200))}, lookups_per_row: {int(rng.integers(1, 3))}{io}}}\n"
        f"actors: [{actor}]\n"
    )


def main(configs: int = 40, replications: int = 300) -> None:
    rng = np.random.default_rng(2026)
    worst = {"flips": 0.0, "list_ms": 0.0, "scans_in_ci": 0.0}
    done = 0
    while done < configs:
        scenario = clawsim.parse_scenario(config(rng))
        try:
            (expected,) = expectations(scenario)
        except NotAnalytic:
            continue
        if expected["exact"]:
            continue
        frame = clawsim.simulate(
            apply_overrides(scenario, [Override("--replications", "replications", str(replications))])
        )
        for metric in ("flips", "list_ms"):
            mean = frame[metric].mean()
            if mean > 0:
                worst[metric] = max(worst[metric], abs(expected[f"expected_{metric}"] - mean) / mean)
        half = 1.96 * frame["scans"].std(ddof=1) / np.sqrt(len(frame))
        if half > 0:
            worst["scans_in_ci"] = max(
                worst["scans_in_ci"], abs(expected["expected_scans"] - frame["scans"].mean()) / half
            )
        done += 1
    print(f"{configs} approximate configurations x {replications} replications:")
    print(f"  worst relative error: flips {worst['flips']:.1%}, list_ms {worst['list_ms']:.1%}")
    print(f"  worst scans error in 95 % half-widths: {worst['scans_in_ci']:.2f}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
