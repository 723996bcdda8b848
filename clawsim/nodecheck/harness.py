"""Running ``node/harness.mjs``: find Node, run one resolved scenario on it, read its records.

The harness reads the resolved scenario as JSON on stdin and prints one JSON record per
list (the same fields as clawsim's, plus Node's own: ``list_cpu_ms``, ``waited_ms``,
``io_late_ms``...). Every way this can go wrong (no Node, a crash, a timeout, output that
is not JSON) is a one-line ``NodeCheckError``. Times are milliseconds; timeouts seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, assert_never

from pydantic import TypeAdapter

from ..engine.run import simulate_once
from ..engine.walk import AwaitIO, HoistedLookups, Pin, Rows, Setup, Step, Yield
from ..errors import NodeCheckError
from ..scenario import CostMs, RunSpec, Scenario, plan

#: The Node.js program that runs a scenario on the real event loop (shipped as package data).
HARNESS = Path(__file__).resolve().parent.parent / "node" / "harness.mjs"

#: One per-list record, as clawsim's engine and the harness print it.
Record = dict[str, Any]


def find_node() -> str:
    """The ``node`` executable on PATH; NodeCheckError if there is none."""
    node = shutil.which("node")
    if node is None:
        raise NodeCheckError(
            "node was not found on PATH: install Node.js >= 18 (e.g. apt-get install nodejs) "
            "to check clawsim against the real event loop"
        )
    return node


@lru_cache(maxsize=4)
def node_version(node: str | None = None) -> str:
    """``node --version`` of the given (or the PATH's) node."""
    node = node or find_node()
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        raise NodeCheckError(f"{node} --version failed: {exc}") from None
    return out.stdout.strip()


def run_spec(scenario: Scenario, run: int = 0) -> RunSpec:
    """Run ``run`` of the scenario's plan (sweep points x replications)."""
    runs = plan(scenario)
    if not 0 <= run < len(runs):
        raise NodeCheckError(f"scenario {scenario.name!r} has runs 0..{len(runs) - 1}, not run {run}")
    return runs[run]


def resolved_json(scenario: Scenario) -> dict[str, Any]:
    """The JSON the harness reads: the resolved scenario, sweep and variants removed.

    The harness models every field of the schema, so nothing needs dropping.
    """
    return scenario.model_dump(mode="json", exclude={"sweep", "variants"})


def run_node(scenario: Scenario, run: int = 0, **options: Any) -> list[Record]:
    """Run one run of the scenario on the real Node event loop; one record per list.

    ``run`` indexes the scenario's run plan (as in ``clawsim run``); its resolved scenario is
    passed to the harness on stdin, with the run index seeding the harness's own random
    streams. ``clock`` is what busy-waits count: ``cpu`` (default, robust on a shared
    machine) or ``wall``. ``timeout`` (s) defaults to 30 s plus 10x the simulated run.
    ``eld`` adds ``loop_delay_max_ms`` (monitorEventLoopDelay, 1 ms resolution).
    ``realtime`` runs Node under ``chrt -f 5`` (SCHED_FIFO; root or CAP_SYS_NICE): other
    processes then no longer take the CPU from it, which makes timing rows judgeable on a
    busy machine (Linux keeps 5% of each second for the others). These ``options``
    (keyword only) are passed on to ``run_resolved``.
    """
    spec = run_spec(scenario, run)
    return run_resolved(spec.scenario, spec.run, **options)


def run_resolved(
    scenario: Scenario,
    run: int = 0,
    *,
    timeout: float | None = None,
    clock: str = "cpu",
    node: str | None = None,
    eld: bool = False,
    realtime: bool = False,
    schedule: dict[str, Any] | None = None,
) -> list[Record]:
    """run_node for an already resolved scenario (one plan entry) and its run index; with a
    ``schedule`` (``explore.schedule.engine_gaps``) the harness arms no actor and runs the
    schedule's activations in the list's gaps instead."""
    node = node or find_node()
    args = _command(node, run, clock=clock, eld=eld, realtime=realtime)
    if timeout is None:
        timeout = _default_timeout_s(scenario, run)
    env = {**os.environ, "UV_THREADPOOL_SIZE": os.environ.get("UV_THREADPOOL_SIZE", "8")}
    try:
        done = subprocess.run(
            args,
            input=json.dumps({**resolved_json(scenario), **({"schedule": schedule} if schedule else {})}),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
        )
    except OSError as exc:
        raise NodeCheckError(f"cannot execute {node}: {exc}") from None
    except subprocess.TimeoutExpired:
        raise NodeCheckError(
            f"the Node harness did not finish scenario {scenario.name!r} run {run} within {timeout:.0f} s"
        ) from None
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise NodeCheckError(
            f"the Node harness failed on scenario {scenario.name!r} run {run} (exit {done.returncode}):\n{tail}"
        )
    return _records(done.stdout, scenario, run)


def _command(node: str, run: int, *, clock: str, eld: bool, realtime: bool) -> list[str]:
    """The harness's command line, reading the scenario from stdin."""
    prefix: list[str] = []
    if realtime:
        chrt = shutil.which("chrt")
        if chrt is None:
            raise NodeCheckError("realtime needs chrt (util-linux) on PATH")
        prefix = [chrt, "-f", "5"]
    # With the CPU clock, V8 runs its compiler and GC on the main thread (--single-threaded),
    # so that the process's CPU time, which the busy-waits count, is the loop thread's own.
    v8 = ["--single-threaded"] if clock == "cpu" else []
    return [*prefix, node, *v8, str(HARNESS), "-", "--run", str(run), "--clock", clock, *(["--eld"] if eld else [])]


def _default_timeout_s(scenario: Scenario, run: int) -> float:
    """30 s plus ten times the simulated run's length (a slow machine is not a failure)."""
    sim_ms = max((r["sim_ms"] for r in simulate_once(scenario, run)), default=0.0)
    return 30.0 + 10.0 * sim_ms / 1000.0


def _records(stdout: str, scenario: Scenario, run: int) -> list[Record]:
    """The harness's output, one JSON object a line; NodeCheckError if not JSON or empty."""
    try:
        records = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    except json.JSONDecodeError as exc:
        raise NodeCheckError(f"the Node harness printed something that is not JSON: {exc}") from None
    if not records:
        raise NodeCheckError(f"the Node harness printed no record for scenario {scenario.name!r} run {run}")
    return records


def node_list_steps(
    scenarios: Sequence[Scenario], *, node: str | None = None, timeout: float = 120.0
) -> list[list[Any]]:
    """The steps one list of each scenario takes in the harness (``--steps``: its own
    ``sessionList`` run with a step log, no warm-up, no actors), one list of step records
    (``step_record``) per scenario; ``clawsim.engine.walk.list_steps`` must give the same."""
    node = node or find_node()
    command = [node, str(HARNESS), "-", "--steps"]
    text = json.dumps([resolved_json(s) for s in scenarios])
    try:
        done = subprocess.run(command, input=text, capture_output=True, text=True, timeout=timeout)
    except OSError as exc:
        raise NodeCheckError(f"cannot execute {node}: {exc}") from None
    except subprocess.TimeoutExpired:
        raise NodeCheckError(f"the Node harness did not list the steps within {timeout:.0f} s") from None
    if done.returncode != 0:
        raise NodeCheckError(f"the Node harness failed listing steps (exit {done.returncode}): {done.stderr.strip()}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


_COST_JSON: TypeAdapter[CostMs] = TypeAdapter(CostMs)


def step_record(step: Step) -> list[Any]:
    """A step of ``engine.walk`` as the harness's ``--steps`` prints it (harness.mjs, ``sessionList``)."""
    match step:
        case Pin():
            return ["pin"]
        case Setup(cost=cost):
            return ["setup", _COST_JSON.dump_python(cost, mode="json")]
        case HoistedLookups(lookups=lookups):
            return ["hoisted", lookups]
        case Yield(row=row):
            return ["yield", row]
        case Rows(start=start, rows=rows, lookups=lookups, row_cost_ms=row_cost_ms):
            return ["rows", start, rows, lookups, row_cost_ms]
        case AwaitIO(ms=ms):
            return ["io", ms]
        case _:
            assert_never(step)
