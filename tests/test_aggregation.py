"""The aggregated engine agrees with the per-arrival reference, in distribution where
arrivals are random and exactly where they are not.

Each case runs ``SEEDS`` runs per engine (disjoint run indices, so the samples are
independent) and compares, per metric, the two samples with a two-sample Kolmogorov-Smirnov
test and a Welch t-test on the means, each at ALPHA. KS is conservative on discrete metrics
(ties), so the t-test backs it on the counts. ``python tests/test_aggregation.py`` prints
the p-value matrix.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import clawsim
from clawsim.engine import EngineOptions
from clawsim.engine.run import simulate_once
from clawsim.errors import UsageError

pytestmark = pytest.mark.slow  # seconds each: left out of the quick loop (-m "not slow")

SEEDS = 200
AGGREGATED, REFERENCE = EngineOptions(engine="aggregated"), EngineOptions(engine="reference")
ALPHA = 0.01
METRICS = ("scans", "flips", "changes", "list_ms", "loop_delay_max_ms")

_LIST = "list: {rows: 100, yield_every: 10, lookups_per_row: 2, row_cost_ms: 0.28}"
_MEMO = "memo: {policy: lru, capacity: 8, scan_ms: {dist: lognormal, p50: 2.5, p95: 4}}"

CASES = {
    "no work, no lookups": f"""{_LIST}
{_MEMO}
actors: [{{name: turns, kind: poisson, rate_per_s: 300, workspaces: unique}}]""",
    "work and lookups": f"""{_LIST}
{_MEMO}
actors: [{{name: turns, kind: poisson, rate_per_s: 150, work_ms: 0.3, lookups: 1, workspaces: unique}}]""",
    "8 copies, cycle:3, work": f"""{_LIST}
{_MEMO}
actors: [{{name: turns, kind: poisson, rate_per_s: 40, count: 8, work_ms: 0.1, workspaces: "cycle:3"}}]""",
    "3 copies, random:4, lookups": f"""{_LIST}
{_MEMO}
actors: [{{name: turns, kind: poisson, rate_per_s: 60, count: 3, lookups: 1, workspaces: "random:4"}}]""",
    "per-row I/O, poisson + cron": f"""list: {{rows: 40, yield_every: 10, lookups_per_row: 2, row_cost_ms: 0.28,
        per_row_io: {{rows: 40, latency_ms: 2}}}}
{_MEMO}
actors:
  - {{name: turns, kind: poisson, rate_per_s: 200, count: 2, work_ms: 0.2, workspaces: unique}}
  - {{name: cron, kind: interval, period_ms: 7, workspaces: unique}}""",
    "I/O completing behind busy turns": f"""list: {{rows: 30, yield_every: 10, lookups_per_row: 2, row_cost_ms: 0.28,
        per_row_io: {{rows: 30, latency_ms: 0.5}}}}
{_MEMO}
actors: [{{name: turns, kind: poisson, rate_per_s: 150, count: 2, work_ms: 1, workspaces: "cycle:4"}}]""",
    "polled overlapping lists": f"""list: {{rows: 60, yield_every: 10, lookups_per_row: 2, row_cost_ms: 0.28,
        poll_every_ms: 20, duration_ms: 100}}
{_MEMO}
actors: [{{name: turns, kind: poisson, rate_per_s: 150, count: 2, workspaces: "cycle:5"}}]""",
    "the pin": f"""{_LIST}
{_MEMO}
registry: {{fix: pin}}
actors: [{{name: turns, kind: poisson, rate_per_s: 300, count: 4, work_ms: 0.1, workspaces: unique}}]""",
    "two sources, late start, TTL unkeyed": f"""{_LIST}
memo: {{policy: ttl, ttl_ms: 3, key: global, scan_ms: {{dist: lognormal, p50: 2.5, p95: 4}}}}
actors:
  - {{name: a, kind: poisson, rate_per_s: 200, work_ms: 0.1, workspaces: "random:3"}}
  - {{name: b, kind: poisson, rate_per_s: 100, count: 2, lookups: 1, start_ms: 5, workspaces: "fixed:/b"}}""",
    "overloaded, cut at max_sim_ms": f"""{_LIST}
{_MEMO}
loop: {{max_sim_ms: 120}}
actors:
  - {{name: a, kind: poisson, rate_per_s: 200, work_ms: 4, workspaces: unique}}
  - {{name: b, kind: poisson, rate_per_s: 100, work_ms: 2, lookups: 1, workspaces: "cycle:2"}}""",
    "idle loop woken by arrivals": """list: {rows: 30, yield_every: 10, lookups_per_row: 2, row_cost_ms: 0.28,
        per_row_io: {rows: 3, latency_ms: 1}, start_ms: 40}
