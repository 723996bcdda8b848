"""pydantic's validation errors as one line per problem: ``FILE:LINE: FIELD: message``.

Union-member tags are dropped from the field path, the branch that cannot apply is hidden,
and an error of a rule that ties fields together (``schema.cross``) is placed on its first
field's line and names the others' lines.
"""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import ValidationError

from .costs import DIST_TAGS, DISTRIBUTIONS
from .yamlsafe import line_of, path_loc, written

# pydantic's names for union members, which appear in ``loc`` but are not fields.
_UNION_TAGS = {
    "float",
    "int",
    "constrained-float",
    "constrained-int",
    *DIST_TAGS,
    "immediate",
    "interval",
    "poisson",
    "burst",
}
_NUMBER_TAGS = ("float", "int", "constrained-float", "constrained-int")


def _is_tag(part: Any) -> bool:
    return isinstance(part, str) and (part in _UNION_TAGS or part.startswith(("function-", "tagged-union")))


def clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop pydantic's union-member tags (``float``, ``lognormal``...) from a loc."""
    return tuple(p for p in loc if not _is_tag(p))


def _relevant(error: Any) -> bool:
    """Hide the number branch's complaint about a mapping (a distribution) and the
    distribution branch's complaint about anything that is not a mapping."""
    tags = [p for p in error["loc"] if _is_tag(p)]
    number_branch = any(t in _NUMBER_TAGS for t in tags)
    last = error["loc"][-1] if error["loc"] else None  # the distribution union itself, not one of its fields
    dist_branch = (
        isinstance(last, str) and last.startswith("tagged-union[") and all(m.__name__ in last for m in DISTRIBUTIONS)
    )
    is_mapping = isinstance(error.get("input"), dict)
    return not ((number_branch and is_mapping) or (dist_branch and not is_mapping))


def _message(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown field"
    msg = str(error["msg"]).removeprefix("Value error, ")
    if isinstance(error.get("input"), bool):
        msg += f" (got {str(error['input']).lower()}: YAML reads yes/no/on/off/true/false as booleans)"
    return msg


def _fields(error: Any) -> tuple[str, ...]:
    """The fields a cross-field rule names (see ``schema.cross``); () for other errors."""
    return tuple(error.get("ctx", {}).get("fields", ())) if error["type"] == "cross_field" else ()


def located_errors(err: ValidationError) -> list[tuple[tuple[Any, ...], str, tuple[str, ...]]]:
    """(clean loc, message, other fields involved) of each relevant error, in pydantic's order; a
    cross-field error is located at its first field."""
    out = []
    errors = err.errors(include_url=False)
    relevant = [e for e in errors if _relevant(e)] or errors
    for e in relevant:
        fields = _fields(e)
        loc = path_loc(fields[0]) if fields else clean_loc(tuple(e["loc"]))
        out.append((loc, _message(e), fields[1:]))
    return out


def one_line(err: ValidationError) -> str:
    """Every error as ``field: message``, joined with ``; `` (for a sweep value or variant)."""
    return "; ".join(f"{'.'.join(map(str, loc))}: {msg}" for loc, msg, _ in located_errors(err))


def _also(root: yaml.Node | None, fields: tuple[str, ...]) -> str:
    """`` (see loop.max_sim_ms, line 3)`` for the other fields of a cross-field error."""
    seen = [
        f"{f}, line {line_of(root, path_loc(f))}" if written(root, path_loc(f)) else f"{f}, the default" for f in fields
    ]
    return f" (see {'; '.join(seen)})" if seen else ""


def format_errors(source: str, root: yaml.Node | None, err: ValidationError, named: bool = False) -> str:
    """One ``source:LINE: field: message`` line per distinct problem; ``named``: the scenario's
    name was taken from the file name (an error about it says so)."""
    lines = []
    for loc, msg, others in located_errors(err):
        field = ".".join(str(p) for p in loc) or "(top level)"
        if loc == ("name",) and named:
            msg += " (the name was taken from the file name: set name: in the file)"
        lines.append(f"{source}:{line_of(root, loc)}: {field}: {msg}{_also(root, others)}")
    return "\n".join(dict.fromkeys(lines))
