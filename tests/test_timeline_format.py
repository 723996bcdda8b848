"""The openclaw diagnostics timeline: the writer's bytes, the reader's tolerance, and the round trip."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from clawsim.timeline import (
    EPOCH,
    Instant,
    LoggedMark,
    LoggedSpan,
    Span,
    TimelineError,
    ordered_events,
    read_timeline,
    write_timeline,
)
from clawsim.timeline.order import START
from clawsim.timeline.synthetic import list_events

ROOT, SCAN, ROWS = (
    "22b61c0e-5f0a-4c1e-9d0b-6f3f0c1d2a11",
    "f1e1a2b3-c4d5-4e6f-8a7b-9c0d1e2f3a4b",
    "1049d1e2-7a3b-4c5d-9e6f-0a1b2c3d4e5f",
)
HIT = "bb5f0a1b-2c3d-4e5f-8a6b-7c8d9e0f1a2b"
V1 = '{"schemaVersion":"openclaw.diagnostics.v1",'
# The facts file's example (one list of 30 rows, a flipper on every iteration), ids made full UUIDs.
REAL = [
    V1 + '"type":"span.start","timestamp":"2026-12-02T00:12:23.787Z","name":"gateway.sessions.list","pid":30406,'
    f'"phase":"sessions.list","spanId":"{ROOT}","attributes":{{"agentId":null,"configuredAgentsOnly":false}}}}',
    V1 + '"type":"span.end","timestamp":"2026-12-02T00:12:23.887Z","name":"plugins.metadata.scan","pid":30406,'
    f'"phase":"sessions.list","spanId":"{SCAN}","parentSpanId":"{ROWS}","durationMs":96.495,'
    '"attributes":{"hasWorkspaceDir":true,"hasInstalledIndex":false}}',
    V1 + '"type":"span.end","timestamp":"2026-12-02T00:12:23.993Z","name":"plugins.metadata.scan","pid":30406,'
    f'"phase":"sessions.list","spanId":"{HIT}","parentSpanId":"{ROWS}","durationMs":0.143,'
    '"attributes":{"cacheHit":true,"hasWorkspaceDir":true,"hasInstalledIndex":false}}',
    V1 + '"type":"span.end","timestamp":"2026-12-02T00:12:24.422Z","name":"gateway.sessions.list.rows","pid":30406,'
    f'"phase":"sessions.list","spanId":"{ROWS}","parentSpanId":"{ROOT}","durationMs":632.486,'
    '"attributes":{"storeEntries":30}}',
]


def written(spans: list[Span], instants: Sequence[Instant] = (), **options: Any) -> list[str]:
    out = io.StringIO()
    count = write_timeline(spans, instants, out, **options)
    lines = out.getvalue().splitlines()
    assert count == len(lines)
    return lines


def random_trace(seed: int) -> tuple[list[Span], list[Instant]]:
    """Nested spans on a few tracks with random times and attributes, plus instants inside them."""
    rng = np.random.default_rng(seed)
    spans: list[Span] = []
    instants: list[Instant] = []
    for tree in range(int(rng.integers(1, 5))):
        track = ["loop", "list 0", "actor flipper#0"][tree % 3]
        start = float(rng.uniform(0, 50))
        duration = float(rng.uniform(0, 200))
        root = Span("clawsim.actor.turn", start, duration, f"t{tree}", None, track, {"n": tree, "w": f"ws{tree}"})
        spans.append(root)
        cursor = start
        for child in range(int(rng.integers(0, 6))):
            length = float(rng.uniform(0, (root.end_ms - cursor) / 2))
            attributes = {"cacheHit": True} if rng.random() < 0.5 else {"cost": float(rng.uniform(0, 9))}
            spans.append(
                Span("plugins.metadata.scan", cursor, length, f"t{tree}c{child}", root.span_id, track, attributes)
            )
            instants.append(Instant("clawsim.registry.set", cursor + length, track, {"k": child}, root.span_id))
            cursor += length
    return spans, instants


def test_first_line_of_the_real_example_is_reproduced_byte_for_byte() -> None:
    root = Span(
        "gateway.sessions.list", 0.0, 700.0, "r", None, "loop", {"agentId": None, "configuredAgentsOnly": False}
    )
    line = written([root], pid=30406, epoch="2026-12-02T00:12:23.787Z")[0]
    spec = json.loads(REAL[0])
    assert line == REAL[0].replace(spec["spanId"], json.loads(line)["spanId"])


def test_scan_end_line_matches_the_real_example_field_for_field() -> None:
    spans = [
        Span("gateway.sessions.list", 0.0, 700.0, "r", None),
        Span("gateway.sessions.list.rows", 1.0, 632.486, "rows", "r"),
        Span(
            "plugins.metadata.scan",
            3.6,
            96.4952,
            "s",
            "rows",
            attributes={"hasWorkspaceDir": True, "hasInstalledIndex": False},
        ),
    ]
    lines = written(spans, pid=30406, epoch="2026-12-02T00:12:23.787Z")
    end = next(json.loads(line) for line in lines if '"span.end"' in line and "plugins.metadata.scan" in line)
    real = json.loads(REAL[1])
    assert list(end) == list(real)
    assert {k: v for k, v in end.items() if "panId" not in k} == {k: v for k, v in real.items() if "panId" not in k}


def test_writer_is_deterministic_and_uses_uuid_shaped_ids() -> None:
    spans, instants = list_events([False, True] * 15, rows=15, per_row=2)
    first, second = written(spans, instants), written(spans, instants)
    assert first == second
    ids = {json.loads(line).get("spanId") for line in first} - {None}
    assert len(ids) == len(spans)
    assert all(len(i) == 36 and [len(p) for p in i.split("-")] == [8, 4, 4, 4, 12] for i in ids)


def test_events_are_in_time_order_and_children_nest_inside_parents() -> None:
    parent = Span("clawsim.actor.turn", 0.0, 10.0, "p")
    spans = [
        parent,
        Span("clawsim.step", 10.0, 0.0, "z", "p"),  # zero length, at the parent's end
        Span("clawsim.next", 10.0, 5.0, "n"),  # another tree starting when the first ends
    ]
    order = [(kind, record.span_id) for _, kind, record, _, _ in ordered_events(spans)]
    assert order == [(2, "p"), (2, "z"), (0, "z"), (0, "p"), (2, "n"), (0, "n")]
    stamps = [json.loads(line)["timestamp"] for line in written(*random_trace(3))]
    assert stamps == sorted(stamps)


@pytest.mark.parametrize("seed", range(12))
def test_round_trip_keeps_spans_up_to_ms_rounding(seed: int) -> None:
    spans, instants = random_trace(seed)
    started = [record for _, kind, record, _, _ in ordered_events(spans, instants) if kind == START]
    read = list(read_timeline(written(spans, instants), epoch=EPOCH, marks=True))
    back = [r for r in read if isinstance(r, LoggedSpan)]
    by_file_id = {r.span_id: started[int(r.span_id.rsplit("-", 1)[1], 16) - 1] for r in back}
    assert sorted(by_file_id[r.span_id].span_id for r in back) == sorted(s.span_id for s in spans)
    for r in back:
        original = by_file_id[r.span_id]
        assert (r.name, r.track, r.pid, r.phase, r.error) == (original.name, original.track, 4242, "clawsim", None)
        assert original.start_ms - 1 < r.start_ms <= original.start_ms + 0.0005
        assert r.duration_ms == pytest.approx(original.duration_ms, abs=0.0005)
        assert (by_file_id[r.parent_id].span_id if r.parent_id else None) == original.parent_id
        assert dict(r.attributes) == pytest.approx(dict(original.attributes), abs=0.0005)
    marks = [r for r in read if isinstance(r, LoggedMark)]
    assert sorted((m.name, m.track, dict(m.attributes)["k"]) for m in marks) == sorted(
        (i.name, i.track, dict(i.attributes)["k"]) for i in instants
    )
    assert all(
        abs(m.at_ms - i.at_ms) < 1
        for m, i in zip(sorted(marks, key=lambda m: m.at_ms), sorted(instants, key=lambda i: i.at_ms), strict=True)
    )


def test_real_example_parses() -> None:
    spans = list(read_timeline(REAL))
    assert [s.name for s in spans] == ["plugins.metadata.scan", "plugins.metadata.scan", "gateway.sessions.list.rows"]
    miss, hit, rows = spans
    assert (miss.duration_ms, miss.attr("cacheHit"), hit.attr("cacheHit"), rows.attr("storeEntries")) == (
        96.495,
        None,
        True,
        30,
    )
    assert miss.start_ms == pytest.approx(100 - 96.495)  # no start line: end timestamp minus durationMs
    assert {s.pid for s in spans} == {30406} and {s.phase for s in spans} == {"sessions.list"}
    assert (rows.parent_id, miss.parent_id) == (ROOT, ROWS)


def test_a_full_real_list_parses_from_a_file_with_bom_and_blank_lines(tmp_path: Path) -> None:
    rows_start = (
        V1 + '"type":"span.start","timestamp":"2026-12-02T00:12:23.790Z","name":"gateway.sessions.list.rows",'
        f'"pid":30406,"phase":"sessions.list","spanId":"{ROWS}","parentSpanId":"{ROOT}","attributes":{{"storeEntries":30}}}}'
    )
    root_end = (
        V1 + '"type":"span.end","timestamp":"2026-12-02T00:12:24.430Z","name":"gateway.sessions.list","pid":30406,'
        f'"phase":"sessions.list","spanId":"{ROOT}","durationMs":643.1,'
        '"attributes":{"agentId":null,"configuredAgentsOnly":false}}'
    )
    path = tmp_path / "timeline.jsonl"
    path.write_text("\n".join([REAL[0], rows_start, "", *REAL[1:], "  ", root_end]) + "\n", encoding="utf-8-sig")
    spans = list(read_timeline(path))
    assert [s.name for s in spans] == ["plugins.metadata.scan"] * 2 + [
        "gateway.sessions.list.rows",
        "gateway.sessions.list",
    ]
    rows, root = spans[2:]
    assert (rows.start_ms, rows.duration_ms) == (3.0, 632.486)  # max(start stamp, end stamp - durationMs)
    assert (root.start_ms, root.duration_ms, root.parent_id, dict(root.attributes)) == (
        0.0, 643.1, None, {"agentId": None, "configuredAgentsOnly": False},
    )  # fmt: skip


def test_truncated_last_line_is_dropped_and_open_spans_are_not_yielded() -> None:
    spans, instants = list_events([False] * 20, rows=10, per_row=2)
    lines = written(spans, instants)
    whole = list(read_timeline(lines))
    cut = list(read_timeline([*lines[:-1], lines[-1][:37]]))
    assert len(cut) == len(whole) - 1 == len(spans) - 1
    assert cut == whole[:-1]


def test_a_bad_line_before_the_end_is_an_error_naming_file_and_line(tmp_path: Path) -> None:
    lines = written(*list_events([True] * 4, rows=2, per_row=2))
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join([*lines[:3], lines[3][:20], *lines[4:]]) + "\n")
    with pytest.raises(TimelineError, match=rf"^{path}:4: not JSON"):
        list(read_timeline(path))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name,start_ms\nscan,1\n", r":1: not JSON: 'name,start_ms'$"),
        ('{"type":"span.start","name":"x"}\n', r":1: field schemaVersion: missing \(not an openclaw"),
        ('{"schemaVersion":"other.v9","type":"span.start"}\n', r":1: field schemaVersion: 'other.v9', expected"),
        ("[1, 2, 3]\n", r":1: not a JSON object"),
        ("\x00\x01garbage", r":1: not JSON"),
        (V1 + '"type":"span.start","name":"x","pid":1,"spanId":"a"}\n', r":1: field timestamp: missing"),
        (
            V1 + '"type":"span.end","timestamp":"yesterday","name":"x","spanId":"a"}\n',
            r":1: field timestamp: not an ISO",
        ),
        (V1 + '"type":"span.end","timestamp":"2026-06-06T00:00:00.000Z","name":"x"}\n', r":1: field spanId: missing"),
    ],
)
def test_non_timelines_raise_one_line_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(text)
    with pytest.raises(TimelineError, match=message) as caught:
        list(read_timeline(path))
    assert str(caught.value).startswith(f"{path}:") and "\n" not in str(caught.value)


def test_other_names_two_pids_errors_marks_and_missing_attributes() -> None:
    stamp = '"timestamp":"2026-06-06T00:00:0{}.{:03d}Z"'

    def line(kind: str, name: str, pid: int, span: str, at: int, extra: str = "") -> str:  # noqa: E306
        return (
            V1
            + f'"type":"{kind}",{stamp.format(at // 1000, at % 1000)},"name":"{name}","pid":{pid},"spanId":"{span}"{extra}}}'
        )

    lines = [
        line("span.start", "agent.turn", 1, "a", 0),
        line("span.start", "agent.turn", 2, "a", 5),  # same id, other process
        V1 + '"type":"eventLoop.sample","timestamp":"2026-06-06T00:00:00.006Z","name":"eventLoop","pid":1,"p50Ms":1}',
        V1
        + '"type":"mark","timestamp":"2026-06-06T00:00:00.007Z","name":"gateway.chat_send.ack_ready","pid":1,"phase":"agent-turn"}',
        line("span.error", "agent.turn", 2, "a", 30, ',"durationMs":25.5,"errorName":"AbortError","errorMessage":"x"'),
        line("span.end", "cron.run", 1, "c", 40, ',"durationMs":3'),  # no start line
        line("span.end", "agent.turn", 1, "a", 1200, ',"durationMs":1200.25'),
    ]
    spans = list(read_timeline(lines, marks=True))
    assert [(type(s).__name__, s.name, s.pid) for s in spans] == [
        ("LoggedMark", "gateway.chat_send.ack_ready", 1), ("LoggedSpan", "agent.turn", 2),
        ("LoggedSpan", "cron.run", 1), ("LoggedSpan", "agent.turn", 1),
    ]  # fmt: skip
    _, failed, cron, turn = spans
    assert isinstance(failed, LoggedSpan) and failed.error == "AbortError"
    assert (failed.start_ms, failed.duration_ms) == (5.0, 25.5)
    assert (cron.start_ms, cron.attributes, cron.phase) == (37.0, (), None)
    assert (turn.start_ms, turn.duration_ms, turn.error) == (0.0, 1200.25, None)
    assert all(isinstance(s, LoggedSpan) for s in read_timeline(lines))


def test_reader_streams() -> None:
    lines = written(*list_events([False] * 4, rows=2, per_row=2))

    def source():
        yield from lines[:3]  # the list's start, the store load's start and end
        raise RuntimeError("read past what the first span needs")

    first = next(read_timeline(source()))
    assert first.name == "gateway.sessions.list.store_load"


def test_writer_rejects_traces_that_are_not_trees_of_nested_spans() -> None:
    with pytest.raises(ValueError, match="not a gateway span name"):
        written([Span("agent.turn", 0, 1, "a")])
    with pytest.raises(ValueError, match="parent 'nope' is not among the spans"):
        written([Span("clawsim.a", 0, 1, "a", "nope")])
    with pytest.raises(ValueError, match="is not inside its parent"):
        written([Span("clawsim.a", 0, 1, "a"), Span("clawsim.b", 0.5, 1, "b", "a")])
    with pytest.raises(ValueError, match="used twice"):
        written([Span("clawsim.a", 0, 1, "a"), Span("clawsim.b", 0, 1, "a")])
    with pytest.raises(ValueError, match="cycle"):
        written([Span("clawsim.a", 0, 1, "a", "b"), Span("clawsim.b", 0, 1, "b", "a")])
    with pytest.raises(ValueError, match="duration_ms must be >= 0"):
        Span("clawsim.a", 0, -1, "a")


def test_timestamps_floor_to_the_ms_and_numbers_follow_the_gateways_rounding() -> None:
    span = Span("clawsim.a", 1.9996, 2.0004, "a", attributes={"x": 2.0, "y": -3.5, "z": 0.12345, "n": None})
    start, end = (json.loads(line) for line in written([span]))
    assert (start["timestamp"], end["timestamp"]) == ("2026-06-06T00:00:00.001Z", "2026-06-06T00:00:00.004Z")
    assert end["durationMs"] == 2 and isinstance(end["durationMs"], int)
    assert end["attributes"] == {"x": 2, "y": 0, "z": 0.123, "n": None}
