"""The PNG report: the numbers each chart plots, determinism, bad input, and the committed gallery.

Charts are checked through the tidy tables ``clawsim.report.charts`` returns (exactly what
is drawn), recomputed here independently from the simulated runs. PNG bytes are compared
only within one environment; across environments the committed report is checked on its
data (runs.csv, index.md) and on its images by RMS difference.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

import clawsim
from clawsim import report
from clawsim.report import ReportError, charts, growth_exponent, held_values, write_report
from clawsim.report.gallery import GALLERY, regenerate
from clawsim.store import ResultsError, read_results, write_results

REPO = Path(__file__).resolve().parents[1]
COMMITTED = REPO / "reports"

# The PR harness world with its every-tick flipper; rows, flipper copies and fix swept.
GRID = """
    name: tiny-grid
    seed: 7
    replications: 2
    memo: {policy: lru, capacity: 8, scan_ms: 2.5}
    list: {rows: 100, yield_every: 10, lookups_per_row: 2, row_cost_ms: 0.28}
    actors:
      - {name: flipper, kind: immediate, workspaces: unique, count: 1}
    sweep:
      list.rows: [10, 100, 1000]
      actors.0.count: [0, 1]
      registry.fix: [none, pin]
"""

YIELDS = """
    name: tiny-yields
    seed: 3
    replications: 2
    memo: {policy: lru, capacity: 8, scan_ms: {dist: uniform, low: 1, high: 4}}
    list: {rows: 200, yield_every: 10, lookups_per_row: 2, row_cost_ms: 0.28}
    actors:
      - {name: agent, kind: poisson, rate_per_s: 200, workspaces: unique, work_ms: 1}
    sweep:
      list.yield_every: [0, 1, 10, 50]
      registry.fix: [none, pin]
