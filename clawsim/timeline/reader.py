"""Stream a diagnostics timeline back into spans (and, on request, marks).

Contract of :func:`read_timeline`:

- a generator; memory is constant apart from the spans open at a point of the file;
- yields a :class:`LoggedSpan` when its ``span.end`` or ``span.error`` line is read (so children
  before parents), and, with ``marks=True``, a :class:`LoggedMark` per ``mark`` line; other event
  types (``eventLoop.sample``, ...) and spans never closed (a truncated file) are skipped;
- times are ms since ``epoch`` (default: the first event's timestamp). The start of a span is the
  earliest time consistent with both its start timestamp and its end timestamp minus
  ``durationMs`` (timestamps are truncated to the ms): within 1 ms of the true start. A span whose
  start line is missing starts at end timestamp minus ``durationMs``;
- spans are keyed by ``(pid, spanId)``, so several processes may share one file;
- ``track``: attribute ``clawsim.track`` (removed from the attributes), else the parent's track
  when the parent is open, else ``"loop"``;
- a path ending ``.gz`` is read through gzip;
- tolerated: other span names, missing attributes, non-UUID span ids, blank lines, a BOM, and an
  unparsable LAST line (a write cut short). Anything else that is not a timeline raises
  :class:`TimelineError` with ``file:line: ...``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from json.scanner import make_scanner
from os import PathLike
from typing import Any, Literal, overload

from .model import AttrValue, LoggedMark, LoggedSpan
from .names import TRACK_ATTRIBUTE
from .openclaw import DEFAULT_TRACK, SCHEMA_VERSION, epoch_ms

_SCALARS = (str, int, float, bool, type(None))
_FAST = frozenset(_SCALARS)


class TimelineError(ValueError):
    """A file that is not an openclaw diagnostics timeline; the message is one line: ``file:line: what``."""


Source = str | PathLike[str] | Iterable[str]


@overload
def read_timeline(
    source: Source, *, epoch: str | datetime | None = ..., marks: Literal[False] = ...
) -> Iterator[LoggedSpan]: ...
@overload
def read_timeline(
    source: Source, *, epoch: str | datetime | None = ..., marks: Literal[True]
) -> Iterator[LoggedSpan | LoggedMark]: ...
def read_timeline(
    source: Source, *, epoch: str | datetime | None = None, marks: bool = False
) -> Iterator[LoggedSpan] | Iterator[LoggedSpan | LoggedMark]:
    """Completed spans (and marks if ``marks``) of a timeline file path or an iterable of lines."""
    if isinstance(source, (str, PathLike)):
        return _read_path(str(source), epoch, marks)
    return _read(source, "<lines>", epoch, marks)


def _read_path(path: str, epoch: str | datetime | None, marks: bool) -> Iterator[LoggedSpan | LoggedMark]:
    """A plain file, or a gzip-compressed one (``.gz``: how a day of a busy gateway is kept)."""
    if path.endswith(".gz"):
        import gzip

        with gzip.open(path, "rt", encoding="utf-8", errors="replace", newline=None) as packed:
            yield from _read(packed, path, epoch, marks)
        return
    with open(path, encoding="utf-8", errors="replace", newline=None) as lines:
        yield from _read(lines, path, epoch, marks)


def _read(
    lines: Iterable[str], name: str, epoch: str | datetime | None, marks: bool
) -> Iterator[LoggedSpan | LoggedMark]:
    state = _State(name, None if epoch is None else epoch_ms(epoch))
    for lineno, event in _events(lines, name):
        kind = event.get("type")
        if kind == "span.start":
            state.start(lineno, event)
        elif kind == "span.end" or kind == "span.error":
            yield state.finish(lineno, event)
        elif kind == "mark" and marks:
            yield state.mark(lineno, event)


def _events(lines: Iterable[str], name: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` per non-blank line; an unparsable line is an error unless it is the last."""
    # The C scanner, without json.loads' two Python-level frames (typeshed mistypes its argument).
    scan = make_scanner(json.JSONDecoder())  # type: ignore[arg-type]
    bad: tuple[int, str] | None = None
    seen = False
    for lineno, raw in enumerate(lines, 1):
        text = raw.strip()
        if lineno == 1:
            text = text.lstrip("\ufeff")
        if not text:
            continue
        if bad is not None:  # a bad line followed by more text: not a cut-short write
            raise TimelineError(f"{name}:{bad[0]}: {bad[1]}")
        try:
            event, end = scan(text, 0)
        except (ValueError, StopIteration):
            end = -1
        if end != len(text):
            bad = (lineno, f"not JSON: {text[:40]!r}")
            continue
        if type(event) is not dict:
            raise TimelineError(f"{name}:{lineno}: not a JSON object: {text[:40]!r}")
        if event.get("schemaVersion") != SCHEMA_VERSION:
            raise TimelineError(f"{name}:{lineno}: field schemaVersion: {_schema(event)}")
        seen = True
        yield lineno, event
    if bad is not None and not seen:
        raise TimelineError(f"{name}:{bad[0]}: {bad[1]}")


def _schema(event: dict[str, Any]) -> str:
    schema = event.get("schemaVersion")
    what = "missing" if schema is None else f"{schema!r}, expected {SCHEMA_VERSION!r}"
    return f"{what} (not an openclaw diagnostics timeline)"


