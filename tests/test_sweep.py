"""Run plans, workers, resume and the result folder: same bytes whatever happens."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import sweep_text
from typer.testing import CliRunner

import clawsim
from clawsim.cli import app
from clawsim.errors import ResumeError
from clawsim.scenario import plan
from clawsim.sweep import JOURNAL, run_sweep

SWEEP = sweep_text("small-sweep", replications=3, agent=True)


@pytest.fixture
def sweep_file(tmp_path):
    path = tmp_path / "small-sweep.yaml"
    path.write_text(SWEEP)
    return path


def test_plan_order_is_variants_then_sweep_in_file_order_then_replications(sweep_file):
    runs = plan(clawsim.load_scenario(sweep_file))
    assert len(runs) == 2 * 2 * 2 * 3
    assert [r.run for r in runs] == list(range(24))
    assert runs[0].params == (("list.rows", 20), ("actors.0.rate_per_s", 50), ("registry.fix", "none"))
    assert runs[3].params[-1] == ("registry.fix", "pin") and runs[3].replication == 0
    assert runs[23].params == (("list.rows", 200), ("actors.0.rate_per_s", 400), ("registry.fix", "pin"))
    assert runs[5].scenario.actors[0].rate_per_s == 50 and runs[5].scenario.registry.fix == "pin"


def test_records_carry_keys_and_swept_values(sweep_file):
    frame = clawsim.simulate(clawsim.load_scenario(sweep_file))
    assert list(frame.columns[:7]) == [
        "run",
        "point",
        "replication",
        "list_index",
        "list.rows",
        "actors.0.rate_per_s",
        "registry.fix",
    ]
    assert (frame.rows == frame["list.rows"]).all()
    assert frame.run.is_monotonic_increasing
    assert frame.groupby("point").replication.nunique().eq(3).all()


def test_replications_differ_and_seeds_derive_from_run_index(sweep_file):
    scenario = clawsim.load_scenario(sweep_file)
    frame = clawsim.simulate(scenario)
    busy = frame[(frame["list.rows"] == 200) & (frame["registry.fix"] == "none")]
    assert busy.groupby("actors.0.rate_per_s").list_ms.nunique().min() > 1
    # A single run re-simulated alone gives the same record as inside the sweep.
    from clawsim.engine.run import simulate_run

    spec = plan(scenario)[17]
    alone = pd.DataFrame(simulate_run(spec))
    inside = frame[frame.run == 17].reset_index(drop=True)
    assert alone.to_dict("records") == inside[alone.columns].to_dict("records")


def test_workers_and_completion_order_do_not_change_the_table(sweep_file):
    scenario = clawsim.load_scenario(sweep_file)
    serial = clawsim.simulate(scenario, workers=1)
    parallel = clawsim.simulate(scenario, workers=2)
    pd.testing.assert_frame_equal(serial, parallel)


def test_cli_outputs_are_byte_identical_across_workers(tmp_path, sweep_file):
    outs = []
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        result = CliRunner().invoke(
            app,
            ["run", str(sweep_file), "--out", str(out), "--workers", str(workers), "--no-report", "--format", "csv"],
        )
        assert result.exit_code == 0, result.stderr
        outs.append(out)
    for name in ("runs.parquet", "runs.csv", "scenario.resolved.yaml"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    meta = json.loads((outs[0] / "meta.json").read_text())
    assert meta["runs"] == 24 and meta["seed"] == 7 and "numpy" in meta["versions"]
    assert not (outs[0] / JOURNAL).exists()


def test_json_format_prints_only_json_on_stdout(tmp_path, sweep_file):
    result = CliRunner().invoke(
        app, ["run", str(sweep_file), "--out", str(tmp_path / "o"), "--no-report", "-f", "json"]
    )
    assert result.exit_code == 0
    records = json.loads(result.stdout)
    assert len(records) == 24 and records[0]["registry.fix"] == "none"
    assert "24 runs" in result.stderr


def test_resume_reuses_finished_runs_and_ends_with_the_same_bytes(tmp_path, sweep_file):
    scenario = clawsim.load_scenario(sweep_file)
    full = tmp_path / "full"
    assert CliRunner().invoke(app, ["run", str(sweep_file), "--out", str(full), "--no-report"]).exit_code == 0

    # An interrupted sweep: the journal holds some runs, and its last line was cut short.
    cut = tmp_path / "cut"
    journal = cut / JOURNAL

    def interrupt(done, total):
        if done == 10:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(scenario, journal_path=journal, progress=interrupt)
    with journal.open("a") as handle:
        handle.write('{"run": 23, "records": [{"run"')
    finished_before = len(journal.read_text().splitlines()) - 2

    result = CliRunner().invoke(app, ["run", str(sweep_file), "--out", str(cut), "--no-report", "--resume"])
    assert result.exit_code == 0, result.stderr
    for name in ("runs.parquet", "runs.csv"):
        assert (full / name).read_bytes() == (cut / name).read_bytes()
    assert finished_before == 10
    assert not journal.exists()


def _interrupted(scenario, journal, after=10):
    """A sweep of ``scenario`` journalled at ``journal`` and stopped by Ctrl-C after ``after`` runs."""

    def interrupt(done, total):
        if done == after:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(scenario, journal_path=journal, progress=interrupt)


def test_resume_refuses_an_edited_scenario(tmp_path, sweep_file):
    journal = tmp_path / "o" / JOURNAL
    _interrupted(clawsim.load_scenario(sweep_file), journal)
    sweep_file.write_text(SWEEP.replace("seed: 7", "seed: 8"))
    result = CliRunner().invoke(app, ["run", str(sweep_file), "--out", str(tmp_path / "o"), "--resume"])
    assert result.exit_code == 2
    assert "scenario changed" in result.stderr
    with pytest.raises(ResumeError):
        run_sweep(clawsim.load_scenario(sweep_file), journal_path=journal, resume=True)


@pytest.mark.slow
def test_a_killed_sweep_resumes(tmp_path, sweep_file):
    """A real SIGKILL of the CLI mid-sweep, then --resume: the same table."""
    import signal
    import subprocess
    import sys
    import time

    big = tmp_path / "big.yaml"
    big.write_text(SWEEP.replace("replications: 3", "replications: 40"))
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "clawsim", "run", str(big), "--out", str(out), "--no-report", "-w", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    journal = out / JOURNAL
    deadline = time.time() + 60
    while time.time() < deadline and (not journal.exists() or len(journal.read_text().splitlines()) < 20):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = len(journal.read_text().splitlines()) - 1
    assert 0 < done < 320 and not (out / "runs.parquet").exists()
    assert subprocess.run(cmd + ["--resume"], capture_output=True).returncode == 0
    reference = tmp_path / "reference"
    assert (
        subprocess.run(cmd[:5] + ["--out", str(reference), "--no-report", "-w", "2"], capture_output=True).returncode
        == 0
    )
    assert (out / "runs.csv").read_bytes() == (reference / "runs.csv").read_bytes()


@pytest.mark.slow
def test_dask_local_cluster_gives_the_same_table(sweep_file):
    distributed = pytest.importorskip("distributed")
    scenario = clawsim.load_scenario(sweep_file)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            on_dask = clawsim.simulate(scenario, executor=client.get_executor())
    pd.testing.assert_frame_equal(on_dask, clawsim.simulate(scenario))


def test_result_folder_round_trips(tmp_path, sweep_file):
    out = tmp_path / "o"
    assert CliRunner().invoke(app, ["run", str(sweep_file), "--out", str(out), "--no-report"]).exit_code == 0
    frame, scenario, meta = clawsim.read_results(out)
    assert scenario == clawsim.load_scenario(sweep_file)
    assert len(frame) == 24 and meta["scenario"] == "small-sweep"
