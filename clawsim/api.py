"""``clawsim.run``: a scenario's whole sweep into a result folder, as ``clawsim run`` does.

The CLI only parses options, calls ``run`` and prints; a notebook calling ``run`` gets
the same result folder. ``run`` owns the orchestration: the plan (built once), the folder's
lock and checks (``clawsim.folder``), the journal and ``--resume`` (``clawsim.journal``),
the local pool or an executor (``clawsim.sweep``), the analytic columns, meta.json, the
whole-folder replace and the report. Without ``out``, each what-if (each resolved scenario:
every override, seed and count) has its own folder ``results/<name>/<hash>/`` and
``results/<name>/latest`` names the last one run (``clawsim.folder``). Its rules for an
existing folder:

- another clawsim writing it: ResultsError naming the holder's pid (a dead holder's lock
  is taken over);
- files clawsim did not write, or a symbolic link: refused, whatever the options;
- an interrupted sweep (a journal): ``resume`` continues it, ``force`` discards it,
  neither is refused;
- finished results: replaced as a whole; with ``resume``, kept as they are when they are
  this sweep's (same scenario, clawsim version and model code), refused otherwise;
- ``traces/`` (written by ``clawsim trace`` or ``--trace``) of the same scenario: carried
  into the new set, never deleted; those of another scenario (only an explicit ``out`` can
  hold one) go with the results they belong to, and a status line says so.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .arguments import capped_workers, check_options, out_arg, scenario_arg
from .cluster import Cluster, executor_watch
from .errors import ExecutionError, Interrupted, ResultsError, ResumeError, UsageError, signal_of
from .folder import DEFAULT_ROOT, check_target, held, read_bytes, replace
from .journal import JOURNAL, Journal, fingerprint, mismatch, scenario_hash
from .scenario import Plan, Scenario, plan
from .scenario.overrides import Override, apply_overrides, from_values, parse_given
from .store import DATA_FILES, META_JSON, point_latest, read_results, write_results
from .sweep import Watch, sweep

IN_PROCESS_BELOW = 16  # plans with fewer runs stay in this process: a pool costs more than it saves
TRACES = "traces"  # run --trace: the traced runs' files, in this folder of the result folder
_OURS = {*DATA_FILES, META_JSON, JOURNAL, "index.md", "index.html", TRACES}


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    """How ``run`` runs and what it writes besides the tables: the one list of the run options,
    which ``clawsim run``'s command line fills in and ``clawsim.run`` takes (as ``options=`` or
    as keyword arguments). Checked when made: UsageError for a value of the wrong kind.

    ``workers`` processes (capped at the machine's cores), or ``executor`` (any
    ``concurrent.futures.Executor``, e.g. ``distributed.Client.get_executor()``, or a
    ``clawsim.cluster.connect(address)``, which also bounds the wait for workers); ``resume``
    an interrupted sweep or ``force`` (discard it); ``analytic`` adds the expected_* columns;
    ``report`` draws the charts and index.md of a sweep (and ``html`` a self-contained
    index.html); ``trace`` writes the traces of the first run of each sweep point into
    ``traces/`` (``clawsim.tracing``); ``overrides`` are applied to the scenario in order and
    recorded in meta.json: the command line's options as text (``"--set list.rows=500"``,
    ``"--sweep list.rows=10,100"``, ``"--seed 3"``, ``"--replications 5"``), or a mapping of
    dotted paths to values (``{"list.rows": 500}``, recorded as ``--set``); ``source`` is
    recorded too (the file the scenario came from, when it is passed as a Scenario).
    ``progress(done, total)`` is called after each run, ``notify(line)`` with each status line.
    """

    workers: int = 1
    executor: Executor | Cluster | None = None
    resume: bool = False
    force: bool = False
    analytic: bool = False
    report: bool = True
    html: bool = False
    trace: bool = False
    overrides: Sequence[str] | Mapping[str, Any] = ()
    source: str | None = None
    progress: Callable[[int, int], Any] | None = None
    notify: Callable[[str], Any] | None = None

    def __post_init__(self) -> None:
        check_options(self.workers, self.executor, self.resume, self.force, self.progress, self.notify)
        if self.html and not self.report:
            raise UsageError(
                "--html (html=True) writes the report as a page: it cannot go with --no-report (report=False)"
            )
        if self.source is not None and not isinstance(self.source, str):
            raise UsageError(f"clawsim.run: source must be text, not {type(self.source).__name__}")
        override_arg(self.overrides)  # its kind now; a bad override's text is a ScenarioError naming it

    def given(self) -> list[Override]:
        """``overrides`` as Override objects, in the order they apply."""
        return override_arg(self.overrides)


def run_options(options: RunOptions | None, fields: Mapping[str, Any]) -> RunOptions:
    """``options`` (default: every default) with ``fields`` (RunOptions field names) set;
    UsageError naming a keyword that is no run option."""
    known = {f.name for f in dataclasses.fields(RunOptions)}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise UsageError(
            f"clawsim.run: {', '.join(map(repr, unknown))} is not a run option (RunOptions: {', '.join(sorted(known))})"
        )
    if options is not None and not isinstance(options, RunOptions):
        raise UsageError(f"clawsim.run: options must be a clawsim.RunOptions, not {type(options).__name__}")
    return dataclasses.replace(options or RunOptions(), **fields)


@dataclass(frozen=True)
class RunResult:
    """What ``run`` did: the table, where it is, and how it came about."""

    frame: pd.DataFrame  # one row per list, ordered by run (what runs.parquet holds)
    out: Path  # the result folder
    scenario: Scenario
    runs: int  # runs in the plan
    resumed: int  # runs taken from an interrupted sweep's journal (or a finished folder): not simulated again
    wall_s: float  # seconds spent simulating
    report: tuple[Path, ...] = ()  # the PNG charts and index.md written, if any
    notes: tuple[str, ...] = ()  # the status lines ``notify`` was given


def override_arg(overrides: Sequence[str] | Mapping[str, Any]) -> list[Override]:
    """``run``'s ``overrides`` as Override objects (see ``run``); UsageError for another kind."""
    if isinstance(overrides, Mapping):
        return from_values(dict(overrides))
    if isinstance(overrides, str) or not all(isinstance(o, str) for o in overrides):
        raise UsageError(
            "overrides must be a sequence of options as text ('--set list.rows=500') or a mapping "
            f"of dotted paths to values, got {overrides!r}"
        )
    return [parse_given(o) for o in overrides]


