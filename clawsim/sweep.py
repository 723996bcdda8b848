"""Running a plan: in parallel, resumable, and the same bytes whatever the workers.

Workers receive run indices, never specs: a pool worker gets the scenario once (when it
starts) and resolves each run from its own lazy ``Plan``; a task sent to any other
``concurrent.futures.Executor`` (e.g. a Dask client's) carries the scenario and one run
index. Each finished run is appended to the journal (``clawsim.journal``) as it arrives,
and the results table is always built from the records sorted by run index. So a sweep
run on 1 worker, on 8, on a Dask cluster, or interrupted and resumed, gives the same table.

Pool workers ignore the stop signals (SIGINT, SIGTERM, SIGHUP: a Ctrl-C or a closed terminal
reaches the whole process group, and stopping is the main process's to handle: it keeps every
run that has finished, then kills the workers) and die with the main process
(PR_SET_PDEATHSIG on Linux, and a thread that watches the parent pid elsewhere). An
executor's finished tasks are drained the same way before the sweep stops.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import pandas as pd

from .engine.run import simulate_run
from .errors import STOP_SIGNALS, ExecutionError
from .journal import JOURNAL, Journal, fingerprint, record_columns
from .scenario import Plan, Scenario, plan

__all__ = ["JOURNAL", "Journal", "execute", "fingerprint", "records_frame", "run_sweep", "sweep"]

IN_FLIGHT_PER_WORKER = 4  # queued tasks per worker: enough to keep it busy, few to lose on a kill
EXECUTOR_WORKERS = 16  # what chunking assumes of an executor whose worker count clawsim does not know
CHUNKS_PER_WORKER = 32  # tasks per worker in a sweep, at least (see chunk_size)
MAX_CHUNK = 16  # runs per task, at most
WATCH_EVERY_S = 1.0  # how often a stalled sweep asks ``watch`` whether its workers are gone

Watch = Callable[[], "str | None"]


def run_cost(scenario: Scenario) -> float:
    """A run's expected wall cost, in units of one row batch, for a progress bar's time left.

    A run costs a fixed part plus its loop's batches (its yields, and each awaited row read):
    on scenarios/rows-x-concurrency.yaml one run took ~0.17 ms plus ~8.5 us per batch. Its
    activations are left out: the aggregated engine serves a poll phase's arrivals together,
    and estimating them (from a guessed list duration) made the estimate worse on
    benchmarks/sensitivity.yaml. Only ratios between points matter: the bar measures its
    rate in these units as runs finish (benchmarks/bench_eta.py compares it with the truth)."""
    spec = scenario.list
    per_list = (-(-spec.rows // spec.yield_every) if spec.yield_every else 1) + spec.io_rows
    return spec.lists_per_run * (FIXED_RUN_COST + per_list)


FIXED_RUN_COST = 20.0  # a run's cost besides its batches, in batches (see run_cost)


def records_frame(records: Iterable[dict], scenario: Scenario) -> pd.DataFrame:
    """The results table: keys, swept parameters, list metrics, run metrics, by run."""
    rows = sorted(records, key=lambda r: (r["run"], r["list_index"]))
    frame = pd.DataFrame(rows, columns=list(record_columns(scenario)))
    return frame.reset_index(drop=True)


# --------------------------------------------------------------------------- workers

_PLAN: Plan | None = None  # a pool worker's plan and result queue, set once by _start_worker
_RESULTS: Any = None


def _start_worker(scenario: Scenario, results: Any, parent: int) -> None:
    global _PLAN, _RESULTS
    for stop in STOP_SIGNALS:
        signal.signal(stop, signal.SIG_IGN)
    _die_with(parent)
    _PLAN, _RESULTS = plan(scenario), results


def _die_with(parent: int) -> None:
    """End this process when ``parent`` (the main clawsim process) ends, however it ends."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # it died before prctl took effect
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _pool_chunk(indices: list[int]) -> None:
    """Run some runs in a pool worker; each run's records go to the result queue as it finishes."""
    assert _PLAN is not None, "a pool worker runs _start_worker first"
    for i in indices:
        _RESULTS.put(simulate_run(_PLAN[i]))


def _executor_chunk(scenario: Scenario, indices: list[int]) -> list[list[dict]]:
    runs = plan(scenario)
    return [simulate_run(runs[i]) for i in indices]


