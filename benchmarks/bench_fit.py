"""``clawsim fit`` on a day of a busy gateway: prints its figures. Run: python benchmarks/bench_fit.py [LISTS]

Writes LISTS (default 1,000) synthetic ``sessions.list`` calls of 200 rows (2 lookups per row, a
miss at every batch start as under a flipper; one process per 20 lists) to a temporary timeline,
then fits it in a fresh process (``clawsim.fit``, with the check: one simulation per list size)
and prints the lines, the wall time of the fit and that process's peak resident memory.
Target (issue 21): 1,000 lists in under 10 s and under 500 MB. The machine is shared and noisy.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from clawsim.timeline import write_timeline
from clawsim.timeline.synthetic import ListShape, list_events

ROWS, PER_ROW, LISTS_PER_PROCESS = 200, 2, 20
SHAPE = ListShape(scan_ms=60.0, hit_ms=0.2, row_ms=1.0, yield_ms=2.5, store_load_ms=8.0, miss_overhead_ms=8.0)

CHILD = """
import json, resource, sys, time
started, cpu = time.perf_counter(), time.process_time()
from clawsim.fitting import fit
result = fit(sys.argv[1])
print(json.dumps({"fit_s": time.perf_counter() - started, "cpu_s": time.process_time() - cpu, "lists": len(result.check),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def generate(path: Path, lists: int) -> int:
    """Write the lists; returns the line count."""
    hits = [(k // PER_ROW) % 10 != 0 for k in range(ROWS * PER_ROW)]
    lines = 0
    with open(path, "w", encoding="utf-8") as out:
        for first in range(0, lists, LISTS_PER_PROCESS):
            spans, instants = [], []
            for i in range(first, min(first + LISTS_PER_PROCESS, lists)):
                s, m = list_events(hits, ROWS, PER_ROW, start_ms=i * 20_000.0, prefix=f"l{i}", shape=SHAPE)
                spans += s
                instants += m
            lines += write_timeline(spans, instants, out, pid=1000 + first)
    return lines


def main() -> None:
    lists = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "day.jsonl"
        started = time.perf_counter()
        lines = generate(path, lists)
        print(f"wrote {lists:,} lists of {ROWS} rows: {lines:,} lines ({path.stat().st_size / 1e6:.0f} MB) "
              f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
        done = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, check=True)
        figures = json.loads(done.stdout)
        print(f"fit ({figures['lists']:,} lists checked): {figures['fit_s']:.1f} s wall, {figures['cpu_s']:.1f} s CPU, "
              f"peak RSS {figures['peak_mb']:.0f} MB (target: < 10 s, < 500 MB)")  # fmt: skip


if __name__ == "__main__":
    main()
