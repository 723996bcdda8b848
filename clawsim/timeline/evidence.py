"""What a diagnostics timeline says about each ``sessions.list`` call, and what can be inferred from it.

:func:`list_evidence` groups the spans of each ``gateway.sessions.list`` tree; :func:`infer_list`
reads the memo's behaviour off one list's lookups. The gateway never logs the flips
(``setActivePluginRegistry`` emits no event), only their effect: which lookups were full scans.

The inference rests on the row loop's structure. Rows are built synchronously in batches of
``SESSIONS_LIST_YIELD_BATCH_SIZE`` (10) with one ``setImmediate`` yield between batches, and each
row makes the same number L of lookups. So lookup k belongs to row ``k // L`` and to batch
``row // B``; nothing else can run inside a batch, so the active workspace (the memo key) cannot
change within it:

- a miss after the first row of a batch means the memo kept nothing from that batch's first row:
  policy none, or fewer entries than keys per row (or, in 2026.6.5, a key rebuilt from the
  scanned index that never matches). Per-row ``await``s for transcript fields would also explain
  it; those lists do not take the bug's path and are rare.
- a batch after a yield that begins with misses means the workspace changed across that yield
  (a flip by a concurrent turn or cron) to one the memo does not hold.
- the rows span's duration minus all lookup spans is what the rows cost besides lookups: row
  building, work after a scan that falls outside its span (freezing, key computation) and
  whatever ran on the loop while the list was yielded.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from statistics import fmean
from typing import TYPE_CHECKING

from .model import Instant, Span
from .names import BATCH, CLAWSIM_PREFIX, LIST_SPAN, ROWS_SPAN, SCAN_SPAN

if TYPE_CHECKING:
    import pandas as pd

SESSIONS_LIST_YIELD_BATCH_SIZE = 10  # the gateway's constant: rows per batch between yields
Record = Span | Instant


@dataclass(frozen=True, slots=True)
class Lookup:
    """One ``plugins.metadata.scan`` span: a full scan (``cache_hit`` False) or a memo hit."""

    start_ms: float
    duration_ms: float
    cache_hit: bool


@dataclass(frozen=True, slots=True)
class ListEvidence:
    """One ``gateway.sessions.list`` call as the timeline shows it.

    ``lookups``: scan spans whose parent is the rows span, in time order; ``outside``: the other
    scan spans of the list's tree; ``extras``: its ``clawsim.*`` spans and marks. ``rows`` is the
    rows span's ``storeEntries``; ``rows``/``rows_ms`` are None when the list has no rows span.
    """

    pid: int
    span_id: str
    start_ms: float
    list_ms: float
    rows: int | None
    rows_ms: float | None
    lookups: tuple[Lookup, ...]
    outside: tuple[Lookup, ...]
    extras: tuple[Record, ...]
    error: str | None = None

    @property
    def misses(self) -> int:
        """Full scans among the row lookups."""
        return sum(1 for lookup in self.lookups if not lookup.cache_hit)

    @property
    def hits(self) -> int:
        """Memo hits among the row lookups."""
        return len(self.lookups) - self.misses


def list_evidence(records: Iterable[Record]) -> Iterator[ListEvidence]:
    """One :class:`ListEvidence` per list span, yielded when it completes; streaming.

    ``records`` must come in completion order (children before their parent), as
    :func:`read_timeline` yields them; for the engine's own lists use :func:`completion_order`.
    Spans of other trees are dropped when their root completes, so memory holds open trees only.
    """
    pending: dict[tuple[int, str], list[Record]] = {}
    for record in records:
        pid = getattr(record, "pid", 0)
        if isinstance(record, Span) and record.name == LIST_SPAN:
            yield _evidence(record, pid, _subtree(pending, pid, record))
        elif isinstance(record, Span) and record.parent_id is None:
            _subtree(pending, pid, record)
        if record.parent_id is not None:
            pending.setdefault((pid, record.parent_id), []).append(record)


def _subtree(pending: dict[tuple[int, str], list[Record]], pid: int, root: Span) -> list[Record]:
    """Remove and return every buffered descendant of ``root``."""
    found: list[Record] = []
    stack = [root.span_id]
    while stack:
        for child in pending.pop((pid, stack.pop()), []):
            found.append(child)
            if isinstance(child, Span):
                stack.append(child.span_id)
    return found


def _evidence(root: Span, pid: int, tree: list[Record]) -> ListEvidence:
    rows_span = next(
        (r for r in tree if isinstance(r, Span) and r.name == ROWS_SPAN and r.parent_id == root.span_id), None
    )
    rows_id = rows_span.span_id if rows_span is not None else None
    scans = sorted((r for r in tree if isinstance(r, Span) and r.name == SCAN_SPAN), key=lambda r: r.start_ms)
    store_entries = rows_span.attr("storeEntries") if rows_span is not None else None
    return ListEvidence(
        pid=pid,
        span_id=root.span_id,
        start_ms=root.start_ms,
        list_ms=root.duration_ms,
        rows=store_entries if isinstance(store_entries, int) and not isinstance(store_entries, bool) else None,
        rows_ms=rows_span.duration_ms if rows_span is not None else None,
        lookups=tuple(_lookup(s) for s in scans if s.parent_id == rows_id),
        outside=tuple(_lookup(s) for s in scans if s.parent_id != rows_id),
        extras=tuple(r for r in tree if r.name.startswith(CLAWSIM_PREFIX)),
        error=getattr(root, "error", None),
    )


def _lookup(span: Span) -> Lookup:
    return Lookup(span.start_ms, span.duration_ms, span.attr("cacheHit") is True)


@dataclass(frozen=True, slots=True)
class ListInference:
    """What one list's lookups imply (see the module docstring for the reasoning).

    ``lookups_per_row`` is lookups / rows; ``per_row`` is it as an int when exact and > 0, and the
    batch fields are None unless it is. ``misses_per_batch[j]``: full scans in batch j.
    ``misses_after_first_row``: full scans in rows that are not the first of their batch (> 0 =>
    the memo keeps no entries). ``yields_then_misses``: batches after a yield whose first row
    missed; ``miss_after_yield_fraction`` is that over the list's yields (None without yields).
    ``other_ms_per_row``: (rows span - all lookup spans) / rows. ``hits_logged`` is False when no
    lookup carries ``cacheHit`` (a release that emits no hit spans, or every lookup missed).
    """

    rows: int
    lookups: int
    lookups_per_row: float | None
    per_row: int | None
    batch: int
    yields: int
    misses_per_batch: tuple[int, ...] | None
    misses_after_first_row: int | None
    yields_then_misses: int | None
    miss_after_yield_fraction: float | None
    other_ms_per_row: float | None
    miss_ms_mean: float | None
    hit_ms_mean: float | None
    hits_logged: bool

    @property
    def memo_keeps_nothing(self) -> bool | None:
        """True when a batch misses after its first row: policy none or capacity below keys per row."""
        return None if self.misses_after_first_row is None else self.misses_after_first_row > 0


def infer_list(evidence: ListEvidence, batch: int = SESSIONS_LIST_YIELD_BATCH_SIZE) -> ListInference:
    """The memo's behaviour in one list, given the yield batch size ``batch`` (rows between yields)."""
    if batch < 1:
        raise ValueError(f"batch must be >= 1, got {batch}")
    rows, lookups = evidence.rows or 0, evidence.lookups
    per_row_float = len(lookups) / rows if rows else None
    per_row = len(lookups) // rows if rows and lookups and len(lookups) % rows == 0 else None
    batches = len(batch_sizes(evidence, batch))
    walk = walk_batches(evidence, per_row, batch) if per_row is not None else None
    misses_per_batch = walk.misses if walk is not None else None
    after_first = walk.misses_after_first_row if walk is not None else None
    yields_then_misses = sum(walk.first_row_missed[1:]) if walk is not None else None
    lookup_ms = sum(lookup.duration_ms for lookup in lookups)
    return ListInference(
        rows=rows,
        lookups=len(lookups),
        lookups_per_row=per_row_float,
        per_row=per_row,
        batch=batch,
        yields=max(batches - 1, 0),
        misses_per_batch=misses_per_batch,
        misses_after_first_row=after_first,
        yields_then_misses=yields_then_misses,
        miss_after_yield_fraction=_ratio(yields_then_misses, batches - 1),
        other_ms_per_row=(evidence.rows_ms - lookup_ms) / rows if evidence.rows_ms is not None and rows else None,
        miss_ms_mean=_mean([lookup.duration_ms for lookup in lookups if not lookup.cache_hit]),
        hit_ms_mean=_mean([lookup.duration_ms for lookup in lookups if lookup.cache_hit]),
        hits_logged=any(lookup.cache_hit for lookup in lookups),
    )


