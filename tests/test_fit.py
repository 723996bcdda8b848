"""clawsim fit: a scenario recovered from a diagnostics timeline (here: clawsim's own traces)."""

from __future__ import annotations

import io

import pytest
from conftest import ROOT

import clawsim
from clawsim.errors import FitError
from clawsim.fitting import fit
from clawsim.scenario import Scenario, distribution
from clawsim.timeline import write_timeline
from clawsim.tracing import default_runs, trace_run

SHIPPED = sorted((ROOT / "scenarios").rglob("*.yaml")) + sorted((ROOT / "validation" / "scenarios").glob("*.yaml"))
MIN_SCANS_FOR_MEDIAN = 30  # the median of fewer draws is itself too noisy to be held within 5 %


def _fittable(s: Scenario) -> bool:
    """Lists whose lookups reach the memo: a prepared snapshot or the gateway's current
    snapshot leave a list without scan spans, and a timeline without them cannot be fitted."""
    return s.list.lookup_mode != "prepared" and not s.memo.current_snapshot and s.list.lookups_per_row > 0


def _keeps(s: Scenario) -> bool:
    return s.memo.policy != "none" and (s.memo.slots is None or s.memo.slots >= s.list.row_lookups)


def _timeline(tmp_path, traced):
    path = tmp_path / f"run-{traced.spec.run}.timeline.jsonl"
    with path.open("w") as out:
        write_timeline(traced.spans, traced.instants, out)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_trace_then_fit_recovers_the_scenario(tmp_path, path):
    runs = clawsim.plan(clawsim.load_scenario(path))
    for run in default_runs(runs):
        traced = trace_run(runs[run])
        truth = traced.spec.scenario
        if not _fittable(truth):
            continue
        result = fit(_timeline(tmp_path, traced), list_index=0)
        got = result.scenario
        assert (got.list.row_lookups, got.list.hoisted_lookups) == (truth.list.row_lookups, truth.list.hoisted_lookups)
        assert got.list.yield_every == truth.list.yield_every
        assert (got.memo.policy != "none") == _keeps(truth)
        observed = traced.records[0]["scans"]
        if observed >= MIN_SCANS_FOR_MEDIAN:
            p50 = result.parameters.set_index("parameter").loc["scan_ms p50", "value"]
            assert p50 == pytest.approx(distribution(truth.memo.scan_ms).quantile(0.5), rel=0.05)
        simulated = result.check.simulated_scans.iloc[0]
        assert simulated == pytest.approx(observed, rel=0.10, abs=0.5)


def test_the_pr_harness_fit_predicts_what_the_pin_buys(tmp_path):
    runs = clawsim.plan(clawsim.load_scenario(ROOT / "scenarios" / "pr90819-harness.yaml"))
    result = fit(_timeline(tmp_path, trace_run(runs[0])))
    assert [a.kind for a in result.scenario.actors] == ["immediate"]
    assert result.scenario.sweep == {"registry.fix": ["none", "pin"]}
    frame = clawsim.simulate(result.scenario)
    assert frame.groupby("registry.fix").scans.mean().to_dict() == {"none": 40.0, "pin": 2.0}
    assert result.yaml.startswith("# Fitted by `clawsim fit` from run-0.timeline.jsonl")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json at all\n{}\n", r"t\.jsonl:1: not JSON"),
        (
            '{"schemaVersion":"openclaw.diagnostics.v1","type":"span.end","timestamp":"2026-06-06T00:00:00.000Z",'
            '"name":"agent.turn","pid":1,"spanId":"a","durationMs":1}\n',
            "holds no gateway.sessions.list",
        ),
    ],
)
def test_a_file_that_cannot_be_fitted_is_one_clear_error(tmp_path, text, message):
    path = tmp_path / "t.jsonl"
    path.write_text(text)
    with pytest.raises(FitError, match=message):
        fit(path)


def test_lists_without_scan_spans_mean_diagnostics_were_off(tmp_path):
    sc = clawsim.parse_scenario("list: {rows: 20, lookup_mode: prepared}")
    traced = trace_run(clawsim.plan(sc)[0])
    with pytest.raises(FitError, match="no plugins.metadata.scan spans"):
        fit(_timeline(tmp_path, traced))


def test_a_memo_that_keeps_nothing_is_seen_without_any_concurrency(tmp_path):
    sc = clawsim.parse_scenario("memo: {policy: none, scan_ms: 5}\nlist: {rows: 40, lookups_per_row: 2}")
    result = fit(_timeline(tmp_path, trace_run(clawsim.plan(sc)[0])))
    assert result.scenario.memo.policy == "none" and result.scenario.actors == []
    frame = clawsim.simulate(result.scenario)
    assert frame.groupby("registry.fix").scans.mean().to_dict() == {"none": 80.0, "pin": 80.0}  # the pin buys nothing


def test_fit_reads_a_stream_of_spans_as_well_as_a_file():
    traced = trace_run(clawsim.plan(clawsim.load_scenario(ROOT / "scenarios" / "pr90819-harness.yaml"))[0])
    stream = io.StringIO()
    write_timeline(traced.spans, traced.instants, stream)
    from_events = fit([*traced.spans, *traced.instants], check=False)
    assert from_events.scenario.list.lookups_per_row == 2
