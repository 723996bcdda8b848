"""Faults while work is written: stop signals in every command, a closed stdout, a folder
another command holds, a full disk at each write. (Kills and Ctrl-C of sweeps with real
workers: test_folders_signals.py; the counted suite: validation/faults.py.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from clawsim.cli.signals import resume_command

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
