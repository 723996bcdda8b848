"""The journal of a sweep: every finished run, one JSON line each, written as it finishes.

The first line is a header: the scenario's name, the plan's run count and the sweep's
fingerprint (``fingerprint``: the resolved scenario, the clawsim version and a hash of the
model code). ``--resume`` reuses the journal's runs only when all three match and every
line is a run of this plan with complete records; anything else is refused with one line
saying what is wrong. The last line may be cut short by a kill: it is dropped (and cut off
the file before new runs are appended), because its run was not finished.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

from . import __version__
from .engine.metrics import KEY_COLUMNS, LIST_METRICS, RUN_METRICS
from .errors import ResumeError
from .folder import open_fd, signals_held
from .scenario import Scenario, resolved_yaml

JOURNAL = "journal.jsonl"
FORMAT = 1
_MODEL_CODE = ("engine", "scenario")  # the packages whose source decides a run's records
_DISCARD = "pass --force to discard it and start again"
SYNC_EVERY_S = 0.25  # fsync at most this often: a kill loses nothing written, a power cut at most this much


@functools.lru_cache(maxsize=1)
def code_hash() -> str:
    """SHA-256 (16 hex digits) of the model's source files (clawsim/engine, clawsim/scenario)."""
    root = Path(__file__).parent
    digest = hashlib.sha256()
    for package in _MODEL_CODE:
        for source in sorted((root / package).glob("*.py")):
            digest.update(f"{package}/{source.name}\0".encode())
            digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def scenario_hash(scenario: Scenario) -> str:
    """SHA-256 (16 hex digits) of the resolved scenario: every field, override, seed and count."""
    return hashlib.sha256(resolved_yaml(scenario).encode("utf-8")).hexdigest()[:16]


def fingerprint(scenario: Scenario) -> dict[str, str]:
    """What a result must agree on to be mixed with another: scenario, clawsim, model code."""
    return {"scenario": scenario_hash(scenario), "clawsim": __version__, "code": code_hash()}


def mismatch(found: Any, scenario: Scenario) -> str | None:
    """Why a recorded fingerprint ``found`` is not this scenario's, or None when it is."""
    if not isinstance(found, dict) or set(found) != {"scenario", "clawsim", "code"}:
        return "it records no clawsim fingerprint"
    mine = fingerprint(scenario)
    if found["clawsim"] != mine["clawsim"]:
        return f"it was written by clawsim {found['clawsim']}, and this is clawsim {mine['clawsim']}"
    if found["code"] != mine["code"]:
        return "the model code (clawsim/engine, clawsim/scenario) changed since it was written"
    if found["scenario"] != mine["scenario"]:
        return "the scenario changed since it was written"
    return None


def record_columns(scenario: Scenario) -> tuple[str, ...]:
    """The fields every record of this scenario's runs has."""
    return (*KEY_COLUMNS, *scenario.dimensions, *LIST_METRICS, *RUN_METRICS)


