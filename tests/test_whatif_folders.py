"""One folder per what-if: a run with other overrides, seed or count never replaces another's
results, and nothing another command wrote there (traces) is deleted."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from conftest import ROOT
from typer.testing import CliRunner

import clawsim
from clawsim import api
from clawsim.cli import app
from clawsim.folder import LATEST
from clawsim.scenario import Scenario

HARNESS = str(ROOT / "scenarios" / "pr90819-harness.yaml")


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _cli(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.stderr
    return result


def test_each_what_if_has_its_own_folder_and_latest_names_the_last(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = clawsim.run(HARNESS, report=False)
    before = _files(first.out)
    seeded_scenario = Scenario.model_validate({**clawsim.load_scenario(HARNESS).model_dump(), "seed": 7})
    seeded = clawsim.run(seeded_scenario, report=False)
    assert seeded.out != first.out and seeded.out.parent == first.out.parent
    assert _files(first.out) == before  # the first what-if is untouched
    root = api.DEFAULT_ROOT / "pr90819-harness"
    assert (root / LATEST).read_text() == f"{seeded.out.name}\n"
    frame, scenario, _ = clawsim.read_results(root)  # the latest what-if
    assert scenario.seed == 7
    pd.testing.assert_frame_equal(frame, seeded.frame)
    assert sorted(p.name for p in root.iterdir()) == sorted([first.out.name, seeded.out.name, LATEST])
    again = clawsim.run(HARNESS, report=False)  # the same what-if again: its own folder
    assert again.out == first.out and (root / LATEST).read_text() == f"{first.out.name}\n"
    assert _files(first.out)["runs.csv"] == before["runs.csv"]


def test_the_cli_writes_a_new_folder_for_a_set_and_report_follows_latest(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    plain = _cli("run", HARNESS, "--no-report").stderr
    changed = _cli("run", HARNESS, "--set", "list.rows=100").stderr
    folders = sorted(p for p in (tmp_path / "results" / "pr90819-harness").iterdir() if p.is_dir())
    assert len(folders) == 2 and all(f"{f.name}/" in plain + changed for f in folders)
    latest = (tmp_path / "results" / "pr90819-harness" / LATEST).read_text().strip()
    assert f"results/pr90819-harness/{latest}/" in changed.splitlines()[-1]
    report = _cli("report", "results/pr90819-harness")
    assert f"{latest}/tradeoff.png" in report.stdout


def test_run_keeps_the_traces_that_trace_wrote(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _cli("trace", HARNESS, "--run", "1")
    [traces] = list((tmp_path / "results" / "pr90819-harness").glob("*/traces"))
    written = _files(traces)
    assert "run-1.trace.json" in written
    _cli("run", HARNESS, "--no-report")
    assert _files(traces) == written  # run replaced the folder, and carried the traces
    assert (traces.parent / "runs.csv").exists()
    _cli("run", HARNESS, "--trace", "--no-report")  # run's own traces join them
    now = _files(traces)
    assert {k: now[k] for k in written} == written and "run-0.trace.json" in now


def test_an_explicit_out_of_another_scenario_is_replaced_and_says_so(tmp_path):
    out = tmp_path / "mine"
    _cli("run", HARNESS, "--out", str(out), "--trace", "--no-report")
    replaced = _cli("run", HARNESS, "--out", str(out), "--set", "list.rows=100", "--no-report").stderr
    assert "belongs to the results being replaced (the scenario changed since it was written)" in replaced
    assert not (out / "traces").exists()
    assert clawsim.read_results(out)[1].list.rows == 100
