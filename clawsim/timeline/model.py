"""The events of one run, in no file format yet: spans (work with a duration) and instants (a moment).

Times are milliseconds of simulated time from the run's t=0. ``track`` names the lane a
record is drawn on: ``"loop"`` (the event loop's thread), ``"list 0"``, ``"actor flipper"``,
... Spans on one track nest (a track is a logical thread); a span's parent is named by id and
may sit on another track. Attributes are a tuple of ``(key, value)`` pairs in insertion order
with JSON scalar values, so every record is immutable and hashable; pass a mapping through
:func:`freeze_attributes` (the constructors also accept a mapping and freeze it).

The reader of the openclaw format yields :class:`LoggedSpan` / :class:`LoggedMark`, which add
what a real file carries and the engine does not need (pid, phase, error).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

AttrValue = str | int | float | bool | None
Attributes = tuple[tuple[str, AttrValue], ...]
_SCALARS = (str, int, float, bool, type(None))


def freeze_attributes(attributes: Mapping[str, AttrValue] | Iterable[tuple[str, AttrValue]] | None) -> Attributes:
    """A mapping or pairs as an immutable tuple of pairs, order kept; raises ValueError on a non-scalar value."""
    if attributes is None:
        return ()
    pairs = tuple(attributes.items() if isinstance(attributes, Mapping) else attributes)
    for key, value in pairs:
        if not isinstance(key, str) or not isinstance(value, _SCALARS):
            raise ValueError(f"attribute {key!r}: expected a string key and a JSON scalar value, got {value!r}")
    return pairs


def _freeze_field(record: Span | Instant) -> None:
    """Freeze a mapping given as ``attributes`` in place (the record is frozen, hence object.__setattr__)."""
    attributes: object = record.attributes
    if not isinstance(attributes, tuple):
        object.__setattr__(record, "attributes", freeze_attributes(attributes))  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Span:
    """Work from ``start_ms`` for ``duration_ms`` (>= 0); ``parent_id`` is None on a root."""

    name: str
    start_ms: float
    duration_ms: float
    span_id: str
    parent_id: str | None = None
    track: str = "loop"
    attributes: Attributes = ()

    def __post_init__(self) -> None:
        _freeze_field(self)
        if not self.duration_ms >= 0:  # also rejects NaN
            raise ValueError(f"span {self.name} ({self.span_id}): duration_ms must be >= 0, got {self.duration_ms}")

    @property
    def end_ms(self) -> float:
        """When the span ends."""
        return self.start_ms + self.duration_ms

    def attr(self, key: str, default: AttrValue = None) -> AttrValue:
        """The value of attribute ``key``, or ``default``."""
        return _lookup(self.attributes, key, default)


@dataclass(frozen=True, slots=True)
class Instant:
    """A moment at ``at_ms``; ``parent_id`` optional (the writer infers the innermost open span on the track)."""

    name: str
    at_ms: float
    track: str = "loop"
    attributes: Attributes = ()
    parent_id: str | None = None

    def __post_init__(self) -> None:
        _freeze_field(self)

    def attr(self, key: str, default: AttrValue = None) -> AttrValue:
        """The value of attribute ``key``, or ``default``."""
        return _lookup(self.attributes, key, default)


@dataclass(frozen=True, slots=True)
class LoggedSpan(Span):
    """A span read from a diagnostics timeline: its process, phase, and ``error`` (errorName of a span.error)."""

    pid: int = 0
    phase: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class LoggedMark(Instant):
    """A ``mark`` event read from a diagnostics timeline (an instant), with its process and phase."""

    pid: int = 0
    phase: str | None = None


def _lookup(attributes: Attributes, key: str, default: AttrValue) -> AttrValue:
    for name, value in attributes:
        if name == key:
            return value
    return default