"""


def make_folder(folder: Path, text: str) -> tuple[pd.DataFrame, clawsim.Scenario]:
    """Simulate a scenario given as YAML text and write its result folder."""
    scenario = clawsim.parse_scenario(textwrap.dedent(text), "<test>")
    frame = clawsim.simulate(scenario)
    write_results(folder, scenario, frame, {"scenario": scenario.name, "seed": scenario.seed, "source": "<test>"})
    return frame, scenario


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    folder = tmp_path_factory.mktemp("grid")
    frame, scenario = make_folder(folder, GRID)
    return folder, frame, scenario


def by_file(frame, scenario) -> dict[str, report.Chart]:
    return {chart.file: chart for chart in charts(frame, scenario)}


def independent_means(frame: pd.DataFrame, where: dict, by: list[str], metric: str) -> pd.Series:
    """Mean over runs of ``metric``, recomputed from the raw table without clawsim.report."""
    mask = np.logical_and.reduce([frame[k] == v for k, v in where.items()]) if where else slice(None)
    return frame[mask].groupby(by, sort=True)[metric].mean()


def independent_interval(values) -> tuple[float, float]:
    """The 95 % Student t interval of the mean of ``values``, straight from scipy."""
    values = np.asarray(values, dtype=float)
    if np.ptp(values) == 0:  # scipy gives NaN for a zero scale; the interval of identical values is that value
        return values[0], values[0]
    return stats.t.interval(0.95, len(values) - 1, loc=values.mean(), scale=stats.sem(values))


# --------------------------------------------------------------------------- plotted data


def test_scans_vs_rows_draws_one_panel_per_agent_count_with_exponents(grid):
    _, frame, scenario = grid
    chart = by_file(frame, scenario)["scans-vs-rows.png"]
    assert chart.panel == "actors.0.count" and chart.lines == ("fix",) and chart.x_path == "list.rows"
    data = chart.data.set_index(["actors.0.count", "fix", "x"])
    expected = independent_means(frame, {}, ["actors.0.count", "registry.fix", "list.rows"], "scans")
    assert data["mean"].to_dict() == expected.to_dict()
    assert (data["runs"] == 2).all()
    # docs/event-loop.md §5: a flipper on every tick changes the key at each of the ceil(rows/10)
    # batches, 2 keys per row -> 2 scans per batch without the pin, 2 in all with it; idle: 2 cold scans.
    assert [data.loc[(1, "none", r), "mean"] for r in (10, 100, 1000)] == [2, 20, 200]
    assert [data.loc[(1, "pin", r), "mean"] for r in (10, 100, 1000)] == [2, 2, 2]
    assert [data.loc[(0, "none", r), "mean"] for r in (10, 100, 1000)] == [2, 2, 2]
    slopes = chart.data.groupby(["actors.0.count", "fix"])["exponent"].first()
    assert slopes[(1, "none")] == pytest.approx(1.0, abs=1e-9)
    assert slopes[(1, "pin")] == pytest.approx(0.0, abs=1e-9) and slopes[(0, "none")] == pytest.approx(0.0, abs=1e-9)
    # Exact power laws: the slope's standard error is 0 (3 points, 1 residual degree of freedom).
    assert chart.data["exponent_se"].to_numpy() == pytest.approx(0.0, abs=1e-9)
    assert "every swept field shown" in chart.note and "95 % CI, Student t over 2 replications" in chart.note
    assert chart.xscale == "log" and chart.logy


def test_list_ms_bands_are_the_t_interval_and_the_min_to_max_over_replications(grid):
    _, frame, scenario = grid
    data = by_file(frame, scenario)["list-ms-vs-rows.png"].data.set_index(["actors.0.count", "fix", "x"])
    busy = frame[frame["actors.0.count"] == 1].groupby(["registry.fix", "list.rows"])["list_ms"]
    assert data.xs(1)["mean"].to_dict() == pytest.approx(busy.mean().to_dict())
    assert data.xs(1)["min"].to_dict() == busy.min().to_dict()
    assert data.xs(1)["max"].to_dict() == busy.max().to_dict()
    for key, values in busy:
        lo, hi = independent_interval(values)
        assert data.loc[(1, *key), ["lo", "hi"]].tolist() == pytest.approx([lo, hi])
        assert data.loc[(1, *key), "ci95"] == pytest.approx((hi - lo) / 2)


def test_list_ms_is_fitted_as_fixed_cost_plus_cost_per_row(grid):
    """With the pin a list pays its cold scans once and then a cost per row: affine, not a power law."""
    _, frame, scenario = grid
    data = by_file(frame, scenario)["list-ms-vs-rows.png"].data
    pin = data[(data["fix"] == "pin") & (data["actors.0.count"] == 1)]
    means = pin.set_index("x")["mean"]
    fixed, per_row = pin["fixed_ms"].iloc[0], pin["per_row_ms"].iloc[0]
    # Recomputed here: weighted least squares with weights 1/mean^2 (relative residuals).
    x, y = means.index.to_numpy(float), means.to_numpy()
    expected = np.polynomial.polynomial.polyfit(x, y, 1, w=1 / y)
    assert [fixed, per_row] == pytest.approx(expected, rel=1e-9)
    # 2 cold scans of 2.5 ms and 0.28 ms of other work per row: the fit finds both.
    assert fixed == pytest.approx(2 * 2.5, rel=0.2) and per_row == pytest.approx(0.28, rel=0.2)
    assert (pin["per_row_ms_se"] >= 0).all()


def test_scans_vs_concurrency_holds_rows_only_when_there_are_too_many_values(grid):
    _, frame, scenario = grid
    chart = by_file(frame, scenario)["scans-vs-concurrency.png"]
    assert chart.panel == "list.rows"  # 3 values: small multiples, nothing held
    data = chart.data.set_index(["list.rows", "fix", "x"])["mean"]
    expected = independent_means(frame, {}, ["list.rows", "registry.fix", "actors.0.count"], "scans")
    assert data.to_dict() == expected.to_dict()
    assert data[(1000, "none", 0)] == 2 and data[(1000, "none", 1)] == 200 and data[(1000, "pin", 1)] == 2
    assert "actors.0.count" in chart.xlabel

    many = GRID.replace("list.rows: [10, 100, 1000]", "list.rows: [10, 20, 50, 100, 200, 1000]")
    scenario = clawsim.parse_scenario(textwrap.dedent(many), "<test>")
    chart = by_file(clawsim.simulate(scenario), scenario)["scans-vs-concurrency.png"]
    assert chart.panel is None and "held: list.rows = 1000" in chart.note


def test_a_single_line_chart_draws_one_line_per_value_of_the_other_field(tmp_path):
    """alternatives-no-yields: the fix is not swept, so yields on and off are two lines, not one held."""
    text = GRID.replace(
        "      actors.0.count: [0, 1]\n      registry.fix: [none, pin]\n", "      list.yield_every: [10, 0]\n"
    )
    frame, scenario = make_folder(tmp_path, text)
    chart = by_file(frame, scenario)["scans-vs-rows.png"]
    assert chart.lines == ("fix", "list.yield_every") and chart.panel is None
    data = chart.data.set_index(["list.yield_every", "x"])["mean"]
    assert [data[(10, r)] for r in (10, 100, 1000)] == [2, 20, 200]
    assert [data[(0, r)] for r in (10, 100, 1000)] == [2, 2, 2]  # never yields: the flipper never runs


def test_heatmap_is_the_ratio_of_mean_scans(grid):
    _, frame, scenario = grid
    data = by_file(frame, scenario)["scan-ratio-heatmap.png"].data.set_index(["rows", "concurrency"])
    means = independent_means(frame, {}, ["list.rows", "actors.0.count", "registry.fix"], "scans")
    for (rows, count), row in data.iterrows():
        assert row["none"] == means[(rows, count, "none")]
        assert row["pin"] == means[(rows, count, "pin")]
        assert row["ratio"] == row["none"] / row["pin"]
    assert data.loc[(1000, 1), "ratio"] == 100 and data.loc[(1000, 0), "ratio"] == 1


def test_loop_delay_vs_yield_every(tmp_path):
    frame, scenario = make_folder(tmp_path, YIELDS)
    found = by_file(frame, scenario)
    assert set(found) == {"loop-delay-vs-yield-every.png", "tradeoff.png"}
    data = found["loop-delay-vs-yield-every.png"].data.set_index(["fix", "x"])
    expected = independent_means(frame, {}, ["registry.fix", "list.yield_every"], "loop_delay_max_ms")
    assert data["mean"].to_dict() == pytest.approx(expected.to_dict())
    # Never yielding blocks the loop for the whole list; smaller batches, shorter blocks.
    for fix in ("none", "pin"):
        delays = [data.loc[(fix, every), "mean"] for every in (1, 10, 50, 0)]
        assert delays == sorted(delays) and delays[-1] > 5 * delays[0]


def test_fix_not_swept_draws_one_line_per_fix_the_lists_ran_with(tmp_path):
    text = GRID.replace("registry.fix: [none, pin]", "list.yield_every: [10]")
    frame, scenario = make_folder(tmp_path, text.replace("seed: 7", "seed: 7\n    registry: {fix: pin}"))
    found = by_file(frame, scenario)
    assert "scan-ratio-heatmap.png" not in found
    assert set(found["scans-vs-rows.png"].data["fix"]) == {"pin"}


def test_variants_that_set_the_fix_become_lines(tmp_path):
    variants = "    variants:\n      before: {registry.fix: none}\n      after: {registry.fix: pin}\n"
    text = GRID.replace("      registry.fix: [none, pin]\n", "").replace("    sweep:", variants + "    sweep:")
    frame, scenario = make_folder(tmp_path, text)
    chart = by_file(frame, scenario)["scans-vs-rows.png"]
    data = chart.data.set_index(["variant", "fix", "actors.0.count", "x"])["mean"]
    assert [data[("before", "none", 1, r)] for r in (10, 100, 1000)] == [2, 20, 200]
    assert [data[("after", "pin", 1, r)] for r in (10, 100, 1000)] == [2, 2, 2]
    write_report(tmp_path)
    assert "variants `before`, `after`" in (tmp_path / "index.md").read_text()


def test_tradeoff_marks_the_options_whose_hits_were_stale(tmp_path):
    """An unkeyed TTL cache is as fast as the pin because it serves other workspaces' entries."""
    variants = (
        "    variants:\n      none: {}\n      pin: {registry.fix: pin}\n"
        "      ttl-global: {memo.policy: ttl, memo.ttl_ms: 5000, memo.capacity: null, memo.key: global}\n"
    )
    text = GRID.split("    sweep:")[0] + variants
    frame, scenario = make_folder(tmp_path, text)
    chart = by_file(frame, scenario)["tradeoff.png"]
    data = chart.data.set_index("variant")
    stale = frame.groupby("variant")["stale_hits"].mean()
    assert data["stale_hits_mean"].to_dict() == pytest.approx(stale.to_dict())
    assert stale["ttl-global"] > 0 and stale["pin"] == 0 and stale["none"] == 0
    assert data.loc["ttl-global", "scans_mean"] == data.loc["pin", "scans_mean"]
    from clawsim.report.tradeoff import labels

    assert [label.endswith("(stale hits)") for label in labels(chart)] == [False, False, True]


