"""clawsim.run: the same result folder as the CLI, a small frozen result, clear errors."""

from __future__ import annotations

import dataclasses
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import clawsim
from clawsim import api, errors
from clawsim.cli import app
from clawsim.scenario.overrides import apply_overrides, parse_given
from clawsim.scenario.plan import Plan

ROOT = Path(__file__).resolve().parents[1]
SWEEP = """\
name: api-sweep
seed: 3
replications: 2
memo: {policy: lru, capacity: 8, scan_ms: {dist: lognormal, p50: 2, p95: 4}}
list: {rows: 60}
actors:
  - {name: turns, kind: poisson, rate_per_s: 200, workspaces: random:4}
sweep:
  list.rows: [20, 200]
  registry.fix: [none, pin]
"""


@pytest.fixture
def path(tmp_path):
    file = tmp_path / "api-sweep.yaml"
    file.write_text(SWEEP)
    return file


def test_run_writes_the_same_folder_as_the_cli_and_says_what_it_did(path, tmp_path):
    result = clawsim.run(clawsim.load_scenario(path), tmp_path / "api")
    assert isinstance(result, clawsim.RunResult)
    assert result.out == tmp_path / "api" and result.runs == 8 and result.resumed == 0 and result.wall_s > 0
    assert {p.name for p in result.report} >= {"index.md", "tradeoff.png"} and all(p.exists() for p in result.report)
    assert result.notes[0] == f"api-sweep: 8 runs -> {tmp_path / 'api'}/"
    pd.testing.assert_frame_equal(result.frame, clawsim.simulate(result.scenario))
    cli = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "cli")])
    assert cli.exit_code == 0, cli.stderr
    for name in ("runs.parquet", "runs.csv", "scenario.resolved.yaml", "tradeoff.png"):
        assert (tmp_path / "api" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes(), name
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.runs = 9


def test_run_takes_a_path_and_writes_to_the_default_folder(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = clawsim.run(path, report=False)
    assert result.out.parent == api.DEFAULT_ROOT / "api-sweep" and result.out == api.default_out(result.scenario)
    assert (tmp_path / result.out / "runs.parquet").exists()
    assert clawsim.read_results(result.out)[2]["source"] == str(path)


def test_an_interrupted_run_says_what_it_kept_and_resumes(path, tmp_path):
    out = tmp_path / "o"

    def stop(done, _total):
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(errors.Interrupted, match=r"stopped by SIGINT; kept 3 of 8 finished runs in .*journal.jsonl"):
        clawsim.run(path, out, progress=stop)
    result = clawsim.run(path, out, resume=True)
    assert result.resumed == 3
    pd.testing.assert_frame_equal(result.frame, clawsim.simulate(result.scenario))


def test_the_plan_is_built_once(path, tmp_path, monkeypatch):
    scenario = clawsim.load_scenario(path)  # validation walks a (lazy) plan of its own
    built = []
    original = Plan.__init__

    def counting(self, scenario):
        built.append(scenario.name)
        original(self, scenario)

    monkeypatch.setattr(Plan, "__init__", counting)
    clawsim.run(scenario, tmp_path / "o", report=False)
    assert built == ["api-sweep"]


def test_each_point_is_validated_once_per_run(path, tmp_path, monkeypatch):
    """The check at load resolves the points; the sweep, the report (handed the table and the
    scenario, not re-reading them) and its per-point loads reuse them."""
    plan_module = importlib.import_module("clawsim.scenario.plan")  # the module: the package's `plan` is the function
    resolved = []
    original = plan_module.point_scenario

    def counting(base, assignment):
        resolved.append(tuple(assignment.items()))
        return original(base, assignment)

    monkeypatch.setattr(plan_module, "point_scenario", counting)
    scenario = clawsim.load_scenario(path)
    result = clawsim.run(scenario, tmp_path / "o", workers=1, html=True)
    assert len(resolved) == len(set(resolved)) == plan_module.plan(scenario).points == 4
    assert {p.name for p in result.report} >= {"index.md", "index.html", "tradeoff.png"}


def test_a_scenarios_resolved_points_go_with_it():
    import gc

    plan_module = importlib.import_module("clawsim.scenario.plan")  # the module: the package's `plan` is the function
    scenario = clawsim.parse_scenario(SWEEP)
    key = id(scenario)
    assert plan_module.plan(scenario)[7].scenario is plan_module.plan(scenario)[6].scenario  # one point, shared
    assert len(plan_module._RESOLVED[key]) == 4  # the check at load resolved every point
    del scenario
    gc.collect()
    assert key not in plan_module._RESOLVED


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda p, o: clawsim.simulate(str(p)), "scenario must be a clawsim.Scenario, not str (load the file first"),
        (lambda p, o: clawsim.simulate(clawsim.load_scenario(p), workers=0), "workers must be a whole number >= 1"),
        (lambda p, o: clawsim.simulate(clawsim.load_scenario(p), executor="dask"), "executor must be"),
        (
            lambda p, o: clawsim.run(42, o),
            "scenario must be a clawsim.Scenario or the path of a scenario file, not int",
        ),
        (lambda p, o: clawsim.run(p, 42), "out must be a folder path"),
        (lambda p, o: clawsim.run(p, o, workers="2"), "workers must be a whole number"),
        (lambda p, o: clawsim.run(p, o, resume="yes"), "resume must be True or False"),
        (lambda p, o: clawsim.run(p, o, resume=True, force=True), "exclude each other"),
        (lambda p, o: clawsim.run(p, o, progress=1), "progress must be a function"),
        (lambda p, o: clawsim.run(p, o, overrides="--set list.rows=5"), "overrides must be a sequence"),
        (lambda p, o: clawsim.run(p, o, wrokers=2), "'wrokers' is not a run option (RunOptions: analytic, "),
        (lambda p, o: clawsim.run(p, o, options={"workers": 2}), "options must be a clawsim.RunOptions, not dict"),
        (lambda p, o: clawsim.RunOptions(html=True, report=False), "cannot go with --no-report"),
    ],
)
def test_arguments_of_the_wrong_kind_raise_usage_error(path, tmp_path, call, words):
    with pytest.raises(clawsim.UsageError) as caught:
        call(path, tmp_path / "o")
    assert words in str(caught.value) and isinstance(caught.value, clawsim.ClawsimError)
    assert not (tmp_path / "o").exists()