HASH_DIGITS = 8  # hex digits of the resolved scenario's hash that name its what-if folder


def default_out(scenario: Scenario) -> Path:
    """Where a scenario's results go when no folder is named: one folder per what-if,
    ``results/<name>/<first 8 hex digits of the resolved scenario's SHA-256>``."""
    return DEFAULT_ROOT / scenario.name / scenario_hash(scenario)[:HASH_DIGITS]


def run(
    scenario: Scenario | str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    *,
    options: RunOptions | None = None,
    **fields: Any,
) -> RunResult:
    """Simulate every run of ``scenario`` (a Scenario or a scenario file) and write the result
    folder ``out`` as a whole [default: results/<name>/<hash>, then results/<name>/latest
    names it] (see the module docstring), as ``options`` say (``RunOptions``). Keyword
    arguments are RunOptions fields, for short: ``run(s, out, workers=2, report=False)`` is
    ``run(s, out, options=RunOptions(workers=2, report=False))``; given with ``options``,
    they replace its fields.

    Raises a ClawsimError subclass on bad input or a folder it cannot vouch for, and
    ``Interrupted`` (a KeyboardInterrupt saying what was kept) on Ctrl-C or another stop signal.
    """
    options = run_options(options, fields)
    scenario, given_as = scenario_arg(scenario)
    given = options.given()
    scenario = apply_overrides(scenario, given)
    target = out_arg(out, default_out(scenario))
    notes: list[str] = []
    notify = options.notify

    def say(line: str) -> None:
        notes.append(line)
        if notify is not None:
            notify(line)

    runs = plan(scenario)
    workers = capped_workers(options.workers, len(runs), options.executor, say, IN_PROCESS_BELOW)
    options = dataclasses.replace(options, workers=workers, overrides=tuple(map(str, given)))
    say(f"{scenario.name}: {len(runs)} runs -> {target}/")
    try:
        check_target(target)
        with held(target, say):
            result = _run_locked(runs, target, options.source or given_as, options, say)
        if out is None:
            point_latest(target)
    except OSError as exc:
        raise ResultsError(_os_message(target, exc)) from None
    return dataclasses.replace(result, notes=tuple(notes))


