"""``expectations(scenario)``: the model ``coverage.model_for`` picks, run on one resolved scenario."""

from __future__ import annotations

from typing import Any

from ..scenario import Scenario
from .chain import chain_expectations
from .coverage import model_for
from .expectation import Expectation
from .immediate import immediate_expectations


def expectation_values(scenario: Scenario) -> list[Expectation]:
    """``expectations`` as ``Expectation`` values (one per list), for callers that want attributes."""
    if model_for(scenario) == "immediate":
        return immediate_expectations(scenario)
    return chain_expectations(scenario)


def expectations(scenario: Scenario) -> list[dict[str, Any]]:
    """Expected figures of every list of one resolved scenario (one replication).

    Each dict has ``list_index``, ``expected_scans``, ``expected_hits``,
    ``expected_stale_hits``, ``expected_lookups``, ``expected_flips``,
    ``expected_yields``, ``expected_list_ms``, ``exact`` (the engine must agree
    exactly, up to float rounding of times and, for drawn scan costs, in expectation)
    and ``model`` (``immediate`` or ``chain``). Raises ``NotAnalytic`` with the reason
    when the scenario is outside both models.
    """
    return [e.as_dict() for e in expectation_values(scenario)]
