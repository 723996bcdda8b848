"""The simulation kernel: Node's event loop (``loop``), the process-global workspace and
its pin (``registry``), the metadata memo and cache rules (``memo``), the steps of a list (``walk``), the
list on the loop (``listing``), the actors (``actors``), what is measured (``metrics``), the shared world
(``world``), one run's lifecycle (``run``) and how the engine runs it (``options``); Poisson arrivals
aggregated per poll phase (``arrivals``, one ``sources`` entry per poisson actor) and a list's
batches under them run in one loop (``stretch``), where runs of batches that each meet arrivals
and read a new workspace are done at once (``fresh``), every
nondeterministic decision of a run through one chooser (``choices``) and the opt-in tracer of a
run (``tracer``); what is made once per scenario, spec or steps object and shared between runs
is kept by identity (``identity``)."""

from .options import EngineOptions
from .run import run_streams, simulate_once, simulate_run
from .walk import Batch, Step, batches, list_steps

__all__ = ["Batch", "EngineOptions", "Step", "batches", "list_steps", "run_streams", "simulate_once", "simulate_run"]
