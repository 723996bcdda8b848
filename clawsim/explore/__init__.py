"""``clawsim explore``: every schedule of a small scenario, its best and worst case, and
counterexamples to replay (docs/explore.md).

``model`` is the abstract state and its transitions, ``search`` the exhaustive (merged
states) and sampled searches, ``properties`` what is checked, ``schedule`` the schedule files,
``runner`` the per-point exploration that the CLI and ``clawsim.explore.explore`` run,
``replay`` a schedule replayed (by the model, on Node, by the engine) and ``report`` what
``clawsim explore`` writes.
"""

from .model import Bounds, Model
from .properties import Property, parse_property
from .runner import PointResult, Verdict, explore
from .schedule import Schedule, read_schedule

__all__ = [
    "Bounds",
    "Model",
    "PointResult",
    "Property",
    "Schedule",
    "Verdict",
    "explore",
    "parse_property",
    "read_schedule",
]
