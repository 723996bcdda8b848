"""clawsim: a deterministic discrete-event simulator of a memo keyed on mutable global state.

The Python API that the CLI and notebooks share::

    import clawsim
    scenario = clawsim.load_scenario("scenarios/pr90819-harness.yaml")
    frame = clawsim.simulate(scenario)          # one row per sessions.list call
"""

from __future__ import annotations

__version__ = "0.1.0"

from concurrent.futures import Executor

import pandas as pd

from .errors import ClawsimError, ScenarioError
from .scenario import Scenario, load_scenario, parse_scenario, plan
from .store import read_results
from .sweep import run_sweep
from .tracing import trace


def simulate(scenario: Scenario, workers: int = 1, executor: Executor | None = None) -> pd.DataFrame:
    """Run every point of the scenario's sweep; one row per list, ordered by run index."""
    return run_sweep(scenario, workers=workers, executor=executor)


__all__ = [
    "ClawsimError",
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "parse_scenario",
    "plan",
    "read_results",
    "simulate",
    "trace",
    "__version__",
]
