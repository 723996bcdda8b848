"""clawsim: a deterministic discrete-event simulator of a memo keyed on mutable global state.

The Python API that the CLI and notebooks share::

    import clawsim
    scenario = clawsim.load_scenario("scenarios/pr90819-harness.yaml")
    frame = clawsim.simulate(scenario)          # one row per sessions.list call
    result = clawsim.run(scenario, "results/x") # the same result folder as `clawsim run`
    result = clawsim.run(scenario, options=clawsim.RunOptions(workers=2, report=False))
    events = clawsim.trace(scenario, run=0)     # one run's spans and marks
    fitted = clawsim.fit("gateway.timeline.jsonl")  # a scenario fitted to a real timeline

Names are imported on first use, so ``import clawsim`` (and the CLI's start-up) does not
pay for pandas, pyarrow or matplotlib until something needs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "ClawsimError": "errors",
    "ScenarioError": "errors",
    "UsageError": "errors",
    "Scenario": "scenario",
    "load_scenario": "scenario",
    "parse_scenario": "scenario",
    "plan": "scenario",
    "RunOptions": "api",
    "RunResult": "api",
    "run": "api",
    "simulate": "api",
    "read_results": "store",
    "trace": "tracing",
    "FitResult": "fitting",
    "fit": "fitting",
}

if TYPE_CHECKING:
    from .api import RunOptions, RunResult, run, simulate
    from .errors import ClawsimError, ScenarioError, UsageError
    from .fitting import FitResult, fit
    from .scenario import Scenario, load_scenario, parse_scenario, plan
    from .store import read_results
    from .tracing import trace


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'clawsim' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = [
    "ClawsimError",
    "FitResult",
    "RunOptions",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "UsageError",
    "__version__",
    "fit",
    "load_scenario",
    "parse_scenario",
    "plan",
    "read_results",
    "run",
    "simulate",
    "trace",
]
