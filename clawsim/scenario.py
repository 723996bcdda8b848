"""Scenario files: the strict schema, loading with line numbers, and the run plan.

A scenario is YAML. It is validated by pydantic v2 in strict mode with unknown keys
rejected, so ``yield_every: no`` (YAML 1.1 reads it as ``False``) is an error rather
than a silent 0. Every error is reported as ``FILE:LINE: FIELD: message`` by mapping
pydantic's ``loc`` onto the node marks of ``yaml.compose``.

All times are milliseconds of simulated time.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

# --------------------------------------------------------------------------- schema


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class Lognormal(_Strict):
    """Scan cost drawn from a lognormal with the given median and 95th percentile."""

    dist: Literal["lognormal"]
    p50: float = Field(gt=0)
    p95: float = Field(gt=0)

    @model_validator(mode="after")
    def _p95_above_p50(self) -> Lognormal:
        if self.p95 < self.p50:
            raise ValueError("p95 must be >= p50")
        return self


class Uniform(_Strict):
    """Scan cost drawn uniformly from [low, high]."""

    dist: Literal["uniform"]
    low: float = Field(ge=0)
    high: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise ValueError("high must be >= low")
        return self


class Empirical(_Strict):
    """Scan cost drawn uniformly from measured values."""

    dist: Literal["empirical"]
    values: list[Annotated[float, Field(ge=0)]] = Field(min_length=1)


Distribution = Annotated[Union[Lognormal, Uniform, Empirical], Field(discriminator="dist")]
CostMs = Union[Annotated[float, Field(ge=0)], Distribution]


class PerRowIO(_Strict):
    """An awaited I/O (the transcript read) after each of the first ``rows`` rows."""

    rows: int = Field(ge=0)
    latency_ms: float = Field(gt=0)


class ListSpec(_Strict):
    """The ``sessions.list`` calls: their row loop and how they are started."""

    rows: int = Field(default=100, ge=1)
    yield_every: int = Field(default=10, ge=0)
    lookups_per_row: int = Field(default=2, ge=0)
    row_cost_ms: float = Field(default=0.28, ge=0)
    lookup_mode: Literal["per_row", "hoisted", "prepared"] = "per_row"
    per_row_io: PerRowIO | None = None
    count: int = Field(default=1, ge=1)
    gap_ms: float | None = Field(default=None, ge=0)
    poll_every_ms: float | None = Field(default=None, gt=0)
    duration_ms: float | None = Field(default=None, gt=0)
    start_ms: float = Field(default=0.0, ge=0)

    @model_validator(mode="after")
    def _one_start_mode(self) -> ListSpec:
        polling = self.poll_every_ms is not None or self.duration_ms is not None
        if polling and (self.poll_every_ms is None or self.duration_ms is None):
            raise ValueError("poll_every_ms and duration_ms go together")
        if polling and (self.count != 1 or self.gap_ms is not None):
            raise ValueError("use either count/gap_ms or poll_every_ms/duration_ms, not both")
        return self


class RegistrySpec(_Strict):
    """The process-global active workspace and the fix applied to its readers."""

    initial_workspace: str = Field(default="/gateway", min_length=1)
    fix: Literal["none", "pin"] = "none"


class MemoSpec(_Strict):
    """The plugin-metadata snapshot memo; a miss is a synchronous full scan."""

    policy: Literal["none", "single", "lru", "ttl"] = "lru"
    key: Literal["workspace", "global"] = "workspace"
    current_snapshot: bool = False
    capacity: int | None = Field(default=None, ge=1)
    ttl_ms: float | None = Field(default=None, gt=0)
    scan_ms: CostMs = 100.0
    hit_ms: float = Field(default=0.0, ge=0)

    @model_validator(mode="after")
    def _policy_fields(self) -> MemoSpec:
        if self.policy == "ttl" and self.ttl_ms is None:
            raise ValueError("policy ttl needs ttl_ms")
        if self.policy != "ttl" and self.ttl_ms is not None:
            raise ValueError(f"ttl_ms only applies to policy ttl, not {self.policy}")
        if self.policy in ("none", "single") and self.capacity is not None:
            raise ValueError(f"capacity does not apply to policy {self.policy}")
        return self

    @property
    def fingerprinted(self) -> bool:
        """Whether an entry is valid by construction: its key holds every input it depends on."""
        return self.key == "workspace" and self.policy != "ttl"

    @property
    def slots(self) -> int | None:
        """Entries the memo may hold (None = unbounded)."""
        if self.policy == "lru":
            return self.capacity or 8
        return {"none": 0, "single": 1}.get(self.policy, self.capacity)


ActorKind = Literal["immediate", "interval", "poisson"]
_WORKSPACE_FORMS = "unique | cycle:K | random:K | fixed:NAME"


class ActorSpec(_Strict):
    """Concurrent agent turns, crons or the PR's flipper: each activation sets the global."""

    name: str = Field(min_length=1)
    kind: ActorKind
    period_ms: float | None = Field(default=None, ge=1)
    rate_per_s: float | None = Field(default=None, gt=0)
    count: int = Field(default=1, ge=0)
    work_ms: float = Field(default=0.0, ge=0)
    workspaces: str = "unique"
    lookups: int = Field(default=0, ge=0)
    start_ms: float = Field(default=0.0, ge=0)

    @model_validator(mode="after")
    def _kind_fields(self) -> ActorSpec:
        if self.kind == "interval" and self.period_ms is None:
            raise ValueError("kind interval needs period_ms")
        if self.kind == "poisson" and self.rate_per_s is None:
            raise ValueError("kind poisson needs rate_per_s")
        if self.kind != "interval" and self.period_ms is not None:
            raise ValueError(f"period_ms only applies to kind interval, not {self.kind}")
        if self.kind != "poisson" and self.rate_per_s is not None:
            raise ValueError(f"rate_per_s only applies to kind poisson, not {self.kind}")
        return self

    @field_validator("workspaces")
    @classmethod
    def _workspaces_form(cls, value: str) -> str:
        parse_workspaces(value)
        return value


