"""The simulation kernel: Node's event loop (``loop``), the process-global workspace and
its pin (``registry``), the metadata memo and cache rules (``memo``), the list walk
(``listing``), the actors (``actors``), what is measured (``metrics``), the shared world
(``world``) and one run's lifecycle (``run``)."""

from .listing import Batch, batches
from .run import run_streams, simulate_once, simulate_run

__all__ = ["Batch", "batches", "run_streams", "simulate_once", "simulate_run"]
