"""runs.csv: simulated times rounded to a documented precision (no float noise), the
parameters and counts exact, runs.parquet untouched; --format csv prints the same bytes."""

from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd
from conftest import ROOT
from typer.testing import CliRunner

import clawsim
from clawsim.cli import app
from clawsim.store import CSV_DECIMALS, csv_text


def test_runs_csv_has_no_float_noise_and_parquet_keeps_every_bit(tmp_path):
    result = clawsim.run(ROOT / "scenarios" / "busy-gateway.yaml", tmp_path / "o", report=False)
    text = (tmp_path / "o" / "runs.csv").read_text()
    decimals = [len(m) for m in re.findall(r"\.(\d+)", text)]
    assert decimals and max(decimals) <= CSV_DECIMALS
    back = pd.read_csv(io.StringIO(text))
    frame = clawsim.read_results(tmp_path / "o")[0]
    pd.testing.assert_frame_equal(frame, result.frame)  # parquet: exact
    for column in ("list_ms", "scan_ms_total", "loop_delay_max_ms", "sim_ms"):
        assert np.allclose(back[column], frame[column], rtol=0, atol=0.5 * 10**-CSV_DECIMALS)
    assert (back["list_ms"] != frame["list_ms"]).any()  # rounding happened: the exact sums carry noise
    for column in ("run", "scans", "hits", "registry.fix"):
        assert (back[column] == frame[column]).all()
    cli = CliRunner().invoke(app, ["run", str(ROOT / "scenarios" / "busy-gateway.yaml"), "--out", str(tmp_path / "c")])
    piped = CliRunner().invoke(
        app, ["run", str(ROOT / "scenarios" / "busy-gateway.yaml"), "--out", str(tmp_path / "c"), "--format", "csv"]
    )
    assert cli.exit_code == 0 and piped.stdout == text


def test_csv_text_rounds_metrics_only():
    frame = pd.DataFrame({"list_ms": [227.99999999999727], "memo.hit_ms": [1e-9], "scans": [3]})
    assert csv_text(frame) == "list_ms,memo.hit_ms,scans\n228.0,1e-09,3\n"