def _run_locked(runs: Plan, out: Path, source: str, options: RunOptions, say: Callable[[str], None]) -> RunResult:
    scenario, total = runs.scenario, len(runs)
    mode = _folder_mode(out, scenario, options.resume, options.force, say)
    if mode == "finished":
        frame, _, _ = read_results(out)
        return RunResult(frame, out, scenario, total, total, 0.0, _existing_report(out))
    try:
        journal = Journal(out / JOURNAL, scenario, total, resume=mode == "resume")
    except OSError as exc:  # a full or read-only disk: the journal is not left half-made
        raise ResultsError(f"{out / JOURNAL}: cannot write it: {exc.strerror or exc}; {out}/ is as it was") from None
    resumed = len(journal.done)
    if mode == "resume":
        say(f"resuming: {resumed} of {total} runs are in {journal.path}")
    pool, watch = _executor(options.executor)
    started = time.perf_counter()
    try:
        frame = sweep(runs, journal, options.workers, pool, options.progress, watch)
    except KeyboardInterrupt as exc:
        kept = f"kept {len(journal.done)} of {total} finished runs in {journal.path}"
        raise Interrupted(kept, signal_of(exc), resumable=True) from None
    except ExecutionError as exc:
        raise ExecutionError(
            f"{exc}; the {len(journal.done)} finished runs are kept in {journal.path}: rerun with --resume to continue"
        ) from None
    except OSError as exc:  # the journal cannot grow: a full disk or quota
        raise ResultsError(
            f"{journal.path}: cannot write it: {exc.strerror or exc}; the results in {out}/ are as they were, "
            f"and the {len(journal.done)} runs journalled so far are kept: make room and rerun with --resume"
        ) from None
    finally:
        journal.close()
    if options.analytic:
        from .analytic import add_expectations

        frame = add_expectations(frame, scenario)
    wall_s = time.perf_counter() - started
    meta = {
        "scenario": scenario.name,
        "source": source,
        "seed": scenario.seed,
        "runs": total,
        "lists": len(frame),
        "wall_s": round(wall_s, 3),
        "fingerprint": fingerprint(scenario),
        "engine": scenario.loop.engine,
        **({"overrides": list(options.overrides)} if options.overrides else {}),
    }
    carried = _kept_traces(out, scenario, say)
    try:
        written = replace(out, lambda staging: _write_set(staging, out, scenario, frame, meta, options, say, carried))
    except KeyboardInterrupt as exc:
        if journal.path.exists():
            kept = f"{out}/ is as it was, and {journal.path} keeps all {total} runs (the results were being written)"
            raise Interrupted(kept, signal_of(exc), resumable=True) from None
        raise Interrupted(f"after the results were written to {out}/", signal_of(exc)) from None
    except OSError as exc:
        name = Path(exc.filename).name if exc.filename else "the new result set"
        raise ResultsError(
            f"{out}: cannot write {name}: {exc.strerror or exc}; {out}/ is as it was, and "
            f"{journal.path} keeps all {total} runs: make room and rerun with --resume"
        ) from None
    return RunResult(frame, out, scenario, total, resumed, wall_s, written)


def _executor(executor: Executor | Cluster | None) -> tuple[Executor | None, Watch | None]:
    """The executor to submit to, and what to ask when its workers may be gone."""
    if isinstance(executor, Cluster):
        return executor.executor, executor.watch
    return executor, executor_watch(executor) if executor is not None else None


def _folder_mode(out: Path, scenario: Scenario, resume: bool, force: bool, say: Callable[[str], None]) -> str:
    """'fresh', 'resume' or 'finished' (resume a finished sweep: nothing to do), after the checks."""
    entries = sorted(os.listdir(out)) if out.is_dir() else []
    foreign = [name for name in entries if name not in _OURS and not _generated(name)]
    if foreign:
        raise ResultsError(
            f"{out}: holds files clawsim did not write ({', '.join(foreign[:3])}); move them or choose another --out"
        )
    for name in entries:
        if (out / name).is_symlink():
            raise ResultsError(
                f"{out / name}: is a symbolic link; clawsim never follows links in a result folder "
                "(remove it or choose another --out)"
            )
    if JOURNAL in entries:
        if resume:
            return "resume"
        if force:
            say(f"--force: discarding the interrupted sweep in {out}/")
            return "fresh"
        raise ResultsError(
            f"{out}: holds an interrupted sweep ({JOURNAL}); pass --resume to continue it or --force to discard it"
        )
    if resume and META_JSON in entries:
        _, _, meta = read_results(out)
        why = mismatch(meta.get("fingerprint"), scenario)
        if why is not None:
            raise ResumeError(
                f"{out}: holds the finished results of another sweep ({why}); run without --resume to replace them"
            )
        say(f"nothing to resume: {out}/ already holds the finished results of this sweep")
        return "finished"
    if resume:
        say(f"nothing to resume in {out}/; running every run")
    return "fresh"


