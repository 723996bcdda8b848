"""Running a plan: in parallel, resumable, and the same bytes whatever the workers.

Every finished run is appended to a journal (one JSON line per run) before anything
else sees it, and the results table is always built from the journal sorted by run
index. So a sweep run on 1 worker, on 8, on a Dask cluster, or interrupted and resumed,
produces the same table. The journal's first line holds a fingerprint of the scenario;
resuming with an edited scenario is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import pandas as pd

from .engine.metrics import KEY_COLUMNS, LIST_METRICS, RUN_METRICS
from .engine.run import simulate_run
from .errors import ResumeError
from .scenario import RunSpec, Scenario, plan, resolved_yaml

JOURNAL = "journal.jsonl"


def fingerprint(scenario: Scenario) -> str:
    """A hash of the fully resolved scenario: equal iff the run plan is equal."""
    return hashlib.sha256(resolved_yaml(scenario).encode("utf-8")).hexdigest()[:16]


def records_frame(records: Iterable[dict], scenario: Scenario) -> pd.DataFrame:
    """The results table: keys, swept parameters, list metrics, run metrics, by run."""
    rows = sorted(records, key=lambda r: (r["run"], r["list_index"]))
    variant = ["variant"] if scenario.variants else []
    columns = [*KEY_COLUMNS, *variant, *scenario.sweep, *LIST_METRICS, *RUN_METRICS]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.reset_index(drop=True)


def _run_batch(specs: list[RunSpec]) -> list[list[dict]]:
    return [simulate_run(spec) for spec in specs]


def _batches(specs: list[RunSpec], count: int) -> Iterator[list[RunSpec]]:
    """``count`` strided batches: neighbouring runs (often equally costly) are spread out,
    so every batch mixes cheap and dear points and the workers finish together."""
    for i in range(count):
        yield specs[i::count]


def execute(
    specs: list[RunSpec],
    workers: int = 1,
    executor: Executor | None = None,
    on_done: Callable[[list[dict]], None] | None = None,
) -> Iterator[list[dict]]:
    """Run ``specs``; yield each run's records as it finishes (in any order).

    ``executor`` (any ``concurrent.futures.Executor``, e.g. a Dask client's) wins over
    ``workers``; with neither, or one worker, runs stay in this process.
    """
    if not specs:
        return
    if executor is None and workers <= 1:
        for spec in specs:
            yield simulate_run(spec)
        return
    count = min(len(specs), 16 * max(workers, 1))
    own = executor is None
    pool = executor or ProcessPoolExecutor(max_workers=workers)
    try:
        futures = [pool.submit(_run_batch, batch) for batch in _batches(specs, count)]
        for future in as_completed(futures):
            yield from future.result()
    finally:
        if own:
            pool.shutdown(wait=True, cancel_futures=True)


class Journal:
    """Append-only record of finished runs: the part of a sweep an interruption keeps."""

    def __init__(self, path: Path, scenario: Scenario, resume: bool):
        self.path = Path(path)
        self.fingerprint = fingerprint(scenario)
        self.done: dict[int, list[dict]] = {}
        if resume and self.path.exists():
            self._load()
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps({"fingerprint": self.fingerprint}) + "\n")
        self._handle = self.path.open("a", encoding="utf-8")

    def _load(self) -> None:
        lines = self.path.read_text(encoding="utf-8").splitlines()
        header = json.loads(lines[0]) if lines else {}
        if header.get("fingerprint") != self.fingerprint:
            raise ResumeError(
                f"{self.path}: the scenario changed since this sweep was interrupted; "
                "run without --resume to start again"
            )
        for line in lines[1:]:
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:  # a line cut short by the interruption
                continue
            self.done[entry["run"]] = entry["records"]

    def add(self, records: list[dict]) -> None:
        """Append one run's records (a run always has at least one list), durably."""
        run = records[0]["run"]
        line = json.dumps({"run": run, "records": records})
        self._handle.write(line + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self.done[run] = json.loads(line)["records"]  # as a resumed sweep will read them

    def close(self) -> None:
        self._handle.close()


def run_sweep(
    scenario: Scenario,
    workers: int = 1,
    executor: Executor | None = None,
    journal_path: Path | None = None,
    resume: bool = False,
    progress: Callable[[int, int], Any] | None = None,
) -> pd.DataFrame:
    """Run the scenario's whole plan and return the results table, ordered by run.

    With ``journal_path``, finished runs are journalled there and, with ``resume``,
    runs already in the journal are not run again. ``progress(done, total)`` is called
    after each run.
    """
    specs = plan(scenario)
    if journal_path is None:
        records = [r for run in execute(specs, workers, executor) for r in _roundtrip(run)]
        return records_frame(records, scenario)
    journal = Journal(journal_path, scenario, resume)
    try:
        todo = [s for s in specs if s.run not in journal.done]
        if progress:
            progress(len(specs) - len(todo), len(specs))
        for run_records in execute(todo, workers, executor):
            journal.add(run_records)
            if progress:
                progress(len(journal.done), len(specs))
    finally:
        journal.close()
    return records_frame((r for recs in journal.done.values() for r in recs), scenario)


def _roundtrip(records: list[dict]) -> list[dict]:
    """Records exactly as the journal would give them back (JSON floats round-trip)."""
    return json.loads(json.dumps(records))
