"""Expected scans, flips and list_ms of a scenario, computed without simulating it.

Two models, chosen by the kind of the actors (``coverage.model_for``; see
``docs/analytic.md`` for the formulas and for how far each is from the engine):

* **Immediate actors, or none** (``immediate``): the exact walk of the list, batch by
  batch, with the memo in closed form. Counts equal the engine's, list_ms up to float
  rounding (in expectation when scan costs are drawn).
* **Poisson and interval actors** (``chain``): a Markov chain over the list's batches,
  whose state (``chain_state``) is the time since the last poll phase began, the timers'
  remaining times and memo flags, walked through the loop's phases (``chain_loop``).
  Exact in distribution for constant scan costs without awaited I/O; the rest is
  approximated (documented, and measured by the tests).

Scan costs are discretized in ``costs``; every reason a scenario is outside both models
is in ``coverage``; ``models`` runs the model ``coverage.model_for`` picks, ``expectation``
holds one list's figures, ``tables`` puts them beside a results table, and ``load`` is the
actors' offered load of the thread (the summary's ``load`` column).

``expectations(scenario)`` takes one resolved scenario (no ``sweep:``/``variants:``; see
``clawsim.plan``) and returns one dict per list; it raises ``NotAnalytic`` naming the
reason when neither model covers the scenario. ``add_expectations(frame, scenario)``
puts ``expected_*`` columns beside a results table.
"""

from ..errors import NotAnalytic
from .costs import ScanSums, scan_mean
from .expectation import Expectation
from .load import offered_load
from .models import expectation_values, expectations
from .tables import EXPECTED_COLUMNS, add_expectations

__all__ = [
    "EXPECTED_COLUMNS",
    "Expectation",
    "NotAnalytic",
    "ScanSums",
    "add_expectations",
    "expectation_values",
    "expectations",
    "offered_load",
    "scan_mean",
]
