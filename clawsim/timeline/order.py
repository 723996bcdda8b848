"""The order in which a real gateway would have written a run's events.

A span gives a start event at ``start_ms`` and an end event at ``end_ms``; an instant one mark
event at ``at_ms``. Events are ordered by time. Ties inside one span tree follow the tree
(a parent starts before its children and ends after them; a zero-length child at its parent's
end still comes before that end), which is what an append-only log of nested calls shows.
Ties between trees put ends first, then marks, then starts: work that finishes at a moment was
written before work that begins at it. The order is a pure function of the records.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from operator import itemgetter

from .model import Instant, Span

END, MARK, START = 0, 1, 2
Record = Span | Instant
# (time_ms, END | MARK | START, record, name of the tree's root, parent span id or None)
Event = tuple[float, int, Record, str, str | None]
_Child = tuple[tuple[float, float, int], Record]
_EPS_MS = 1e-9


def ordered_events(spans: Sequence[Span], instants: Sequence[Instant] = ()) -> Iterator[Event]:
    """Every event in write order; raises ValueError on duplicate ids, unknown parents, a child outside its parent."""
    by_id: dict[str, Span] = {}
    for span in spans:
        if by_id.setdefault(span.span_id, span) is not span:
            raise ValueError(f"span id {span.span_id!r} is used twice")
    children: dict[str | None, list[_Child]] = {}
    for index, span in enumerate(spans):
        _check_parent(span, span.parent_id, span.start_ms, span.end_ms, by_id)
        children.setdefault(span.parent_id, []).append(((span.start_ms, span.end_ms, index), span))
    for index, (instant, parent) in enumerate(zip(instants, instant_parents(spans, instants), strict=True)):
        _check_parent(instant, parent, instant.at_ms, instant.at_ms, by_id)
        children.setdefault(parent, []).append(((instant.at_ms, instant.at_ms, len(spans) + index), instant))
    for siblings in children.values():
        siblings.sort(key=itemgetter(0))
    trees = [_tree_events(root, children) for _, root in children.get(None, [])]
    if sum(len(tree) for tree in trees) != 2 * len(spans) + len(instants):
        raise ValueError("span parent ids form a cycle")
    return heapq.merge(*trees, key=itemgetter(0, 1))


def completion_order(spans: Sequence[Span], instants: Sequence[Instant] = ()) -> Iterator[Record]:
    """Spans in the order they end and instants at their moment: the order :func:`read_timeline` yields."""
    for _, kind, record, _, _ in ordered_events(spans, instants):
        if kind != START:
            yield record


def instant_parents(spans: Sequence[Span], instants: Sequence[Instant]) -> list[str | None]:
    """Each instant's parent: its own ``parent_id``, else the innermost span on its track open at ``at_ms``.

    "Open" includes both ends; of several candidates the latest-starting one wins (spans on a
    track nest, so that is the innermost). Sweeps each track once: O(n log n).
    """
    by_track: dict[str, list[Span]] = {}
    for span in spans:
        by_track.setdefault(span.track, []).append(span)
    for track_spans in by_track.values():
        track_spans.sort(key=lambda span: (span.start_ms, -span.duration_ms))
    parents: list[str | None] = [instant.parent_id for instant in instants]
    pending = sorted((i for i, m in enumerate(instants) if m.parent_id is None), key=lambda i: instants[i].at_ms)
    cursor: dict[str, int] = {}
    stacks: dict[str, list[Span]] = {}
    for i in pending:
        at_ms, track = instants[i].at_ms, instants[i].track
        track_spans, stack = by_track.get(track, []), stacks.setdefault(track, [])
        k = cursor.get(track, 0)
        while k < len(track_spans) and track_spans[k].start_ms <= at_ms:
            while stack and stack[-1].end_ms < track_spans[k].start_ms:
                stack.pop()
            stack.append(track_spans[k])
            k += 1
        cursor[track] = k
        while stack and stack[-1].end_ms < at_ms:
            stack.pop()
        parents[i] = stack[-1].span_id if stack else None
    return parents


def _check_parent(record: Record, parent_id: str | None, start_ms: float, end_ms: float, by_id: dict) -> None:
    if parent_id is None:
        return
    parent = by_id.get(parent_id)
    if parent is None:
        raise ValueError(f"{record.name}: parent {parent_id!r} is not among the spans")
    if start_ms < parent.start_ms - _EPS_MS or end_ms > parent.end_ms + _EPS_MS:
        raise ValueError(
            f"{record.name} [{start_ms}, {end_ms}] ms is not inside its parent {parent.name} "
            f"[{parent.start_ms}, {parent.end_ms}] ms"
        )


def _tree_events(root: Record, children: dict[str | None, list[_Child]]) -> list[Event]:
    """The tree's events in depth-first order, then stably sorted by time (the tree order breaks ties)."""
    events: list[Event] = []
    stack: list[tuple[Record, bool, str | None]] = [(root, False, None)]
    while stack:
        record, closing, parent_id = stack.pop()
        if isinstance(record, Instant):
            events.append((record.at_ms, MARK, record, root.name, parent_id))
        elif closing:
            events.append((record.end_ms, END, record, root.name, parent_id))
        else:
            events.append((record.start_ms, START, record, root.name, parent_id))
            stack.append((record, True, parent_id))
            stack.extend((child, False, record.span_id) for _, child in reversed(children.get(record.span_id, [])))
    events.sort(key=itemgetter(0))
    return events