class Journal:
    """Append-only record of finished runs: the part of a sweep an interruption keeps.

    ``resume`` with an existing file reuses its runs (``done``: run -> records) after the
    checks above (ResumeError otherwise); without ``resume`` the file is started afresh.
    The file is never opened through a symbolic link."""

    def __init__(self, path: Path, scenario: Scenario, runs: int, resume: bool):
        self.path = Path(path)
        self.scenario = scenario
        self.runs = runs
        self.done: dict[int, list[dict]] = {}
        self._synced = 0.0
        if resume and (self.path.exists() or self.path.is_symlink()):
            self._fd = self._load()
        else:
            self._fd = self._start()

    def _start(self) -> int:
        """A new journal with its header line, durably; on an OSError (a full disk) nothing is
        left of it (not even the folder, if it made it), and the error names the file."""
        made = not self.path.parent.exists()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        head = {
            "clawsim_journal": FORMAT,
            "name": self.scenario.name,
            "runs": self.runs,
            "fingerprint": fingerprint(self.scenario),
        }
        fd = -1
        try:
            fd = self._fd = open_fd(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            self._append(json.dumps(head))
            self._sync()
        except OSError as exc:
            if fd >= 0:
                os.close(fd)
                self.path.unlink(missing_ok=True)
            if made:
                with contextlib.suppress(OSError):
                    self.path.parent.rmdir()
            raise OSError(exc.errno, exc.strerror, str(self.path)) from None
        return fd

    def _refuse(self, what: str) -> ResumeError:
        return ResumeError(f"{self.path}: {what}; {_DISCARD}")

    def _load(self) -> int:
        if self.path.is_dir() and not self.path.is_symlink():
            raise self._refuse("is a folder, not a journal")
        fd = open_fd(self.path, os.O_RDWR)
        try:
            data = os.pread(fd, os.fstat(fd).st_size, 0)
            kept = self._parse(data)
            os.ftruncate(fd, kept)  # drop a last line cut short by a kill
            os.lseek(fd, kept, os.SEEK_SET)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _parse(self, data: bytes) -> int:
        """Check the journal's bytes and fill ``done``; returns the length of its whole lines."""
        if not data:
            raise self._refuse("is empty (the sweep that wrote it was killed as it started)")
        if not data.isascii():
            raise self._refuse("is not a clawsim journal (it holds bytes that are not JSON text)")
        lines = data.split(b"\n")
        whole, tail = lines[:-1], lines[-1]
        if not whole:
            raise self._refuse("its header line is cut short")
        self._check_header(whole[0])
        for number, line in enumerate(whole[1:], start=2):
            self._take(number, line)
        return len(data) - len(tail)

    def _check_header(self, line: bytes) -> None:
        try:
            head = json.loads(line)
        except json.JSONDecodeError:
            head = None
        if not isinstance(head, dict) or head.get("clawsim_journal") != FORMAT:
            raise self._refuse("line 1 is not a clawsim journal header")
        why = mismatch(head.get("fingerprint"), self.scenario)
        if why is None and head.get("runs") != self.runs:
            why = f"it is a journal of {head.get('runs')} runs, and this plan has {self.runs}"
        if why is not None:
            raise self._refuse(f"{why}: its runs cannot be mixed with this sweep's")

    def _take(self, number: int, line: bytes) -> None:
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            entry = None
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("run"), int)
            or not isinstance(entry.get("records"), list)
        ):
            raise self._refuse(f"line {number} is damaged (not a run's records)")
        run, records = entry["run"], entry["records"]
        if not 0 <= run < self.runs:
            raise self._refuse(f"line {number}: run {run} is outside this plan's {self.runs} runs")
        wanted = record_columns(self.scenario)
        for record in records:
            if not isinstance(record, dict) or record.get("run") != run or any(c not in record for c in wanted):
                raise self._refuse(f"line {number}: run {run} has a record with missing or wrong fields")
        if not records:
            raise self._refuse(f"line {number}: run {run} has no records")
        if self.done.get(run, records) != records:
            raise self._refuse(f"line {number}: run {run} is journalled twice with different records")
        self.done[run] = records

    def _append(self, line: str) -> None:
        """Write one line now (a killed process loses nothing written); fsync it within SYNC_EVERY_S."""
        data = (line + "\n").encode("ascii")
        while data:
            data = data[os.write(self._fd, data) :]
        if time.monotonic() - self._synced >= SYNC_EVERY_S:
            self._sync()

    def _sync(self) -> None:
        os.fsync(self._fd)
        self._synced = time.monotonic()

    def add(self, records: list[dict]) -> None:
        """Append one run's records (a run always has at least one list), durably; a run
        already journalled is left as it is (a stopped sweep may drain a run twice)."""
        run = records[0]["run"]
        if run in self.done:
            return
        line = json.dumps({"run": run, "records": records})
        kept = json.loads(line)["records"]  # as a resumed sweep will read them
        with signals_held():  # a Ctrl-C lands before or after a run is both written and counted
            self._append(line)
            self.done[run] = kept

    def close(self) -> None:
        """Close the file; a failing last fsync is not raised here (it would hide the error that
        ended a sweep; after a finished sweep the results are written from memory anyway)."""
        try:
            with contextlib.suppress(OSError):
                self._sync()
        finally:
            os.close(self._fd)