def _chunks(todo: Iterable[int], size: int) -> Iterator[list[int]]:
    chunk: list[int] = []
    for i in todo:
        chunk.append(i)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def chunk_size(count: int, workers: int) -> int:
    """Runs per task: enough tasks for every worker to finish together, few enough that the
    cost of a task (~1 ms) stays small beside the runs."""
    return max(1, min(MAX_CHUNK, count // (max(workers, 1) * CHUNKS_PER_WORKER)))


# --------------------------------------------------------------------------- executing


def execute(
    runs: Plan,
    todo: Iterable[int],
    workers: int = 1,
    executor: Executor | None = None,
    watch: Watch | None = None,
    count: int | None = None,
) -> Iterator[list[dict]]:
    """Run the runs ``todo`` (``count`` indices into ``runs``); yield each run's records as it
    finishes, in any order.

    ``executor`` wins over ``workers``; with neither, or one worker, runs stay in this
    process. ``watch()`` is asked every second in which no run finished; a string it
    returns ends the sweep with ExecutionError (e.g. "every Dask worker is gone"). On
    Ctrl-C, every run that a pool worker has finished is still yielded before
    KeyboardInterrupt (an executor's tasks return their runs together: a task's finished
    runs are lost with it).
    """
    todo = list(todo) if count is None else todo
    count = len(todo) if count is None else count  # type: ignore[arg-type]
    if executor is not None:
        size = chunk_size(count, EXECUTOR_WORKERS)
        tasks = (executor.submit(_executor_chunk, runs.scenario, c) for c in _chunks(todo, size))
        yield from _drain_executor(tasks, EXECUTOR_WORKERS * IN_FLIGHT_PER_WORKER, watch)
        return
    if workers <= 1:
        for i in todo:
            yield simulate_run(runs[i])
        return
    yield from _pool(runs, _chunks(todo, chunk_size(count, workers)), workers, watch)


def _pool(runs: Plan, chunks: Iterator[list[int]], workers: int, watch: Watch | None) -> Iterator[list[dict]]:
    # fork on Linux (workers start at once, and their parent is this process, which
    # PR_SET_PDEATHSIG and the parent-pid watch rely on); spawn elsewhere
    context = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    results = context.Queue()
    pool = ProcessPoolExecutor(
        workers, context, initializer=_start_worker, initargs=(runs.scenario, results, os.getpid())
    )
    pending: set[Future] = set()
    expected = received = 0
    try:
        while True:
            while len(pending) < IN_FLIGHT_PER_WORKER * workers and (chunk := next(chunks, None)):
                pending.add(pool.submit(_pool_chunk, chunk))
                expected += len(chunk)
            if received == expected:
                break
            try:
                records = results.get(timeout=WATCH_EVERY_S)
            except queue.Empty:
                if watch is not None and (why := watch()):
                    raise ExecutionError(why) from None
            else:
                received += 1
                yield records
            pending = _settle(pending)
    except KeyboardInterrupt:
        yield from _drain_queue(results)
        _stop(pool)
        raise
    except BaseException:
        _stop(pool)
        raise
    pool.shutdown(wait=True)
    results.close()


def _settle(pending: set[Future]) -> set[Future]:
    """The futures still running; the error of a failed one (a dead worker, a bug) is raised."""
    for future in [f for f in pending if f.done()]:
        error = future.exception()
        if isinstance(error, BrokenProcessPool):
            raise ExecutionError("a worker process died (killed, or out of memory?)") from None
        if error is not None:
            raise error
        pending.discard(future)
    return pending


def _drain_queue(results: Any) -> Iterator[list[dict]]:
    while True:
        try:
            yield results.get(timeout=0.05)
        except queue.Empty:
            return


def _drain_executor(tasks: Iterator[Future], window: int, watch: Watch | None) -> Iterator[list[dict]]:
    """Keep ``window`` tasks in flight; yield each run of a task as the task returns. On a stop
    signal, every task that has returned is still yielded before KeyboardInterrupt."""
    pending: set[Future] = set()
    try:
        while True:
            while len(pending) < window and (task := next(tasks, None)):
                pending.add(task)
            if not pending:
                return
            done, _ = wait(pending, timeout=WATCH_EVERY_S, return_when=FIRST_COMPLETED)
            if not done and watch is not None and (why := watch()):
                raise ExecutionError(why)
            for future in done:
                yield from future.result()
                pending.discard(future)  # only now: a stop while its runs are yielded drains it again
    except KeyboardInterrupt:
        finished = [f for f in pending if f.done() and not f.cancelled() and f.exception() is None]
        for future in finished:
            pending.discard(future)
            yield from future.result()
        raise
    finally:
        for future in pending:
            future.cancel()


def _stop(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now: cancel what is queued and kill the workers that are running (they
    ignore SIGTERM, see the module docstring)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.kill()
    for process in processes:
        process.join(timeout=5)


# --------------------------------------------------------------------------- sweeps


def sweep(
    runs: Plan,
    journal: Journal,
    workers: int = 1,
    executor: Executor | None = None,
    progress: Callable[[int, int], Any] | None = None,
    watch: Watch | None = None,
) -> pd.DataFrame:
    """Run the runs of ``runs`` that ``journal`` lacks, journalling each as it finishes;
    return the whole table. ``progress(done, total)`` is called after each run."""
    total = len(runs)
    todo = (i for i in range(total) if i not in journal.done)
    if progress:
        progress(len(journal.done), total)
    results = execute(runs, todo, workers, executor, watch, count=total - len(journal.done))
    current = None
    try:
        for current in results:
            journal.add(current)
            if progress:
                progress(len(journal.done), total)
    except KeyboardInterrupt as exc:
        _keep_finished(journal, results, current, exc)
        raise
    return records_frame((r for recs in journal.done.values() for r in recs), runs.scenario)


def _keep_finished(
    journal: Journal, results: Iterator[list[dict]], current: list[dict] | None, stop: BaseException
) -> None:
    """Journal every run that had finished when a stop signal landed here, between two runs
    (not in ``execute``, which drains its own): the run in hand, and what ``execute`` yields
    once the stop is passed on to it."""
    if current is not None:
        journal.add(current)  # a no-op if it was journalled
    try:
        finished = results.throw(stop)  # type: ignore[attr-defined]
        while True:
            journal.add(finished)
            finished = next(results)
    except (KeyboardInterrupt, StopIteration):
        return


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
    runs already in the journal are not run again (``clawsim.api.run`` adds the result
    folder, its lock and the checks of ``--resume`` around this)."""
    runs = plan(scenario)
    if journal_path is None:
        records = [r for recs in execute(runs, range(len(runs)), workers, executor) for r in recs]
        return records_frame(records, scenario)
    journal = Journal(journal_path, scenario, len(runs), resume)
    try:
        return sweep(runs, journal, workers, executor, progress)
    finally:
        journal.close()
