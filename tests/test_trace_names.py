"""The names in a trace: one home (``timeline/names.py``), every clawsim name documented in
docs/trace.md and emitted by the engine, and the gateway's names the engine does not write
named as such."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import clawsim
from clawsim.timeline import names

pytestmark = pytest.mark.fast
DOC = Path(__file__).resolve().parents[1] / "docs" / "trace.md"
CLAWSIM_NAMES = {
    v for k, v in vars(names).items() if k.isupper() and isinstance(v, str) and re.fullmatch(r"clawsim\.[a-z_.]+", v)
}
# a list's own spans that only the real gateway writes (the engine models none of that work)
GATEWAY_ONLY = {f"{names.LIST_SPAN}.{part}" for part in ("store_load", "model_catalog", "active_run_flags")}
BUSY = """\
list: {rows: 30, count: 2, setup_ms: 0.5}
memo: {policy: lru, capacity: 64, scan_ms: 2, miss_overhead_ms: 0.1, pre_miss_ms: 0.3}
actors:
  - {name: flip, kind: immediate, workspaces: cycle:2}
  - {name: cron, kind: interval, period_ms: 3, work_ms: 0.2, workspaces: cycle:3}
"""


def _emitted(text: str) -> set[str]:
    return set(clawsim.trace(clawsim.parse_scenario(text))["name"])


def test_every_clawsim_name_is_documented_and_every_documented_name_exists():
    documented = set(re.findall(r"^\| `(clawsim\.[a-z_.]+)` \|", DOC.read_text(), re.MULTILINE))
    assert documented == CLAWSIM_NAMES - {names.TRACK_ATTRIBUTE}


def test_the_engine_emits_every_name_it_claims_and_none_of_the_gateway_only_ones():
    emitted = _emitted(BUSY) | _emitted(BUSY.replace("capacity: 64,", "capacity: 64, current_snapshot: true,"))
    claimed = (names.OPENCLAW_SPAN_NAMES - GATEWAY_ONLY) | (CLAWSIM_NAMES - {names.TRACK_ATTRIBUTE})
    assert emitted == claimed
    assert GATEWAY_ONLY <= names.OPENCLAW_SPAN_NAMES
