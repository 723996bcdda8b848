"""Start-up time of the CLI: prints its figures. Run: python benchmarks/bench_startup.py

Each command is started in a fresh interpreter (as a user's shell does) several times; the best
and the median wall times are printed. Issue 12's target: `clawsim --help` and `clawsim validate`
under 0.3 s, which holds while the CLI imports pandas, pyarrow, matplotlib and numpy only in the
commands that use them.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = {
    "clawsim --help": ["--help"],
    "clawsim validate (headline sweep)": ["validate", str(ROOT / "scenarios" / "rows-x-concurrency.yaml")],
    "clawsim run (PR harness, 2 runs)": [
        "run",
        str(ROOT / "scenarios" / "pr90819-harness.yaml"),
        "--out",
        "/tmp/clawsim-bench-startup",
        "--force",
        "--no-report",
        "-f",
        "csv",
    ],
}


def wall_s(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "clawsim", *args], check=True, capture_output=True, cwd=ROOT)
    return time.perf_counter() - started


def main(repeats: int = 7) -> None:
    print(f"{'command':<36} {'best':>7} {'median':>7}  (s, {repeats} fresh interpreters each)")
    for name, args in COMMANDS.items():
        times = [wall_s(args) for _ in range(repeats)]
        print(f"{name:<36} {min(times):7.3f} {statistics.median(times):7.3f}")


if __name__ == "__main__":
    main()
