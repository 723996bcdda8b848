"""The published numbers (docs/sources.md §7, the reproducible targets) against the model.

Each target states the published value, the simulated one, and the tolerance; the
scenario files under scenarios/published/ (and scenarios/pr90819-harness.yaml,
scenarios/idle-gateway.yaml) say where each number comes from and what is assumed.
Numbers the model cannot reproduce are listed in those files and in the README note,
not asserted here.
"""

from __future__ import annotations

import pytest
from conftest import ROOT

import clawsim
from clawsim.analytic import expectations


def _frame(path):
    return clawsim.simulate(clawsim.load_scenario(path))


def _by_variant(path):
    return _frame(path).groupby("variant")


# --------------------------------------------------------------------------- T1, T2: PR 90819's harness


@pytest.fixture(scope="module")
def harness():
    return _frame(ROOT / "scenarios/pr90819-harness.yaml").set_index("registry.fix")


def test_t1_harness_without_the_pin(harness):
    row = harness.loc["none"]
    assert row.scans == 40  # published 40 full scans (exact)
    assert row.lookups == 400  # published scanSpans = 400 (every lookup emits a span)
    assert row.list_ms == pytest.approx(157, rel=0.01)  # published 157 ms; simulated 156.09
    # published "21 flips" over the whole harness; the model counts the 19 between batches
    # (the harness's extra ~2 loop turns before the first and after the last batch are not
    # part of the list)
    assert row.flips == row.yields == 19  # the flipper sets the global once per yield (event-loop.md §5)


def test_t2_harness_with_the_pin(harness):
    row = harness.loc["pin"]
    assert row.scans == 2  # published 2 full scans (exact)
    assert row.list_ms == pytest.approx(61, rel=0.01)  # published 61 ms; simulated 61.09


# --------------------------------------------------------------------------- T3, T4: issue 90814's busy list


@pytest.fixture(scope="module")
def busy_list():
    return _by_variant(ROOT / "scenarios/published/issue90814-busy-list.yaml").mean(numeric_only=True)


def test_t4_the_busy_list_takes_about_ten_seconds(busy_list):
    row = busy_list.loc["lru8"]
    assert row.list_ms == pytest.approx(10_100, rel=0.05)  # published ~10,100 ms; simulated 9,887
    assert row.hits == 0  # published 0 cacheHit
    assert row.scans == pytest.approx(10_100 / 100, rel=0.05)  # ~10,100 ms / ~100 ms per scan
    assert row.scan_ms_total / row.list_ms > 0.95  # published: ~100% of the call in rows
    assert row.scan_ms_total / row.scans == pytest.approx(100, rel=0.05)  # published avg ~100 ms
    # published 112-319 spans per call; the model's 1 lookup per row gives 100, 11% under the
    # low end (stated in the scenario file)
    assert row.lookups == pytest.approx(112, rel=0.15)


def test_t3_a_512_slot_lru_gets_zero_hits(busy_list):
    assert busy_list.loc["lru512", "hits"] == 0  # published 0 hits
    assert busy_list.loc["lru512", "scans"] == busy_list.loc["lru8", "scans"]


def test_t4_the_pin_collapses_the_list(busy_list):
    assert busy_list.loc["pin", "scans"] == 1
    assert busy_list.loc["pin", "list_ms"] < 0.05 * busy_list.loc["lru8", "list_ms"]


def test_t4_analytic_expectation_agrees(busy_list):
    sc = clawsim.load_scenario(ROOT / "scenarios/published/issue90814-busy-list.yaml")
    point = clawsim.plan(sc)[0].scenario
    e = expectations(point)[0]
    assert e["exact"] and e["expected_scans"] == 100 and e["expected_hits"] == 0
    assert e["expected_list_ms"] == pytest.approx(busy_list.loc["lru8", "list_ms"], rel=0.01)


# --------------------------------------------------------------------------- T5: the idle gateway


def test_t5_the_idle_gateway_is_fast():
    frame = _frame(ROOT / "scenarios/idle-gateway.yaml")
    assert frame[frame["memo.current_snapshot"]].scans.max() == 0  # published: fast, no scans
    assert frame[~frame["memo.current_snapshot"]].scans.sum() <= 2 * 2  # a cold scan per lookup, once
    assert frame.list_ms.max() < 1_000


# --------------------------------------------------------------------------- T6: issue 118909's CLI


@pytest.fixture(scope="module")
def cli():
    return _by_variant(ROOT / "scenarios/published/issue118909-cli-scans.yaml").mean(numeric_only=True)


def test_t6_584_scans_flat_in_the_limit(cli):
    row = cli.loc["as-published"]
    assert row.scans == 584  # published 584 (exact)
    assert row.scan_ms_total == pytest.approx(29_827, rel=0.05)  # published 29,827 ms; simulated 29,340
    assert row.scan_ms_total / row.scans == pytest.approx(49.98, rel=0.03)  # published p50 49.98 ms
    # the wall time (33.06-37.84 s) also holds CLI start-up and freeze: the list stays under it
    assert 0.95 * 29_827 < row.list_ms < 33_060


def test_t6_bounding_the_enriched_rows_or_preparing_removes_the_scans(cli):
    assert cli.loc["enrich-listed", "scans"] == 10
    assert cli.loc["prepared", "scans"] == 0


# --------------------------------------------------------------------------- T8: PR 122706's prepared snapshot


@pytest.fixture(scope="module")
def bench_pr122706():
    frame = _frame(ROOT / "scenarios/published/pr122706-prepared-snapshot.yaml")
    per_run = frame.groupby(["variant", "run"]).agg(
        scans=("scans", "sum"), scan_ms=("scan_ms_total", "sum"), slowest=("list_ms", "max"), lists=("scans", "size")
    )
    return per_run.groupby("variant").mean()


def test_t8_before_139_scans_18_seconds(bench_pr122706):
    row = bench_pr122706.loc["before"]
    assert row.lists == 24  # 1 s polling over 23.3 s
    assert row.scans == pytest.approx(139, rel=0.05)  # published 139; simulated 136.5
    assert row.scan_ms == pytest.approx(18_157.4, rel=0.05)  # published 18,157.4 ms; simulated 17,706


def test_t8_after_the_prepared_snapshot_zero(bench_pr122706):
    assert bench_pr122706.loc["prepared", "scans"] == 0  # published 0
    assert bench_pr122706.loc["prepared", "scan_ms"] == 0  # published 0 ms


def test_t8_the_pin_alone_cannot_help_once_the_memo_is_gone(bench_pr122706):
    assert bench_pr122706.loc["pin", "scans"] == pytest.approx(bench_pr122706.loc["before", "scans"], rel=0.05)


def test_t8_slowest_list_is_below_the_published_one(bench_pr122706):
    # Not reproduced: the real lists also waited behind the turns' own scans (not modelled),
    # so the simulated slowest list (~0.9 s) stays below the published 2,553 ms.
    assert bench_pr122706.loc["before", "slowest"] < 2_553