def test_tradeoff_rows_carry_t_intervals(tmp_path):
    frame, scenario = make_folder(
        tmp_path, GRID.split("    sweep:")[0] + "    sweep:\n      registry.fix: [none, pin]\n"
    )
    data = by_file(frame, scenario)["tradeoff.png"].data.set_index("fix")
    for fix, part in frame.groupby("registry.fix"):
        lo, hi = independent_interval(part["loop_delay_max_ms"])
        assert [data.loc[fix, "loop_delay_max_ms_lo"], data.loc[fix, "loop_delay_max_ms_hi"]] == pytest.approx([lo, hi])


def test_growth_exponent_skips_points_without_a_logarithm():
    assert growth_exponent([1, 10, 100], [0, 10, 100]) == (pytest.approx(1.0), 1)
    assert growth_exponent([10, 100, 1000], [5, 5, 5])[0] == pytest.approx(0.0, abs=1e-12)
    slope, skipped = growth_exponent([10, 100], [0, 0])
    assert math.isnan(slope) and skipped == 2


def test_held_values_take_the_largest_number_or_the_last_value():
    scenario = clawsim.parse_scenario(textwrap.dedent(GRID), "<test>")
    assert held_values(scenario, ("list.rows",)) == {"actors.0.count": 1, "registry.fix": "pin"}


