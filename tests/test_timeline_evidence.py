"""List evidence and the memo inference, on synthetic timelines written and read back in the real format."""

from __future__ import annotations

import io

import pytest

from clawsim.timeline import (
    Instant,
    ListEvidence,
    Span,
    completion_order,
    evidence_frame,
    infer_list,
    list_evidence,
    read_timeline,
    write_timeline,
)
from clawsim.timeline.synthetic import ListShape, list_events

ROWS, PER_ROW, BATCH = 30, 2, 10
SHAPE = ListShape()


def through_file(spans: list[Span], instants: list[Instant]) -> list[ListEvidence]:
    out = io.StringIO()
    write_timeline(spans, instants, out)
    return list(list_evidence(read_timeline(out.getvalue().splitlines(), marks=True)))


def hits_where(miss) -> list[bool]:
    """Hit flags for ROWS x PER_ROW lookups; ``miss(row, j)`` says which miss."""
    return [not miss(row, j) for row in range(ROWS) for j in range(PER_ROW)]


def one_list(hits: list[bool]) -> ListEvidence:
    (evidence,) = through_file(*list_events(hits, ROWS, PER_ROW))
    return evidence


def test_policy_none_misses_every_lookup() -> None:
    inference = infer_list(one_list(hits_where(lambda row, j: True)))
    assert (inference.per_row, inference.misses_per_batch) == (2, (20, 20, 20))
    assert inference.misses_after_first_row == (ROWS - ROWS // BATCH) * PER_ROW
    assert inference.memo_keeps_nothing is True
    assert (inference.yields, inference.yields_then_misses, inference.miss_after_yield_fraction) == (2, 2, 1.0)
    assert inference.hits_logged is False and inference.hit_ms_mean is None
    assert inference.miss_ms_mean == pytest.approx(SHAPE.scan_ms, abs=0.001)


def test_flipper_misses_grouped_at_each_batch_start() -> None:
    inference = infer_list(one_list(hits_where(lambda row, j: row % BATCH == 0)))
    assert inference.misses_per_batch == (2, 2, 2)
    assert inference.misses_after_first_row == 0 and inference.memo_keeps_nothing is False
    assert inference.miss_after_yield_fraction == 1.0


def test_idle_list_misses_twice_then_hits() -> None:
    evidence = one_list(hits_where(lambda row, j: row == 0))
    inference = infer_list(evidence)
    assert (evidence.misses, evidence.hits) == (2, ROWS * PER_ROW - 2)
    assert inference.misses_per_batch == (2, 0, 0)
    assert (inference.yields_then_misses, inference.miss_after_yield_fraction) == (0, 0.0)
    assert inference.hit_ms_mean == pytest.approx(SHAPE.hit_ms, abs=0.001)


def test_one_flip_in_two_yields() -> None:
    inference = infer_list(one_list(hits_where(lambda row, j: row in (0, 20))))
    assert inference.misses_per_batch == (2, 0, 2)
    assert inference.miss_after_yield_fraction == 0.5


def test_other_cost_per_row_is_row_work_plus_the_yields_share() -> None:
    inference = infer_list(one_list(hits_where(lambda row, j: row % BATCH == 0)))
    yields = ROWS // BATCH - 1
    expected = SHAPE.row_ms + yields * SHAPE.yield_ms / ROWS
    assert inference.other_ms_per_row == pytest.approx(expected, abs=0.01)  # file rounding: 3 decimals per span


def test_evidence_fields_and_extras() -> None:
    spans, instants = list_events(hits_where(lambda row, j: row == 0), ROWS, PER_ROW)
    (evidence,) = through_file(spans, instants)
    rows_span = next(s for s in spans if s.name == "gateway.sessions.list.rows")
    assert evidence.rows == ROWS
    assert evidence.rows_ms == pytest.approx(rows_span.duration_ms, abs=0.0005)
    assert evidence.list_ms == pytest.approx(spans[0].duration_ms, abs=0.0005)
    assert [lookup.start_ms for lookup in evidence.lookups] == sorted(lookup.start_ms for lookup in evidence.lookups)
    assert [e.name for e in evidence.extras] == ["clawsim.list.yield"] * (ROWS // BATCH - 1)
    assert evidence.outside == ()


def test_file_and_engine_records_give_the_same_evidence() -> None:
    spans, instants = list_events(hits_where(lambda row, j: row % BATCH == 0), ROWS, PER_ROW)
    (direct,) = list_evidence(completion_order(spans, instants))
    (logged,) = through_file(spans, instants)
    assert infer_list(direct).misses_per_batch == infer_list(logged).misses_per_batch == (2, 2, 2)
    assert [x.cache_hit for x in direct.lookups] == [x.cache_hit for x in logged.lookups]


def test_lookups_outside_rows_and_inexact_lookups_per_row() -> None:
    spans, instants = list_events([False] * 45, rows=15, per_row=3, shape=ListShape(store_load_ms=30.0))
    spans += [Span("plugins.metadata.scan", 1.0 + 5 * i, 5.0, f"out{i}", "list0.store", "list 0") for i in range(3)]
    spans = [s if s.name != "gateway.sessions.list.rows" else Span(s.name, s.start_ms, s.duration_ms, s.span_id,
             s.parent_id, s.track, (("storeEntries", 20),)) for s in spans]  # fmt: skip
    (evidence,) = through_file(spans, instants)
    inference = infer_list(evidence)
    assert len(evidence.outside) == 3
    assert (inference.rows, inference.lookups, inference.lookups_per_row, inference.per_row) == (20, 45, 2.25, None)
    assert inference.misses_per_batch is None and inference.memo_keeps_nothing is None


def test_several_lists_among_other_work() -> None:
    first, first_marks = list_events(hits_where(lambda row, j: True), ROWS, PER_ROW, prefix="a", track="list 0")
    second, second_marks = list_events(
        hits_where(lambda row, j: row == 0), ROWS, PER_ROW, start_ms=10.0, prefix="b", track="list 1"
    )
    turn = Span("clawsim.actor.turn", 5.0, 3.0, "turn", None, "actor flipper#0")
    scan = Span("plugins.metadata.scan", 5.5, 1.0, "turn.scan", "turn", "actor flipper#0")
    flip = Instant("clawsim.registry.set", 7.0, "actor flipper#0", {"workspace": "w2"})
    evidences = through_file([*first, turn, scan, *second], [*first_marks, flip, *second_marks])
    assert sorted(infer_list(e).misses_per_batch for e in evidences) == [(2, 0, 0), (20, 20, 20)]
    assert all(not e.outside for e in evidences)
    frame = evidence_frame(evidences)
    assert list(frame["misses"]) == [e.misses for e in evidences]
    assert {"list_ms", "per_row", "miss_after_yield_fraction", "other_ms_per_row"} <= set(frame.columns)


def test_batch_must_be_positive() -> None:
    with pytest.raises(ValueError, match="batch must be >= 1"):
        infer_list(one_list(hits_where(lambda row, j: True)), batch=0)
