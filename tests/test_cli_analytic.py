"""`clawsim run --analytic`: expectations beside the simulated values."""

import io
import json

import pandas as pd
from conftest import ROOT
from typer.testing import CliRunner

from clawsim.cli import app


def test_run_analytic_puts_expected_columns_beside_the_simulated_ones(tmp_path):
    result = CliRunner().invoke(
        app,
        [
            "run",
            str(ROOT / "scenarios/pr90819-harness.yaml"),
            "--out",
            str(tmp_path),
            "--no-report",
            "--analytic",
            "--format",
            "csv",
        ],
    )
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(io.StringIO(result.stdout))
    cols = list(frame.columns)
    for sim in ("scans", "flips", "list_ms"):
        assert cols.index(f"expected_{sim}") == cols.index(sim) + 1
    assert (frame.scans == frame.expected_scans).all() and set(frame.analytic) == {"exact"}
    assert "expected_scans" in pd.read_parquet(tmp_path / "runs.parquet").columns


def test_run_analytic_json_has_null_where_no_closed_form(tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text("memo: {scan_ms: 2.5}\nlist: {rows: 20}\nactors:\n  - {name: f, kind: immediate, lookups: 1}\n")
    result = CliRunner().invoke(
        app, ["run", str(scenario), "--out", str(tmp_path / "o"), "--analytic", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)[0]
    assert record["expected_scans"] is None and record["analytic"].startswith("n/a: actors do their own lookups")
