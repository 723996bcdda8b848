"""The world the tasks share: the loop, the global, the metadata cache, the counters,
and the lifecycle that stops the loop when the last list is done."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..scenario.costs import Sampler
from .loop import EventLoop
from .memo import MetadataCache
from .metrics import RunStats
from .registry import Registry
from .tracer import Tracer

if TYPE_CHECKING:
    from .choices import Chooser


@dataclass
class World:
    """Everything a run's tasks share; ``pin`` says whether lists run inside the pin."""

    loop: EventLoop
    registry: Registry
    cache: MetadataCache
    pin: bool
    stats: RunStats = field(default_factory=RunStats)
    tracer: Tracer | None = None  # set for a traced run (see tracer.py)
    chooser: Chooser | None = None  # who decides what the run leaves open (choices.py); None: seeded
    open_lists: int = 0
    more_lists: bool = True
    setup_cost: Sampler | None = None  # list.setup_ms (None: no setup)
    fast_rows: bool = True  # build_rows' exact fast paths (EngineOptions.fast_rows)

    def list_started(self) -> None:
        self.open_lists += 1

    def list_finished(self) -> None:
        """One list returned; the run ends when none is open and no more will start."""
        self.open_lists -= 1
        if self.open_lists == 0 and not self.more_lists:
            self.loop.stop()

    def no_more_lists(self) -> None:
        """The last list has been started (or the polling client stopped)."""
        self.more_lists = False
        if self.open_lists == 0:
            self.loop.stop()
