"""clawsim explore: the search against exact answers (analytic model, engine) and itself."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import clawsim
from clawsim.analytic import expectations
from clawsim.engine.walk import batches
from clawsim.errors import ScheduleError, UsageError
from clawsim.explore import Bounds, Model, explore, parse_property, read_schedule
from clawsim.explore.schedule import check_fits, replay
from clawsim.explore.search import exhaustive
from clawsim.scenario import load_scenario, parse_scenario, plan

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def alternatives():
    """scenarios/alternatives.yaml explored once (about 20 s) for the tests that read it."""
    s = load_scenario(ROOT / "scenarios/alternatives.yaml")
    return s, explore(s)


def scenario(text: str) -> clawsim.Scenario:
    return parse_scenario(text, "test.yaml")


def flipper(
    rows: int = 200, every: int = 10, lookups: int = 2, workspaces: str = "unique", capacity: int = 8, fix: str = "none"
) -> clawsim.Scenario:
    return scenario(
        f"""
name: flip
list: {{rows: {rows}, yield_every: {every}, lookups_per_row: {lookups}, row_cost_ms: 0.28}}
registry: {{fix: {fix}}}
memo: {{policy: lru, capacity: {capacity}, scan_ms: 2.5}}
actors: [{{name: flipper, kind: immediate, workspaces: "{workspaces}"}}]
"""
    )


def test_harness_pin_bound_proved_and_unpinned_worst_is_keys_times_batches():
    results = explore(load_scenario(ROOT / "scenarios/pr90819-harness.yaml"))
    none, pin = results
    assert none.search.mode == pin.search.mode == "exhaustive"
    assert none.search.extremes.metric("scans") == (2, 40)  # 40 = 2 lookups x 20 batches
    assert pin.search.extremes.metric("scans") == (2, 2)
    (pin_bound,) = [v for v in pin.verdicts if v.property.metric == "scans"]
    assert pin_bound.property.text == "scans <= 2" and pin_bound.holds and pin_bound.proved
    assert none.search.schedules == 3**20  # 0, 1 or 2 activations in each of 20 gaps
    # the worst schedule needs a flip in every one of the 19 yields, no more
    assert none.worst is not None and none.worst.activations == 19 and none.worst.expect["scans"] == 40


@pytest.mark.parametrize(("rows", "every", "lookups"), [(200, 10, 2), (95, 10, 3), (30, 7, 1), (50, 0, 2)])
def test_unpinned_worst_under_unique_workspaces_is_keys_times_batches(rows, every, lookups):
    s = flipper(rows, every, lookups)
    (result,) = explore(s)
    assert result.search.extremes.metric("scans")[1] == lookups * len(list(batches(s.list)))


@pytest.mark.parametrize(("k", "scans"), [(4, 10), (5, 40)])
def test_cycle_under_8_slot_lru_matches_the_analytic_model_and_the_engine(k, scans):
    """A 4-workspace cycle fits the 8 slots (2 keys each): after the first round every batch
    hits; 5 do not fit, and every batch after a flip misses (analytic: exact)."""
    s = flipper(workspaces=f"cycle:{k}")
    (result,) = explore(s)
    assert result.search.extremes.metric("scans")[1] == scans
    assert expectations(s)[0]["expected_scans"] == scans and expectations(s)[0]["exact"]
    assert clawsim.simulate(s)["scans"].tolist() == [scans]


def test_pool_of_5_over_50_batches_is_exhaustive_and_small():
    s = flipper(rows=500, workspaces="random:5")
    (result,) = explore(s)
    assert result.search.mode == "exhaustive"
    assert result.search.extremes.metric("scans") == (2, 100)  # 5 workspaces + /gateway outnumber 4 pairs of slots
    assert max(result.search.per_step) < 50  # symmetry: states per step stay tiny


@pytest.mark.slow  # the alternatives fixture explores 11 variants (~20 s)
def test_engine_runs_lie_within_the_explored_bounds(alternatives):
    """Every seeded run of every alternative is one schedule: its counts lie within [best, worst]."""
    s, results = alternatives
    frame = clawsim.simulate(s.model_copy(update={"replications": 3}))
    for result in results:
        runs = frame[frame["variant"] == result.point["variant"]]
        for metric in ("scans", "hits", "stale_hits"):
            lo, hi = result.search.extremes.metric(metric)
            assert runs[metric].between(lo, hi).all(), (result.label, metric, lo, hi, runs[metric].tolist())


@pytest.mark.slow  # the alternatives fixture explores 11 variants (~20 s)
def test_ttl_global_stale_hits_minimal_counterexample_replays(alternatives):
    result = next(r for r in alternatives[1] if r.point["variant"] == "ttl-global")
    (stale,) = [v for v in result.verdicts if v.property.metric == "stale_hits"]
    assert not stale.holds and stale.minimal
    example = stale.counterexample
    assert example is not None and example.activations == 1  # one setter call before a batch suffices
    assert example.expect["stale_hits"] == 2
    path, expect = replay(result.model, example.gaps)
    assert expect == example.expect


def test_user_property_and_counterexample_file_round_trip(tmp_path):
    prop = parse_property("scans <= 4")
    (result,) = explore(flipper(workspaces="cycle:5"), properties=(prop,))
    (verdict,) = [v for v in result.verdicts if v.property == prop]
    assert not verdict.holds and verdict.minimal
    example = verdict.counterexample
    assert example is not None and example.expect["scans"] == 6 and example.activations == 2
    path = tmp_path / "cx.json"
    path.write_text(example.to_json())
    again = read_schedule(path)
    assert check_fits(again, result.model, path)[1] == example.expect


def test_bounds_are_what_the_search_used():
    s = flipper(rows=30)
    one = exhaustive(Model(s, Bounds(per_gap=1)))
    two = exhaustive(Model(s, Bounds(per_gap=2)))
    assert one.schedules == 2**3 and two.schedules == 3**3
    assert one.extremes.metric("flips")[1] == 2 and two.extremes.metric("flips")[1] == 4
    capped = exhaustive(Model(s, Bounds(per_gap=2, total=1)))
    assert capped.extremes.metric("activations")[1] == 1


def test_sampled_search_when_the_space_is_too_large():
    s = load_scenario(ROOT / "scenarios/alternatives.yaml")
    point = plan(s)[s.replications * 2].scenario  # lru512: dead entries fill 512 slots slowly
    (result,) = explore(point, max_states=1_000, samples=50)
    assert result.search.mode == "sampled" and result.search.schedules == 50
    assert "more than 1,000 states" in result.search.note
    assert 2 <= result.search.extremes.metric("scans")[1] <= 200


@pytest.mark.slow  # the alternatives fixture explores 11 variants (~20 s)
def test_ttl_expiry_needs_time_to_pass(alternatives):
    """A 5 s TTL cannot expire within a step: entries may only expire once the longest steps
    any schedule can take add up to 5 s, so the unkeyed TTL's worst case stays far below 200."""
    result = next(r for r in alternatives[1] if r.point["variant"] == "ttl-global")
    assert (
        result.model.expiry_age == 17
    )  # ceil(5000 / 282.3) - 1: one row scanning twice at p95, 2 x 2 activations, the read
    assert result.search.extremes.metric("scans") == (2, 12)
    assert result.worst is not None and result.worst.activations == 0  # expiries alone


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"scenario": "other"}, "the schedule is of 'other'"),
        ({"gaps": [{"gap": 20, "activations": [["flipper", "x"]]}]}, "gap 20 does not exist; this list has 20 gaps"),
        (
            {"gaps": [{"gap": 1, "activations": [["ghost", "x"]]}]},
            "gaps[0] (gap 1).activations[0]: unknown actor 'ghost'",
        ),
        ({"gaps": [{"gap": 1, "activations": [["flipper", "/gateway"]]}]}, "never-seen workspace"),
        ({"gaps": "no"}, "gaps: a list"),
    ],
)
def test_bad_schedule_files_are_one_line_errors(tmp_path, change, message):
    s = flipper()
    model = Model(s)
    data = {"clawsim_schedule": 1, "scenario": "flip", "point": {}, "gaps": [], **change}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ScheduleError, match=re.escape(message)) as info:
        check_fits(read_schedule(path), model, path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


@pytest.mark.parametrize("text", ["scans", "scans <= x", "speed <= 3", "scans => 3"])
def test_bad_properties_say_what_is_accepted(text):
    with pytest.raises(UsageError, match="METRIC OP NUMBER"):
        parse_property(text)


def test_cli_explore_writes_the_folder_and_proves_the_pin(tmp_path):
    from typer.testing import CliRunner

    from clawsim.cli import app

    out = tmp_path / "x"
    result = CliRunner().invoke(
        app, ["explore", str(ROOT / "scenarios/pr90819-harness.yaml"), "--out", str(out), "--property", "scans <= 4"]
    )
    assert result.exit_code == 0, result.output
    assert "2..40" in result.stdout and "FAILS scans <= 4" in result.stdout
    table = (out / "explore.md").read_text()
    assert "`scans <= 2` holds for every schedule" in table and "| scans | 2 | 40 | 40 (40-40) |" in table
    cx = read_schedule(out / "registry.fix=none.counterexample-1.schedule.json")
    assert cx.expect["scans"] == 6 and cx.activations == 2  # two flips suffice to pass 4 scans
    assert (out / "worst-vs-sampled.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--property", "scans <= many"], "METRIC OP NUMBER"),
        (["--set", "list.count=2"], "explore follows one list per run"),
        (
            ["--set", "memo.pre_miss_ms=1"],
            "explore does not model list.setup_ms, memo.miss_overhead_ms or memo.pre_miss_ms",
        ),
    ],
)
def test_cli_explore_bad_input_is_one_line_and_exit_2(tmp_path, args, message):
    from typer.testing import CliRunner

    from clawsim.cli import app

    result = CliRunner().invoke(
        app,
        ["explore", str(ROOT / "scenarios/pr90819-harness.yaml"), "--out", str(tmp_path / "x"), "--no-sample", *args],
    )
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def _counterexample(tmp_path: Path, variant: str, results) -> Path:
    result = next(r for r in results if r.point["variant"] == variant)
    example = result.worst if variant != "ttl-global" else result.verdicts[0].counterexample
    assert example is not None
    path = tmp_path / f"{variant}.schedule.json"
    path.write_text(example.to_json())
    return path