@dataclass(frozen=True, slots=True)
class BatchWalk:
    """A list's lookups laid out on its batches: per batch, the start of its first row's first
    lookup, whether that row missed, and its misses; the misses after a batch's first row; and
    ``lead``, the lookups besides the rows' placed before row 0."""

    starts_ms: tuple[float, ...]
    first_row_missed: tuple[bool, ...]
    misses: tuple[int, ...]
    misses_after_first_row: int
    lead: int = 0


def batch_sizes(evidence: ListEvidence, batch: int = SESSIONS_LIST_YIELD_BATCH_SIZE) -> list[int]:
    """Rows of each batch: from clawsim's batch spans when the timeline has them (a simulated
    run), else the gateway's rule (a yield every ``batch`` rows)."""
    sizes = [int(r.attr("rows") or 0) for r in evidence.extras if r.name == BATCH]
    if sizes and sum(sizes) == evidence.rows:
        return sizes
    rows = evidence.rows or 0
    return [min(batch, rows - i) for i in range(0, rows, batch)]


def _ranges(sizes: list[int], per_row: int, extra: int, lead: int) -> list[tuple[int, int]]:
    """(first lookup of its first row, end) of each batch, with ``lead`` of the ``extra``
    lookups before row 0 (in the first batch) and the rest after the last row."""
    out, k = [], lead
    for j, size in enumerate(sizes):
        out.append((k, k + size * per_row + (extra - lead if j == len(sizes) - 1 else 0)))
        k += size * per_row
    return out


