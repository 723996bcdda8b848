"""The alternative fixes of scenarios/alternatives.yaml, on real simulated values.

Variants are compared with common random numbers, as the run plan runs them
(``RunSpec.stream``): the same stream index (hence the same scan costs and actor arrivals)
in every variant, so "changes nothing" is checked as equality, replication by replication. The qualitative claims of docs/alternatives.md and
the numbers in the scenario's header are asserted here.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ROOT

import clawsim
from clawsim.engine.run import simulate_once

REPS = 20  # common-random-number replications per variant (the file itself runs 50)


@pytest.fixture(scope="module")
def variants() -> dict[str, list[dict]]:
    """Variant name -> one record per replication (replication r uses run index r everywhere)."""
    sc = clawsim.load_scenario(ROOT / "scenarios/alternatives.yaml")
    out = {}
    for spec in clawsim.plan(sc)[:: sc.replications]:
        name = dict(spec.params)["variant"]
        out[name] = [simulate_once(spec.scenario, r)[0] for r in range(REPS)]
    return out


def _col(records: list[dict], key: str) -> np.ndarray:
    return np.array([r[key] for r in records], dtype=float)


def test_every_variant_of_the_file_is_covered(variants):
    assert set(variants) == {
        "none",
        "pin",
        "lru512",
        "ttl-keyed",
        "ttl-global",
        "hoisted",
        "prepared",
        "no-yields",
        "snapshot-agent-ws",
        "snapshot-default-ws",
        "repeating-keys-lru8",
    }


def test_the_busy_gateway_without_a_fix_scans_per_row(variants):
    scans = _col(variants["none"], "scans")
    assert scans.mean() > 50  # O(rows): the 100-row list scans on about every other row
    assert _col(variants["none"], "list_ms").mean() > 5_000


@pytest.mark.parametrize("name", ["lru512", "ttl-keyed", "snapshot-agent-ws", "no-yields"])
def test_capacity_a_keyed_ttl_and_the_agent_workspace_snapshot_change_nothing(variants, name):
    """Unique keys: a bigger memo, a keyed TTL or a fast path for the default workspace
    see exactly the same misses as the 8-entry LRU, replication by replication. Nor do the
    yields matter when every row awaits a read: a yield resumes in the check phase of the
    same loop iteration, where no turn or cron runs."""
    for base, alt in zip(variants["none"], variants[name], strict=True):
        assert (alt["scans"], alt["hits"], alt["flips"]) == (base["scans"], base["hits"], base["flips"])
        assert alt["list_ms"] == pytest.approx(base["list_ms"])
        assert alt["stale_hits"] == 0


def test_the_bigger_lru_gains_no_hit_because_no_key_ever_comes_back(variants):
    extra = _col(variants["lru512"], "hits") - _col(variants["none"], "hits")
    assert (extra == 0).all()


def test_the_pin_scans_at_most_once_per_lookup(variants):
    lookups_per_row = 2
    scans = _col(variants["pin"], "scans")
    assert (scans <= lookups_per_row).all() and (scans == 2).all()
    assert _col(variants["pin"], "list_ms").mean() < 0.1 * _col(variants["none"], "list_ms").mean()


def test_hoisted_looks_up_once_and_prepared_never(variants):
    assert (_col(variants["hoisted"], "lookups") == 2).all() and (_col(variants["hoisted"], "scans") <= 2).all()
    assert (_col(variants["prepared"], "lookups") == 0).all() and (_col(variants["prepared"], "scans") == 0).all()
    # with no cold scans left, nothing blocks the loop for ~100 ms any more
    assert _col(variants["prepared"], "loop_delay_max_ms").max() < 20 < _col(variants["pin"], "loop_delay_max_ms").min()


def test_the_unkeyed_ttl_serves_stale_metadata(variants):
    """PR 77985: 2 scans, and the hits after the first change all come from an entry
    computed for another workspace or before the registry changed."""
    stale = _col(variants["ttl-global"], "stale_hits")
    hits = _col(variants["ttl-global"], "hits")
    assert (_col(variants["ttl-global"], "scans") == 2).all()
    assert (stale > 0).all()
    assert stale.sum() / hits.sum() > 0.95
    for name in ("none", "pin", "lru512", "ttl-keyed", "hoisted", "prepared"):
        assert _col(variants[name], "stale_hits").sum() == 0, name


def test_removing_yields_does_not_help_when_rows_await_transcript_reads(variants):
    none, no_yields = _col(variants["none"], "scans"), _col(variants["no-yields"], "scans")
    assert no_yields.mean() > 50
    assert abs(no_yields.mean() - none.mean()) < 0.15 * none.mean()


def test_the_current_snapshot_helps_only_the_default_workspace(variants):
    assert (_col(variants["snapshot-default-ws"], "scans") == 0).all()
    assert (_col(variants["snapshot-default-ws"], "hits") == 200).all()
    assert _col(variants["snapshot-agent-ws"], "scans").mean() > 50


def test_repeating_keys_would_make_the_ordinary_lru_hit(variants):
    """If the key repeated (3 agent workspaces + the gateway's), the 8-entry LRU would
    absorb the flips after warming up: at most 2 scans per workspace."""
    scans = _col(variants["repeating-keys-lru8"], "scans")
    assert (scans <= 2 * 4).all()
    assert scans.mean() < 0.1 * _col(variants["none"], "scans").mean()


@pytest.mark.slow
def test_the_published_header_numbers_match_the_file():
    """The table in the header of scenarios/alternatives.yaml (50 replications, seed 90814)."""
    sc = clawsim.load_scenario(ROOT / "scenarios/alternatives.yaml")
    frame = clawsim.simulate(sc)
    means = frame.groupby("variant")[["scans", "stale_hits", "list_ms"]].mean()
    assert means.loc["none", "scans"] == pytest.approx(110.4, abs=0.05)
    assert means.loc["lru512", "scans"] == pytest.approx(110.4, abs=0.05)
    assert means.loc["ttl-global", "stale_hits"] == pytest.approx(197.0, abs=0.05)
    assert means.loc["prepared", "list_ms"] == pytest.approx(245.9, abs=0.05)
    assert means.loc["repeating-keys-lru8", "scans"] == pytest.approx(4.6, abs=0.05)


# --------------------------------------------------------------------------- responsiveness


@pytest.fixture(scope="module")
def no_yields() -> object:
    return clawsim.simulate(clawsim.load_scenario(ROOT / "scenarios/alternatives-no-yields.yaml"))


def test_without_yields_the_loop_stall_grows_linearly_with_rows(no_yields):
    flat = no_yields[no_yields["list.yield_every"] == 0]
    assert (flat.scans == 2).all()
    rows, delay = flat["list.rows"].to_numpy(float), flat.loop_delay_max_ms.to_numpy(float)
    slope, intercept = np.polyfit(rows, delay, 1)
    assert slope == pytest.approx(0.28, rel=0.05)  # the row cost: one callback builds every row
    residual = delay - (slope * rows + intercept)
    assert 1 - residual.var() / delay.var() > 0.99
    assert np.allclose(flat.loop_delay_max_ms, flat.list_ms, rtol=0.01)


def test_with_yields_the_stall_stays_one_batch_but_scans_grow(no_yields):
    batched = no_yields[no_yields["list.yield_every"] == 10]
    by_rows = batched.groupby("list.rows")[["scans", "loop_delay_max_ms"]].mean()
    assert (batched.loop_delay_max_ms < 400).all()
    assert by_rows.scans.is_monotonic_increasing and by_rows.scans.iloc[-1] > 100 * by_rows.scans.iloc[0] / 10


def test_the_pin_keeps_both_few_scans_and_short_stalls():
    sc = clawsim.load_scenario(ROOT / "scenarios/alternatives-no-yields.yaml")
    for spec in clawsim.plan(sc)[:: sc.replications]:
        if dict(spec.params)["list.yield_every"] != 10:
            continue
        pinned = spec.scenario.model_copy(update={"registry": spec.scenario.registry.model_copy(update={"fix": "pin"})})
        row = simulate_once(pinned, 0)[0]
        assert row["scans"] == 2
        assert row["loop_delay_max_ms"] < 300