class _State:
    """Open spans keyed by ``(pid, spanId)`` and the time origin, for one file."""

    def __init__(self, name: str, origin_ms: int | None) -> None:
        self.name = name
        self.origin_ms = origin_ms
        self.open: dict[tuple[int, str], tuple[float, str]] = {}  # key -> (start timestamp ms, track)
        self.seconds: dict[str, int] = {}

    def start(self, lineno: int, event: dict[str, Any]) -> None:
        pid, span_id, parent_id = self._ids(lineno, event)
        attributes = event.get("attributes")
        self.open[(pid, span_id)] = (self._ms(lineno, event), self._track(pid, parent_id, attributes))

    def finish(self, lineno: int, event: dict[str, Any]) -> LoggedSpan:
        pid, span_id, parent_id = self._ids(lineno, event)
        end_ms = self._ms(lineno, event)
        duration = event.get("durationMs")
        opened = self.open.pop((pid, span_id), None)
        if not isinstance(duration, (int, float)) or isinstance(duration, bool) or not duration >= 0:
            duration = end_ms - opened[0] if opened is not None and end_ms >= opened[0] else 0.0
        start_ms = end_ms - duration if opened is None else max(opened[0], end_ms - duration)
        attributes = event.get("attributes")
        track = opened[1] if opened is not None else self._track(pid, parent_id, attributes)
        error = (str(event.get("errorName") or "Error")) if event["type"] == "span.error" else None
        return LoggedSpan(
            _text(self.name, lineno, event, "name"), start_ms, float(duration), span_id, parent_id, track,
            _attributes(attributes), pid, _phase(event), error,
        )  # fmt: skip

    def mark(self, lineno: int, event: dict[str, Any]) -> LoggedMark:
        pid = _pid(event)
        parent_id = event.get("parentSpanId")
        parent_id = str(parent_id) if parent_id is not None else None
        attributes = event.get("attributes")
        track = self._track(pid, parent_id, attributes)
        return LoggedMark(
            _text(self.name, lineno, event, "name"), self._ms(lineno, event), track, _attributes(attributes),
            parent_id, pid, _phase(event),
        )  # fmt: skip

    def _ids(self, lineno: int, event: dict[str, Any]) -> tuple[int, str, str | None]:
        span_id = event.get("spanId")
        if type(span_id) is not str:
            if type(span_id) is not int:
                raise TimelineError(f"{self.name}:{lineno}: field spanId: missing or not a string")
            span_id = str(span_id)
        parent_id = event.get("parentSpanId")
        if parent_id is not None and type(parent_id) is not str:
            parent_id = str(parent_id)
        return _pid(event), span_id, parent_id

    def _track(self, pid: int, parent_id: str | None, attributes: Any) -> str:
        if isinstance(attributes, dict) and isinstance(attributes.get(TRACK_ATTRIBUTE), str):
            return str(attributes[TRACK_ATTRIBUTE])
        parent = self.open.get((pid, parent_id)) if parent_id is not None else None
        return parent[1] if parent is not None else DEFAULT_TRACK

    def _ms(self, lineno: int, event: dict[str, Any]) -> float:
        """The event's timestamp in ms since the origin (the first timestamp if no epoch was given)."""
        stamp = event.get("timestamp")
        if not isinstance(stamp, str):
            raise TimelineError(f"{self.name}:{lineno}: field timestamp: missing or not a string")
        whole_ms = self._parse(lineno, stamp)
        if self.origin_ms is None:
            self.origin_ms = whole_ms
        return float(whole_ms - self.origin_ms)

    def _parse(self, lineno: int, stamp: str) -> int:
        """ISO 8601 to ms since 1970; the common ``...T12:34:56.789Z`` form parses through a per-second cache."""
        if len(stamp) == 24 and stamp[19] == "." and stamp[23] == "Z" and stamp[20:23].isdigit():
            second = self.seconds.get(stamp[:19])
            if second is None:
                if len(self.seconds) > 4096:
                    self.seconds.clear()
                second = self.seconds[stamp[:19]] = epoch_ms(self._iso(lineno, stamp[:19]))
            return second + int(stamp[20:23])
        return epoch_ms(self._iso(lineno, stamp))

    def _iso(self, lineno: int, stamp: str) -> datetime:
        try:
            moment = datetime.fromisoformat(stamp)
        except ValueError:
            raise TimelineError(
                f"{self.name}:{lineno}: field timestamp: not an ISO 8601 time: {stamp[:40]!r}"
            ) from None
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _text(name: str, lineno: int, event: dict[str, Any], field: str) -> str:
    value = event.get(field)
    if not isinstance(value, str):
        raise TimelineError(f"{name}:{lineno}: field {field}: missing or not a string")
    return value


def _pid(event: dict[str, Any]) -> int:
    pid = event.get("pid")
    return pid if type(pid) is int else 0


def _phase(event: dict[str, Any]) -> str | None:
    phase = event.get("phase")
    return phase if isinstance(phase, str) else None


def _attributes(attributes: Any) -> tuple[tuple[str, AttrValue], ...]:
    """Scalar attributes in file order, without ``clawsim.track``; anything else (as the gateway would) dropped."""
    if type(attributes) is not dict:
        return ()
    pairs = tuple(attributes.items())
    if TRACK_ATTRIBUTE not in attributes and all(type(value) in _FAST for _, value in pairs):
        return pairs
    return tuple(
        (key, value) for key, value in attributes.items() if key != TRACK_ATTRIBUTE and isinstance(value, _SCALARS)
    )
