"""The command line as a user runs it: help that teaches, Node commands, exit codes."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
import yaml
from conftest import ROOT
from typer.testing import CliRunner

from clawsim.cli import app

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not on PATH")


def test_help_teaches_with_an_example():
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for text in ["kind: immediate", "sweep:", "clawsim run", "clawsim validate", "milliseconds"]:
        assert text in result.stdout
    for command in ["run", "validate", "report", "check-node", "calibrate"]:
        assert CliRunner().invoke(app, [command, "--help"]).exit_code == 0


def test_console_script_and_module_entry_points():
    out = subprocess.run(
        [sys.executable, "-m", "clawsim", "validate", str(ROOT / "scenarios/pr90819-harness.yaml")],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0 and "2 runs" in out.stdout


def test_bad_option_exits_2():
    result = CliRunner().invoke(app, ["run", str(ROOT / "scenarios/pr90819-harness.yaml"), "--format", "xml"])
    assert result.exit_code == 2


@pytest.mark.node
@needs_node
def test_check_node_agrees_on_the_pr_harness():
    result = CliRunner().invoke(
        app, ["check-node", str(ROOT / "validation/scenarios/pr-harness.yaml"), "--uncalibrated"]
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "0 fail" in result.stdout
    rows = [line.split("│") for line in result.stdout.splitlines() if "│ scans" in line]
    assert [(r[4].strip(), r[5].strip()) for r in rows] == [("40", "40"), ("2", "2")]


@pytest.mark.node
@needs_node
def test_check_node_bad_scenario_exits_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("list: {rows: -1}\n")
    result = CliRunner().invoke(app, ["check-node", str(bad)])
    assert result.exit_code == 2 and "bad.yaml:1: list.rows" in result.stderr


@pytest.mark.node
@needs_node
def test_calibrate_writes_scenario_costs(tmp_path):
    out = tmp_path / "cal.yaml"
    result = CliRunner().invoke(app, ["calibrate", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    costs = yaml.safe_load(out.read_text())
    assert 0 < costs["loop"]["iteration_ms"] < 1
