"""Sweep speed and memory: prints its figures. Run: python benchmarks/bench_sweep.py

1. The headline sweep (scenarios/rows-x-concurrency.yaml, 1,680 runs) on 1 and 2 workers:
   wall time and the speed-up (target: under a minute; close to 2x on 2 cores).
2. Peak memory as the run count grows (target: flat apart from the results table): the
   same small scenario with 100, 1,000 and 10,000 replications, each in a fresh process.
The machine is shared and noisy: compare ratios within one run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADLINE = ROOT / "scenarios" / "rows-x-concurrency.yaml"

MEMORY_PROBE = """
import json, resource, sys
import clawsim
scenario = clawsim.parse_scenario('''
memo: {policy: lru, capacity: 8, scan_ms: 2.5}
list: {rows: 200, yield_every: 10, lookups_per_row: 2, row_cost_ms: 0.28}
actors: [{name: turns, kind: poisson, rate_per_s: 50, workspaces: unique}]
replications: %d
''')
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
frame = clawsim.simulate(scenario)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"runs": len(frame), "before_mib": before / 1024, "after_mib": after / 1024,
                  "table_mib": frame.memory_usage(deep=True).sum() / 2**20}))
"""


def timed_run(workers: int) -> float:
    import clawsim

    scenario = clawsim.load_scenario(HEADLINE)
    started = time.perf_counter()
    frame = clawsim.simulate(scenario, workers=workers)
    wall = time.perf_counter() - started
    print(
        f"headline sweep, {frame.run.nunique():,} runs, {workers} worker(s): {wall:6.2f} s "
        f"({frame.run.nunique() / wall:,.0f} runs/s)"
    )
    return wall


def main() -> None:
    one = timed_run(1)
    two = timed_run(2)
    print(f"speed-up 1 -> 2 workers: x{one / two:.2f}")
    for replications in (100, 1_000, 10_000):
        out = subprocess.run(
            [sys.executable, "-c", MEMORY_PROBE % replications], capture_output=True, text=True, check=True, cwd=ROOT
        )
        m = json.loads(out.stdout)
        print(
            f"{m['runs']:>6,} runs: peak RSS {m['after_mib']:6.1f} MiB (after imports {m['before_mib']:6.1f}; "
            f"results table {m['table_mib']:5.2f} MiB)"
        )


if __name__ == "__main__":
    main()
