"""Real signals and real processes: Ctrl-C (SIGINT) during a sweep and while results are
written, SIGKILL/SIGTERM of the main pid (its workers end with it, its lock is taken over),
two concurrent writers, and Dask addresses that are not (or stop being) a cluster."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import sweep_text
from typer.testing import CliRunner

import clawsim
from clawsim.cli import app
from clawsim.journal import JOURNAL

pytestmark = pytest.mark.slow  # seconds each: left out of the quick loop (-m "not slow")

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}

# 48 runs of very different cost (2,000 or 20,000 rows): a few seconds on 2 workers.
SLOW = sweep_text("slow-sweep", replications=6, rows=(2000, 20000), agent=True)


@pytest.fixture(scope="module")
def slow(tmp_path_factory):
    """(scenario file, reference runs.csv bytes from an uninterrupted in-process run)."""
    folder = tmp_path_factory.mktemp("slow")
    path = folder / "slow.yaml"
    path.write_text(SLOW)
    reference = clawsim.run(path, folder / "reference", workers=1, report=False)
    return path, (reference.out / "runs.csv").read_bytes()


def start(*args) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "clawsim", *map(str, args)],
        env=ENV,
        text=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def finish(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "clawsim", *map(str, args)], env=ENV, text=True, capture_output=True, timeout=120
    )


def wait_for(condition, timeout=60.0, every=0.01) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(every)


def journalled(out: Path) -> int:
    """Finished runs in ``out``'s journal (whole lines after the header)."""
    try:
        return max(len((out / JOURNAL).read_text().split("\n")) - 2, 0)
    except FileNotFoundError:
        return 0