def test_growth_table_has_one_row_per_other_combination(grid):
    _, frame, scenario = grid
    table = report.growth_table(frame, scenario).set_index(["actors.0.count", "registry.fix"])
    assert len(table) == 4
    assert table.loc[(1, "none"), "scans_exponent"] == pytest.approx(1.0)
    for key in [(0, "none"), (0, "pin"), (1, "pin")]:
        assert table.loc[key, "scans_exponent"] == pytest.approx(0.0, abs=1e-9)
    chart = by_file(frame, scenario)["list-ms-vs-rows.png"].data
    for (count, fix), row in table.iterrows():
        line = chart[(chart["actors.0.count"] == count) & (chart["fix"] == fix)].iloc[0]
        assert row["list_ms_per_row_ms"] == line["per_row_ms"] and row["list_ms_fixed_ms"] == line["fixed_ms"]


def test_a_sweep_of_any_other_field_charts_scans_and_list_ms_against_it(tmp_path):
    make_folder(tmp_path, GRID.split("    sweep:")[0] + "    sweep:\n      memo.scan_ms: [1, 5]\n")
    assert [p.name for p in write_report(tmp_path)] == ["scans-vs-scan-ms.png", "list-ms-vs-scan-ms.png"]
    frame, scenario, _ = read_results(tmp_path)
    data = by_file(frame, scenario)["list-ms-vs-scan-ms.png"].data.set_index("x")["mean"]
    assert data.to_dict() == pytest.approx(independent_means(frame, {}, ["memo.scan_ms"], "list_ms").to_dict())
    assert data[5] > data[1]