@pytest.mark.node
@pytest.mark.slow
@pytest.mark.parametrize("variant", ["ttl-global", "repeating-keys-lru8"])
def test_check_node_schedule_confirms_the_counterexample_on_node(tmp_path, variant, alternatives):
    """The minimal stale-hit counterexample (1 activation) and an LRU's worst case (3 cycle
    steps, 8 scans) give the same counts on the real Node loop as in the model."""
    from clawsim.explore.replay import node_check
    from clawsim.explore.schedule import load_schedule

    loaded = load_schedule(alternatives[0], _counterexample(tmp_path, variant, alternatives[1]))
    rows = node_check(loaded)
    assert all(r.equal for r in rows), rows
    assert {r.metric: r.node for r in rows}["stale_hits" if variant == "ttl-global" else "scans"] == (
        2 if variant == "ttl-global" else 8
    )


def test_check_node_refuses_a_schedule_of_another_scenario(tmp_path):
    from typer.testing import CliRunner

    from clawsim.cli import app

    path = tmp_path / "s.json"
    path.write_text(json.dumps({"clawsim_schedule": 1, "scenario": "alternatives", "point": {}, "gaps": []}))
    result = CliRunner().invoke(
        app, ["check-node", str(ROOT / "scenarios/pr90819-harness.yaml"), "--schedule", str(path)]
    )
    assert result.exit_code == 2 and "the schedule is of 'alternatives', not 'pr90819-harness'" in result.stderr


