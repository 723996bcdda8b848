"""Command-line overrides: ``--set PATH=VALUE`` fixes a field, ``--sweep PATH=V1,V2`` sweeps it.

Paths are the dotted paths a sweep accepts (``list.rows``, ``actors.0.rate_per_s``); values
are read as YAML scalars or flow collections (``500``, ``pin``, ``[1, 2]``,
``{dist: lognormal, p50: 50, p95: 60}``). A ``--set`` of a swept path takes it out of the
sweep. The result is validated like the file, and errors name the option that caused them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import ValidationError

from ..errors import ScenarioError
from .check import check_sweep
from .messages import one_line
from .origin import Origin
from .paths import PathError, derived, valid_path
from .schema import Scenario


@dataclass(frozen=True)
class Override:
    """One command-line override as given (``option`` is ``--set`` or ``--sweep``)."""

    option: str
    path: str
    text: str

    def __str__(self) -> str:
        if self.option in ("--set", "--sweep"):
            return f"{self.option} {self.path}={self.text}"
        return f"{self.option} {self.text}"


def parse_override(option: str, given: str) -> Override:
    """Split ``PATH=VALUE``; ScenarioError if there is no ``=`` or the path is not a field."""
    path, sep, text = given.partition("=")
    path = path.strip()
    if not sep or not path:
        raise ScenarioError(f"{option} {given}: expected PATH=VALUE, e.g. {option} list.rows=500")
    if not valid_path(Scenario, path):
        raise ScenarioError(f"{option} {given}: {path} is not a scenario field (see `clawsim schema`)")
    return Override(option, path, text)


_COUNTS = {"--seed": "seed", "--replications": "replications", "-n": "replications"}


def parse_given(given: str) -> Override:
    """One override as ``str(Override)`` writes it (and meta.json records it): ``--set
    PATH=VALUE``, ``--sweep PATH=V1,V2``, ``--seed N``, ``--replications N`` (or ``-n N``).
    ScenarioError names what is wrong."""
    option, _, rest = given.strip().partition(" ")
    rest = rest.strip()
    if option in ("--set", "--sweep"):
        return parse_override(option, rest)
    if option in _COUNTS and rest:
        return Override("--replications" if option == "-n" else option, _COUNTS[option], rest)
    raise ScenarioError(
        f"override {given!r}: expected --set PATH=VALUE, --sweep PATH=V1,V2, --seed N or --replications N"
    )


def from_values(values: dict[str, Any]) -> list[Override]:
    """``--set`` overrides of dotted paths to Python values (``{"list.rows": 500}``), each
    value written as the YAML a command line would give."""
    out = []
    for path, value in values.items():
        text = yaml.safe_dump(value, default_flow_style=True, width=10**9).strip()
        text = text.removesuffix("\n...")  # a plain scalar ends its document
        out.append(parse_override("--set", f"{path}={text}"))
    return out


def _value(override: Override, text: str) -> Any:
    try:
        return yaml.safe_load(text) if text.strip() else ""
    except yaml.YAMLError:
        raise ScenarioError(f"{override}: {text!r} is not a YAML value") from None


def _sweep_values(override: Override) -> list[Any]:
    text = override.text.strip()
    if text.startswith("["):
        values = _value(override, text)
    else:
        values = [_value(override, part) for part in text.split(",")]
    if not isinstance(values, list) or not values:
        raise ScenarioError(f"{override}: give one or more comma-separated values")
    return values


def apply_overrides(scenario: Scenario, overrides: list[Override]) -> Scenario:
    """``scenario`` with the overrides applied in order, validated; ScenarioError names the option."""
    if not overrides:
        return scenario
    values: dict[str, Any] = {}
    swept: dict[str, list[Any]] = {}
    for override in overrides:
        if override.option == "--sweep":
            swept[override.path] = _sweep_values(override)
            continue
        swept.pop(override.path, None)
        values.pop(override.path, None)  # a path set again applies after the paths set since
        values[override.path] = _value(override, override.text)
    try:
        result = derived(scenario, values, swept)
    except PathError as err:
        culprit = next(o for o in overrides if o.path == err.path or o.path.startswith(f"{err.path}."))
        problem = "is not a scenario field (see `clawsim schema`)" if err.invalid else "no such element"
        raise ScenarioError(f"{culprit}: {problem} {err.path!r}") from None
    except ValidationError as err:
        given = "; ".join(map(str, overrides))
        raise ScenarioError(f"{given}: {one_line(err)}") from None
    source = "; ".join(map(str, overrides))
    where = Origin(
        source,
        {n: 1 for n in result.variants},
        {(n, p): 1 for n, over in result.variants.items() for p in over},
        {p: (1,) * len(v) for p, v in result.sweep.items()},
        {p: 1 for p in result.sweep},
    )
    try:
        check_sweep(result, where)
    except ScenarioError as exc:  # the options have no lines: name them alone
        text = str(exc).replace(f"{source}:1:", f"{source}:")
        raise ScenarioError(text if text.startswith(source) else f"{source}: {text}") from None
    return result
