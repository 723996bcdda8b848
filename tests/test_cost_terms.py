"""list.setup_ms, memo.miss_overhead_ms and memo.pre_miss_ms: the engine, the analytic models and the
trace carry them, and ``clawsim fit`` recovers them (with the per-row, per-hit and per-miss costs)
from a trace."""

from __future__ import annotations

import pytest

import clawsim
from clawsim.analytic import expectations
from clawsim.engine.walk import Setup, list_steps
from clawsim.fitting import fit
from clawsim.scenario import parse_scenario
from clawsim.timeline import write_timeline
from clawsim.tracing import trace_run

FLIPPER = """
name: terms
list: {rows: 200, row_cost_ms: 1.0, setup_ms: 10}
memo: {scan_ms: 50, hit_ms: 0.2, miss_overhead_ms: 5}
actors: [{name: flipper, kind: immediate, workspaces: unique}]
"""


def test_a_list_costs_its_setup_and_each_miss_its_overhead():
    plain = clawsim.simulate(
        parse_scenario(FLIPPER.replace(", setup_ms: 10", "").replace(", miss_overhead_ms: 5", ""), "a.yaml")
    )
    more = clawsim.simulate(parse_scenario(FLIPPER, "b.yaml"))
    assert list(more.scans) == list(plain.scans) == [40]
    assert more.list_ms[0] - plain.list_ms[0] == pytest.approx(10 + 5 * 40)


PRE = FLIPPER.replace("miss_overhead_ms: 5", "miss_overhead_ms: 5, pre_miss_ms: 3")


def test_a_batch_that_scans_costs_its_pre_miss_work_once():
    """200 rows: 20 batches; the flipper changes the workspace before each of the 19 after a yield and
    both lookups of their first row scan (38 scans), but only the first scan of a batch follows the work."""
    plain = clawsim.simulate(parse_scenario(FLIPPER, "a.yaml"))
    more = clawsim.simulate(parse_scenario(PRE, "b.yaml"))
    assert list(more.scans) == list(plain.scans)
    scans = int(more.scans[0])
    assert more.list_ms[0] - plain.list_ms[0] == pytest.approx(3 * scans / 2)


def test_the_pre_miss_work_is_its_own_span_before_the_first_scan_of_its_batch():
    traced = trace_run(clawsim.plan(parse_scenario(PRE, "b.yaml"))[0])
    spans = sorted(traced.spans, key=lambda s: s.start_ms)
    pre = [s for s in spans if s.name == "clawsim.memo.pre_miss"]
    scans = [s for s in spans if s.name == "plugins.metadata.scan" and not s.attr("cacheHit")]
    assert len(pre) * 2 == len(scans) and {s.duration_ms for s in pre} == {3.0}
    for span in pre:  # the next lookup span starts where the work ends, and it is a full scan
        after = next(s for s in spans if s.name == "plugins.metadata.scan" and s.start_ms >= span.start_ms)
        assert after.start_ms == pytest.approx(span.start_ms + 3.0) and not after.attr("cacheHit")


def test_the_analytic_models_carry_the_pre_miss_work():
    scenario = parse_scenario(PRE, "b.yaml")
    (expected,) = expectations(scenario)
    assert expected["exact"]
    assert expected["expected_list_ms"] == pytest.approx(float(clawsim.simulate(scenario).list_ms[0]))
    drawn = parse_scenario(PRE.replace("pre_miss_ms: 3", "pre_miss_ms: {dist: uniform, low: 2, high: 4}"), "c.yaml")
    (approx,) = expectations(drawn)  # a drawn term is charged at its mean
    assert approx["expected_list_ms"] == pytest.approx(float(clawsim.simulate(drawn).list_ms.mean()), rel=0.01)


def test_the_chain_model_carries_the_pre_miss_work():
    text = PRE.replace(
        "[{name: flipper, kind: immediate, workspaces: unique}]", "[{name: turns, kind: poisson, rate_per_s: 20}]"
    )
    scenario = parse_scenario(text.replace("name: terms", "name: terms\nreplications: 400"), "p.yaml")
    (expected,) = expectations(scenario)
    simulated = clawsim.simulate(scenario)
    assert expected["expected_scans"] == pytest.approx(float(simulated.scans.mean()), rel=0.05)
    assert expected["expected_list_ms"] == pytest.approx(float(simulated.list_ms.mean()), rel=0.02)


