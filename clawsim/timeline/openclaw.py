"""Write a run's events as the openclaw gateway's diagnostics timeline (JSON Lines, ``openclaw.diagnostics.v1``).

The gateway (``src/infra/diagnostics-timeline.ts``) appends one JSON object per line, fields in
this order: ``schemaVersion, type, timestamp, name, pid, phase, spanId, parentSpanId`` (absent on
roots), ``durationMs`` (``span.end`` / ``span.error`` only), ``errorName`` (``span.error`` only),
``attributes`` (absent when empty). ``timestamp`` is the wall clock at the event (ISO 8601 UTC,
millisecond resolution, truncated); ``durationMs`` and numeric attributes are rounded to 3
decimals (half up) and clamped at 0; attribute values are strings, booleans, null or numbers.
Instants are written as the format's own ``mark`` events (no ``spanId``), which readers of the
real format already meet (the gateway writes startup and chat marks).

Choices of this writer, all deterministic:

- time 0 is :data:`EPOCH` (or ``epoch=``); timestamps are ``floor(epoch + t)`` ms;
- span ids are UUID-shaped counters in order of the span's start: ``{pid:08x}-0000-4000-8000-{n:012x}``;
- ``phase`` is ``"sessions.list"`` for every event of a tree rooted at ``gateway.sessions.list``
  (the gateway inherits the phase from the open span) and :data:`OTHER_PHASE` elsewhere;
- a span's or instant's ``track`` is written as attribute ``clawsim.track`` only where it differs
  from its parent's track (on roots: from ``"loop"``); readers inherit it from the parent;
- names are the gateway's own (:data:`OPENCLAW_SPAN_NAMES`) or namespaced ``clawsim.*``.

The streaming reader lives in :mod:`clawsim.timeline.reader`.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from .model import Attributes, Instant, Span
from .names import CLAWSIM_PREFIX, LIST_SPAN, LOOP, OPENCLAW_SPAN_NAMES, TRACK_ATTRIBUTE
from .order import END, MARK, START, ordered_events

SCHEMA_VERSION = "openclaw.diagnostics.v1"
EPOCH = "2026-06-06T00:00:00.000Z"  # the fixed wall-clock time of a simulated run's t=0
DEFAULT_PID = 4242
LIST_PHASE = "sessions.list"
OTHER_PHASE = "clawsim"  # a clawsim-only phase: the gateway's phase for agent turns etc. is not modelled
_TYPES = {START: "span.start", END: "span.end", MARK: "mark"}
DEFAULT_TRACK = LOOP


def epoch_ms(epoch: str | datetime) -> int:
    """Milliseconds since 1970 (UTC) of an ISO 8601 time or datetime; a naive time is taken as UTC."""
    moment = datetime.fromisoformat(epoch) if isinstance(epoch, str) else epoch
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return math.floor(moment.timestamp() * 1000 + 0.5)


def write_timeline(
    spans: Sequence[Span],
    instants: Sequence[Instant],
    out: str | Path | IO[str],
    *,
    pid: int = DEFAULT_PID,
    epoch: str | datetime = EPOCH,
) -> int:
    """Write the events to ``out`` (a path or a text stream) as one process ``pid``; returns the line count.

    Raises ValueError on a name outside the gateway's set and ``clawsim.*``, or (from
    :func:`~clawsim.timeline.order.ordered_events`) on ids that do not form a tree of nested spans.
    A span carrying ``error`` (a :class:`LoggedSpan`) ends with ``span.error``.
    """
    for name in sorted({record.name for record in spans} | {record.name for record in instants}):
        if name not in OPENCLAW_SPAN_NAMES and not name.startswith(CLAWSIM_PREFIX):
            raise ValueError(f"{name}: not a gateway span name; clawsim-only names start with 'clawsim.'")
    if isinstance(out, (str, Path)):
        with open(out, "w", encoding="utf-8", newline="\n") as stream:
            return _write(spans, instants, stream, pid, epoch_ms(epoch))
    return _write(spans, instants, out, pid, epoch_ms(epoch))


def _write(spans: Sequence[Span], instants: Sequence[Instant], out: IO[str], pid: int, origin_ms: int) -> int:
    by_id = {span.span_id: span for span in spans}
    ids: dict[str, str] = {}
    clock = _Clock(origin_ms)
    count = 0
    for at_ms, kind, record, root, parent_id in ordered_events(spans, instants):
        parent = by_id[parent_id] if parent_id is not None else None
        error = getattr(record, "error", None) if kind == END else None
        event: dict[str, Any] = {
            "schemaVersion": SCHEMA_VERSION,
            "type": _TYPES[kind] if not error else "span.error",
            "timestamp": clock.iso(at_ms),
            "name": record.name,
            "pid": pid,
            "phase": LIST_PHASE if root == LIST_SPAN else OTHER_PHASE,
        }
        if isinstance(record, Span):
            if kind == START:
                ids[record.span_id] = f"{pid & 0xFFFFFFFF:08x}-0000-4000-8000-{len(ids) + 1:012x}"
            event["spanId"] = ids[record.span_id]
        if parent is not None:
            event["parentSpanId"] = ids[parent.span_id]
        if isinstance(record, Span) and kind == END:
            event["durationMs"] = _number(record.duration_ms)
            if error:
                event["errorName"] = error
        track = None if record.track == (parent.track if parent else DEFAULT_TRACK) else record.track
        attributes = _attributes(record.attributes, track)
        if attributes:
            event["attributes"] = attributes
        out.write(json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n")
        count += 1
    return count


def _attributes(attributes: Attributes, track: str | None) -> dict[str, Any]:
    """The gateway's normalisation: numbers rounded to 3 decimals and clamped at 0, non-finite ones dropped."""
    normalized: dict[str, Any] = {}
    for key, value in attributes:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if math.isfinite(value):
                normalized[key] = _number(value)
        else:
            normalized[key] = value
    if track is not None:
        normalized[TRACK_ATTRIBUTE] = track
    return normalized


def _number(value: float) -> int | float:
    """JavaScript's ``Math.max(0, Math.round(v * 1e3) / 1e3)``, integral results as ints (JSON.stringify's ``100``)."""
    rounded = max(0.0, math.floor(value * 1000 + 0.5) / 1000)
    return int(rounded) if rounded.is_integer() else rounded


class _Clock:
    """ISO timestamps ``floor(origin + t)`` ms, with the seconds prefix cached (traces cluster in time)."""

    def __init__(self, origin_ms: int) -> None:
        self.origin_ms = origin_ms
        self.second = -1
        self.prefix = ""

    def iso(self, at_ms: float) -> str:
        whole_ms = self.origin_ms + math.floor(round(at_ms, 6))  # round first: 1000.0 - 1e-13 is still 1000
        second, millis = divmod(whole_ms, 1000)
        if second != self.second:
            self.second, self.prefix = second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self.prefix}.{millis:03d}Z"
