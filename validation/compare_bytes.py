"""Every shipped scenario's results at another commit against this tree's, byte for byte.

    python validation/compare_bytes.py REF [--workers N]

Runs each scenario of scenarios/, scenarios/published/ and validation/scenarios/ twice: with
the clawsim of commit REF (``git archive`` into a temporary folder, run from there: ``python
-m`` puts the working folder first on ``sys.path``, so a REF run started from this tree would
import this tree's clawsim) and with this tree's; then compares runs.csv, runs.parquet and
scenario.resolved.yaml with ``filecmp``. Prints one line per file that differs, a summary
line, and exits 1 if any result file (runs.csv, runs.parquet) differs. An issue that changes a
resolved scenario by design (a new field's default line) says so; the script reports it apart.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("scenarios", "scenarios/published", "validation/scenarios")
RESULTS = ("runs.csv", "runs.parquet")
RESOLVED = "scenario.resolved.yaml"


def archive(ref: str, into: Path) -> None:
    """The tree of commit ``ref`` (git archive) unpacked into ``into``."""
    data = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        tar.extractall(into, filter="data")


def run(tree: Path, scenario: Path, out: Path, workers: int) -> None:
    """``clawsim run`` of ``scenario`` with the clawsim of ``tree``, started from ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    command = [sys.executable, "-m", "clawsim", "run", str(scenario), "-o", str(out), "-w", str(workers)]
    done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise SystemExit(f"compare_bytes: {scenario.name} failed with {tree}: {last}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ref", help="the commit to compare with (e.g. main, a hash)")
    parser.add_argument("--workers", "-w", type=int, default=2)
    options = parser.parse_args()
    scenarios = sorted(p for folder in FOLDERS for p in (ROOT / folder).glob("*.yaml"))
    same = results_differ = resolved_differ = 0
    with tempfile.TemporaryDirectory() as tmp:
        ref_tree = Path(tmp) / "ref"
        archive(options.ref, ref_tree)
        for scenario in scenarios:
            old, new = Path(tmp) / "old" / scenario.stem, Path(tmp) / "new" / scenario.stem
            run(ref_tree, scenario, old, options.workers)
            run(ROOT, scenario, new, options.workers)
            for name in (*RESULTS, RESOLVED):
                if filecmp.cmp(old / name, new / name, shallow=False):
                    same += 1
                    continue
                print(f"DIFF {scenario.relative_to(ROOT)}: {name}")
                results_differ += name in RESULTS
                resolved_differ += name == RESOLVED
    print(
        f"compare_bytes {options.ref} vs this tree, {len(scenarios)} scenarios: {same} files SAME, "
        f"{results_differ} result files DIFF, {resolved_differ} resolved scenarios DIFF"
    )
    return 1 if results_differ else 0


if __name__ == "__main__":
    sys.exit(main())
