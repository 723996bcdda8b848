"""Faults while work is written: stop signals in every command, a closed stdout, a folder
another command holds, a full disk at each write. (Kills and Ctrl-C of sweeps with real
workers: test_folders_signals.py; the counted suite: validation/faults.py.)"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import subprocess
import sys
from concurrent.futures import Executor, Future
from pathlib import Path

import pytest
from conftest import fill_fs, sweep_text
from typer.testing import CliRunner

import clawsim
from clawsim import store
from clawsim.cli import app
from clawsim.cli.signals import resume_command
from clawsim.errors import Interrupted
from clawsim.folder import locked
from clawsim.journal import JOURNAL, Journal
from clawsim.sweep import sweep
from validation.faults import fail_at

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}

SWEEP = sweep_text("fault-sweep", replications=2)


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


def leftovers(root: Path) -> list[str]:
    """Hidden files or folders anywhere under ``root``: a lock, a staging folder, a temporary file."""
    return sorted(str(p.relative_to(root)) for p in root.rglob(".*"))


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


def test_fit_removes_the_temporary_file_a_killed_fit_left(tmp_path):
    timeline = ROOT / "tests" / "data" / "timelines" / "2026.6.8-rows30-flipperon.jsonl"
    (tmp_path / ".fit.yaml.k1ll3d.tmp").write_bytes(b"half a fitted scenario")
    assert _cli("fit", timeline, "-o", tmp_path / "fit.yaml", "-n", "2").exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fit.yaml"]


@pytest.mark.slow
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
        "trace": (["trace", tmp_path / "s.yaml", "--run", "0"], tmp_path / "results"),
        "fit": (["fit", timeline, "-o", tmp_path / "fit.yaml", "-n", "2", "--force"], tmp_path / "fit.yaml"),
    }[command]
    monkeypatch.chdir(tmp_path)  # trace's default folder: the traces/ of results/NAME/HASH, under it
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
        assert tree(tmp_path) == before and leftovers(tmp_path) == []
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


# --------------------------------------------------------------------------- a full disk at each write


def _without_journals(files: dict[str, bytes]) -> dict[str, bytes]:
    return {name: data for name, data in files.items() if not name.endswith(JOURNAL)}


@pytest.mark.slow
@pytest.mark.parametrize("command", ["run", "report", "trace", "fit"])
def test_a_full_disk_at_each_write_is_one_line_and_leaves_the_previous_results(
    finished, tmp_path, command, monkeypatch
):
    """ENOSPC at every write point of each command, one at a time: exit 2, one line naming the
    file and saying the previous results are intact, every earlier file byte-identical (a run's
    journal aside: it keeps the finished runs), nothing half-written; then a clean rerun works."""
    out, _ = finished
    timeline = ROOT / "tests" / "data" / "timelines" / "2026.6.8-rows30-flipperon.jsonl"
    args = {
        "run": ["run", tmp_path / "s.yaml", "--out", out, "--html", "--force"],  # trace files: below
        "report": ["report", out, "--html"],
        "trace": ["trace", tmp_path / "s.yaml", "--out", tmp_path / "traces", "--run", "0"],
        "fit": ["fit", timeline, "-o", tmp_path / "fit.yaml", "-n", "2", "--force"],
    }[command]
    assert _cli(*args).exit_code == 0
    faults = {}
    for where in ("file", "journal", "lock", "staging"):
        # every write, in turn; of the journal's 9 (8 runs): the header, the first and last run
        for n in [1, 2, 9, 10] if where == "journal" else itertools.count(1):
            before = _without_journals(tree(tmp_path))
            with fail_at(where, n) as reached:
                result = _cli(*args)
            if not (failed := reached()):
                assert result.exit_code == 0, result.stderr
                break
            faults[where] = n
            assert result.exit_code == 2, result.stderr
            line = result.stderr.strip().splitlines()[-1]
            assert failed is True or f"{failed}:" in line or f"write {failed}:" in line, line  # names the file
            intact = ("as it was", "as they were", "nothing was written")
            assert "No space left on device" in line and any(words in line for words in intact), line
            assert _without_journals(tree(tmp_path)) == before and leftovers(tmp_path) == []
    assert set(faults) == (
        {"file", "journal", "lock", "staging"}
        if command == "run"
        else {"file", "lock"} | (set() if command == "fit" else {"staging"})
    )


def test_on_a_full_tmpfs_a_sweep_and_a_report_fail_in_one_line_and_the_earlier_folder_is_untouched(tmp_path, tiny_fs):
    """A real full disk (a 600 KiB tmpfs): a new sweep beside an earlier result folder, and a
    report of the earlier folder, each fail naming the file; the earlier folder keeps its bytes."""
    (tmp_path / "s.yaml").write_text(SWEEP)
    earlier = tiny_fs / "earlier"
    assert _cli("run", tmp_path / "s.yaml", "--out", earlier).exit_code == 0
    before = tree(earlier)
    fill_fs(tiny_fs, 16 * 1024)  # room for a lock and a few journal lines
    (tmp_path / "big.yaml").write_text(SWEEP.replace("replications: 2", "replications: 50"))
    for args, words in [
        (["run", tmp_path / "big.yaml", "--out", tiny_fs / "new"], "journal.jsonl: cannot write it"),
        (["report", earlier, "--html"], f"{earlier}: cannot write"),
    ]:
        result = _cli(*args)
        line = result.stderr.strip().splitlines()[-1]
        assert result.exit_code == 2 and words in line and "No space left on device" in line, line
        assert "as it was" in line or "as they were" in line, line
        assert tree(earlier) == before and leftovers(tiny_fs) == []
    clawsim.read_results(earlier)
