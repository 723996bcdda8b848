"""Each cost kind draws, discretises and quantiles itself, and a new kind cannot join half-done.

``scenario.costs.Cost`` is what the engine, the analytic models and explore ask of a cost;
mypy checks at ``distribution`` that every member of the union has it. These tests add what
mypy cannot see: every kind has an example here, tells its own tag to the error messages and
the Node harness, and its methods agree with each other on real draws.
"""

from __future__ import annotations

import typing

import numpy as np
import pytest
from conftest import ROOT

import clawsim
from clawsim.scenario.costs import (
    DISTRIBUTIONS,
    AnyCost,
    Constant,
    Cost,
    Empirical,
    Lognormal,
    Uniform,
    distribution,
)
from clawsim.scenario.messages import _UNION_TAGS

pytestmark = pytest.mark.fast  # the inner loop: python -m pytest -m fast (seconds)

# One scenario cost of each kind, as a user writes it.
EXAMPLES: dict[type, str] = {
    Constant: "17.5",
    Lognormal: "{dist: lognormal, p50: 40, p95: 90}",
    Uniform: "{dist: uniform, low: 5, high: 25}",
    Empirical: "{dist: empirical, values: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]}",
}
METHODS = sorted(name for name in vars(Cost) if not name.startswith("_"))


def _cost(kind: type) -> Cost:
    return distribution(clawsim.parse_scenario(f"memo: {{scan_ms: {EXAMPLES[kind]}}}").memo.scan_ms)


def _tags() -> set[str]:
    return {typing.get_args(m.model_fields["dist"].annotation)[0] for m in DISTRIBUTIONS}


def test_every_kind_has_an_example_and_defines_every_method_itself():
    kinds = set(typing.get_args(AnyCost))
    assert kinds == {Constant, *DISTRIBUTIONS}  # every kind a scenario can name, and the plain number
    assert set(EXAMPLES) == kinds, "a cost kind without an example in this test (or an example of no kind)"
    assert {"draws", "points", "quantile", "sampler", "mean", "drawn"} <= set(METHODS)
    for kind in kinds:
        assert [m for m in METHODS if m not in vars(kind)] == [], kind.__name__
        assert type(_cost(kind)) is kind


def test_every_tag_is_hidden_from_error_paths_and_known_to_the_node_harness():
    harness = (ROOT / "clawsim" / "node" / "harness.mjs").read_text()
    assert _tags() == {"lognormal", "uniform", "empirical"}
    for tag in _tags():
        assert tag in _UNION_TAGS  # else a field error's path shows it (memo.scan_ms.lognormal.p95)
        assert f'cost.dist === "{tag}"' in harness  # the harness draws it (costSampler)


@pytest.mark.parametrize("kind", list(EXAMPLES), ids=lambda k: k.__name__)
def test_one_call_draws_what_one_at_a_time_draws(kind: type) -> None:
    cost = _cost(kind)
    one, many = np.random.default_rng(5), np.random.default_rng(5)
    sampler, draws = cost.sampler(one if cost.drawn else None), cost.draws(many if cost.drawn else None)
    for count in (1, 3, 50):
        assert draws(count) == [sampler() for _ in range(count)]
    assert one.random() == many.random()  # the stream is left at the same place


@pytest.mark.parametrize("kind", [k for k in EXAMPLES if k is not Constant], ids=lambda k: k.__name__)
def test_a_drawn_cost_needs_a_stream_and_its_draws_match_its_mean_and_quantiles(kind: type) -> None:
    cost = _cost(kind)
    assert cost.drawn
    with pytest.raises(ValueError, match="stream"):
        cost.sampler(None)
    sample = np.asarray(cost.draws(np.random.default_rng(3))(40_000))
    assert sample.mean() == pytest.approx(cost.mean, rel=0.02)
    for q in (0.1, 0.5, 0.9):
        assert (sample <= cost.quantile(q)).mean() == pytest.approx(q, abs=0.015)


@pytest.mark.parametrize("kind", list(EXAMPLES), ids=lambda k: k.__name__)
@pytest.mark.parametrize("m", [1, 4, 24])
def test_points_keep_the_mean_exactly_on_at_most_m_ascending_points(kind: type, m: int) -> None:
    cost = _cost(kind)
    values, probs = cost.points(m)
    assert len(values) == len(probs) <= m
    assert np.all(np.diff(values) >= 0) and probs.sum() == pytest.approx(1.0, abs=1e-12)
    assert float(values @ probs) == pytest.approx(cost.mean, rel=1e-9)


def test_a_constant_draws_nothing_and_is_its_own_quantile():
    cost = _cost(Constant)
    assert not cost.drawn and cost.mean == 17.5
    assert cost.sampler(None)() == 17.5 and cost.draws(None)(3) == [17.5] * 3
    assert cost.quantile(0.01) == cost.quantile(0.99) == 17.5