@pytest.mark.slow  # the alternatives fixture explores 11 variants (~20 s)
def test_engine_replays_every_explored_schedule_exactly(tmp_path, alternatives):
    """The engine driven by the schedule chooser gives the counts the model gives, for the worst
    case of every alternative and for the stale-hit counterexample."""
    from clawsim.explore.replay import engine_replay
    from clawsim.explore.schedule import load_schedule

    s, results = alternatives
    for result in results:
        examples = [result.worst, *(v.counterexample for v in result.verdicts)]
        for n, example in enumerate(e for e in examples if e is not None):
            path = tmp_path / f"{result.label}-{n}.json"
            path.write_text(example.to_json())
            record = engine_replay(load_schedule(s, path))
            for metric in ("scans", "hits", "stale_hits", "flips"):
                assert record[metric] == example.expect[metric], (result.label, n, metric)


@pytest.mark.slow  # the alternatives fixture explores 11 variants (~20 s)
def test_trace_schedule_writes_the_replayed_run(tmp_path, alternatives):
    from typer.testing import CliRunner

    from clawsim.cli import app

    path = _counterexample(tmp_path, "ttl-global", alternatives[1])
    result = CliRunner().invoke(app, ["trace", str(ROOT / "scenarios/alternatives.yaml"), "--schedule", str(path)])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "ttl-global.trace"
    lines = [json.loads(line) for line in (folder / "run-200.timeline.jsonl").read_text().splitlines()]
    sets = [e for e in lines if "registry.set" in json.dumps(e)]
    assert len(sets) == 1  # the one activation of the counterexample, and no seeded actor
    assert (folder / "run-200.timeline.png").exists() and (folder / "run-200.trace.json").exists()
