"""clawsim: a deterministic discrete-event simulator of a memo keyed on mutable global state.

The Python API that the CLI and notebooks share::

    import clawsim
    scenario = clawsim.load_scenario("scenarios/pr90819-harness.yaml")
    frame = clawsim.simulate(scenario)          # one row per sessions.list call
    result = clawsim.run(scenario, "results/x") # the same result folder as `clawsim run`
"""

from __future__ import annotations

__version__ = "0.1.0"

from concurrent.futures import Executor

import pandas as pd

from .api import RunResult, run
from .arguments import check_scenario, check_workers
from .errors import ClawsimError, ScenarioError, UsageError
from .scenario import Scenario, load_scenario, parse_scenario, plan
from .store import read_results
from .sweep import run_sweep
from .tracing import trace


def simulate(scenario: Scenario, workers: int = 1, executor: Executor | None = None) -> pd.DataFrame:
    """Run every point of the scenario's sweep; one row per list, ordered by run index.

    Nothing is written; UsageError for arguments of the wrong kind."""
    check_workers(workers, executor, "clawsim.simulate")
    return run_sweep(check_scenario(scenario, "clawsim.simulate"), workers=workers, executor=executor)


__all__ = [
    "ClawsimError",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "UsageError",
    "load_scenario",
    "parse_scenario",
    "plan",
    "read_results",
    "run",
    "simulate",
    "trace",
    "__version__",
]
