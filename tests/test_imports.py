"""No import cycle between clawsim's modules, nor between its packages.

The graph is built from the source (``ast``): every import a module makes when it runs,
at its top or inside a function (an import moved into a function to dodge a cycle is still
one); imports under ``if TYPE_CHECKING:`` are types only and left out. A package is
``clawsim.X`` (a subpackage, or a top-level module).
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest
from conftest import ROOT

pytestmark = pytest.mark.fast  # the inner loop: python -m pytest -m fast (seconds)

PACKAGE = ROOT / "clawsim"


def _name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(p): p for p in PACKAGE.rglob("*.py")}


def _type_only(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def _imported(module: str, path: Path) -> set[str]:
    """The clawsim modules ``module`` imports when it runs (its own parent packages aside)."""
    tree = ast.parse(path.read_text())
    skip = {id(n) for block in ast.walk(tree) if _type_only(block) for n in ast.walk(block)}
    here = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            base_name = ".".join(base + (node.module.split(".") if node.module else []))
            targets = [f"{base_name}.{a.name}" if f"{base_name}.{a.name}" in MODULES else base_name for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != module and not module.startswith(f"{target}."):
                found.add(target)
    return found


GRAPH = {module: _imported(module, path) for module, path in MODULES.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as err:
        return list(err.args[1])
    return None


def _package(module: str) -> str:
    return ".".join(module.split(".")[:2])


def test_the_graph_is_the_real_one():
    assert len(GRAPH) > 90
    assert "clawsim.engine.walk" in GRAPH["clawsim.engine.listing"]
    assert "clawsim.scenario.origin" in GRAPH["clawsim.scenario.plan"]
    assert _cycle({"a": {"b"}, "b": {"a"}}) is not None


def test_no_cycle_between_modules():
    assert _cycle(GRAPH) is None


def test_no_cycle_between_packages():
    packages: dict[str, set[str]] = {}
    for module, targets in GRAPH.items():
        packages.setdefault(_package(module), set()).update(
            _package(t) for t in targets if _package(t) != _package(module) and t != "clawsim"
        )
    assert _cycle(packages) is None