def parse_workspaces(text: str) -> tuple[str, int | str | None]:
    """Split ``unique | cycle:K | random:K | fixed:NAME`` into (form, argument)."""
    form, _, arg = text.partition(":")
    if form == "unique" and not arg:
        return "unique", None
    if form in ("cycle", "random") and arg.isdigit() and int(arg) >= 1:
        return form, int(arg)
    if form == "fixed" and arg:
        return "fixed", arg
    raise ValueError(f"workspaces must be one of {_WORKSPACE_FORMS}, got {text!r}")


class LoopSpec(_Strict):
    """Costs of the event loop itself."""

    iteration_ms: float = Field(default=0.005, gt=0)
    max_sim_ms: float = Field(default=3_600_000.0, gt=0)


# Aliases defined outside Scenario, whose field ``list`` shadows the builtin there.
ActorList = list[ActorSpec]
SweepValues = Annotated[list[Any], Field(min_length=1)]


class Scenario(_Strict):
    """One simulated world. ``sweep`` maps dotted paths to values to try; ``variants``
    names alternative worlds, each a mapping of dotted paths to values."""

    name: str = "scenario"
    description: str = ""
    seed: int = Field(default=0, ge=0)
    replications: int = Field(default=1, ge=1)
    loop: LoopSpec = LoopSpec()
    list: ListSpec = ListSpec()
    registry: RegistrySpec = RegistrySpec()
    memo: MemoSpec = MemoSpec()
    actors: ActorList = []
    variants: dict[str, dict[str, Any]] = {}
    sweep: dict[str, SweepValues] = {}


# --------------------------------------------------------------------------- errors


class ScenarioError(Exception):
    """A scenario file that cannot be used; ``str()`` names file, line and field."""


def _node_at(root: yaml.Node | None, loc: tuple[Any, ...]) -> yaml.Node | None:
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


_UNION_TAGS = {"float", "int", "constrained-float", "constrained-int", "lognormal", "uniform", "empirical"}


def _is_tag(part: Any) -> bool:
    return isinstance(part, str) and (part in _UNION_TAGS or part.startswith(("function-", "tagged-union")))


def _clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop pydantic's union-member tags (``float``, ``lognormal``...) from a loc."""
    return tuple(p for p in loc if not _is_tag(p))


def _relevant(error: dict) -> bool:
    """Hide the number branch's complaint about a mapping (a distribution) and vice versa."""
    tags = [p for p in error["loc"] if _is_tag(p)]
    number_branch = any(t in ("float", "int", "constrained-float", "constrained-int") for t in tags)
    return not (number_branch and isinstance(error.get("input"), dict))


def _message(error: dict) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown field"
    msg = error["msg"].removeprefix("Value error, ")
    if isinstance(error.get("input"), bool):
        msg += f" (got {str(error['input']).lower()}: YAML reads yes/no/on/off/true/false as booleans)"
    return msg


def _format_errors(source: str, root: yaml.Node | None, err: ValidationError) -> str:
    lines = []
    for e in filter(_relevant, err.errors(include_url=False)):
        loc = _clean_loc(tuple(e["loc"]))
        node = _node_at(root, loc)
        line = node.start_mark.line + 1 if node is not None else 1
        field = ".".join(str(p) for p in loc) or "(top level)"
        lines.append(f"{source}:{line}: {field}: {_message(e)}")
    return "\n".join(dict.fromkeys(lines))


# --------------------------------------------------------------------------- loading


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
    _check_sweep(scenario, root, source)
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


# --------------------------------------------------------------------------- sweeps


