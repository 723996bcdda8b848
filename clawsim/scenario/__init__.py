"""Scenarios: the schema (``schema``), its limits (``bounds``) and folder-safe names (``names``),
costs (``costs``), workspaces (``workspaces``), reading YAML with bounds and line numbers
(``yamlsafe``, ``load``, ``messages``), the checks of variants and sweep points (``check``) and
the run plan (``plan``)."""

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