def _generated(name: str) -> bool:
    """Charts, and the temporary files of a write that was killed."""
    return name.endswith(".png") or (name.startswith(".") and name.endswith(".tmp"))


def _write_set(
    staging: Path,
    out: Path,
    scenario: Scenario,
    frame: pd.DataFrame,
    meta: dict[str, Any],
    options: RunOptions,
    say: Callable[[str], None],
    carried: Path | None = None,
) -> tuple[Path, ...]:
    """The whole result set in ``staging`` (swapped in for ``out`` afterwards), with the files
    of ``carried`` (the old set's traces) that it does not write anew; the report's files."""
    write_results(staging, scenario, frame, meta)
    if options.trace:
        from .tracing import write_traces

        traced = write_traces(scenario, None, staging / TRACES)
        say(f"traces: {len(traced)} files in {out / TRACES}/")
    if carried is not None:
        _carry(carried, staging / TRACES)
    if not (options.report and (scenario.sweep or scenario.variants)):
        if options.html:
            say("no index.html: the scenario sweeps nothing, and a report compares the points of a sweep")
        return ()
    from .errors import ReportError
    from .report import draw_report

    try:
        pngs = draw_report(staging, frame, scenario, meta, html=options.html)
    except ReportError as exc:
        say(f"no report: {exc}")
        return ()
    pages = ["index.md", "index.html"] if options.html else ["index.md"]
    return (*(out / p.name for p in pngs), *(out / page for page in pages))


def _kept_traces(out: Path, scenario: Scenario, say: Callable[[str], None]) -> Path | None:
    """The ``traces/`` of ``out`` to carry into the new set: those of this sweep (the folder holds
    no results yet, or results with this sweep's fingerprint); None if there are none."""
    traces = out / TRACES
    if not traces.is_dir() or traces.is_symlink():
        return None
    try:
        found = json.loads(read_bytes(out / META_JSON)).get("fingerprint")
    except FileNotFoundError:
        return traces  # only traces so far (`clawsim trace` wrote them): this what-if's
    except (ValueError, AttributeError):
        found = None
    why = mismatch(found, scenario)
    if why is None:
        return traces
    say(f"{traces}/ belongs to the results being replaced ({why}): it goes with them")
    return None


def _carry(old: Path, new: Path) -> None:
    """Link (or copy) each regular file of ``old`` into ``new`` unless ``new`` has it already."""
    new.mkdir(exist_ok=True)
    for entry in sorted(old.iterdir()):
        target = new / entry.name
        if entry.is_symlink() or not entry.is_file() or target.exists():
            continue
        try:
            os.link(entry, target, follow_symlinks=False)
        except OSError:
            shutil.copyfile(entry, target, follow_symlinks=False)


def _existing_report(out: Path) -> tuple[Path, ...]:
    index = [out / "index.md"] if (out / "index.md").is_file() else []
    return (*sorted(out.glob("*.png")), *index)


def _os_message(out: Path, exc: OSError) -> str:
    where = "" if exc.filename is None or Path(exc.filename) == out else f" ({exc.filename})"
    return f"{out}: cannot write the result folder{where}: {exc.strerror or exc}"


def simulate(scenario: Scenario, workers: int = 1, executor: Executor | None = None) -> pd.DataFrame:
    """Run every point of the scenario's sweep; one row per list, ordered by run index.

    Nothing is written; UsageError for arguments of the wrong kind."""
    from .arguments import check_scenario, check_workers
    from .sweep import run_sweep

    check_workers(workers, executor, "clawsim.simulate")
    return run_sweep(check_scenario(scenario, "clawsim.simulate"), workers=workers, executor=executor)
