"""Faults while work is written: stop signals in every command, a closed stdout, a folder
another command holds, a full disk at each write. (Kills and Ctrl-C of sweeps with real
workers: test_folders_signals.py; the counted suite: validation/faults.py.)"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from concurrent.futures import Executor, Future
from pathlib import Path

import pytest
from typer.testing import CliRunner

import clawsim
from clawsim import store
from clawsim.cli import app
from clawsim.cli.signals import resume_command
from clawsim.errors import Interrupted
from clawsim.folder import locked
from clawsim.journal import JOURNAL, Journal
from clawsim.sweep import sweep

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}

SWEEP = """\
name: fault-sweep
seed: 7
replications: 2
memo: {policy: lru, capacity: 8, scan_ms: {dist: lognormal, p50: 2, p95: 4}}
list: {rows: 60, yield_every: 10, lookups_per_row: 2}
actors:
  - {name: cron, kind: interval, period_ms: 3, workspaces: unique}
sweep:
  list.rows: [20, 200]
  registry.fix: [none, pin]
"""


def test_a_closed_stdout_ends_quietly_with_the_sigpipe_status(tmp_path):
    """`clawsim run ... | head -1`: the reader is gone, which is not bad input (exit 2) but the
    conventional end of a pipeline's writer: no message, 141 = 128 + SIGPIPE."""
    (tmp_path / "s.yaml").write_text(SWEEP)
    proc = subprocess.Popen(
        [sys.executable, "-m", "clawsim", "run", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "o"), "-f", "csv"],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    proc.stdout.close()  # before clawsim writes its first byte there
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGPIPE
    assert "cannot write" not in stderr and "Broken pipe" not in stderr and "Traceback" not in stderr, stderr
    assert (tmp_path / "o" / "runs.csv").exists()  # the results were written before the table


def test_the_resume_command_repeats_the_command_line_with_resume_and_without_force():
    assert resume_command(["run", "a b.yaml", "-w", "2", "--force"]) == "clawsim run 'a b.yaml' -w 2 --resume"
    assert resume_command(["run", "x.yaml", "--resume"]) == "clawsim run x.yaml --resume"
    assert resume_command(None) is None


# --------------------------------------------------------------------------- an executor's finished tasks


class _Immediate(Executor):
    """An executor whose tasks have finished when ``submit`` returns (as a fast Dask cluster's
    have by the time a slow journal asks): what a stop must still journal."""

    def submit(self, fn, /, *args, **kwargs):
        future: Future = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def test_a_stop_during_an_executor_sweep_journals_every_finished_task(tmp_path):
    scenario = clawsim.parse_scenario(SWEEP.replace("replications: 2", "replications: 5"), "<test>")
    journal = Journal(tmp_path / JOURNAL, scenario, 20, resume=False)

    def stop(done, _total):
        if done == 3:
            raise Interrupted(signum=signal.SIGTERM)

    with pytest.raises(Interrupted):
        sweep(clawsim.plan(scenario), journal, executor=_Immediate(), progress=stop)
    journal.close()
    assert sorted(journal.done) == list(range(20))  # every task had finished: none is lost
    lines = (tmp_path / JOURNAL).read_text().splitlines()
    assert len(lines) == 1 + 20 and len({json.loads(line)["run"] for line in lines[1:]}) == 20


# --------------------------------------------------------------------------- writers and the folder lock


def _cli(*args):
    result = CliRunner().invoke(app, [*map(str, args)])
    assert "Traceback" not in result.stderr, result.stderr
    return result


