"""Check clawsim against the real Node.js event loop.

``node/harness.mjs`` runs one resolved scenario on Node's own loop (rows busy-wait their
costs, the row loop yields with ``setImmediate``, the pin is an ``AsyncLocalStorage``, actors
are real immediates, timers and worker-thread arrivals, awaited reads complete on libuv's
thread pool) and prints the same per-list records as clawsim. This package runs it
(``harness``), measures the machine (``calibration``), chooses each metric's ``Rule``
(``rules``), compares (``compare``), judges each list by its rules (``judge``) and reads the
result (``summary``)::

    from clawsim import load_scenario
    from clawsim.nodecheck import compare, passed, summary
    frame = compare(load_scenario("validation/scenarios/pr-harness.yaml"))
    summary(frame)            # per list: clawsim and Node side by side
    passed(frame)             # no metric outside its rule

``compare`` judges each metric by a rule chosen from the scenario (``rules``; the bounds
are justified in validation/README.md):

- ``exact``: counts fixed by the order of callbacks alone, which Node fixes too
  (immediate actors, lists started at t = 0, no timers, no random arrivals; with awaited
  reads, scans and workspaces but not flips): clawsim must equal Node.
- ``spread``: counts driven by random arrivals or draws, which the two sides take from
  different generators: Node's value must lie within clawsim's own spread for the run,
  ``|node - mean| <= 3.5 * sd + L`` over ``SPREAD_SEEDS`` simulations with other seeds
  (L = lookups per row for scans and hits, 1 otherwise).
- ``within R%|A``: counts that depend on wall-clock timers or TTLs.
- ``ratio F``: flips while rows await reads, one per loop iteration.
- ``cpu within`` / ``wall within`` for ``list_ms``, after calibration: CPU time for lists
  that never wait (the machine's other tenants cannot inflate it), wall time for lists
  that await reads, against clawsim re-run with the read time Node measured.

Everything is in milliseconds, like the rest of clawsim. The functions named like their
module (``compare``, ``rules``, ``summary``) shadow it as attributes of this package: reach
a module itself with ``importlib.import_module("clawsim.nodecheck.compare")``.
"""

from ..errors import NodeCheckError
from .calibration import (
    Calibration,
    apply_calibration,
    cached_calibration,
    calibrate,
    calibration_yaml,
    load_calibration,
)
from .compare import compare, compare_run
from .harness import HARNESS, Record, find_node, node_version, resolved_json, run_node, run_resolved, run_spec
from .judge import BUSY_LIMIT
from .rules import METRICS, SPREAD_SD, SPREAD_SEEDS, Rule, rules
from .summary import passed, summary

__all__ = [
    "BUSY_LIMIT",
    "HARNESS",
    "METRICS",
    "SPREAD_SD",
    "SPREAD_SEEDS",
    "Calibration",
    "NodeCheckError",
    "Record",
    "Rule",
    "apply_calibration",
    "cached_calibration",
    "calibrate",
    "calibration_yaml",
    "compare",
    "compare_run",
    "find_node",
    "load_calibration",
    "node_version",
    "passed",
    "resolved_json",
    "rules",
    "run_node",
    "run_resolved",
    "run_spec",
    "summary",
]
