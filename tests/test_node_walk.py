"""The Node harness walks a list as ``clawsim.engine.walk.list_steps`` lays it out.

``harness.mjs --steps`` runs its own ``sessionList`` (the code every node check runs) with a
step log and prints the steps each list took; for a matrix of list specs they must equal
``list_steps``'s, step for step: the pin, the setup, the hoisted lookups, each batch of rows,
each yield and each awaited read, in order.
"""

from __future__ import annotations

import itertools
import shutil

import pytest

from clawsim.engine.walk import list_steps
from clawsim.nodecheck.harness import node_list_steps, step_record
from clawsim.scenario import Scenario

pytestmark = pytest.mark.node

ROWS = (1, 7, 25)
YIELD_EVERY = (0, 1, 3, 10)
LOOKUPS = (0, 2)
MODES = ("per_row", "hoisted", "prepared")
IO_ROWS = (None, 1, 4, 9)  # 9: more reads asked for than a short list has rows
SETUP = (0, 0.01, {"dist": "uniform", "low": 0.001, "high": 0.002})
FIX = ("none", "pin")


def _matrix() -> list[Scenario]:
    """Every combination of the structural knobs (the setup cycled through them); costs tiny
    and scans free, so that the harness's lists take milliseconds."""
    out = []
    for i, (rows, every, lookups, mode, io, fix) in enumerate(
        itertools.product(ROWS, YIELD_EVERY, LOOKUPS, MODES, IO_ROWS, FIX)
    ):
        per_row_io = None if io is None else {"rows": io, "latency_ms": 0.01}
        list_spec = {
            "rows": rows,
            "yield_every": every,
            "lookups_per_row": lookups,
            "lookup_mode": mode,
            "per_row_io": per_row_io,
            "setup_ms": SETUP[i % len(SETUP)],
            "row_cost_ms": 0.001,
        }
        out.append(
            Scenario.model_validate(
                {"name": f"walk-{i}", "list": list_spec, "registry": {"fix": fix}, "memo": {"scan_ms": 0}}
            )
        )
    return out


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not on PATH")
def test_the_harness_takes_the_steps_list_steps_lays_out():
    scenarios = _matrix()
    on_node = node_list_steps(scenarios)
    assert len(on_node) == len(scenarios)
    for scenario, steps in zip(scenarios, on_node, strict=True):
        expected = [step_record(s) for s in list_steps(scenario.list, scenario.registry.pinned)]
        assert steps == expected, scenario.list
    kinds = {record[0] for steps in on_node for record in steps}
    assert kinds == {"pin", "setup", "hoisted", "yield", "rows", "io"}  # the matrix reaches every step
