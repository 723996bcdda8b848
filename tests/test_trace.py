"""Traces of one run: the same run as the record, in the formats their readers expect."""

from __future__ import annotations

import io
import json
from collections import defaultdict

import pytest
from conftest import ROOT, scenario

import clawsim
from clawsim.engine.run import simulate_run
from clawsim.timeline import list_evidence, read_timeline, write_timeline
from clawsim.timeline.order import completion_order
from clawsim.tracing import default_runs, draw, trace, trace_counts, trace_run, window_of, write_traces

SHIPPED = sorted((ROOT / "scenarios").rglob("*.yaml")) + sorted((ROOT / "validation" / "scenarios").glob("*.yaml"))
COUNTED = ("scans", "hits", "flips", "yields", "list_ms")


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_counts_from_the_trace_equal_the_record(path):
    runs = clawsim.plan(clawsim.load_scenario(path))
    for run in default_runs(runs):
        traced = trace_run(runs[run])
        assert traced.records == simulate_run(runs[run])  # the tracer changes nothing it observes
        counts = trace_counts(traced)
        assert len(counts) == len(traced.records)
        for record, got in zip(traced.records, counts, strict=True):
            assert {k: record[k] for k in COUNTED} == {k: got[k] for k in COUNTED}


def test_the_pr_harness_trace_before_and_after_the_pin():
    runs = clawsim.plan(clawsim.load_scenario(ROOT / "scenarios" / "pr90819-harness.yaml"))
    for run, full, hits in ((0, 40, 360), (1, 2, 398)):
        events = trace(runs.scenario, run)
        scans = events[events.name == "plugins.metadata.scan"]
        hit = scans.attributes.map(lambda a: a.get("cacheHit") is True)
        assert (int((~hit).sum()), int(hit.sum())) == (full, hits)
        assert int((events.name == "clawsim.list.yield").sum()) == 19
    lists = trace(runs.scenario, 0).query("name == 'gateway.sessions.list'")
    assert lists.duration_ms.iloc[0] == pytest.approx(156.09)


def test_hit_spans_follow_the_memo_generation():
    sc = scenario("""
        memo: {policy: lru, capacity: 8, scan_ms: 2.5, hit_spans: false}
        list: {rows: 200, yield_every: 10, lookups_per_row: 2, row_cost_ms: 0.28}
        actors: [{name: flipper, kind: immediate, workspaces: unique}]
    """)
    events = trace(sc, 0)
    scans = events[events.name == "plugins.metadata.scan"]
    assert len(scans) == 40 and not scans.attributes.map(lambda a: "cacheHit" in a).any()


def _timeline_text(traced) -> str:
    stream = io.StringIO()
    write_timeline(traced.spans, traced.instants, stream)
    return stream.getvalue()


def test_the_timeline_is_the_gateway_format_and_reads_back():
    runs = clawsim.plan(clawsim.load_scenario(ROOT / "scenarios" / "busy-gateway.yaml"))
    traced = trace_run(runs[0])
    text = _timeline_text(traced)
    for line in text.splitlines():
        event = json.loads(line)
        assert event["schemaVersion"] == "openclaw.diagnostics.v1"
        assert event["type"] in ("span.start", "span.end", "mark")
        assert event["timestamp"].endswith("Z") and len(event["timestamp"]) == 24
        assert event["name"].startswith(("gateway.", "plugins.", "clawsim."))
        assert ("durationMs" in event) == (event["type"] == "span.end")
    (evidence,) = list(list_evidence(read_timeline(text.splitlines(), marks=True)))
    record = traced.records[0]
    assert (evidence.rows, evidence.misses, evidence.hits) == (record["rows"], record["scans"], record["hits"])
    assert evidence.list_ms == pytest.approx(record["list_ms"], abs=1e-3)
    assert text == _timeline_text(trace_run(runs[0]))  # deterministic bytes


def test_the_chrome_trace_follows_the_trace_event_format(tmp_path):
    sc = clawsim.load_scenario(ROOT / "scenarios" / "pr90819-harness.yaml")
    paths = write_traces(sc, [0, 1], tmp_path)
    assert sorted(p.name for p in paths) == sorted(
        [f"run-{r}.{ext}" for r in (0, 1) for ext in ("timeline.jsonl", "trace.json", "timeline.png")]
        + ["runs-0-1.timeline.png"]
    )
    doc = json.loads((tmp_path / "run-0.trace.json").read_text())
    events = doc["traceEvents"]
    names = {e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    assert {"loop", "list 0"} <= names
    last: dict[tuple, float] = defaultdict(lambda: -1.0)
    for e in events:
        assert isinstance(e["name"], str) and isinstance(e["pid"], int) and isinstance(e["tid"], int)
        if e["ph"] == "M":
            continue
        assert e["ph"] in ("X", "i") and isinstance(e["ts"], (int, float))
        if e["ph"] == "X":
            assert e["dur"] >= 0
        assert e["ts"] >= last[(e["pid"], e["tid"])]  # monotonic per track
        last[(e["pid"], e["tid"])] = e["ts"]


def test_the_png_is_deterministic_and_windowed():
    runs = clawsim.plan(clawsim.load_scenario(ROOT / "scenarios" / "pr90819-harness.yaml"))
    pair = [trace_run(runs[0]), trace_run(runs[1])]
    assert window_of(pair, None, None) == pytest.approx((0.0, 156.09))
    assert window_of(pair, 10.0, 50.0) == (10.0, 50.0)
    png = draw(runs.scenario, pair, window_of(pair, None, None))
    assert png.startswith(b"\x89PNG") and png == draw(runs.scenario, pair, window_of(pair, None, None))
    assert b"Software" not in png


def test_completion_order_feeds_the_evidence_reader_directly():
    runs = clawsim.plan(clawsim.load_scenario(ROOT / "scenarios" / "pr90819-harness.yaml"))
    traced = trace_run(runs[0])
    (evidence,) = list(list_evidence(completion_order(traced.spans, traced.instants)))
    assert (evidence.misses, evidence.hits) == (40, 360)


def test_trace_refuses_what_is_not_a_scenario_or_a_run():
    with pytest.raises(clawsim.ClawsimError, match="needs a Scenario"):
        trace("scenarios/pr90819-harness.yaml")  # type: ignore[arg-type]
    with pytest.raises(clawsim.ClawsimError, match="run must be"):
        trace(clawsim.load_scenario(ROOT / "scenarios" / "pr90819-harness.yaml"), 7)


def test_the_committed_trace_picture_is_regenerated_by_its_command(tmp_path):
    sc = clawsim.load_scenario(ROOT / "scenarios" / "pr90819-harness.yaml")
    write_traces(sc, None, tmp_path)
    committed = ROOT / "docs" / "images" / "pr90819-harness-trace.png"
    assert (tmp_path / "runs-0-1.timeline.png").read_bytes() == committed.read_bytes()
