"""What one traced run did, event by event: spans and instants in ms of simulated time.

Tracing is off unless a ``Tracer`` is handed to ``simulate_once``; with it off no hook
does any work beyond one ``is None`` test. The names follow the gateway's diagnostics
timeline where the real gateway has the event (``gateway.sessions.list``,
``gateway.sessions.list.rows``, ``plugins.metadata.scan`` with ``cacheHit`` on memo hits),
and are namespaced ``clawsim.*`` where it has none (docs/trace.md lists them all):

- ``clawsim.list.batch``: the rows built in one callback (on the ``loop`` track);
- ``clawsim.list.yield``: an instant at each ``setImmediate`` yield (on the list's track);
- ``clawsim.registry.set``: an instant at each ``setActivePluginRegistry`` call (with
  ``count: n`` for n back-to-back calls that the aggregated engine ran as one step);
- ``clawsim.actor.turn``: one actor activation holding the thread (on the actor's track);
- ``clawsim.metadata.snapshot``: a lookup served by the gateway's current snapshot (the real
  gateway emits no span for it: it never reaches ``loadPluginMetadataSnapshot``).

Tracks name the lanes of a trace viewer: ``loop`` (what holds the thread), ``list N``
and ``actor NAME#COPY``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..timeline.model import Instant, Span

LOOP = "loop"
SCAN = "plugins.metadata.scan"
LIST = "gateway.sessions.list"
ROWS = "gateway.sessions.list.rows"
BATCH = "clawsim.list.batch"
YIELD = "clawsim.list.yield"
SET = "clawsim.registry.set"
TURN = "clawsim.actor.turn"
SNAPSHOT = "clawsim.metadata.snapshot"


@dataclass
class Tracer:
    """Collects the events of one run. ``hit_spans``: whether memo hits emit a scan span
    (``cacheHit: true``), as the memo generations of June 2026 do (docs/sources.md §1.3)."""

    hit_spans: bool = True
    spans: list[Span] = field(default_factory=list)
    instants: list[Instant] = field(default_factory=list)
    _last_id: int = 0
    _open_lists: dict[int, tuple[float, int, str, str]] = field(default_factory=dict)

    def new_id(self) -> str:
        """A fresh span id (ids are allocated when a span opens, so children can name it)."""
        self._last_id += 1
        return str(self._last_id)

    def span(
        self,
        name: str,
        start_ms: float,
        duration_ms: float,
        track: str,
        parent: str | None = None,
        span_id: str | None = None,
        **attributes: Any,
    ) -> str:
        """Record a finished span; returns its id."""
        sid = span_id if span_id is not None else self.new_id()
        self.spans.append(Span(name, start_ms, duration_ms, sid, parent, track, tuple(attributes.items())))
        return sid

    def instant(self, name: str, at_ms: float, track: str, parent: str | None = None, **attributes: Any) -> None:
        self.instants.append(Instant(name, at_ms, track, tuple(attributes.items()), parent))

    def lookup(self, start_ms: float, cost_ms: float, hit: bool, snapshot: bool, parent: str | None) -> None:
        """One metadata lookup: a full scan, a memo hit or a current-snapshot hit."""
        if snapshot:
            self.span(SNAPSHOT, start_ms, cost_ms, LOOP, parent)
        elif not hit:
            self.span(SCAN, start_ms, cost_ms, LOOP, parent, hasWorkspaceDir=True, hasInstalledIndex=False)
        elif self.hit_spans:
            self.span(
                SCAN, start_ms, cost_ms, LOOP, parent, cacheHit=True, hasWorkspaceDir=True, hasInstalledIndex=False
            )

    def open_list(self, index: int, start_ms: float, rows: int) -> str:
        """A list started: allocate its root and rows span ids; returns the rows span id."""
        list_id, rows_id = self.new_id(), self.new_id()
        self._open_lists[index] = (start_ms, rows, list_id, rows_id)
        return rows_id

    def close_list(self, index: int, end_ms: float) -> None:
        """A list returned (or the run ended with it open): its root span and its rows span."""
        start_ms, rows, list_id, rows_id = self._open_lists.pop(index)
        track = f"list {index}"
        self.span(LIST, start_ms, end_ms - start_ms, track, None, list_id, agentId=None, configuredAgentsOnly=False)
        self.span(ROWS, start_ms, end_ms - start_ms, track, list_id, rows_id, storeEntries=rows)

    def close_all(self, end_ms: float) -> None:
        """At the end of a run: close the lists still open (they ran out of simulated time)."""
        for index in sorted(self._open_lists):
            self.close_list(index, end_ms)
