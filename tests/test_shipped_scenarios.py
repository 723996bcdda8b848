"""Every shipped scenario validates and runs end to end through the CLI (results and report)."""

from __future__ import annotations

import pytest
from conftest import ROOT
from typer.testing import CliRunner

from clawsim.cli import app

SHIPPED = sorted((ROOT / "scenarios").rglob("*.yaml")) + sorted((ROOT / "validation" / "scenarios").rglob("*.yaml"))
IDS = [str(p.relative_to(ROOT)) for p in SHIPPED]


def test_the_suite_ships_scenarios():
    assert len(SHIPPED) >= 15


@pytest.mark.parametrize("path", SHIPPED, ids=IDS)
def test_shipped_scenario_validates(path):
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"{path}: ok: scenario ")


@pytest.mark.slow
@pytest.mark.parametrize("path", SHIPPED, ids=IDS)
def test_shipped_scenario_runs(tmp_path, path):
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(out), "--format", "csv"])
    assert result.exit_code == 0, (result.stderr, result.exception)
    assert (out / "runs.csv").is_file() and (out / "runs.parquet").is_file()
    assert result.stdout.startswith("run,point,replication,list_index")