def _after_first(lookups: tuple[Lookup, ...], ranges: list[tuple[int, int]], per_row: int) -> int:
    return sum(not lk.cache_hit for row0, end in ranges for lk in lookups[row0 + per_row : end])


def walk_batches(evidence: ListEvidence, per_row: int, batch: int = SESSIONS_LIST_YIELD_BATCH_SIZE) -> BatchWalk:
    """Lay the lookups on the batches (``per_row`` each row). A real list makes a few lookups
    besides its rows' (3 in the June 2026 releases, docs/sources.md §6): they are placed where
    they explain the misses best (fewest misses after a batch's first row), some before row 0
    and the rest after the last row."""
    sizes, lookups = batch_sizes(evidence, batch), evidence.lookups
    extra = max(len(lookups) - per_row * sum(sizes), 0)
    lead = min(range(extra + 1), key=lambda n: _after_first(lookups, _ranges(sizes, per_row, extra, n), per_row))
    ranges = _ranges(sizes, per_row, extra, lead)
    shown = [(row0, end) for row0, end in ranges if row0 < len(lookups)]
    return BatchWalk(
        starts_ms=tuple(lookups[row0].start_ms for row0, _ in shown),
        first_row_missed=tuple(any(not lk.cache_hit for lk in lookups[row0 : row0 + per_row]) for row0, _ in shown),
        misses=tuple(
            sum(not lk.cache_hit for lk in lookups[(0 if j == 0 else row0) : end])
            for j, (row0, end) in enumerate(ranges)
        ),
        misses_after_first_row=_after_first(lookups, ranges, per_row),
        lead=lead,
    )


def _ratio(count: int | None, total: int) -> float | None:
    return count / total if count is not None and total > 0 else None


def _mean(values: list[float]) -> float | None:
    return fmean(values) if values else None


def evidence_frame(evidences: Iterable[ListEvidence], batch: int = SESSIONS_LIST_YIELD_BATCH_SIZE) -> pd.DataFrame:
    """One row per list: the evidence's scalars and the inference's (``misses_per_batch`` as a tuple)."""
    import pandas as pd

    rows = []
    for evidence in evidences:
        inference = infer_list(evidence, batch)
        rows.append(
            {
                "pid": evidence.pid,
                "span_id": evidence.span_id,
                "start_ms": evidence.start_ms,
                "list_ms": evidence.list_ms,
                "rows_ms": evidence.rows_ms,
                "misses": evidence.misses,
                "hits": evidence.hits,
                "outside_lookups": len(evidence.outside),
                **{name: getattr(inference, name) for name in ListInference.__dataclass_fields__},
            }
        )
    return pd.DataFrame(rows)