memo: {policy: lru, capacity: 8, scan_ms: 2.5}
actors: [{name: turns, kind: poisson, rate_per_s: 100, work_ms: 0.5, workspaces: "cycle:2"}]""",
}


def _sample(text: str, engine: str, first_run: int) -> dict[str, np.ndarray]:
    scenario = clawsim.parse_scenario(text)
    records = [
        simulate_once(scenario, run, options=EngineOptions(engine=engine))
        for run in range(first_run, first_run + SEEDS)
    ]
    per_run = [{m: float(np.mean([r[m] for r in recs])) for m in METRICS} for recs in records]
    return {m: np.array([r[m] for r in per_run]) for m in METRICS}


def _p_values(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(KS p, Welch t p); two identical constant samples give 1.0 for both. With one sample
    constant (an overloaded list cut at max_sim_ms in every run of one engine) Welch's t is the
    other sample's one-sample t against that constant (scipy's two-sample form warns of
    catastrophic cancellation there)."""
    ks = float(stats.ks_2samp(a, b).pvalue)
    if a.std() == 0 and b.std() == 0:
        return ks, 1.0 if a[0] == b[0] else 0.0
    if a.std() == 0 or b.std() == 0:
        varied, constant = (b, a[0]) if a.std() == 0 else (a, b[0])
        return ks, float(stats.ttest_1samp(varied, constant).pvalue)
    return ks, float(stats.ttest_ind(a, b, equal_var=False).pvalue)


def p_matrix(name: str) -> dict[str, tuple[float, float]]:
    reference = _sample(CASES[name], "reference", 0)
    aggregated = _sample(CASES[name], "aggregated", 10_000)
    return {m: _p_values(reference[m], aggregated[m]) for m in METRICS}


@pytest.mark.parametrize("name", list(CASES))
def test_aggregated_engine_agrees_in_distribution(name):
    for metric, (ks, t) in p_matrix(name).items():
        assert ks > ALPHA and not math.isnan(t) and t > ALPHA, f"{name}: {metric} KS p={ks:.4f}, t p={t:.4f}"


EXACT = {
    "immediate flipper": f"""{_LIST}
{_MEMO}
actors: [{{name: flipper, kind: immediate, work_ms: 0.01, lookups: 1, workspaces: unique}}]""",
    "interval crons, per-row I/O": f"""list: {{rows: 40, yield_every: 10, lookups_per_row: 2, row_cost_ms: 0.28,
        per_row_io: {{rows: 40, latency_ms: 2}}}}
{_MEMO}
actors: [{{name: cron, kind: interval, period_ms: 3, count: 2, work_ms: 0.5, workspaces: "random:3"}}]""",
    "no actors, polled": f"""list: {{rows: 60, yield_every: 10, poll_every_ms: 20, duration_ms: 100}}
{_MEMO}""",
    "poisson actor with count 0": f"""{_LIST}
{_MEMO}
actors: [{{name: turns, kind: poisson, rate_per_s: 300, count: 0}}]""",
}


@pytest.mark.parametrize("name", list(EXACT))
def test_without_poisson_arrivals_the_engines_give_identical_records(name):
    scenario = clawsim.parse_scenario(EXACT[name])
    for run in range(5):
        assert simulate_once(scenario, run, options=AGGREGATED) == simulate_once(scenario, run, options=REFERENCE)


def test_the_aggregated_engine_is_deterministic():
    scenario = clawsim.parse_scenario(CASES["per-row I/O, poisson + cron"])
    assert simulate_once(scenario, 3, options=AGGREGATED) == simulate_once(scenario, 3, options=AGGREGATED)


def test_the_engine_is_chosen_by_the_scenario_then_the_argument():
    reference = clawsim.parse_scenario(CASES["per-row I/O, poisson + cron"] + "\nloop: {engine: reference}\n")
    assert simulate_once(reference, 3) == simulate_once(reference, 3, options=REFERENCE)
    assert EngineOptions().engine_for("aggregated") == "aggregated"
    assert EngineOptions().engine_for("reference") == "reference"
    assert AGGREGATED.engine_for("reference") == "aggregated"
    with pytest.raises(UsageError, match="engine must be one of"):
        EngineOptions(engine="fast")  # type: ignore[arg-type]