def children(pid: int) -> list[int]:
    """Live processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


# --------------------------------------------------------------------------- Ctrl-C


def _stopped(proc, out, status, name) -> int:
    """Check the one line a stopped sweep ends with; returns the runs it says it kept."""
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == status and "Traceback" not in stderr, stderr
    last = stderr.strip().splitlines()[-1]
    kept = journalled(out)
    resume = f"clawsim run {proc.args[4]} --out {out} --no-report -w 2 --resume"
    assert last == (
        f"clawsim: stopped by {name}; kept {kept} of 48 finished runs in {out / JOURNAL}; resume with: {resume}"
    )
    return kept


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_stop_signal_during_a_sweep_keeps_every_finished_run(slow, tmp_path, sig):
    """Ctrl-C, `kill`/`timeout`, a closed terminal: one policy, exit 128 + the signal."""
    path, reference = slow
    out = tmp_path / "o"
    proc = start("run", path, "--out", out, "--no-report", "-w", "2")
    wait_for(lambda: journalled(out) >= 4)
    proc.send_signal(sig)
    kept = _stopped(proc, out, 128 + sig, signal.Signals(sig).name)
    assert 4 <= kept < 48 and (out / JOURNAL).read_text().endswith("\n")  # written per run, whole lines
    resumed = finish("run", path, "--out", out, "--no-report", "--resume", "-w", "2")
    assert resumed.returncode == 0 and f"resuming: {kept} of 48 runs" in resumed.stderr
    assert (out / "runs.csv").read_bytes() == reference


def test_a_background_sweep_ignores_sigint_as_started_and_stops_on_sigterm(slow, tmp_path):
    """A script's `clawsim run ... &` starts with SIGINT ignored: it stays so; SIGTERM stops it."""
    path, reference = slow
    out = tmp_path / "o"
    proc = subprocess.Popen(
        [sys.executable, "-m", "clawsim", "run", str(path), "--out", str(out), "--no-report", "-w", "2"],
        env=ENV,
        text=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    wait_for(lambda: journalled(out) >= 2)
    proc.send_signal(signal.SIGINT)
    before = journalled(out)
    wait_for(lambda: journalled(out) > before)  # still working: the ignored SIGINT did nothing
    assert proc.poll() is None
    proc.send_signal(signal.SIGTERM)
    kept = _stopped(proc, out, 143, "SIGTERM")
    assert kept < 48
    resumed = finish("run", path, "--out", out, "--no-report", "-w", "2", "--resume")  # the line's command
    assert resumed.returncode == 0 and (out / "runs.csv").read_bytes() == reference


def test_ctrl_c_while_the_results_are_written_keeps_the_journal(tmp_path):
    path = tmp_path / "quick.yaml"
    path.write_text(SLOW.replace("[2000, 20000]", "[20, 200]").replace("replications: 6", "replications: 2"))
    out = tmp_path / "o"
    for _ in range(3):  # the signal must land inside the write; on a loaded machine it can land after it
        proc = start("run", path, "--out", out, "-w", "1")  # the report (charts) makes writing take a while
        wait_for(lambda: any(p.name.startswith(".o.new-") for p in tmp_path.iterdir()), every=0.002)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
        if proc.returncode != 0:
            break
        assert (out / "index.md").exists() and "done in" in stderr, stderr  # missed the window: a whole set
        shutil.rmtree(out)
    assert proc.returncode == 130 and "Traceback" not in stderr, stderr
    assert stderr.strip().splitlines()[-1] == (
        f"clawsim: stopped by SIGINT; {out}/ is as it was, and {out / JOURNAL} keeps all 16 runs (the results "
        f"were being written); resume with: clawsim run {path} --out {out} -w 1 --resume"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o", "quick.yaml"]  # no half-written set
    assert journalled(out) == 16 and sorted(p.name for p in out.iterdir()) == [JOURNAL]
    assert finish("run", path, "--out", out, "--resume").returncode == 0
    assert (out / "index.md").exists() and not (out / JOURNAL).exists()


# --------------------------------------------------------------------------- killing the main process


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killing_the_main_process_ends_its_workers_and_frees_its_lock(slow, tmp_path, sig):
    """SIGKILL leaves a stale lock (taken over); SIGTERM is a stop: the lock is released."""
    path, reference = slow
    out = tmp_path / "o"
    proc = start("run", path, "--out", out, "--no-report", "-w", "2")
    wait_for(lambda: journalled(out) >= 2)
    workers = children(proc.pid)
    assert len(workers) >= 2, workers  # the pool (and its resource tracker, if any)
    proc.send_signal(sig)
    proc.wait(timeout=10)
    wait_for(lambda: not any(alive(w) for w in workers), timeout=5)
    resumed = finish("run", path, "--out", out, "--no-report", "--resume", "-w", "2")
    assert resumed.returncode == 0, resumed.stderr
    took_over = f"took over the lock of {out} left by pid {proc.pid}" in resumed.stderr
    assert took_over == (sig == signal.SIGKILL)
    assert proc.returncode == (-signal.SIGKILL if sig == signal.SIGKILL else 143)
    assert (out / "runs.csv").read_bytes() == reference


def test_a_second_writer_is_refused_naming_the_folder_and_the_holder(slow, tmp_path):
    path, reference = slow
    out = tmp_path / "o"
    first = start("run", path, "--out", out, "--no-report", "-w", "1")
    wait_for(lambda: journalled(out) >= 1)
    second = finish("run", path, "--out", out, "--no-report", "--resume")
    assert second.returncode == 2 and "Traceback" not in second.stderr
    assert second.stderr.strip().splitlines()[-1] == (
        f"clawsim: {out}: another clawsim (pid {first.pid}) is writing it; wait for it to finish or choose another --out"
    )
    _, stderr = first.communicate(timeout=120)
    assert first.returncode == 0, stderr
    assert (out / "runs.csv").read_bytes() == reference


# --------------------------------------------------------------------------- Dask addresses


def _serve(reply: bytes | None) -> tuple[str, threading.Event]:
    """A TCP server on localhost that answers every connection with ``reply`` (None: silence)."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()
    held = []

    def loop() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            held.append(conn)
            if reply is not None:
                conn.sendall(reply)
        for conn in held:
            conn.close()
        server.close()

    threading.Thread(target=loop, daemon=True).start()
    return f"tcp://127.0.0.1:{server.getsockname()[1]}", stop


@pytest.mark.parametrize(
    "reply, words",
    [
        (b"HTTP/1.1 200 OK\r\n\r\n" + b"\xff" * 4096, "answers, but not as a Dask scheduler"),
        (None, "did not answer within 2 s"),
    ],
)
def test_a_port_where_something_else_answers_is_a_clear_error_within_the_timeout(tmp_path, reply, words):
    pytest.importorskip("distributed")
    address, stop = _serve(reply)
    (tmp_path / "s.yaml").write_text(SLOW)
    started = time.monotonic()
    try:
        result = CliRunner().invoke(
            app,
            [
                "run",
                str(tmp_path / "s.yaml"),
                "--out",
                str(tmp_path / "o"),
                "--scheduler",
                address,
                "--scheduler-timeout",
                "2",
            ],
        )
    finally:
        stop.set()
    assert time.monotonic() - started < 10
    assert result.exit_code == 2 and words in result.stderr.strip().splitlines()[-1], result.stderr


@pytest.mark.parametrize(
    "address, words",
    [
        ("", "the address is empty"),
        ("http://127.0.0.1:8786", "unknown address scheme 'http'"),
        ("tcp://127.0.0.1:1", "cannot reach the Dask scheduler"),
    ],
)
def test_bad_scheduler_addresses_are_one_line(tmp_path, address, words):
    pytest.importorskip("distributed")
    (tmp_path / "s.yaml").write_text(SLOW)
    result = CliRunner().invoke(
        app,
        [
            "run",
            str(tmp_path / "s.yaml"),
            "--out",
            str(tmp_path / "o"),
            "--scheduler",
            address,
            "--scheduler-timeout",
            "2",
        ],
    )
    assert result.exit_code == 2 and words in result.stderr.strip().splitlines()[-1], result.stderr
    assert not (tmp_path / "o").exists()


def test_all_dask_workers_dying_mid_sweep_ends_the_sweep_within_the_timeout(slow, tmp_path):
    pytest.importorskip("distributed")
    path, _ = slow
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    scheduler = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "distributed.cli.dask_scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-dashboard",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "distributed.cli.dask_worker",
            address,
            "--nworkers",
            "1",
            "--nthreads",
            "1",
            "--no-dashboard",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    out = tmp_path / "o"
    try:
        proc = start("run", path, "--out", out, "--no-report", "--scheduler", address, "--scheduler-timeout", "3")
        wait_for(lambda: journalled(out) >= 1, timeout=90)
        os.killpg(worker.pid, signal.SIGKILL)
        killed = time.monotonic()
        _, stderr = proc.communicate(timeout=60)
        assert time.monotonic() - killed < 3 + 10
        assert proc.returncode == 2 and "Traceback" not in stderr, stderr
        last = stderr.strip().splitlines()[-1]
        assert "has had no worker for 3 s" in last and "finished runs are kept" in last, stderr
        assert journalled(out) >= 1  # the finished runs are kept for --resume
    finally:
        for process in (worker, scheduler):
            if process.poll() is None:
                process.kill()
            process.wait()


def test_a_signal_handed_to_another_thread_waits_for_a_held_step():
    """The kernel may hand a stop signal to any thread (a process pool runs several); Python
    then runs the handler in the main thread between two bytecodes. A held step (a journal
    line written and counted) still finishes whole, and the signal is raised after it."""
    from clawsim.cli.signals import stopping
    from clawsim.errors import Interrupted
    from clawsim.folder import signals_held

    steps = []
    with stopping(), pytest.raises(Interrupted) as stopped:
        with signals_held():
            steps.append("written")
            sender = threading.Thread(target=os.kill, args=(os.getpid(), signal.SIGTERM))
            sender.start()
            sender.join()
            time.sleep(0.05)  # the handler's turn comes here, inside the step
            steps.append("counted")
        steps.append("after the step")
    assert steps == ["written", "counted"] and stopped.value.signum == signal.SIGTERM


def test_a_stop_signal_inside_a_simulated_process_stops_the_run():
    """SimPy keeps what a process raised as its value; a stop signal's Interrupted raised
    there (the list's generator was running) ends the run as that Interrupted, not as an
    AssertionError about the failed event (seen under validation/faults.py's SIGTERM trials)."""
    import simpy

    from clawsim.engine.run import _first_of
    from clawsim.errors import Interrupted

    env = simpy.Environment()

    def list_task():
        yield env.timeout(1)
        raise Interrupted(signum=signal.SIGTERM)

    with pytest.raises(Interrupted) as info:
        env.run(until=_first_of(env, (env.process(list_task()), env.timeout(10))))
    assert info.value.signum == signal.SIGTERM


def test_an_error_a_library_makes_of_a_stop_signal_is_that_stop(tmp_path, monkeypatch):
    """A stop signal raised inside a library that turns it into its own error (matplotlib's
    "Invalid bounding box", a C extension's "initialization failed") still stops the command
    with the one stop line and 128 + the signal, not a traceback with exit 1."""
    import clawsim.api

    def converting(*args, **kwargs):
        try:
            signal.raise_signal(signal.SIGTERM)
        except KeyboardInterrupt as exc:
            raise ValueError("Invalid bounding box") from exc

    (tmp_path / "s.yaml").write_text(sweep_text("s", replications=2))
    monkeypatch.setattr(clawsim.api, "run", converting)
    result = CliRunner().invoke(app, ["run", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 128 + signal.SIGTERM, result.output
    assert result.stderr.strip().splitlines()[-1] == "clawsim: stopped by SIGTERM"
    assert "Traceback" not in result.stderr and "bounding box" not in result.stderr


def test_an_error_without_a_stop_signal_is_still_a_bug(tmp_path, monkeypatch):
    import clawsim.api

    def broken(*args, **kwargs):
        raise ValueError("a bug")

    (tmp_path / "s.yaml").write_text(sweep_text("s", replications=2))
    monkeypatch.setattr(clawsim.api, "run", broken)
    result = CliRunner().invoke(app, ["run", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and isinstance(result.exception, ValueError)