# --------------------------------------------------------------------------- files


@pytest.mark.slow
def test_write_report_is_deterministic_and_indexes_every_chart(grid):
    folder, frame, scenario = grid
    first = write_report(folder)
    pngs = {p.name: p.read_bytes() for p in first}
    index = (folder / "index.md").read_text()
    second = write_report(folder)
    assert [p.name for p in second] == [p.name for p in first]
    assert {p.name: p.read_bytes() for p in second} == pngs
    assert (folder / "index.md").read_text() == index
    assert set(pngs) == {
        "scans-vs-rows.png",
        "list-ms-vs-rows.png",
        "scans-vs-concurrency.png",
        "scan-ratio-heatmap.png",
        "tradeoff.png",
    }
    for name, data in pngs.items():
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and b"Software" not in data
        assert f"]({name})" in index
    assert "seed 7" in index and "Student t over 2 replications" in index
    # The per-point table: point 0 is rows 10, no flipper (offered load 0), fix none: 2 scans in both runs, an exact 0 interval.
    assert "| 0 | 10 | 0 | none | 2 | 0.00 | 2.00 ± 0.00 |" in index  # load 0: no actor
    assert "| 1 | none | 1.00 ± 0.00 |" in index  # the growth table: exponent ± standard error
    assert not list(folder.glob(".*.tmp"))


def test_extra_metric_columns_are_ignored(tmp_path, grid):
    _, frame, scenario = grid
    write_results(tmp_path, scenario, frame.assign(future_metric=1.5), {})
    assert len(write_report(tmp_path)) == 5


def test_report_never_touches_pyplot():
    code = "import sys, clawsim.report; assert 'matplotlib.pyplot' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------- bad input


def test_missing_folder(tmp_path):
    with pytest.raises(ResultsError, match="no such folder"):
        write_report(tmp_path / "nope")


@pytest.mark.parametrize("damage", ["garbage", "truncated", "foreign", "missing"])
def test_corrupt_foreign_or_missing_parquet(tmp_path, grid, damage):
    folder, frame, scenario = grid
    write_results(tmp_path, scenario, frame, {})
    parquet = tmp_path / "runs.parquet"
    if damage == "garbage":
        parquet.write_bytes(b"this is not parquet at all")
    elif damage == "truncated":
        parquet.write_bytes(parquet.read_bytes()[:200])
    elif damage == "foreign":
        pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}).to_parquet(parquet)
    else:
        parquet.unlink()
    message = {
        "garbage": "not a readable Parquet",
        "truncated": "not a readable Parquet",
        "foreign": "not a clawsim runs table",
        "missing": "missing",
    }[damage]
    with pytest.raises(ResultsError, match=message):
        write_report(tmp_path)


def test_missing_or_broken_scenario_beside_the_results(tmp_path, grid):
    _, frame, scenario = grid
    write_results(tmp_path, scenario, frame, {})
    (tmp_path / "scenario.resolved.yaml").write_text("seed: [1\n")
    with pytest.raises(ResultsError, match="scenario.resolved.yaml"):
        write_report(tmp_path)
    (tmp_path / "scenario.resolved.yaml").unlink()
    with pytest.raises(ResultsError, match="cannot tell which scenario"):
        write_report(tmp_path)


