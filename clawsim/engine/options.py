"""How the engine runs a scenario, beyond what the scenario says: ``EngineOptions``.

The one seam through which tests and benchmarks change the engine: which engine runs the
poisson arrivals, the exact fast paths off (the oracle they are compared with), and the SimPy
environment a run is built on (a benchmark counts its events). No module global is patched.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import simpy

from ..errors import UsageError

Engine = Literal["reference", "aggregated"]
ENGINES: tuple[Engine, ...] = ("reference", "aggregated")


class Environment(simpy.Environment):
    """``simpy.Environment`` made without ``BoundClass.bind_early``: a small run calls a few of
    the bound classes (``event``, ``timeout``) a few times, and binding all of them to every
    environment cost more than those calls; unbound, each call binds as a method does. The same
    environment otherwise."""

    def __init__(self) -> None:  # simpy.Environment.__init__(0) but for bind_early
        self._now = 0
        self._queue = []
        self._eid = itertools.count()
        self._active_proc = None


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineOptions:
    """Options of one run's engine; the defaults are what ``clawsim run`` does.

    - ``engine``: ``reference`` runs each poisson arrival as its own SimPy event, ``aggregated``
      delivers them per poll phase (``arrivals.py``); None: the scenario's ``loop.engine``.
    - ``fast_rows``: ``build_rows``' exact fast paths (rows counted in one step) and scan costs
      drawn ahead (``memo.DrawnAhead``); off, every lookup is made and every cost drawn one by
      one. Records are identical either way.
    - ``resume_in_place``: the loop's steps no callback can observe, skipped: a yield resumed in
      place (``EventLoop.resume_in_place``, through a poll phase of aggregated arrivals alone),
      a batch's work held without a generator resume (``EventLoop.held``), a read completed in
      the loop's own schedule (``EventLoop.start_io``); off, every yield is a trip through the
      loop and every read a SimPy timeout. Records are identical either way.
    - ``environment``: makes the run's SimPy environment.
    """

    engine: Engine | None = None
    fast_rows: bool = True
    resume_in_place: bool = True
    environment: Callable[[], simpy.Environment] = Environment

    def __post_init__(self) -> None:
        if self.engine is not None and self.engine not in ENGINES:
            raise UsageError(f"engine must be one of {', '.join(ENGINES)}, got {self.engine!r}")

    def engine_for(self, scenario_engine: Engine) -> Engine:
        """The engine to run: ``engine`` if set, else the scenario's ``loop.engine``."""
        return self.engine if self.engine is not None else scenario_engine


DEFAULT_OPTIONS = EngineOptions()
