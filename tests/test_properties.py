"""Hypothesis properties over rows, yield_every, lookups, memo policies and actors."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

import clawsim
from clawsim.engine.options import EngineOptions
from clawsim.engine.run import simulate_once
from clawsim.scenario import Scenario

ACTOR = st.fixed_dictionaries(
    {
        "name": st.sampled_from(["agent", "cron", "flipper"]),
        "kind": st.sampled_from(["immediate", "interval", "poisson"]),
        "count": st.integers(0, 3),
        "work_ms": st.sampled_from([0.0, 0.5, 3.0]),
        "workspaces": st.sampled_from(["unique", "cycle:2", "random:3", "fixed:/agents/main"]),
        "lookups": st.integers(0, 2),
    }
)


def _actor(draw_actor: dict) -> dict:
    actor = dict(draw_actor)
    if actor["kind"] == "interval":
        actor["period_ms"] = 2.0
    if actor["kind"] == "poisson":
        actor["rate_per_s"] = 100.0
    return actor


@st.composite
def scenarios(
    draw,
    actors=st.lists(ACTOR, max_size=3),
    fix=st.sampled_from(["none", "pin"]),
    policy=st.sampled_from(["none", "single", "lru", "ttl"]),
    io=st.booleans(),
):
    rows = draw(st.integers(1, 400))
    memo = {"policy": draw(policy), "scan_ms": draw(st.sampled_from([0.0, 0.5, 2.5]))}
    if memo["policy"] == "lru":
        memo["capacity"] = draw(st.integers(1, 8))
    if memo["policy"] == "ttl":
        memo["ttl_ms"] = draw(st.sampled_from([1.0, 50.0]))
    lst = {
        "rows": rows,
        "yield_every": draw(st.integers(0, 40)),
        "lookups_per_row": draw(st.integers(0, 3)),
        "row_cost_ms": draw(st.sampled_from([0.0, 0.28])),
    }
    if draw(io):
        lst["per_row_io"] = {"rows": draw(st.integers(0, 15)), "latency_ms": 0.5}
    return Scenario.model_validate(
        {
            "seed": draw(st.integers(0, 2**32)),
            "loop": {"iteration_ms": 0.02, "max_sim_ms": 20_000.0},
            "list": lst,
            "registry": {"fix": draw(fix)},
            "memo": memo,
            "actors": [_actor(a) for a in draw(actors)],
        }
    )


@given(scenarios())
def test_counts_are_consistent(scenario):
    row = clawsim.simulate(scenario).iloc[0]
    assert row.scans + row.hits == row.lookups
    if row.completed:  # else an overloaded loop (actors' load > 1) hit max_sim_ms
        assert row.lookups == scenario.list.rows * scenario.list.lookups_per_row
    if row.lookups and not any(a.lookups for a in scenario.actors):
        assert row.scans >= 1  # the memo starts empty and nothing else fills it: the first lookup scans
    assert row.changes <= row.flips <= row.actor_activations
    every = scenario.list.yield_every
    assert row.yields <= (math.ceil(scenario.list.rows / every) - 1 if every else 0)
    assert row.completed == (row.list_ms < 20_000)
    assert row.list_ms >= scenario.list.rows * scenario.list.row_cost_ms + row.scan_ms_total - 1e-9
    if scenario.registry.fix == "pin":
        assert row.distinct_workspaces <= 1


@given(
    scenarios(
        actors=st.lists(ACTOR.map(lambda a: {**a, "lookups": 0}), max_size=3), fix=st.just("pin"), policy=st.just("lru")
    )
)
def test_with_the_pin_a_big_enough_lru_scans_at_most_once_per_lookup(scenario):
    data = scenario.model_dump()
    data["memo"]["capacity"] = max(scenario.list.lookups_per_row, data["memo"]["capacity"])
    row = clawsim.simulate(Scenario.model_validate(data)).iloc[0]
    assert row.scans <= scenario.list.lookups_per_row


@given(scenarios(actors=st.lists(ACTOR.map(lambda a: {**a, "kind": "immediate"}), max_size=3), io=st.just(False)))
def test_immediate_actors_flip_once_per_copy_and_yield(scenario):
    row = clawsim.simulate(scenario).iloc[0]
    copies = sum(a.count for a in scenario.actors)
    assert row.flips == copies * row.yields


@given(
    scenarios(
        actors=st.lists(
            ACTOR.map(
                lambda a: {**a, "kind": "immediate", "lookups": 0, "workspaces": "unique", "count": max(1, a["count"])}
            ),
            min_size=1,
            max_size=2,
        ),
        fix=st.just("none"),
        policy=st.just("lru"),
        io=st.just(False),
    )
)
def test_no_fix_and_a_new_value_every_yield_scans_per_batch_and_lookup(scenario):
    data = scenario.model_dump()
    data["memo"]["capacity"] = max(scenario.list.lookups_per_row, data["memo"]["capacity"])
    row = clawsim.simulate(Scenario.model_validate(data)).iloc[0]
    assert row.scans == scenario.list.lookups_per_row * (row.yields + 1)


@given(scenarios())
def test_same_scenario_and_seed_give_identical_records(scenario):
    first = clawsim.simulate(scenario)
    second = clawsim.simulate(scenario)
    assert first.equals(second)


ORACLE = EngineOptions(fast_rows=False, resume_in_place=False)  # every shortcut off: the loop step by step
LOGNORMAL = {"dist": "lognormal", "p50": 2.0, "p95": 4.0}


@given(scenarios(), st.integers(0, 3), st.booleans(), st.sampled_from([1, 20, 200]), st.sampled_from([1, 16]))
def test_the_engine_shortcuts_give_the_records_of_the_step_by_step_loop(scenario, stream, drawn, busier, copies):
    """The fast paths (rows counted in one step, batches chained in place, stretches of batches
    under aggregated arrivals, immediate actors fired in place) change no record, float for
    float, on any scenario: the differential check over random scenarios beside the hand-picked
    cases of test_in_place, test_stretch and test_rows_fast_path. ``drawn``: drawn costs for the
    scan and the cost terms around it, so each term's random stream is exercised too;
    ``busier``, ``copies``: poisson rates x1, x20, x200 (up to 20,000 arrivals a second a copy)
    and copies x1, x16, where batches meet arrivals and new workspaces at nearly every yield
    (the stretches' case)."""
    data = scenario.model_dump()
    for actor in data["actors"]:
        if actor["kind"] == "poisson":
            actor["rate_per_s"] *= busier
            actor["count"] *= copies
    if drawn:
        data["memo"] |= {
            "scan_ms": LOGNORMAL,
            "miss_overhead_ms": 0.5,
            "pre_miss_ms": {"dist": "uniform", "low": 0, "high": 1},
        }
        data["list"]["setup_ms"] = 3.0
    scenario = Scenario.model_validate(data)
    assert simulate_once(scenario, stream) == simulate_once(scenario, stream, options=ORACLE)


POISSON_ONLY = st.lists(  # one source of arrivals without lookups: what a stretch collapses
    ACTOR.map(
        lambda a: {
            **a,
            "kind": "poisson",
            "count": a["count"] * 40 + 1,
            "work_ms": min(a["work_ms"], 0.5),
            "lookups": 0,
        }
    ),
    min_size=1,
    max_size=1,
)


TERMS = {"memo": ("pre_miss_ms", "miss_overhead_ms"), "list": ("setup_ms",)}


@given(
    scenarios(actors=POISSON_ONLY, io=st.just(False), policy=st.just("lru")),
    st.integers(0, 3),
    st.sampled_from([1, 20]),
    st.sampled_from([None, *TERMS["memo"], *TERMS["list"]]),
)
def test_the_shortcuts_under_many_poisson_agents_give_the_step_by_step_records(scenario, stream, busier, term):
    """The regime of the stretches (engine/stretch.py): a list alone on the loop with many
    poisson agents (1-121 copies each, 100-2,000 arrivals a second a copy), so that nearly
    every yield meets arrivals and, under unique workspaces, a new workspace; with one cost term
    at a time (a shortcut that ignored memo.pre_miss_ms alone passed the test above, where the
    terms came together and miss_overhead_ms turned the stretches off)."""
    data = scenario.model_dump()
    for actor in data["actors"]:
        actor["rate_per_s"] *= busier
    if term is not None:
        data["memo" if term in TERMS["memo"] else "list"][term] = 0.7
    scenario = Scenario.model_validate(data)
    assert simulate_once(scenario, stream) == simulate_once(scenario, stream, options=ORACLE)


FRESH_ONLY = st.lists(  # one source of unique workspaces whose activations hold nothing: fresh runs
    ACTOR.map(
        lambda a: {
            **a,
            "kind": "poisson",
            "count": a["count"] * 40 + 1,
            "work_ms": 0.0,
            "workspaces": "unique",
            "lookups": 0,
        }
    ),
    min_size=1,
    max_size=1,
)


@given(
    scenarios(actors=FRESH_ONLY, fix=st.just("none"), io=st.just(False), policy=st.just("lru")),
    st.integers(0, 3),
    st.sampled_from([1, 20]),
    st.integers(0, 400),
    st.booleans(),
)
def test_runs_of_fresh_batches_give_the_step_by_step_records(scenario, stream, busier, spelled, snapshot):
    """The regime of the runs of fresh batches (engine/fresh.py): the stretches' regime above
    with unique workspaces, activations that hold nothing and scan costs drawn (the runs take
    them from the costs drawn ahead); the gateway's workspace spelled as one of the agents'
    names (``spelled``: a batch that reads it is not fresh, and the list counts it once),
    served by the published snapshot or not."""
    data = scenario.model_dump()
    actor = data["actors"][0]
    actor["rate_per_s"] *= busier
    for key, least in (("lookups_per_row", 1), ("yield_every", 2)):  # batches of rows that look up
        data["list"][key] = max(least, data["list"][key])
    data["memo"] |= {"scan_ms": LOGNORMAL, "current_snapshot": snapshot}
    data["registry"]["initial_workspace"] = f"{actor['name']}#{spelled % actor['count']}/{spelled // actor['count']}"
    scenario = Scenario.model_validate(data)
    assert simulate_once(scenario, stream) == simulate_once(scenario, stream, options=ORACLE)


SETTERS = st.lists(  # an immediate actor without lookups: a flipper a loop iteration, mostly one copy and new values
    st.fixed_dictionaries(
        {
            "name": st.sampled_from(["flipper", "agent"]),
            "kind": st.just("immediate"),
            "count": st.sampled_from([1, 1, 1, 2]),
            "work_ms": st.sampled_from([0.0, 0.5, 3.0]),
            "workspaces": st.sampled_from(["unique", "unique", "random:50", "cycle:2"]),
            "lookups": st.just(0),
        }
    ),
    min_size=1,
    max_size=1,
)


@given(
    scenarios(actors=SETTERS, fix=st.just("none"), policy=st.sampled_from(["lru", "lru", "single"]), io=st.just(False)),
    st.integers(0, 3),
    st.booleans(),
    st.sampled_from([0.0, 0.01]),
)
def test_the_shortcuts_under_immediate_actors_give_the_step_by_step_records(scenario, stream, drawn, hit_ms):
    """The regime of ``batches_in_place`` under immediate actors (the PR's flipper): each batch
    reads the workspace the actor set in its check phase, a new one under unique or random
    workspaces (``listing._fresh_batches``: the batches' ends one by one, the counters, the
    setter calls and the memo's stores once at the end), with drawn scan costs and hits that
    cost something, against the step-by-step loop."""
    data = scenario.model_dump()
    data["list"]["lookups_per_row"] = lookups = max(1, data["list"]["lookups_per_row"])
    data["list"]["yield_every"] = max(1, data["list"]["yield_every"] // 4)
    if data["memo"]["policy"] == "lru":  # (a memo smaller than a row misses on every lookup: not this regime)
        data["memo"]["capacity"] = max(lookups, data["memo"]["capacity"])
    data["memo"]["hit_ms"] = hit_ms
    if drawn:
        data["memo"]["scan_ms"] = LOGNORMAL
    scenario = Scenario.model_validate(data)
    assert simulate_once(scenario, stream) == simulate_once(scenario, stream, options=ORACLE)
