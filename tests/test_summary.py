"""What a capacity planner reads: the summary first, saturated points as an answer (never
averaged with finished runs), what each option saves (paired), the offered load."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, SCENARIOS, scenario
from typer.testing import CliRunner

import clawsim
from clawsim.analytic import NotAnalytic, offered_load
from clawsim.cli import app
from clawsim.engine.metrics import LIST_METRICS, RUN_METRICS
from clawsim.report import charts, paired_differences, summarize

BUSY = str(SCENARIOS / "busy-gateway.yaml")
METRIC_OF = {"scans": "scans", "list-ms": "list_ms", "loop-delay": "loop_delay_max_ms"}
OVERLOAD = ["--sweep", "actors.0.rate_per_s=1,100,300", "-n", "4"]  # the sweep, fewer replications


def _cli(*args: str):
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def overload(tmp_path_factory):
    out = tmp_path_factory.mktemp("overload") / "o"
    code, stdout, stderr = _cli("run", BUSY, *OVERLOAD, "-o", str(out))
    return code, stdout, stderr, out


def test_a_saturated_point_is_an_answer_in_the_table_and_one_warning(overload):
    code, stdout, stderr, _ = overload
    assert code == 0
    rows = [line for line in stdout.splitlines() if re.match(r"(none|pin)\s+│ 300 ", line)]
    assert len(rows) == 2 and all("0 of 4" in r and "saturated" in r for r in rows)
    finished = [line for line in stdout.splitlines() if re.match(r"none\s+│ 100 ", line)]
    assert "0 of" not in finished[0] and "saturated" not in finished[0]
    warnings = [line for line in stderr.splitlines() if "warning: saturated" in line]
    assert len(warnings) == 1
    assert "registry.fix=none, actors.0.rate_per_s=300: 4/4 runs did not finish the list" in warnings[0]
    assert "rate_per_s=100" not in warnings[0]


def test_fail_on_saturation_exits_1_after_writing_the_results(tmp_path):
    code, _, stderr = _cli("run", BUSY, *OVERLOAD, "-o", str(tmp_path / "o"), "--fail-on-saturation", "--no-report")
    assert code == 1 and "warning: saturated" in stderr and (tmp_path / "o" / "runs.csv").exists()
    code, _, _ = _cli("run", BUSY, "-n", "2", "-o", str(tmp_path / "p"), "--fail-on-saturation", "--no-report")
    assert code == 0  # nothing saturated: the flag changes nothing


def test_index_md_and_every_chart_leave_halted_runs_out(overload):
    *_, out = overload
    frame, scenario, _ = clawsim.read_results(out)
    assert not frame.loc[frame["actors.0.rate_per_s"] == 300, "completed"].any()
    clawsim.report.write_report(out, html=True)
    assert "Saturated: `registry.fix` = none" in (out / "index.html").read_text().replace("<code>", "`").replace(
        "</code>", "`"
    )
    index = (out / "index.md").read_text()
    assert "**Saturated**" in index and "`actors.0.rate_per_s` = 300: 4/4 runs did not finish the list" in index
    assert "| 0 of 4 | 1.52 | saturated |" in index
    finished = frame[frame.groupby("run")["completed"].transform("min")]
    drawn = 0
    for chart in charts(frame, scenario):
        data = chart.data
        if chart.kind == "lines":
            for row in data.to_dict("records"):
                fix, rate = row["fix"], row["x"]
                part = finished[(finished["registry.fix"] == fix) & (finished["actors.0.rate_per_s"] == rate)]
                if rate == 300:
                    assert row["completed"] == 0 and math.isnan(row["mean"])  # marked, no mean drawn
                else:
                    metric = METRIC_OF[chart.file.split("-vs-")[0]]
                    assert row["mean"] == pytest.approx(part.groupby("run")[metric].mean().mean())
                    drawn += 1
        elif chart.kind == "tradeoff":
            assert set(data.loc[data["completed"] == 0, "runs"]) == {4}
    assert drawn == 4


def test_summarize_never_averages_a_halted_run_with_finished_ones():
    frame = pd.DataFrame(
        {"run": [0, 1, 2, 3], "p": ["a", "a", "a", "b"], "scans": [10, 20, 999, 5], "completed": [1, 1, 0, 0]}
    ).astype({"completed": bool})
    table = summarize(frame, ["p"], ["scans"]).set_index("p")
    assert table.loc["a", "scans_mean"] == 15 and table.loc["a", "scans_max"] == 20
    assert (table.loc["a", "runs"], table.loc["a", "completed"]) == (3, 2)
    assert table.loc["b", "completed"] == 0 and math.isnan(table.loc["b", "scans_mean"])


def test_the_busy_gateway_prints_the_readme_summary_table(tmp_path):
    """The block README.md shows is what `clawsim run scenarios/busy-gateway.yaml` prints."""
    code, stdout, _ = _cli("run", BUSY, "-o", str(tmp_path / "o"), "--no-report")
    readme = (ROOT / "README.md").read_text()
    block = readme.split("<!-- busy-gateway summary:")[1].split("```\n")[1]
    assert code == 0 and stdout == block
    assert "104.5 ± 24.6 (34–190)" in stdout and "pin          │    20 │ 102.5 ± 24.6" in stdout


def test_per_run_prints_one_row_per_list(tmp_path):
    code, stdout, _ = _cli("run", BUSY, "-o", str(tmp_path / "o"), "--no-report", "--per-run")
    rows = [line for line in stdout.splitlines() if re.match(r"\s*\d+ │ (none|pin) ", line)]
    assert code == 0 and len(rows) == 40 and "what each option saves" not in stdout


def test_the_alternatives_table_shows_stale_hits(tmp_path):
    code, stdout, _ = _cli("run", str(SCENARIOS / "alternatives.yaml"), "-n", "3", "-o", str(tmp_path / "o"))
    header = next(line for line in stdout.splitlines() if line.startswith("variant"))
    ttl = next(line for line in stdout.splitlines() if line.startswith("ttl-global "))
    assert code == 0 and "stale_hits" in header
    cells = dict(zip([h.strip() for h in header.split("┃")], [c.strip() for c in ttl.split("│")], strict=True))
    assert float(cells["stale_hits"].split()[0]) > 150 and cells["scans"] == "2"


def test_the_idle_gateways_paired_difference_is_exactly_0_for_every_metric():
    """No flip ever reaches an idle gateway's lists: the pin can change nothing, and with
    common random numbers none and pin differ by exactly 0 in every recorded number."""
    sc = clawsim.load_scenario(SCENARIOS / "idle-gateway.yaml")
    numeric = [m for m in (*LIST_METRICS, *RUN_METRICS) if m not in ("pinned", "completed")]
    table = paired_differences(clawsim.simulate(sc), sc, numeric)
    assert len(table) == 2 and (table["pairs"] == 1).all()
    for m in numeric:
        assert (table[f"{m}_saved"] == 0).all(), m
    busy = clawsim.load_scenario(SCENARIOS / "busy-gateway.yaml")
    saved = paired_differences(clawsim.simulate(busy), busy).iloc[0]
    assert saved["scans_saved"] > 50 and saved["pairs"] == 20  # where the pin matters it saves


def test_the_paired_interval_of_an_option_that_changes_nothing_is_0_where_the_unpaired_is_not():
    sc = clawsim.load_scenario(SCENARIOS / "alternatives.yaml").with_values({"replications": 8})
    table = paired_differences(clawsim.simulate(sc), sc).set_index("variant")
    assert table.loc["lru512", "scans_saved"] == 0 and table.loc["lru512", "scans_ci95"] == 0
    assert table.loc["lru512", "scans_ci95_unpaired"] > 5


def test_offered_load_is_what_the_actors_ask_of_the_thread():
    busy = clawsim.plan(clawsim.load_scenario(SCENARIOS / "busy-gateway.yaml"))[0].scenario
    assert offered_load(busy) == pytest.approx(10 * 5 / 1000 + 2 * 5 / 400)
    with pytest.raises(NotAnalytic, match="immediate"):
        offered_load(scenario("actors: [{name: f, kind: immediate}]"))
    with pytest.raises(NotAnalytic, match="lookups"):
        offered_load(scenario("actors: [{name: t, kind: poisson, rate_per_s: 5, lookups: 1}]"))
    assert offered_load(scenario("list: {rows: 5}")) == 0.0
    assert np.isfinite(offered_load(scenario("actors: [{name: t, kind: poisson, rate_per_s: 300, work_ms: 5}]")))


def test_a_point_whose_lists_finish_under_an_offered_load_above_1_is_named_too(tmp_path):
    """One poisson actor at 300/s with 5 ms of work (load 1.5) and a 100-row list: the lists
    finish before the backlog reaches the halting limit, so the runs complete, yet the loop
    cannot keep up; the warning, index.md and --fail-on-saturation say so."""
    file = tmp_path / "overload.yaml"
    file.write_text(
        "name: overload\nlist: {rows: 100}\nactors: [{name: t, kind: poisson, rate_per_s: 1, work_ms: 5}]\n"
    )
    args = ("run", str(file), "--sweep", "actors.0.rate_per_s=1,100,300", "-n", "3", "-o", str(tmp_path / "o"))
    code, _, stderr = _cli(*args, "--fail-on-saturation")
    assert code == 1 and "actors.0.rate_per_s=300: offered load 1.50 >= 1" in stderr and "=100:" not in stderr
    assert "**Overloaded**: `actors.0.rate_per_s` = 300 (load 1.50)" in (tmp_path / "o" / "index.md").read_text()


def test_every_swept_path_is_a_column_of_the_tables_even_one_without_a_dot(tmp_path):
    """The tables' keys are the scenario's dimensions (``Scenario.dimensions``), not guessed
    from column names: a swept ``seed`` was once left out of the per-list table."""
    harness = str(SCENARIOS / "pr90819-harness.yaml")
    code, stdout, stderr = _cli("run", harness, "--sweep", "seed=1,2", "-o", str(tmp_path / "o"), "--no-report")
    assert code == 0, stderr
    per_list, saved = stdout.split("\n\n", 1)
    assert per_list.splitlines()[0].split(" ┃ ")[:3] == ["run", "registry.fix", "seed"]
    assert saved.splitlines()[1].split(" ┃ ")[:2] == ["seed", "registry.fix"]


def test_a_saturation_warning_names_the_first_points_and_counts_the_rest():
    """A sweep that saturates at dozens of points (benchmarks/sensitivity.yaml: 42) gets one short
    line: the first few points, then how many more."""
    from clawsim.cli.output import SATURATED_SHOWN, saturation_warning

    points = [f"list.rows={n}: 4/4 runs did not finish the list" for n in range(SATURATED_SHOWN + 37)]
    line = saturation_warning(points)
    assert line.startswith("warning: saturated") and "\n" not in line
    assert points[SATURATED_SHOWN - 1] in line and points[SATURATED_SHOWN] not in line
    assert line.endswith("; and 37 more sweep points (each marked saturated in the summary table)")
    assert saturation_warning(points[:2]) == "warning: saturated, the loop could not keep up: " + "; ".join(points[:2])
