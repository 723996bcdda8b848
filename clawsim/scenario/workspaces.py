"""Which workspaces an actor activates: ``unique | cycle:K | random:K | fixed:NAME``.

Parsed once, at validation, into a small frozen ``Workspaces`` value that serialises back
to the same text; consumers read its ``form`` and ``arg`` and never parse the string again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import PlainSerializer, PlainValidator, WithJsonSchema

FORMS = "unique | cycle:K | random:K | fixed:NAME"
_PATTERN = r"^(unique|(cycle|random):[1-9][0-9]*|fixed:.+)$"


@dataclass(frozen=True)
class Workspaces:
    """``form`` is unique, cycle, random or fixed; ``arg`` is K (cycle, random), NAME (fixed) or None."""

    form: Literal["unique", "cycle", "random", "fixed"]
    arg: int | str | None = None

    def __str__(self) -> str:
        return self.form if self.arg is None else f"{self.form}:{self.arg}"

    @classmethod
    def parse(cls, text: str) -> Workspaces:
        """Read the scenario text; ValueError names the accepted forms."""
        form, _, arg = text.partition(":")
        if form == "unique" and not arg:
            return cls("unique")
        if form in ("cycle", "random") and arg.isdigit() and int(arg) >= 1:
            return cls(form, int(arg))  # type: ignore[arg-type]
        if form == "fixed" and arg:
            return cls("fixed", arg)
        raise ValueError(f"workspaces must be one of {FORMS}, got {text!r}")


def _validate(value: Any) -> Workspaces:
    if isinstance(value, Workspaces):
        return value
    if not isinstance(value, str):
        raise ValueError(f"workspaces must be text, one of {FORMS}")
    return Workspaces.parse(value)


WorkspacesField = Annotated[
    Workspaces,
    PlainValidator(_validate),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "pattern": _PATTERN, "description": FORMS}),
]