def test_the_default_terms_add_no_step():
    spec = parse_scenario("name: x\n", "x.yaml").list
    assert not any(isinstance(step, Setup) for step in list_steps(spec, pinned=False))


def test_the_exact_analytic_model_carries_the_terms():
    scenario = parse_scenario(FLIPPER, "b.yaml")
    (expected,) = expectations(scenario)
    assert expected["exact"]
    assert expected["expected_list_ms"] == pytest.approx(float(clawsim.simulate(scenario).list_ms[0]))


def test_the_trace_shows_the_terms_as_their_own_spans():
    traced = trace_run(clawsim.plan(parse_scenario(FLIPPER, "b.yaml"))[0])
    names = [s.name for s in traced.spans]
    assert names.count("clawsim.list.setup") == 1
    assert names.count("clawsim.memo.miss_overhead") == 40
    assert {s.duration_ms for s in traced.spans if s.name == "clawsim.memo.miss_overhead"} == {5.0}


KNOWN = {"setup": 12.0, "row": 1.3, "hit": 0.25, "scan": 60.0, "after": 7.0, "before": 4.0}


@pytest.mark.parametrize(
    "actors",
    ["[{name: flipper, kind: immediate, workspaces: unique}]", "[{name: turns, kind: poisson, rate_per_s: 15}]"],
    ids=["flipper", "poisson"],
)
def test_trace_then_fit_recovers_every_term_within_10_percent(tmp_path, actors):
    text = f"""
name: known
seed: 3
list: {{rows: 300, row_cost_ms: {KNOWN["row"]}, setup_ms: {KNOWN["setup"]}, count: 3}}
memo: {{scan_ms: {{dist: uniform, low: 40, high: 80}}, hit_ms: {KNOWN["hit"]}, miss_overhead_ms: {KNOWN["after"]},
        pre_miss_ms: {KNOWN["before"]}}}
actors: {actors}
"""
    traced = trace_run(clawsim.plan(parse_scenario(text, "known.yaml"))[0])
    path = tmp_path / "known.jsonl"
    with path.open("w") as out:
        write_timeline(traced.spans, traced.instants, out)
    result = fit(path, replications=4)
    terms = result.terms
    assert terms is not None and result.warm  # the first list of the run is left out as cold
    assert terms.setup_ms == pytest.approx(KNOWN["setup"], rel=0.10)
    assert terms.row_cost_ms == pytest.approx(KNOWN["row"], rel=0.10)
    assert terms.hit_ms[0] == pytest.approx(KNOWN["hit"], rel=0.10)
    assert terms.scan_ms[0] == pytest.approx(KNOWN["scan"], rel=0.10)
    assert terms.value("miss_overhead_ms") == pytest.approx(KNOWN["after"], rel=0.10)
    # a flipper's yields all end before their batch's first miss: the loop's turn is booked there too
    assert terms.yield_folded == (actors.count("immediate") == 1)
    assert terms.value("pre_miss_ms") == pytest.approx(KNOWN["before"], rel=0.10)
    got = result.scenario
    assert got.list.setup_ms == pytest.approx(KNOWN["setup"], rel=0.10)
    assert got.memo.miss_overhead_ms == pytest.approx(KNOWN["after"], rel=0.10)
    assert got.memo.pre_miss_ms == pytest.approx(KNOWN["before"], rel=0.10)


def test_the_fitted_scenario_runs_what_the_terms_predict(tmp_path):
    """The engine on the fitted scenario and the terms' formula on its counts agree."""
    traced = trace_run(clawsim.plan(parse_scenario(PRE.replace("rows: 200", "rows: 200, count: 2"), "b.yaml"))[0])
    path = tmp_path / "b.jsonl"
    with path.open("w") as out:
        write_timeline(traced.spans, traced.instants, out)
    result = fit(path, replications=4)
    prediction = result.predict("rows=150")
    engine = clawsim.simulate(result.scenario.with_values({"registry.fix": "none", "list.rows": 150, "list.count": 2}))
    assert float(engine[engine.list_index == 1].list_ms.mean()) == pytest.approx(prediction.list_ms, rel=0.01)
