"""The tracer of a run: what one traced run did, event by event (its spans and instants, in
ms of simulated time), recorded as the engine runs it.

Tracing is off unless a ``Tracer`` is handed to ``simulate_once``; with it off no hook
does any work beyond one ``is None`` test. The events' names are the gateway's where the
real gateway has the event and ``clawsim.*`` where it has none; their one home is
``timeline.names``, and docs/trace.md says what each means and carries. Tracks name the
lanes of a trace viewer: ``loop`` (what holds the thread), ``list N`` and ``actor NAME``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..timeline.model import Instant, Span
from ..timeline.names import LIST_SPAN, LOOP, ROWS_SPAN, SCAN_SPAN, SNAPSHOT

_SCAN_ATTRS = (("hasWorkspaceDir", True), ("hasInstalledIndex", False))
_HIT_ATTRS = (("cacheHit", True), *_SCAN_ATTRS)
RawSpan = tuple[str, float, float, str, "str | None", str, tuple[tuple[str, Any], ...]]


@dataclass
class Tracer:
    """Collects the events of one run. ``hit_spans``: whether memo hits emit a scan span
    (``cacheHit: true``), as the memo generations of June 2026 do (docs/sources.md §1.3).

    Spans are kept as plain tuples while the run goes on and become ``Span`` records when
    ``spans`` is first read: a traced run pays a tuple per event, not a frozen dataclass.
    """

    hit_spans: bool = True
    instants: list[Instant] = field(default_factory=list)
    _raw: list[RawSpan] = field(default_factory=list)
    _made: list[Span] = field(default_factory=list)
    _last_id: int = 0
    _open_lists: dict[int, tuple[float, int, str, str]] = field(default_factory=dict)

    @property
    def spans(self) -> list[Span]:
        """The spans recorded so far, as records (in the order they were recorded)."""
        if len(self._made) < len(self._raw):
            self._made.extend(Span(*raw) for raw in self._raw[len(self._made) :])
        return self._made

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
        self._raw.append((name, start_ms, duration_ms, sid, parent, track, tuple(attributes.items())))
        return sid

    def instant(self, name: str, at_ms: float, track: str, parent: str | None = None, **attributes: Any) -> None:
        self.instants.append(Instant(name, at_ms, track, tuple(attributes.items()), parent))

    def lookup(self, start_ms: float, cost_ms: float, hit: bool, snapshot: bool, parent: str | None) -> None:
        """One metadata lookup: a full scan, a memo hit or a current-snapshot hit."""
        if snapshot:
            self.span(SNAPSHOT, start_ms, cost_ms, LOOP, parent)
        elif not hit or self.hit_spans:  # NOTE: the hot path of a traced run: no keyword arguments
            self._last_id += 1
            attrs = _HIT_ATTRS if hit else _SCAN_ATTRS
            self._raw.append((SCAN_SPAN, start_ms, cost_ms, str(self._last_id), parent, LOOP, attrs))

    def repeated_hits(
        self, t: float, row_ms: float, rows: int, lookups: int, hit_ms: float, snapshot: bool, parent: str | None
    ) -> None:
        """The hits of ``rows`` rows counted in one step, each at the time it would have run."""
        if snapshot:
            for r in range(rows):
                for k in range(lookups):
                    self.span(SNAPSHOT, t + r * row_ms + k * hit_ms, hit_ms, LOOP, parent)
            return
        if not self.hit_spans:
            return
        raw, first = self._raw, self._last_id
        for r in range(rows):  # NOTE: inlined span() for the traced run's hottest loop
            start = t + r * row_ms
            for k in range(lookups):
                first += 1
                raw.append((SCAN_SPAN, start + k * hit_ms, hit_ms, str(first), parent, LOOP, _HIT_ATTRS))
        self._last_id = first

    def open_list(self, index: int, start_ms: float, rows: int) -> str:
        """A list started: allocate its root and rows span ids; returns the rows span id."""
        list_id, rows_id = self.new_id(), self.new_id()
        self._open_lists[index] = (start_ms, rows, list_id, rows_id)
        return rows_id

    def close_list(self, index: int, end_ms: float) -> None:
        """A list returned (or the run ended with it open): its root span and its rows span."""
        start_ms, rows, list_id, rows_id = self._open_lists.pop(index)
        track = f"list {index}"
        self.span(
            LIST_SPAN, start_ms, end_ms - start_ms, track, None, list_id, agentId=None, configuredAgentsOnly=False
        )
        self.span(ROWS_SPAN, start_ms, end_ms - start_ms, track, list_id, rows_id, storeEntries=rows)

    def close_all(self, end_ms: float) -> None:
        """At the end of a run: close the lists still open (they ran out of simulated time)."""
        for index in sorted(self._open_lists):
            self.close_list(index, end_ms)
