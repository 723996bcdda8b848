"""Read one real openclaw diagnostics timeline (JSON Lines) of a single ``sessions.list`` call.

The contract: the file holds exactly one ``gateway.sessions.list`` and one
``gateway.sessions.list.rows`` span end; the counts are of ``plugins.metadata.scan`` span
ends whose parent is that rows span. A span with ``attributes.cacheHit: true`` is a memo hit;
one without the key is a full scan. All durations are milliseconds, as the timeline writes them.
Bad input raises ``TimelineError`` naming the file and line.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path

ROWS_SPAN = "gateway.sessions.list.rows"
LIST_SPAN = "gateway.sessions.list"
SCAN_SPAN = "plugins.metadata.scan"


class TimelineError(Exception):
    """A timeline that cannot be read; ``str()`` names the file and line."""


@dataclass(frozen=True)
class ListTimeline:
    """What one list's timeline shows: span counts under the rows span and their durations."""

    rows_built: int  # the rows span's storeEntries: the store's size (the drive lists all of it)
    list_span_ms: float
    rows_span_ms: float
    full_scan_ms: tuple[float, ...]
    hit_ms: tuple[float, ...]
    scans_outside_rows: int

    @property
    def full_scans(self) -> int:
        return len(self.full_scan_ms)

    @property
    def hits(self) -> int:
        return len(self.hit_ms)

    @property
    def scan_spans(self) -> int:
        return self.full_scans + self.hits

    @property
    def median_scan_ms(self) -> float:
        return statistics.median(self.full_scan_ms) if self.full_scan_ms else 0.0

    @property
    def median_hit_ms(self) -> float:
        return statistics.median(self.hit_ms) if self.hit_ms else 0.0

    @property
    def spans_over_median_ms(self) -> float:
        """What the scan spans took beyond their medians, summed (the scenario charges medians)."""
        over_scans = sum(self.full_scan_ms) - self.full_scans * self.median_scan_ms
        return over_scans + sum(self.hit_ms) - self.hits * self.median_hit_ms

    @property
    def row_cost_ms(self) -> float:
        """Rows-span time outside every scan span under it, per row built."""
        outside = self.rows_span_ms - sum(self.full_scan_ms) - sum(self.hit_ms)
        return max(outside, 0.0) / self.rows_built


def _events(path: Path) -> list[tuple[int, dict]]:
    events = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TimelineError(f"{path}:{number}: not JSON: {exc.msg}") from None
        if not isinstance(event, dict) or "type" not in event or "name" not in event:
            raise TimelineError(f"{path}:{number}: an event needs 'type' and 'name'")
        events.append((number, event))
    return events


def _one_end(path: Path, ends: list[tuple[int, dict]], name: str) -> tuple[int, dict]:
    found = [(number, event) for number, event in ends if event["name"] == name]
    if len(found) != 1:
        raise TimelineError(f"{path}:1: expected one '{name}' span end, found {len(found)}")
    return found[0]


def _duration(path: Path, number: int, event: dict) -> float:
    value = event.get("durationMs")
    if not isinstance(value, (int, float)):
        raise TimelineError(f"{path}:{number}: durationMs: a span end needs a number")
    return float(value)


def read_list_timeline(path: Path) -> ListTimeline:
    """Read ``path``; raise TimelineError if it is not one list's timeline."""
    ends = [(n, e) for n, e in _events(path) if e["type"] == "span.end"]
    rows_line, rows = _one_end(path, ends, ROWS_SPAN)
    list_line, listed = _one_end(path, ends, LIST_SPAN)
    scans = [(n, e) for n, e in ends if e["name"] == SCAN_SPAN]
    under = [(n, e) for n, e in scans if e.get("parentSpanId") == rows.get("spanId")]
    hits = tuple(_duration(path, n, e) for n, e in under if (e.get("attributes") or {}).get("cacheHit") is True)
    full = tuple(_duration(path, n, e) for n, e in under if (e.get("attributes") or {}).get("cacheHit") is not True)
    built = (rows.get("attributes") or {}).get("storeEntries")
    if not isinstance(built, int) or built < 1:
        raise TimelineError(f"{path}:{rows_line}: {ROWS_SPAN}.attributes.storeEntries: expected a positive integer")
    return ListTimeline(
        rows_built=built,
        list_span_ms=_duration(path, list_line, listed),
        rows_span_ms=_duration(path, rows_line, rows),
        full_scan_ms=full,
        hit_ms=hits,
        scans_outside_rows=len(scans) - len(under),
    )
