"""Dotted paths into a scenario (``list.rows``, ``actors.0.rate_per_s``) and the one way to
derive a scenario from another: ``derived`` (behind ``Scenario.with_values``).

Generic over the root model, so the schema can use it without this module importing the
schema. A path names a field of the model at each step; list elements by index; in a union of
models (an actor's kind, a cost's distribution) a field of any member (the copy's validation
says when the member at hand lacks it).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)
_PLAN_FIELDS = ("sweep", "variants")  # the plan's own fields: not a path a value is set at


class PathError(ValueError):
    """A dotted path that names no field (``invalid``) or no element of this scenario."""

    def __init__(self, path: str, invalid: bool):
        super().__init__(path)
        self.path = path
        self.invalid = invalid


def _models(annotation: Any) -> tuple[type[BaseModel], ...]:
    """The model classes an annotation holds (through list, Optional, Annotated and unions)."""
    found: list[type[BaseModel]] = []
    stack = [annotation]
    while stack:
        ann = stack.pop(0)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            found.append(ann)
        else:
            stack.extend(getattr(ann, "__args__", ()))
    return tuple(found)


def _fields(models: tuple[type[BaseModel], ...]) -> dict[str, Any]:
    """name -> annotation of the fields of any of ``models`` (the first member's wins)."""
    out: dict[str, Any] = {}
    for model in reversed(models):
        out.update({name: f.annotation for name, f in model.model_fields.items()})
    return out


def _models_at(root: type[BaseModel], parts: list[str]) -> tuple[type[BaseModel], ...]:
    """The models at the (valid) path ``parts`` (list indices skipped)."""
    models: tuple[type[BaseModel], ...] = (root,)
    for part in parts:
        if not part.isdigit():
            models = _models(_fields(models).get(part))
    return models


def valid_path(root: type[BaseModel], path: str) -> bool:
    """Whether a dotted path names a field of ``root`` that a sweep or variant may set."""
    models: tuple[type[BaseModel], ...] = (root,)
    parts = path.split(".")
    for i, part in enumerate(parts):
        if part.isdigit():
            continue
        fields = _fields(models)
        if part not in fields or (i == 0 and part in _PLAN_FIELDS):
            return False
        if i < len(parts) - 1:
            models = _models(fields[part])
    return bool(parts)


def set_path(root: type[BaseModel], data: dict[str, Any], path: str, value: Any) -> None:
    """Set ``value`` at a dotted path in ``root``'s plain data; KeyError names the first part
    of the path that does not exist (an index past a list's end, a field of no sub-model)."""
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
                    if part not in _fields(_models_at(root, parts[:i])):
                        raise KeyError(".".join(parts[: i + 1]))
                    node[part] = {}
                node = node[part]
        else:
            raise KeyError(".".join(parts[: i + 1]))


def derived(base: M, values: Mapping[str, Any], sweep: Mapping[str, list[Any]] | None = None) -> M:
    """A validated copy of ``base`` with each dotted path in ``values`` set (in order; a set
    path leaves ``base``'s sweep) and then each path in ``sweep`` swept over its values.

    Raises PathError for a path that names no field or no element, and pydantic's
    ValidationError when the copy is not valid; ``base`` is never changed."""
    root = type(base)
    data = base.model_dump(mode="python")
    for path, value in values.items():
        if not valid_path(root, path):
            raise PathError(path, invalid=True)
        data["sweep"].pop(path, None)
        try:
            set_path(root, data, path, copy.deepcopy(value))
        except KeyError as exc:
            raise PathError(str(exc.args[0]), invalid=False) from None
    for path, swept in (sweep or {}).items():
        data["sweep"][path] = copy.deepcopy(swept)
    return root.model_validate(data)
