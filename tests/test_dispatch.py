"""The variation points: every memo policy and actor kind is handled where it must be.

A policy or kind added to the schema alone fails mypy at each ``assert_never`` (engine,
analytic coverage, nodecheck rules); these tests hold the parts mypy cannot see: the union's
tags, and the two members added through every layer as the proof (``fifo``, ``burst``).
"""

from __future__ import annotations

import typing

import pytest
from conftest import ROOT

import clawsim
from clawsim import ScenarioError
from clawsim.analytic import NotAnalytic, expectations
from clawsim.engine import EngineOptions, simulate_once
from clawsim.engine.memo import Memo
from clawsim.nodecheck.rules import rules
from clawsim.scenario import ActorKind, ActorSpec, MemoSpec, Scenario, plan
from clawsim.scenario.messages import _UNION_TAGS
from clawsim.scenario.policy import PolicyName, memo_policy

pytestmark = pytest.mark.fast  # the inner loop: python -m pytest -m fast (seconds)

DATA = ROOT / "tests" / "data" / "nodecheck"


def _kinds() -> set[str]:
    members = typing.get_args(typing.get_args(ActorSpec)[0])
    return {typing.get_args(m.model_fields["kind"].annotation)[0] for m in members}


def test_actor_kind_and_the_error_tags_name_the_unions_members():
    assert set(typing.get_args(ActorKind)) == _kinds() == {"immediate", "interval", "poisson", "burst"}
    assert _kinds() <= _UNION_TAGS  # else a field error's path shows the tag (actors.0.burst.work_ms)
    assert typing.get_args(MemoSpec.model_fields["policy"].annotation) == typing.get_args(PolicyName)


def test_fifo_evicts_the_oldest_stored_entry_even_when_it_was_just_hit():
    for name, evicted in (("lru", "b"), ("fifo", "a")):
        memo = Memo(memo_policy(name, 2, None))
        memo.store("a", 0.0, "w")
        memo.store("b", 1.0, "w")
        assert memo.lookup("a", 2.0) == (0.0, "w")
        memo.store("c", 3.0, "w")
        assert evicted not in memo.entries and len(memo.entries) == 2
    assert not memo_policy("fifo", 4, None).evicts_in_lru_order
    assert memo_policy("fifo", 1, None).evicts_in_lru_order  # one slot: the orders agree


def _records(name: str) -> dict:
    runs = plan(clawsim.load_scenario(DATA / f"{name}.yaml"))
    return {
        dict(r.params).get("variant", dict(r.params).get("registry.fix")): simulate_once(r.scenario)[0] for r in runs
    }


def test_fifo_scans_where_lru_keeps_the_pinned_lists_entries():
    got = _records("fifo-vs-lru")
    assert (got["lru"]["scans"], got["fifo"]["scans"]) == (2, 12)  # fifo: one scan per batch after the first
    assert got["lru"]["lookups"] == got["fifo"]["lookups"] == 240


def test_fifo_runs_the_same_with_the_row_fast_paths_off():
    """The fast paths ask the policy (``evicts_in_lru_order``): for fifo they stand aside."""
    scenario = clawsim.load_scenario(DATA / "fifo-vs-lru.yaml").with_values({"list.lookups_per_row": 5})
    points = [r.scenario for r in plan(scenario)]
    fast = [simulate_once(s, 3) for s in points]
    slow = EngineOptions(fast_rows=False)
    assert [simulate_once(s, 3, options=slow) for s in points] == fast


def test_a_burst_activates_size_times_per_tick_one_per_check_phase():
    scenario = Scenario.model_validate(
        {
            "list": {"rows": 3000, "yield_every": 1, "lookups_per_row": 1, "row_cost_ms": 0.01},
            "memo": {"scan_ms": 0.0},
            "actors": [{"name": "cron", "kind": "burst", "period_ms": 10, "size": 3}],
            "loop": {"max_sim_ms": 1000},
        }
    )
    record = simulate_once(scenario)[0]
    ticks = int(record["sim_ms"] // 10)  # due at 10, 20, ... ms: the loop never runs late here
    assert ticks >= 3
    assert 3 * ticks - 2 <= record["actor_activations"] <= 3 * ticks  # the last burst may outlive the list
    # the list, yielding every row, reads each activation's workspace: one activation per loop iteration
    assert record["flips"] == record["actor_activations"] == record["distinct_workspaces"] - 1 == 12
    interval = scenario.with_values({"actors.0.kind": "interval", "actors.0.size": None})
    assert simulate_once(interval)[0]["distinct_workspaces"] - 1 == ticks


def test_the_models_refuse_what_they_do_not_follow():
    for name in ("fifo-vs-lru", "burst"):
        for run in plan(clawsim.load_scenario(DATA / f"{name}.yaml")):
            with pytest.raises(NotAnalytic, match="fifo|burst|own lookups"):
                expectations(run.scenario)
    no_lookups = clawsim.load_scenario(DATA / "fifo-vs-lru.yaml").with_values({"actors.0.lookups": 0})
    fifo = [r.scenario for r in plan(no_lookups)][1]
    assert fifo.memo.policy == "fifo"
    with pytest.raises(NotAnalytic, match="memo.policy fifo does not evict least recently used first"):
        expectations(fifo)
    single = fifo.with_values({"memo.capacity": 1, "actors": []})
    assert [e["expected_scans"] for e in expectations(single)] == [r["scans"] for r in simulate_once(single)]


def test_nodecheck_judges_burst_counts_by_time_not_exactly():
    run = plan(clawsim.load_scenario(DATA / "burst.yaml"))[0].scenario
    assert rules(run)["scans"].kind == "within"
    fifo = plan(clawsim.load_scenario(DATA / "fifo-vs-lru.yaml"))[1].scenario
    assert rules(fifo)["scans"].kind == "exact"


@pytest.mark.parametrize(
    ("actor", "message"),
    [
        ({"kind": "burst", "period_ms": 5}, "actors.0: kind burst needs size"),
        ({"kind": "burst", "size": 2}, "actors.0: kind burst needs period_ms"),
        ({"kind": "interval", "period_ms": 5, "size": 2}, "actors.0: size only applies to kind burst, not interval"),
        ({"kind": "poisson", "rate_per_s": 1, "period_ms": 5}, "period_ms only applies to kinds interval and burst"),
        ({"kind": "burst", "period_ms": 5, "size": 2, "work_ms": -1}, "actors.0.work_ms: Input should be greater"),
    ],
)
def test_burst_field_errors_name_the_field(actor, message):
    with pytest.raises(ScenarioError) as caught:
        clawsim.parse_scenario(str({"actors": [{"name": "a", **actor}]}).replace("'", '"'), "s.yaml")
    assert message in str(caught.value) and "burst.work_ms" not in str(caught.value)
