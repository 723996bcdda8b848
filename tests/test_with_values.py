"""``Scenario.with_values``: the one validated way to derive a scenario from another."""

from __future__ import annotations

import pytest
from conftest import ROOT

import clawsim
from clawsim import Scenario, ScenarioError, load_scenario
from clawsim.scenario.overrides import apply_overrides, parse_override

pytestmark = pytest.mark.fast  # the inner loop: python -m pytest -m fast (seconds)

HARNESS = ROOT / "scenarios" / "pr90819-harness.yaml"


def test_a_copy_with_the_values_set_and_the_original_unchanged():
    base = load_scenario(HARNESS)
    copy = base.with_values(
        {"list.rows": 300, "actors.0.work_ms": 1.5, "memo.scan_ms": {"dist": "uniform", "low": 1, "high": 3}}
    )
    assert (copy.list.rows, copy.actors[0].work_ms, copy.memo.scan_ms.mean) == (300, 1.5, 2.0)
    assert base.list.rows == 200 and base.actors[0].work_ms != 1.5
    assert copy.list.yield_every == base.list.yield_every and copy.seed == base.seed
    assert clawsim.Scenario is Scenario


def test_a_set_path_leaves_the_sweep_as_set_does():
    base = load_scenario(HARNESS)
    assert "registry.fix" in base.sweep
    pinned = base.with_values({"registry.fix": "pin"})
    assert pinned.registry.fix == "pin" and "registry.fix" not in pinned.sweep
    given = apply_overrides(base, [parse_override("--set", "registry.fix=pin")])
    assert given == pinned


def test_the_same_records_as_the_file_edited_by_hand():
    base = load_scenario(HARNESS).with_values({"registry.fix": "none"})
    text = HARNESS.read_text().replace("rows: 200", "rows: 30")
    by_hand = clawsim.parse_scenario(text, "edited").with_values({"registry.fix": "none", "name": base.name})
    derived = base.with_values({"list.rows": 30})
    assert derived == by_hand
    assert clawsim.simulate(derived).equals(clawsim.simulate(by_hand))


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"list.rows": 0}, "list.rows=0: list.rows: Input should be greater than or equal to 1"),
        ({"list.rows": "300"}, "list.rows='300': list.rows: Input should be a valid integer"),
        ({"list.rowz": 1}, "list.rowz=1: list.rowz: not a scenario field (see `clawsim schema`)"),
        ({"sweep": {}}, "sweep={}: sweep: not a scenario field (see `clawsim schema`)"),
        ({"actors.3.count": 1}, "actors.3.count=1: actors.3: no such element"),
        (
            {"memo.policy": "none", "memo.capacity": 4},
            "memo.policy='none', memo.capacity=4: memo: Value error, capacity does not apply to policy none",
        ),
    ],
)
def test_a_bad_value_is_one_line_naming_the_field(values, message):
    with pytest.raises(ScenarioError) as caught:
        load_scenario(HARNESS).with_values(values)
    assert str(caught.value) == message.replace("Value error, ", "")
    assert "\n" not in str(caught.value)
