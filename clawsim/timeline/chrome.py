"""A run's events as a Chrome trace: Chrome Trace Event JSON (chrome://tracing, Perfetto, speedscope).

One process; one thread (``tid``) per track: ``"loop"`` first, then the other tracks in natural
order ("list 2" before "list 10"). Spans are complete events (``ph: "X"``, ``ts``/``dur`` in µs),
instants thread-scoped instant events (``ph: "i"``, ``s: "t"``), and metadata events
(``ph: "M"``) name the process and threads and set ``thread_sort_index``. Events come metadata
first, then sorted by (tid, ts, longer span first, input order), so a parent precedes the
children that start with it. Category ``clawsim`` for ``clawsim.*`` names, else ``openclaw``;
``args`` are the attributes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from .model import Attributes, Instant, Span
from .names import CLAWSIM_PREFIX

DEFAULT_PROCESS = "clawsim"


def chrome_trace(
    spans: Sequence[Span], instants: Sequence[Instant] = (), *, process_name: str = DEFAULT_PROCESS, pid: int = 1
) -> dict[str, Any]:
    """``{"traceEvents": [...], "displayTimeUnit": "ms"}`` for the events; deterministic for equal input."""
    tids = _tids([*spans, *instants])
    events: list[tuple[tuple[int, float, float, int], dict[str, Any]]] = []
    for index, span in enumerate(spans):
        tid = tids[span.track]
        event = _base(span.name, "X", _us(span.start_ms), pid, tid, span.attributes)
        event["dur"] = _us(span.duration_ms)
        events.append(((tid, event["ts"], -event["dur"], index), event))
    for index, instant in enumerate(instants):
        tid = tids[instant.track]
        event = _base(instant.name, "i", _us(instant.at_ms), pid, tid, instant.attributes)
        event["s"] = "t"
        events.append(((tid, event["ts"], 0.0, len(spans) + index), event))
    events.sort(key=lambda item: item[0])
    return {"traceEvents": [*_metadata(tids, process_name, pid), *(e for _, e in events)], "displayTimeUnit": "ms"}


def write_chrome_trace(
    spans: Sequence[Span],
    instants: Sequence[Instant],
    out: str | Path | IO[str],
    *,
    process_name: str = DEFAULT_PROCESS,
    pid: int = 1,
) -> None:
    """Write :func:`chrome_trace` as compact JSON (same input -> same bytes) to a path or text stream."""
    text = json.dumps(chrome_trace(spans, instants, process_name=process_name, pid=pid), separators=(",", ":"))
    if isinstance(out, (str, Path)):
        Path(out).write_text(text + "\n", encoding="utf-8")
    else:
        out.write(text + "\n")


def _base(name: str, phase: str, ts: float, pid: int, tid: int, attributes: Attributes) -> dict[str, Any]:
    category = "clawsim" if name.startswith(CLAWSIM_PREFIX) else "openclaw"
    return {"name": name, "cat": category, "ph": phase, "ts": ts, "pid": pid, "tid": tid, "args": dict(attributes)}


def _us(ms: float) -> float:
    """Milliseconds as microseconds, to the nanosecond (keeps the JSON short and stable)."""
    return round(ms * 1000.0, 3)


def _natural(track: str) -> tuple[Any, ...]:
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", track))


def _tids(records: Sequence[Span | Instant]) -> dict[str, int]:
    """Track -> tid (1-based): "loop" first, then natural order of the names."""
    tracks = sorted({record.track for record in records}, key=lambda t: (t != "loop", _natural(t)))
    return {track: index + 1 for index, track in enumerate(tracks)}


def _metadata(tids: dict[str, int], process_name: str, pid: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = [
        {"name": "process_name", "ph": "M", "pid": pid, "tid": 0, "args": {"name": process_name}}
    ]
    for track, tid in tids.items():
        events.append({"name": "thread_name", "ph": "M", "pid": pid, "tid": tid, "args": {"name": track}})
        events.append({"name": "thread_sort_index", "ph": "M", "pid": pid, "tid": tid, "args": {"sort_index": tid}})
    return events