def test_run_options_are_keywords_and_keyword_arguments_are_its_fields(path, tmp_path):
    with pytest.raises(TypeError):
        clawsim.RunOptions(2)  # keyword-only: ten switches in a row are never read by position
    with pytest.raises(TypeError):
        clawsim.run(path, tmp_path / "o", clawsim.RunOptions())
    options = clawsim.RunOptions(report=True, workers=1)
    result = clawsim.run(path, tmp_path / "o", options=options, report=False, overrides={"list.rows": 7})
    assert result.report == () and not (tmp_path / "o" / "index.md").exists() and set(result.frame.rows) == {7}
    assert options.report and options.overrides == ()  # the options given are not changed


def test_the_cli_hands_run_one_run_options(path, tmp_path, monkeypatch):
    """The command line's run options arrive as one RunOptions, the overrides as recorded text."""
    seen = []
    monkeypatch.setattr(
        api,
        "run",
        lambda scenario, out, *, options: (
            seen.append(options) or api.RunResult(pd.DataFrame(), Path(out), scenario, 0, 0, 0.0)
        ),
    )
    argv = ["run", str(path), "-o", str(tmp_path / "o"), "-w", "1", "--no-report", "--analytic", "--force"]
    cli = CliRunner().invoke(app, [*argv, "--set", "list.rows=5", "-f", "csv"])
    assert cli.exit_code == 0, cli.stderr
    (options,) = seen
    want = clawsim.RunOptions(
        workers=1, force=True, analytic=True, report=False, overrides=("--set list.rows=5",), source=str(path)
    )
    assert dataclasses.replace(options, notify=None) == want and callable(options.notify)


