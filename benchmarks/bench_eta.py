"""How good is the progress bar's time left? Uniform (by run count) vs weighted by run_cost.

Run: PYTHONPATH=. python benchmarks/bench_eta.py [SCENARIO] [--every K]

Times one run of every K-th plan point on one core (a point's runs cost about the same),
then, as if the sweep ran in plan order, prints at 10 %, 25 %, 50 % and 75 % of the runs:
the time actually left, the time left a bar estimates from the rate so far by run count
(what ``clawsim run`` showed before) and weighted by ``clawsim.sweep.run_cost`` (what it
shows now), each as a ratio to the truth (1.00 = exact). The machine is shared and noisy:
read the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import time

from clawsim import load_scenario
from clawsim.engine.run import simulate_run
from clawsim.scenario import plan
from clawsim.sweep import run_cost


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", nargs="?", default="scenarios/rows-x-concurrency.yaml")
    parser.add_argument("--every", type=int, default=1, help="time every K-th point only [default: 1]")
    args = parser.parse_args()
    runs = plan(load_scenario(args.scenario))
    points = range(0, runs.points, args.every)
    seconds, costs = [], []
    for point in points:
        spec = runs[point * runs.replications]
        started = time.perf_counter()
        simulate_run(spec)
        seconds.append(time.perf_counter() - started)
        costs.append(run_cost(spec.scenario))
    total_s, total_cost = sum(seconds), sum(costs)
    print(f"{args.scenario}: {len(seconds)} points timed (every {args.every}), {total_s:.2f} s for one run of each")
    print(f"{'done':>6} {'left (s)':>9} {'by count':>9} {'ratio':>6} {'weighted':>9} {'ratio':>6}")
    for share in (0.10, 0.25, 0.50, 0.75):
        done = max(1, int(share * len(seconds)))
        elapsed, left = sum(seconds[:done]), sum(seconds[done:])
        by_count = elapsed * (len(seconds) - done) / done
        done_cost = sum(costs[:done])
        weighted = elapsed * (total_cost - done_cost) / done_cost
        print(
            f"{share:>6.0%} {left:>9.3f} {by_count:>9.3f} {by_count / left:>6.2f} {weighted:>9.3f} {weighted / left:>6.2f}"
        )


if __name__ == "__main__":
    main()
