"""Chrome Trace Event output checked against the format's rules."""

from __future__ import annotations

import io
import json
from collections import defaultdict
from numbers import Number

from clawsim.timeline import Instant, Span, chrome_trace, write_chrome_trace
from clawsim.timeline.synthetic import list_events


def trace() -> tuple[list[Span], list[Instant]]:
    spans, instants = list_events([i % 20 < 2 for i in range(60)], rows=30, per_row=2, start_ms=3.0)
    more, marks = list_events([True] * 20, rows=10, per_row=2, start_ms=9.0, prefix="b", track="list 10")
    other, other_marks = list_events([False] * 4, rows=2, per_row=2, prefix="c", track="list 2")
    turn = Span("clawsim.actor.turn", 4.0, 1.5, "turn", None, "actor flipper#0")
    task = Span("clawsim.loop.task", 0.0, 3.0, "task", None, "loop")
    flip = Instant("clawsim.registry.set", 5.0, "actor flipper#0", {"workspace": "w1"})
    return [*spans, *more, *other, turn, task], [*instants, *marks, *other_marks, flip]


def check_event(event: dict) -> None:
    assert isinstance(event["name"], str) and isinstance(event["pid"], int) and isinstance(event["tid"], int)
    if event["ph"] == "X":
        assert isinstance(event["ts"], Number) and isinstance(event["dur"], Number) and event["dur"] >= 0
        assert isinstance(event["args"], dict) and isinstance(event["cat"], str)
    elif event["ph"] == "i":
        assert isinstance(event["ts"], Number) and event["s"] == "t"
    else:
        assert event["ph"] == "M" and event["name"] in {"process_name", "thread_name", "thread_sort_index"}
        assert isinstance(event["args"], dict)


def test_events_follow_the_trace_event_format() -> None:
    spans, instants = trace()
    document = chrome_trace(spans, instants, process_name="run 0")
    assert document["displayTimeUnit"] == "ms"
    events = document["traceEvents"]
    for event in events:
        check_event(event)
    timed = [e for e in events if e["ph"] != "M"]
    assert len(timed) == len(spans) + len(instants)
    by_tid = defaultdict(list)
    for event in timed:
        by_tid[event["tid"]].append(event["ts"])
    assert all(ts == sorted(ts) for ts in by_tid.values())
    assert [e["tid"] for e in timed] == sorted(e["tid"] for e in timed)
    assert json.loads(json.dumps(document)) == document


def test_metadata_names_the_process_and_every_track_with_loop_first() -> None:
    spans, instants = trace()
    events = chrome_trace(spans, instants, process_name="run 0")["traceEvents"]
    meta = [e for e in events if e["ph"] == "M"]
    assert meta[0]["name"] == "process_name" and meta[0]["args"] == {"name": "run 0"}
    names = {e["tid"]: e["args"]["name"] for e in meta if e["name"] == "thread_name"}
    order = {e["tid"]: e["args"]["sort_index"] for e in meta if e["name"] == "thread_sort_index"}
    tracks = sorted(names, key=order.__getitem__)
    assert [names[t] for t in tracks] == ["loop", "actor flipper#0", "list 0", "list 2", "list 10"]
    assert {e["tid"] for e in events if e["ph"] != "M"} == set(names)


def test_times_are_microseconds_and_spans_nest_per_track() -> None:
    spans, instants = trace()
    events = [e for e in chrome_trace(spans, instants)["traceEvents"] if e["ph"] == "X"]
    scan = next(s for s in spans if s.name == "plugins.metadata.scan")
    first = next(e for e in events if e["name"] == "plugins.metadata.scan")
    assert (first["ts"], first["dur"]) == (round(scan.start_ms * 1000, 3), round(scan.duration_ms * 1000, 3))
    assert first["args"] == dict(scan.attributes) and first["cat"] == "openclaw"
    by_tid = defaultdict(list)
    for event in events:
        by_tid[event["tid"]].append(event)
    for track_events in by_tid.values():
        open_ends: list[float] = []
        for event in track_events:
            while open_ends and open_ends[-1] <= event["ts"]:
                open_ends.pop()
            assert not open_ends or event["ts"] + event["dur"] <= open_ends[-1] + 1e-6
            open_ends.append(event["ts"] + event["dur"])


def test_written_json_is_compact_and_deterministic(tmp_path) -> None:
    spans, instants = trace()
    path = tmp_path / "trace.json"
    write_chrome_trace(spans, instants, path)
    out = io.StringIO()
    write_chrome_trace(spans, instants, out)
    assert path.read_text() == out.getvalue()
    assert ", " not in out.getvalue() and json.loads(out.getvalue()) == chrome_trace(spans, instants)
