"""Hand-built events of one ``sessions.list`` call, shaped like the gateway's (for tests, demos, benchmarks).

Not a simulation: the caller says which lookups hit. The layout follows the gateway's list:
a root ``gateway.sessions.list`` with ``store_load``, ``model_catalog``, ``rows`` and
``active_run_flags`` children; inside ``rows``, each row makes ``per_row`` lookups (one
``plugins.metadata.scan`` span each) and then ``row_ms`` of other work; after every
``batch`` rows but the last the list yields for ``yield_ms`` (a ``clawsim.list.yield`` instant); a
full scan is followed by ``miss_overhead_ms`` of work outside its span, and a batch's first full scan
is preceded by ``pre_miss_ms``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .model import Instant, Span, freeze_attributes
from .names import LIST_SPAN, ROWS_SPAN, SCAN_SPAN, YIELD

_HIT = freeze_attributes({"cacheHit": True, "hasWorkspaceDir": True, "hasInstalledIndex": False})
_MISS = freeze_attributes({"hasWorkspaceDir": True, "hasInstalledIndex": False})


@dataclass(frozen=True, slots=True)
class ListShape:
    """Costs in ms of the pieces of a synthetic list, and its batch size."""

    scan_ms: float = 50.0
    hit_ms: float = 0.2
    row_ms: float = 0.5
    yield_ms: float = 2.0
    store_load_ms: float = 1.0
    batch: int = 10
    miss_overhead_ms: float = 0.0
    pre_miss_ms: float = 0.0


def list_events(
    hits: Sequence[bool],
    rows: int,
    per_row: int,
    *,
    start_ms: float = 0.0,
    prefix: str = "list0",
    track: str = "list 0",
    shape: ListShape = ListShape(),
) -> tuple[list[Span], list[Instant]]:
    """Spans and instants of one list; ``hits[k]`` says whether lookup k (row ``k // per_row``) hit.

    ``len(hits)`` must be ``rows * per_row``. Ids are ``{prefix}.root``, ``{prefix}.rows``, ...
    """
    if len(hits) != rows * per_row:
        raise ValueError(f"need {rows * per_row} lookups ({rows} rows x {per_row}), got {len(hits)}")
    spans: list[Span] = []
    instants: list[Instant] = []
    root, rows_id = f"{prefix}.root", f"{prefix}.rows"
    now = start_ms + shape.store_load_ms
    spans.append(Span(f"{LIST_SPAN}.store_load", start_ms, shape.store_load_ms, f"{prefix}.store", root, track))
    spans.append(Span(f"{LIST_SPAN}.model_catalog", now, 0.0, f"{prefix}.catalog", root, track))
    rows_start = now
    scanned = False  # whether the batch has scanned yet
    for row in range(rows):
        if row % shape.batch == 0:
            scanned = False
        for j in range(per_row):
            k = row * per_row + j
            hit = hits[k]
            if not hit and not scanned:
                now += shape.pre_miss_ms
                scanned = True
            cost = shape.hit_ms if hit else shape.scan_ms
            spans.append(Span(SCAN_SPAN, now, cost, f"{prefix}.scan{k}", rows_id, track, _HIT if hit else _MISS))
            now += cost if hit else cost + shape.miss_overhead_ms
        now += shape.row_ms
        if (row + 1) % shape.batch == 0 and row + 1 < rows:
            instants.append(Instant(YIELD, now, track, (("row", row + 1),), rows_id))
            now += shape.yield_ms
    spans.append(Span(ROWS_SPAN, rows_start, now - rows_start, rows_id, root, track, (("storeEntries", rows),)))
    spans.append(Span(f"{LIST_SPAN}.active_run_flags", now, 0.0, f"{prefix}.flags", root, track, (("sessions", rows),)))
    attributes = freeze_attributes({"agentId": None, "configuredAgentsOnly": False})
    spans.insert(0, Span(LIST_SPAN, start_ms, now - start_ms, root, None, track, attributes))
    return spans, instants
