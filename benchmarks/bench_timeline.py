"""Diagnostics timeline speed: prints its figures. Run: python benchmarks/bench_timeline.py [LINES]

Writes about LINES (default 10^6) lines of synthetic ``sessions.list`` calls (100 rows, 2 lookups
per row, a flip at every batch) to a temporary file, in chunks written as separate processes
(pids) so the writer's memory stays small, then times:
1. reading the file with ``read_timeline`` (spans and marks);
2. reading it and grouping it with ``list_evidence``.
It prints lines/s (wall; CPU seconds too for reading) and the peak resident memory before and after reading (the reader holds
only open spans, so reading should add little). The machine is shared and noisy.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

from clawsim.timeline import list_evidence, read_timeline, write_timeline
from clawsim.timeline.synthetic import list_events

ROWS, PER_ROW, LISTS_PER_CHUNK = 100, 2, 20


def generate(path: Path, target_lines: int) -> int:
    """Write chunks of lists until ``target_lines`` lines; returns the line count."""
    hits = [(k // PER_ROW) % 10 != 0 for k in range(ROWS * PER_ROW)]  # misses on each batch's first row
    lines = 0
    with open(path, "w", encoding="utf-8") as out:
        pid = 1000
        while lines < target_lines:
            spans, instants = [], []
            for i in range(LISTS_PER_CHUNK):
                s, m = list_events(hits, ROWS, PER_ROW, start_ms=(pid * LISTS_PER_CHUNK + i) * 1000.0, prefix=f"l{i}")
                spans += s
                instants += m
            lines += write_timeline(spans, instants, out, pid=pid)
            pid += 1
    return lines


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    target = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "timeline.jsonl"
        started = time.perf_counter()
        lines = generate(path, target)
        written_s = time.perf_counter() - started
        size_mb = path.stat().st_size / 1e6
        print(f"wrote {lines:,} lines ({size_mb:.0f} MB) in {written_s:.1f} s: {lines / written_s:,.0f} lines/s")
        before = peak_mb()
        started, cpu = time.perf_counter(), time.process_time()
        records = sum(1 for _ in read_timeline(path, marks=True))
        read_s, cpu_s = time.perf_counter() - started, time.process_time() - cpu
        print(f"read {records:,} records in {read_s:.1f} s ({cpu_s:.1f} s CPU): {lines / read_s:,.0f} lines/s")
        started = time.perf_counter()
        lists = sum(1 for _ in list_evidence(read_timeline(path, marks=True)))
        grouped_s = time.perf_counter() - started
        print(f"read + list_evidence ({lists:,} lists) in {grouped_s:.1f} s: {lines / grouped_s:,.0f} lines/s")
        print(f"peak RSS: {before:.0f} MB before reading, {peak_mb():.0f} MB after")


if __name__ == "__main__":
    main()