def test_every_error_class_shares_one_base_with_exit_code_2():
    classes = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, Exception)]
    assert {c.__name__ for c in classes} >= {
        "ScenarioError",
        "ResultsError",
        "ResumeError",
        "ExecutionError",
        "UsageError",
    }
    assert all(issubclass(c, errors.ClawsimError) and c.exit_code == 2 for c in classes)
    assert issubclass(errors.Interrupted, KeyboardInterrupt)


def test_main_maps_errors_to_one_line_and_exit_2(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "clawsim", "run", str(tmp_path / "missing.yaml")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and result.stderr.startswith("clawsim: ")
    assert "missing.yaml" in result.stderr


def test_the_public_names_are_exported_and_importable():
    assert set(clawsim.__all__) == {*clawsim._EXPORTS, "__version__"}
    for name in clawsim.__all__:
        assert getattr(clawsim, name) is not None


# Each way to give an override, and what the data must then say.
OVERRIDES = [
    (("--set list.rows=500",), lambda f, sc: set(f.rows) == {500} and "list.rows" not in sc.sweep),
    ({"list.rows": 500, "registry.fix": "pin"}, lambda f, sc: set(f.rows) == {500} and set(f.pinned) == {True}),
    (
        {"memo.scan_ms": {"dist": "uniform", "low": 1, "high": 3}},
        lambda f, sc: f.scan_ms_total.max() <= 3 * f.scans.max(),
    ),
    (("--sweep list.rows=7,70",), lambda f, sc: sorted(set(f["list.rows"])) == [7, 70] and set(f.rows) == {7, 70}),
    (("--seed 11",), lambda f, sc: sc.seed == 11),
    (("--replications 3",), lambda f, sc: f.groupby("point").run.nunique().eq(3).all()),
    (("-n 1", "--set list.rows=9"), lambda f, sc: f.run.nunique() == 2 and set(f.rows) == {9}),  # rows leaves the sweep
]


@pytest.mark.parametrize(("given", "holds"), OVERRIDES)
def test_run_applies_the_overrides_it_records(path, tmp_path, given, holds):
    """meta.json's overrides, applied to the file, give the resolved scenario and the data."""
    result = clawsim.run(path, tmp_path / "o", overrides=given, report=False)
    frame, resolved, meta = clawsim.read_results(tmp_path / "o")
    assert holds(frame, resolved)
    replayed = apply_overrides(clawsim.load_scenario(path), [parse_given(o) for o in meta["overrides"]])
    assert resolved == replayed == result.scenario
    pd.testing.assert_frame_equal(frame, clawsim.simulate(replayed), check_dtype=False)


def test_the_cli_records_what_it_applied(path, tmp_path):
    cli = CliRunner().invoke(app, ["run", str(path), "-o", str(tmp_path / "c"), "--set", "list.rows=12", "-n", "1"])
    assert cli.exit_code == 0, cli.stderr
    frame, resolved, meta = clawsim.read_results(tmp_path / "c")
    assert meta["overrides"] == ["--set list.rows=12", "--replications 1"]
    assert set(frame.rows) == {12} and frame.run.nunique() == 2 and resolved.replications == 1


def test_a_bad_override_from_python_is_one_line_naming_it(path, tmp_path):
    with pytest.raises(clawsim.ScenarioError, match="--set list.rows=abc"):
        clawsim.run(path, tmp_path / "o", overrides=("--set list.rows=abc",))
    with pytest.raises(clawsim.ScenarioError, match="expected --set PATH=VALUE"):
        clawsim.run(path, tmp_path / "o", overrides=("list.rows=5",))
    assert not (tmp_path / "o").exists()
