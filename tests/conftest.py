"""Shared helpers: build scenarios from text and run them through the public API."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import settings

import clawsim

# Property tests are part of CI: derandomized, so a run is repeatable, and unhurried.
settings.register_profile("clawsim", derandomize=True, deadline=None, max_examples=60, print_blob=True)
settings.load_profile("clawsim")

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"


def scenario(text: str) -> clawsim.Scenario:
    """A scenario from (dedented) YAML text."""
    return clawsim.parse_scenario(textwrap.dedent(text), "<test>")


def run(text: str) -> pd.DataFrame:
    """Simulate a scenario given as YAML text; one row per list."""
    return clawsim.simulate(scenario(text))


@pytest.fixture
def harness_text() -> str:
    return """
        name: harness
        memo: {policy: lru, capacity: 8, scan_ms: 2.5}
        list: {rows: 200, yield_every: 10, lookups_per_row: 2, row_cost_ms: 0.28}
        actors:
          - {name: flipper, kind: immediate, workspaces: unique}
    """
