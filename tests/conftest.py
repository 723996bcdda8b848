"""Shared helpers: build scenarios from text and run them through the public API.

The fast tier (``pytest -m "fast and not slow"``) pays mostly for imports, so this file
imports neither pandas nor hypothesis up front (hypothesis's profile is loaded before the
first module that uses it is imported, and its plugin is dropped when none does), and a run
whose ``-m`` selects only ``fast`` tests does not import the test modules that mark nothing
``fast`` (``pytest_ignore_collect``).
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
import sys
import textwrap
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import clawsim

if TYPE_CHECKING:
    import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"


def scenario(text: str) -> clawsim.Scenario:
    """A scenario from (dedented) YAML text."""
    return clawsim.parse_scenario(textwrap.dedent(text), "<test>")


def run(text: str) -> pd.DataFrame:
    """Simulate a scenario given as YAML text; one row per list."""
    return clawsim.simulate(scenario(text))


def sweep_text(name: str, *, replications: int, rows: tuple[int, int] = (20, 200), agent: bool = False) -> str:
    """A small sweep's YAML: rows x fix (x the agent's rate, with ``agent``: a poisson agent
    over 4 workspaces and awaited reads), beside a 3 ms cron; the fixture of the folder,
    fault and signal tests."""
    io = ", per_row_io: {rows: 5, latency_ms: 0.5}" if agent else ""
    turns = "  - {name: turns, kind: poisson, rate_per_s: 100, workspaces: random:4, work_ms: 0.5}\n" if agent else ""
    rate = "  actors.0.rate_per_s: [50, 400]\n" if agent else ""
    return (
        f"name: {name}\nseed: 7\nreplications: {replications}\n"
        "memo: {policy: lru, capacity: 8, scan_ms: {dist: lognormal, p50: 2, p95: 4}}\n"
        f"list: {{rows: 60, yield_every: 10, lookups_per_row: 2{io}}}\n"
        f"actors:\n{turns}  - {{name: cron, kind: interval, period_ms: 3, workspaces: unique}}\n"
        f"sweep:\n  list.rows: [{rows[0]}, {rows[1]}]\n{rate}  registry.fix: [none, pin]\n"
    )


@pytest.fixture
def harness_text() -> str:
    return """
        name: harness
        memo: {policy: lru, capacity: 8, scan_ms: 2.5}
        list: {rows: 200, yield_every: 10, lookups_per_row: 2, row_cost_ms: 0.28}
        actors:
          - {name: flipper, kind: immediate, workspaces: unique}
    """


@cache
def _hypothesis_profile() -> None:
    """Property tests are part of CI: derandomized, so a run is repeatable, and unhurried."""
    from hypothesis import settings

    settings.register_profile("clawsim", derandomize=True, deadline=None, max_examples=60, print_blob=True)
    settings.load_profile("clawsim")


@cache
def _only_fast(markexpr: str) -> bool:
    """Whether the ``-m`` expression is false for every test not marked ``fast``, whatever its
    other marks (False if it cannot be read: then everything is collected, as pytest does)."""
    if "fast" not in markexpr:
        return False
    try:
        from _pytest.mark.expression import Expression  # pytest's own reading of -m

        expression = Expression.compile(markexpr)
    except Exception:
        return False
    others = sorted(set(re.findall(r"[A-Za-z_]\w*", markexpr)) - {"and", "or", "not", "fast"})
    if len(others) > 8:
        return False
    for values in itertools.product((False, True), repeat=len(others)):
        marks = dict(zip(others, values, strict=True))
        if expression.evaluate(lambda name, marks=marks, **_: marks.get(name, False)):
            return False
    return True


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """A run of the fast tier skips (does not import) a test module that marks nothing fast."""
    if collection_path.suffix != ".py" or not collection_path.name.startswith("test_"):
        return None
    if _only_fast(config.getoption("markexpr") or "") and "mark.fast" not in collection_path.read_text():
        return True
    return None


def pytest_collect_file(file_path: Path) -> None:
    """Hypothesis's profile is loaded before a module that uses it is imported (its
    ``settings`` objects take their defaults from the profile loaded when they are made)."""
    if file_path.suffix == ".py" and file_path.name.startswith("test_") and "hypothesis" in file_path.read_text():
        _hypothesis_profile()


def pytest_collection_finish(session: pytest.Session) -> None:
    """When no collected module uses hypothesis (the fast tier), its pytest plugin has nothing
    left to do but import all of hypothesis (~1 s) for its end-of-run summary: unregistered."""
    plugins = session.config.pluginmanager
    plugin = plugins.get_plugin("hypothesispytest")
    if "hypothesis" not in sys.modules and plugin is not None:
        plugins.unregister(plugin)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``node`` are skipped where ``node`` is not on PATH."""
    if shutil.which("node") is not None:
        return
    skip = pytest.mark.skip(reason="node is not on PATH: the check against the real event loop needs Node.js")
    for item in items:
        if item.get_closest_marker("node") is not None:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def node_calibration() -> dict:
    """This machine's Node calibration, measured once per test session (and shared with
    ``clawsim calibrate`` and ``compare(calibration=None)`` run in the same process)."""
    if shutil.which("node") is None:
        pytest.skip("node is not on PATH")
    from clawsim.nodecheck import cached_calibration

    return cached_calibration()


@pytest.fixture
def tiny_fs(tmp_path):
    """A 600 KiB tmpfs (needs root and mount(2), as in CI; skipped otherwise)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    if (
        os.geteuid() != 0
        or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(mount)], capture_output=True
        ).returncode
        != 0
    ):
        pytest.skip("needs root and mount(2) for a small tmpfs")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def fill_fs(mount: Path, leave: int) -> None:
    """Fill ``mount`` until about ``leave`` bytes are free."""
    stat = os.statvfs(mount)
    (mount / "filler").write_bytes(b"x" * max(stat.f_bavail * stat.f_frsize - leave, 0))
