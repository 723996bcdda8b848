"""Scenarios: the schema (``schema``, on ``strict``), its limits (``bounds``) and folder-safe
names (``names``), costs (``costs``), workspaces (``workspaces``), the memo policy object
(``policy``), dotted paths and derived copies (``paths``, behind ``Scenario.with_values``),
reading YAML with bounds and line numbers (``yamlsafe``, ``load``, ``messages``), the lines of
variants and sweep values (``origin``), the checks of variants and sweep points (``check``),
command-line overrides (``overrides``) and the run plan (``plan``)."""

from ..errors import ScenarioError
from .costs import AnyCost, Constant, CostMs, Empirical, Lognormal, Uniform, distribution
from .load import load_scenario, parse_scenario
from .plan import Plan, RunSpec, plan, point_scenario, resolved_yaml
from .schema import (
    ActorBase,
    ActorKind,
    ActorSpec,
    BurstActor,
    ImmediateActor,
    IntervalActor,
    ListSpec,
    LoopSpec,
    MemoSpec,
    PerRowIO,
    PoissonActor,
    RegistrySpec,
    Scenario,
)
from .workspaces import Workspaces

__all__ = [
    "ActorBase",
    "ActorKind",
    "ActorSpec",
    "AnyCost",
    "BurstActor",
    "Constant",
    "CostMs",
    "Empirical",
    "ImmediateActor",
    "IntervalActor",
    "ListSpec",
    "LoopSpec",
    "Lognormal",
    "MemoSpec",
    "PerRowIO",
    "Plan",
    "PoissonActor",
    "RegistrySpec",
    "RunSpec",
    "Scenario",
    "ScenarioError",
    "Uniform",
    "Workspaces",
    "distribution",
    "load_scenario",
    "parse_scenario",
    "plan",
    "point_scenario",
    "resolved_yaml",
]