def _set_path(data: dict, path: str, value: Any) -> None:
    """Set ``value`` at a dotted path (``actors.0.rate_per_s``) in plain data."""
    parts = path.split(".")
    node: Any = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise KeyError(".".join(parts[: i + 1]))
            if last:
                node[int(part)] = value
            else:
                node = node[int(part)]
        elif isinstance(node, dict):
            if last:
                node[part] = value
            else:
                if part not in node or node[part] is None:
                    if part not in _submodel_fields(parts[:i]):
                        raise KeyError(".".join(parts[: i + 1]))
                    node[part] = {}
                node = node[part]
        else:
            raise KeyError(".".join(parts[: i + 1]))


def _submodel_fields(parts: list[str]) -> set[str]:
    """Field names of the sub-model at ``parts`` (list indices skipped)."""
    model: Any = Scenario
    for part in parts:
        if part.isdigit():
            continue
        model = _field_model(model, part)
    return set(model.model_fields) if model else set()


def _field_model(model: Any, name: str) -> Any:
    field = model.model_fields.get(name) if model else None
    if field is None:
        return None
    ann = field.annotation
    for cand in (ann, *getattr(ann, "__args__", ())):
        for sub in (cand, *getattr(cand, "__args__", ())):
            if isinstance(sub, type) and issubclass(sub, BaseModel):
                return sub
    return None


def _valid_path(path: str) -> bool:
    model: Any = Scenario
    parts = path.split(".")
    for i, part in enumerate(parts):
        if part.isdigit():
            continue
        if model is None or part not in model.model_fields or part in ("sweep", "variants"):
            return False
        if i < len(parts) - 1:
            model = _field_model(model, part)
    return True


@dataclass(frozen=True)
class RunSpec:
    """One run of a plan: a fully resolved scenario and where it sits in the plan."""

    run: int
    point: int
    replication: int
    params: tuple[tuple[str, Any], ...]
    scenario: Scenario


def _point_scenario(base: Scenario, assignment: dict[str, Any]) -> Scenario:
    data = base.model_dump(mode="python", exclude={"sweep", "variants"})
    data = _to_plain(data)
    for path, value in assignment.items():
        _set_path(data, path, copy.deepcopy(value))
    return Scenario.model_validate(data)


def _to_plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_plain(v) for v in value]
    return value


def _check_sweep(scenario: Scenario, root: yaml.Node | None, source: str) -> None:
    for name, overrides in scenario.variants.items():
        for path in overrides:
            if not _valid_path(path):
                node = _node_at(root, ("variants", name, path))
                line = node.start_mark.line + 1 if node is not None else 1
                raise ScenarioError(f"{source}:{line}: variants.{name}.{path}: not a scenario field that a variant can set")
        node = _node_at(root, ("variants", name))
        where = f"{source}:{node.start_mark.line + 1 if node is not None else 1}: variants.{name}"
        try:
            _point_scenario(scenario, overrides)
        except KeyError as exc:
            raise ScenarioError(f"{where}: no such element {exc.args[0]!r}") from None
        except ValidationError as err:
            raise ScenarioError(f"{where}: {_messages(err)}") from None
    for path, values in scenario.sweep.items():
        where = _node_at(root, ("sweep", path))
        line = where.start_mark.line + 1 if where is not None else 1
        if not _valid_path(path):
            raise ScenarioError(f"{source}:{line}: sweep.{path}: not a scenario field that can be swept")
        for i, value in enumerate(values):
            try:
                _point_scenario(scenario, {path: value})
            except KeyError as exc:
                raise ScenarioError(f"{source}:{line}: sweep.{path}: no such element {exc.args[0]!r}") from None
            except ValidationError as err:
                vnode = _node_at(root, ("sweep", path, i))
                vline = vnode.start_mark.line + 1 if vnode is not None else line
                raise ScenarioError(f"{source}:{vline}: sweep.{path}[{i}] = {value!r}: {_messages(err)}") from None


def _messages(err: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(map(str, _clean_loc(tuple(e['loc']))))}: {_message(e)}"
        for e in filter(_relevant, err.errors(include_url=False))
    )


def plan(scenario: Scenario) -> list[RunSpec]:
    """The run plan: variants x the cartesian product of the sweep x replications.

    Variants and sweep keys are taken in file order, the last sweep key varying
    fastest; run ``r`` is point ``r // replications``, replication ``r % replications``.
    The order never depends on anything but the file.
    """
    paths = list(scenario.sweep)
    variants = list(scenario.variants.items()) or [(None, {})]
    runs = []
    combos = list(itertools.product(*(scenario.sweep[p] for p in paths)))
    for variant, overrides in variants:
        for combo in combos:
            assignment = {**overrides, **dict(zip(paths, combo))}
            resolved = _point_scenario(scenario, assignment)
            params = (("variant", variant),) if variant is not None else ()
            params += tuple(zip(paths, combo))
            point = len(runs) // scenario.replications
            for rep in range(scenario.replications):
                runs.append(RunSpec(len(runs), point, rep, params, resolved))
    return runs


def resolved_yaml(scenario: Scenario) -> str:
    """The scenario with every default filled in, as YAML (written beside results)."""
    return yaml.safe_dump(_to_plain(scenario.model_dump(mode="json")), sort_keys=False)
