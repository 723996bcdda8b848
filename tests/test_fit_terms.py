"""The cost terms of ``clawsim fit``: regressed from a list's stretches, recovered from known costs."""

from __future__ import annotations

import io

import numpy as np
import pytest

from clawsim.errors import FitError
from clawsim.fitting import fit
from clawsim.fitting.predict import settings
from clawsim.fitting.terms import fit_terms
from clawsim.timeline import list_evidence, read_timeline, write_timeline
from clawsim.timeline.synthetic import ListShape, list_events

SHAPE = ListShape(
    scan_ms=60.0, hit_ms=0.3, row_ms=1.2, yield_ms=0.8, store_load_ms=9.0, miss_overhead_ms=6.0, pre_miss_ms=1.5
)


def _hits(rows: int, per_row: int, seed: int) -> list[bool]:
    """Misses at a random third of the batch starts, and on the first row."""
    rng = np.random.default_rng(seed)
    starts = {0} | {b for b in range(0, rows, 10) if rng.random() < 0.35}
    return [(k // per_row) not in starts for k in range(rows * per_row)]


def _timeline(rows_per_list: list[int], shape: ListShape = SHAPE, pid: int = 7) -> list:
    """The lists through the file format and back (timestamps become whole ms, as a gateway's)."""
    out = io.StringIO()
    for i, rows in enumerate(rows_per_list):
        spans, instants = list_events(_hits(rows, 2, i), rows, 2, start_ms=i * 60_000.0, prefix=f"l{i}", shape=shape)
        write_timeline(spans, instants, out, pid=pid + i)
    return list(list_evidence(read_timeline(io.StringIO(out.getvalue()).readlines(), marks=True)))


def test_terms_are_recovered_from_lists_with_known_costs():
    terms = fit_terms(_timeline([150, 300, 200]), 2)
    assert terms is not None
    assert terms.row_cost_ms == pytest.approx(SHAPE.row_ms, rel=0.10)
    assert terms.value("miss_overhead_ms") == pytest.approx(SHAPE.miss_overhead_ms, rel=0.10)
    assert terms.value("pre_miss_ms") == pytest.approx(SHAPE.pre_miss_ms, rel=0.10, abs=0.2)  # whole-ms timestamps
    assert terms.value("yield_ms") == pytest.approx(SHAPE.yield_ms, abs=0.2)
    assert not terms.yield_folded  # a third of the batches after a yield miss: the two are told apart
    assert terms.hit_ms[0] == pytest.approx(SHAPE.hit_ms, rel=0.10, abs=0.02)  # whole-ms timestamps
    assert terms.scan_ms[0] == pytest.approx(SHAPE.scan_ms, rel=0.10)
    assert terms.setup_ms == pytest.approx(SHAPE.store_load_ms, rel=0.10, abs=1.0)


def test_a_term_no_stretch_exercises_is_not_identified():
    idle = ListShape(row_ms=1.0)
    out = io.StringIO()
    spans, instants = list_events([True] * 400, 200, 2, shape=idle)
    write_timeline(spans, instants, out)
    terms = fit_terms(list(list_evidence(read_timeline(io.StringIO(out.getvalue()).readlines(), marks=True))), 2)
    assert terms is not None and terms.value("miss_overhead_ms") is None
    assert terms.value("row_ms") == pytest.approx(1.0, abs=0.1)


def test_the_intervals_cover_the_truth():
    terms = fit_terms(_timeline([200, 200]), 2)
    assert terms is not None
    truths = (
        ("miss_overhead_ms", SHAPE.miss_overhead_ms),
        ("yield_ms", SHAPE.yield_ms),
        ("pre_miss_ms", SHAPE.pre_miss_ms),
    )
    for name, truth in truths:
        value, se = terms.value(name), terms.se(name)
        assert value is not None and se is not None and se > 0
        assert abs(value - truth) < 3 * se + 0.5, (name, value, se)


def test_a_yield_always_before_a_first_miss_is_booked_before_the_miss():
    """A flipper's lists: every batch after a yield begins with misses, so a yield's own cost and the
    work before the miss are one stretch: booked before the miss, none to the yield, and the list's
    time is unchanged."""
    out = io.StringIO()
    for i in range(5):  # starts at several phases of a ms: whole-ms timestamps round each list differently
        flipped = [(k // 2) % 10 != 0 or k < 20 for k in range(400)]  # batches 1.. begin with 2 misses
        spans, instants = list_events(flipped, 200, 2, start_ms=i * 60_000.3, prefix=f"l{i}", shape=SHAPE)
        write_timeline(spans, instants, out, pid=7 + i)
    lists = list(list_evidence(read_timeline(io.StringIO(out.getvalue()).readlines(), marks=True)))
    terms = fit_terms(lists, 2)
    assert terms is not None and terms.yield_folded and terms.value("yield_ms") is None
    assert terms.value("pre_miss_ms") == pytest.approx(SHAPE.pre_miss_ms + SHAPE.yield_ms, rel=0.10)
    assert [c.scan_batches for c in terms.counts] == [19] * 5
    for c in terms.counts:
        assert terms.predicted_ms(c) == pytest.approx(c.list_ms, rel=0.01)


def test_predict_settings_are_paths_and_values_and_bad_ones_say_so():
    assert settings("rows=300,fix=pin,actors=none") == {"list.rows": 300, "registry.fix": "pin", "actors": []}
    flow = settings("rows=100,actors=[{name: f, kind: immediate}]")
    assert flow == {"list.rows": 100, "actors": [{"name": "f", "kind": "immediate"}]}
    with pytest.raises(FitError, match="expected PATH=VALUE"):
        settings("rows")


def test_cold_first_lists_are_left_out_and_priced(tmp_path):
    """Two lists per process: the first (cold) carries 300 ms more; the fit leaves it out."""
    path = tmp_path / "two.jsonl"
    with path.open("w") as out:
        for p in range(3):
            for i, extra in enumerate((300.0, 0.0)):
                spans, instants = list_events(
                    _hits(100, 2, p), 100, 2, start_ms=p * 1e6 + i * 1e5, prefix=f"p{p}l{i}",
                    shape=ListShape(scan_ms=60.0, hit_ms=0.3, row_ms=1.2, yield_ms=0.8,
                                    store_load_ms=9.0 + extra, miss_overhead_ms=6.0),
                )  # fmt: skip
                write_timeline(spans, instants, out, pid=100 + p)
    result = fit(path, replications=2)
    assert result.warm and len(result.terms.counts) == 3
    assert list(result.cold.one_off_ms) == pytest.approx([300.0] * 3, abs=6.0)
    assert result.terms.setup_ms == pytest.approx(9.0, abs=1.5)
    with pytest.raises(FitError, match="rowz"):
        result.predict("rowz=3")


def test_the_intervals_hold_the_spread_between_processes():
    """Six processes, each with its own speed factor on every cost: the terms' standard errors are
    clustered over the lists, so they are the spread of the per-list estimates over sqrt(lists)
    (with one list alone they are that list's stretches' only, and far smaller)."""
    factors = (0.7, 0.85, 1.0, 1.0, 1.2, 1.5)
    lists = []
    for i, f in enumerate(factors):
        shape = ListShape(scan_ms=60.0 * f, hit_ms=0.3 * f, row_ms=1.2 * f, yield_ms=0.8 * f,
                          store_load_ms=9.0 * f, miss_overhead_ms=6.0 * f, pre_miss_ms=1.5 * f)  # fmt: skip
        lists += _timeline([200], shape, pid=10 + i)
    terms = fit_terms(lists, 2)
    assert terms is not None and terms.clusters == len(factors)
    alone = [fit_terms([e], 2) for e in lists]
    for name in ("miss_overhead_ms", "row_ms", "pre_miss_ms"):
        each = [t.value(name) for t in alone if t is not None]
        between = float(np.std(each, ddof=1)) / np.sqrt(len(each))
        assert terms.se(name) == pytest.approx(between, rel=0.35), name
        if name != "pre_miss_ms":  # a list has a few batches that scan: its own interval is wide as well
            assert all(t.se(name) < between / 2 for t in alone if t is not None), name
    assert terms.quantile == pytest.approx(2.5706, abs=1e-3)  # Student t, 5 degrees of freedom
    assert terms.scan_ms[1] ** 0.5 == pytest.approx(60.0 * float(np.std(factors, ddof=1)) / np.sqrt(6), rel=0.35)
