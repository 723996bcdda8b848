"""Plans: points valid alone but not together are named with their lines; huge plans are
counted, never built; actor copies are bounded."""

from __future__ import annotations

import time

import pytest
from typer.testing import CliRunner

import clawsim
from clawsim.cli import app
from clawsim.scenario.bounds import CHECK_ALL_POINTS, MAX_ACTOR_COPIES, MAX_COUNT, MAX_LISTS_PER_RUN

CLASH = """\
name: clash
variants:
  lru: {memo.policy: lru}
  nomemo: {memo.policy: none}
sweep:
  memo.capacity: [null, 4]
"""


def test_a_variant_and_a_sweep_value_that_clash_are_named_with_their_lines(tmp_path):
    path = tmp_path / "clash.yaml"
    path.write_text(CLASH)
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output + result.stderr
    assert result.stderr.strip() == (
        f"clawsim: {path}:6: sweep.memo.capacity[1] = 4 together with variants.nomemo (line 4): "
        "memo: capacity does not apply to policy none (plan point 3 of 4)"
    )


def test_two_sweep_keys_that_clash(tmp_path):
    path = tmp_path / "keys.yaml"
    path.write_text("sweep:\n  memo.policy: [lru, single]\n  memo.capacity:\n    - 8\n    - 16\n")
    with pytest.raises(clawsim.ScenarioError) as caught:
        clawsim.load_scenario(path)
    assert str(caught.value) == (
        f"{path}:4: sweep.memo.capacity[0] = 8 together with sweep.memo.policy[1] = 'single' (line 2): "
        "memo: capacity does not apply to policy single (plan point 2 of 4)"
    )


def large_clash(values: int) -> str:
    """Two sweep keys that clash, and a first key that makes the plan too large to check whole."""
    rows = ", ".join(str(r) for r in range(1, values + 1))
    return f"sweep:\n  list.rows: [{rows}]\n  memo.policy: [lru, none]\n  memo.capacity: [null, 4]\n"


def test_a_plan_too_large_to_check_whole_is_checked_at_run_time_with_the_same_message(tmp_path):
    path = tmp_path / "large.yaml"
    values = CHECK_ALL_POINTS // 4 + 1
    path.write_text(large_clash(values))
    started = time.perf_counter()
    scenario = clawsim.load_scenario(path)  # each value is checked with the others at their first value only
    assert time.perf_counter() - started < 1.0
    runs = clawsim.plan(scenario)
    assert runs.points == 4 * values > CHECK_ALL_POINTS
    expected = (
        "sweep.memo.capacity[1] = 4 together with sweep.list.rows[{i}] = {rows} (line 2), "
        "sweep.memo.policy[1] = 'none' (line 3): memo: capacity does not apply to policy none "
        "(plan point {point} of {points})"
    )
    with pytest.raises(clawsim.ScenarioError) as caught:
        runs[-1]
    assert str(caught.value) == f"{path}:4: " + expected.format(
        i=values - 1, rows=values, point=runs.points - 1, points=runs.points
    )
    with pytest.raises(clawsim.ScenarioError) as caught:
        clawsim.simulate(scenario)  # runs 0-2 are fine; run 3 is the first clash
    assert str(caught.value) == f"{path}:4: " + expected.format(i=0, rows=1, point=3, points=runs.points)


def test_small_plans_are_checked_whole_at_validation(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(large_clash(CHECK_ALL_POINTS // 4))
    with pytest.raises(clawsim.ScenarioError, match=r":4: sweep.memo.capacity\[1\] = 4 together with sweep.list.rows"):
        clawsim.load_scenario(path)


@pytest.mark.parametrize(
    "text, runs",
    [
        ("replications: 1000000000000\n", 10**12),
        (
            "sweep:\n"
            + "".join(
                f"  {p}: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n"
                for p in [
                    "list.rows",
                    "list.yield_every",
                    "list.lookups_per_row",
                    "memo.capacity",
                    "seed",
                    "list.count",
                    "memo.scan_ms",
                    "memo.hit_ms",
                    "list.row_cost_ms",
                    "list.start_ms",
                    "list.gap_ms",
                    "loop.iteration_ms",
                ]
            ),
            10**12,
        ),
    ],
    ids=["replications", "sweep"],
)
def test_a_trillion_run_plan_is_counted_instantly(tmp_path, text, runs):
    path = tmp_path / "huge.yaml"
    path.write_text(text)
    started = time.perf_counter()
    plan = clawsim.plan(clawsim.load_scenario(path))
    assert len(plan) == runs
    last = plan[-1]
    assert last.run == runs - 1
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 0 and f"{runs:,} runs" in result.stdout
    assert time.perf_counter() - started < 5.0  # mostly the CLI's start-up; the plan itself is never built


def test_a_plan_whose_run_index_would_not_fit_the_table_is_refused():
    text = f"replications: {MAX_COUNT}\nsweep:\n  list.rows: [1, 2]\n"
    with pytest.raises(clawsim.ScenarioError, match="replications: the plan has 1.84e[+]19 runs; at most"):
        clawsim.parse_scenario(text)


def test_actor_copies_are_bounded_at_validation(tmp_path):
    path = tmp_path / "copies.yaml"
    path.write_text(
        "actors:\n  - {name: a, kind: interval, period_ms: 5}\n  - name: b\n    kind: poisson\n"
        "    rate_per_s: 1\n    count: 1000000000\n"
    )
    started = time.perf_counter()
    with pytest.raises(clawsim.ScenarioError) as caught:
        clawsim.load_scenario(path)
    assert time.perf_counter() - started < 1.0
    assert str(caught.value) == (
        f"{path}:6: actors.1.count: 1000000001 actor copies in all; at most "
        f"{MAX_ACTOR_COPIES} (each copy is simulated with its own random stream)"
    )
    path.write_text(
        f"actors:\n  - {{name: a, kind: immediate}}\nsweep:\n  actors.0.count: [1, {MAX_ACTOR_COPIES + 1}]\n"
    )
    with pytest.raises(
        clawsim.ScenarioError, match=r":4: sweep.actors.0.count\[1\] = 10001: actors.0.count: 10001 actor"
    ):
        clawsim.load_scenario(path)


def test_lists_per_run_are_bounded_at_validation():
    with pytest.raises(
        clawsim.ScenarioError, match=f"list.count: a run would start 1000000000 lists; at most {MAX_LISTS_PER_RUN}"
    ):
        clawsim.parse_scenario("list: {rows: 1, row_cost_ms: 0, count: 1000000000, lookups_per_row: 0}")
    with pytest.raises(clawsim.ScenarioError, match="list.duration_ms: a run would start 1000001 lists"):
        clawsim.parse_scenario("list: {poll_every_ms: 0.5, duration_ms: 1000000}")