@pytest.fixture
def finished(tmp_path):
    """A finished sweep's result folder (with its report), and its files' bytes."""
    (tmp_path / "s.yaml").write_text(SWEEP)
    out = tmp_path / "o"
    assert _cli("run", tmp_path / "s.yaml", "--out", out, "--html").exit_code == 0
    return out, tree(out)


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path -> bytes)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def test_report_trace_and_fit_refuse_a_folder_another_command_holds(finished, tmp_path):
    out, before = finished
    timeline = ROOT / "tests" / "data" / "timelines" / "2026.6.8-rows30-flipperon.jsonl"
    commands = {
        out: ["report", out],
        tmp_path / "traces": ["trace", tmp_path / "s.yaml", "--out", tmp_path / "traces"],
        tmp_path / "fit.yaml": ["fit", timeline, "-o", tmp_path / "fit.yaml"],
    }
    for held, args in commands.items():
        with locked(held):  # as a `clawsim run` writing it holds it
            result = _cli(*args)
        assert result.exit_code == 2, result.stderr
        line = result.stderr.strip().splitlines()[-1]
        assert line.startswith(f"clawsim: {held}: another clawsim (pid {os.getpid()}) is writing it; wait"), line
    assert tree(out) == before and not (tmp_path / "traces").exists() and not (tmp_path / "fit.yaml").exists()


@pytest.mark.parametrize("command", ["report", "trace", "fit"])
def test_a_stop_signal_at_any_write_of_report_trace_or_fit_leaves_the_old_files(
    finished, tmp_path, command, monkeypatch
):
    """Each command is stopped (SIGTERM) at its 1st, 2nd, ... write until it finishes: every
    stop exits 143 and leaves every file as it was, with nothing half-written beside them."""
    out, _ = finished
    timeline = ROOT / "tests" / "data" / "timelines" / "2026.6.8-rows30-flipperon.jsonl"
    args, folder = {
        "report": (["report", out, "--html"], out),
        "trace": (["trace", tmp_path / "s.yaml"], out),
        "fit": (["fit", timeline, "-o", tmp_path / "fit.yaml", "-n", "2", "--force"], tmp_path / "fit.yaml"),
    }[command]
    if command == "trace":  # its default folder: the traces/ of results/NAME, under the working folder
        monkeypatch.chdir(tmp_path)
        folder = tmp_path / "results" / "fault-sweep"
    assert _cli(*args).exit_code == 0
    stops = 0
    while True:
        _mark_old(folder)  # so that a file the stopped command replaced would show
        before = tree(tmp_path)
        with _stop_at_write(monkeypatch, stops + 1) as reached:
            result = _cli(*args)
        if not reached():
            assert result.exit_code == 0, result.stderr
            break
        stops += 1
        assert result.exit_code == 143, result.stderr
        assert result.stderr.strip().splitlines()[-1] == "clawsim: stopped by SIGTERM"
        assert tree(tmp_path) == before and leftovers(folder.parent) == leftovers(tmp_path) == []
    assert stops >= {"report": 3, "trace": 3, "fit": 1}[command]


def _mark_old(folder: Path) -> None:
    """Prefix every report, trace or fitted file under ``folder`` with "old"."""
    for path in [folder] if folder.is_file() else folder.rglob("*"):
        if path.is_file() and (path.suffix in (".png", ".md", ".html", ".yaml", ".json") or "timeline" in path.name):
            if path.name not in ("meta.json", "scenario.resolved.yaml"):
                path.write_bytes(b"old " + path.read_bytes())


@contextlib.contextmanager
def _stop_at_write(monkeypatch, n: int, fault: BaseException | None = None):
    """Make the ``n``-th file write (``clawsim.store``'s, which every writer uses) fail half-way
    with ``fault`` (default: SIGTERM); yields a function saying whether it was reached."""
    calls = []
    original = store._atomic_write

    def failing(path, write):
        calls.append(path)
        if len(calls) != n:
            return original(path, write)

        def half(handle):
            handle.write(b"half a file")
            raise fault if fault is not None else Interrupted(signum=signal.SIGTERM)

        return original(path, half)

    with monkeypatch.context() as patch:
        patch.setattr(store, "_atomic_write", failing)
        yield lambda: len(calls) >= n