def test_a_fix_only_sweep_gets_the_tradeoff_chart(tmp_path):
    frame, scenario = make_folder(
        tmp_path / "fix-only", GRID.split("    sweep:")[0] + "    sweep:\n      registry.fix: [none, pin]\n"
    )
    found = by_file(frame, scenario)
    assert set(found) == {"tradeoff.png"}
    data = found["tradeoff.png"].data.set_index("fix")
    expected = independent_means(frame, {}, ["registry.fix"], "scans")
    assert data["scans_mean"].to_dict() == pytest.approx(expected.to_dict())
    assert data.loc["pin", "scans_mean"] < data.loc["none", "scans_mean"]
    assert [p.name for p in write_report(tmp_path / "fix-only")] == ["tradeoff.png"]


def test_rounding_never_makes_a_negative_bar(tmp_path):
    """issue118909-cli-scans died: the mean of identical values rounded above their max."""
    values = [0.1 + 0.2] * 3 + [0.7] * 7  # each group's mean, summed in floating point, is not its value
    frame = pd.DataFrame({"run": range(10), "g": ["a"] * 3 + ["b"] * 7, "loop_delay_max_ms": values})
    assert frame.groupby("g")["loop_delay_max_ms"].mean()["b"] > 0.7  # the float fact behind the crash
    table = report.summarize(frame, ["g"], ["loop_delay_max_ms"]).set_index("g")
    assert (table["loop_delay_max_ms_mean"] <= table["loop_delay_max_ms_max"]).all()
    assert (table["loop_delay_max_ms_mean"] >= table["loop_delay_max_ms_min"]).all()
    assert (table["loop_delay_max_ms_ci95"] == 0).all()


def test_nothing_varied_to_chart(tmp_path):
    make_folder(tmp_path / "no-sweep", GRID.split("    sweep:")[0])
    with pytest.raises(ReportError, match="sweeps nothing"):
        write_report(tmp_path / "no-sweep")
    assert not (tmp_path / "no-sweep" / "index.md").exists()


def test_cli_report_exits_2_on_bad_input(tmp_path):
    from clawsim.cli import app

    result = CliRunner().invoke(app, ["report", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "no such folder" in result.output


# --------------------------------------------------------------------------- the committed gallery


@pytest.mark.slow
def test_gallery_is_regenerated_by_its_command(tmp_path):
    """`python -m clawsim.report.gallery` rebuilds every committed folder under reports/."""
    from matplotlib.testing.compare import compare_images

    written = regenerate(REPO, tmp_path)
    assert [p.name for p in written] == list(GALLERY)
    assert sorted(p.name for p in COMMITTED.iterdir() if p.is_dir()) == sorted(GALLERY)
    for out in written:
        committed = COMMITTED / out.name
        for name in ("runs.csv", "scenario.resolved.yaml", "index.md"):
            assert (out / name).read_bytes() == (committed / name).read_bytes(), (out.name, name)
        meta = json.loads((committed / "meta.json").read_text())
        assert "wall_s" not in meta and meta["regenerate"] == "python -m clawsim.report.gallery"
        pngs = sorted(p.name for p in committed.glob("*.png"))
        assert pngs == sorted(p.name for p in out.glob("*.png"))
        for name in pngs:  # same bytes here; a small RMS tolerance across matplotlib builds
            assert compare_images(str(committed / name), str(out / name), tol=5) is None, name

    frame, scenario, _ = read_results(tmp_path / "rows-x-concurrency")
    assert frame["run"].nunique() >= 1000
    chart = by_file(frame, scenario)["scans-vs-rows.png"]
    slopes = chart.data.groupby("fix")["exponent"].first()
    assert slopes["none"] == pytest.approx(1.0, abs=0.05)  # O(rows) at the busiest load
    assert slopes["pin"] == pytest.approx(0.0, abs=0.01)  # O(1)
    assert (frame.loc[frame["registry.fix"] == "pin", "scans"] == 2).all()


def test_gallery_command_line_rejects_an_unknown_name(capsys):
    from clawsim.report.gallery import main

    with pytest.raises(SystemExit) as exit_info:
        main(["nope"])
    assert exit_info.value.code == 2 and "not in the gallery: nope" in capsys.readouterr().err
