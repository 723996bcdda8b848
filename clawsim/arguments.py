"""Checks of the Python API's arguments: a wrong kind of argument is a UsageError whose
message says what was expected (and, for a path where a Scenario belongs, how to load it)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .cluster import Cluster
from .errors import UsageError
from .scenario import Scenario, load_scenario


def check_scenario(value: Any, caller: str) -> Scenario:
    """``value`` if it is a Scenario; UsageError saying how to get one otherwise."""
    if isinstance(value, Scenario):
        return value
    path = isinstance(value, (str, os.PathLike))
    hint = f" (load the file first: clawsim.load_scenario({str(value)!r}))" if path else ""
    raise UsageError(f"{caller}: scenario must be a clawsim.Scenario, not {type(value).__name__}{hint}")


def check_workers(workers: Any, executor: Any, caller: str) -> None:
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise UsageError(f"{caller}: workers must be a whole number >= 1, not {workers!r}")
    if executor is not None and not isinstance(executor, Cluster) and not callable(getattr(executor, "submit", None)):
        raise UsageError(f"{caller}: executor must be a concurrent.futures.Executor, not {type(executor).__name__}")


def scenario_arg(value: Any) -> tuple[Scenario, str]:
    if isinstance(value, (str, os.PathLike)) and not isinstance(value, Scenario):
        return load_scenario(Path(value)), str(value)
    if not isinstance(value, Scenario):
        raise UsageError(
            f"clawsim.run: scenario must be a clawsim.Scenario or the path of a scenario file, "
            f"not {type(value).__name__}"
        )
    return value, "<python>"


def out_arg(out: Any, default: Path) -> Path:
    if out is None:
        return default
    if not isinstance(out, (str, os.PathLike)) or not str(out):
        raise UsageError(f"clawsim.run: out must be a folder path, not {out!r}")
    path = Path(os.path.normpath(out))
    return Path(os.path.abspath(path)) if path.name in ("", "..") or str(path) == "." else path


def check_options(workers: Any, executor: Any, resume: Any, force: Any, progress: Any, notify: Any) -> None:
    check_workers(workers, executor, "clawsim.run")
    for name, flag in (("resume", resume), ("force", force)):
        if not isinstance(flag, bool):
            raise UsageError(f"clawsim.run: {name} must be True or False, not {flag!r}")
    if resume and force:
        raise UsageError(
            "--resume and --force exclude each other: --resume keeps an interrupted sweep's runs, --force discards them"
        )
    for name, hook in (("progress", progress), ("notify", notify)):
        if hook is not None and not callable(hook):
            raise UsageError(f"clawsim.run: {name} must be a function, not {type(hook).__name__}")


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, where the OS tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def capped_workers(workers: int, total: int, executor: Any, say: Callable[[str], None], in_process_below: int) -> int:
    """The pool size for ``total`` runs: at most the cores (saying so), 1 for small plans."""
    if executor is not None:
        return workers
    cores = available_cores()
    if workers > cores:
        say(f"{workers} workers asked for, but this machine has {cores} cores: using {cores}")
        workers = cores
    return 1 if total < in_process_below else workers
