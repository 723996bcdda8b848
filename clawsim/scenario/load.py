"""Reading scenario YAML: validation errors as ``FILE:LINE: FIELD: message``.

pydantic reports each error with a ``loc`` path into the document; the line is found by
walking the same path through the node marks of ``yaml.compose``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ..errors import ScenarioError
from .plan import check_sweep
from .schema import Scenario


def node_at(root: yaml.Node | None, loc: tuple[Any, ...]) -> yaml.Node | None:
    """The YAML node along ``loc`` (pydantic's path into the document) that best shows
    where the problem is: the key of a mapping entry, an element of a sequence, or the
    deepest node that exists."""
    node = root
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if pair is None:
                return node
            node = pair[0] if last else pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            return node
    return node


def line_of(root: yaml.Node | None, loc: tuple[Any, ...], default: int = 1) -> int:
    """1-based line of the node at ``loc`` (``default`` when the document has no nodes)."""
    node = node_at(root, loc)
    return node.start_mark.line + 1 if node is not None else default


# pydantic's names for union members, which appear in ``loc`` but are not fields.
_UNION_TAGS = {"float", "int", "constrained-float", "constrained-int", "lognormal", "uniform", "empirical",
               "immediate", "interval", "poisson"}
_NUMBER_TAGS = ("float", "int", "constrained-float", "constrained-int")


def _is_tag(part: Any) -> bool:
    return isinstance(part, str) and (part in _UNION_TAGS or part.startswith(("function-", "tagged-union")))


def clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop pydantic's union-member tags (``float``, ``lognormal``...) from a loc."""
    return tuple(p for p in loc if not _is_tag(p))


def _relevant(error: Any) -> bool:
    """Hide the number branch's complaint about a mapping (a distribution) and vice versa."""
    tags = [p for p in error["loc"] if _is_tag(p)]
    number_branch = any(t in _NUMBER_TAGS for t in tags)
    return not (number_branch and isinstance(error.get("input"), dict))


def _message(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown field"
    msg = str(error["msg"]).removeprefix("Value error, ")
    if isinstance(error.get("input"), bool):
        msg += f" (got {str(error['input']).lower()}: YAML reads yes/no/on/off/true/false as booleans)"
    return msg


def located_errors(err: ValidationError) -> list[tuple[tuple[Any, ...], str]]:
    """(clean loc, message) of each relevant error, in pydantic's order."""
    return [(clean_loc(tuple(e["loc"])), _message(e)) for e in err.errors(include_url=False) if _relevant(e)]


def one_line(err: ValidationError) -> str:
    """Every error as ``field: message``, joined with ``; `` (for a sweep value or variant)."""
    return "; ".join(f"{'.'.join(map(str, loc))}: {msg}" for loc, msg in located_errors(err))


def _format_errors(source: str, root: yaml.Node | None, err: ValidationError) -> str:
    lines = []
    for loc, msg in located_errors(err):
        field = ".".join(str(p) for p in loc) or "(top level)"
        lines.append(f"{source}:{line_of(root, loc)}: {field}: {msg}")
    return "\n".join(dict.fromkeys(lines))


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    """Validate scenario YAML text; raise ScenarioError naming ``source``, line and field."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(f"{source}:{line}: not valid YAML: {problem}") from None
    if data is None:
        raise ScenarioError(f"{source}:1: the file is empty; a scenario needs at least a 'list:' block")
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}:1: a scenario must be a mapping of fields, got {type(data).__name__}")
    if "name" not in data and source not in ("<scenario>", "<string>"):
        data["name"] = Path(source).stem
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(_format_errors(source, root, err)) from None
    check_sweep(scenario, lambda loc: f"{source}:{line_of(root, loc)}")
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file (see the README's format reference)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not a text file (not UTF-8); a scenario is YAML text") from None
    except IsADirectoryError:
        raise ScenarioError(f"{path}: is a folder; give a scenario YAML file") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror}") from None
    return parse_scenario(text, str(path))
