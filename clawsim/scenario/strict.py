"""The base of every scenario model: strict, frozen, unknown keys refused, fields explained.

Every field carries ``Field(description=...)`` (a test checks it). The JSON Schema gives
editors that text as hover help; ``help(ListSpec)`` shows it too, because each model's
docstring is extended with a "Fields" section built from the descriptions (the schema keeps
the short docstring as the model's own description).
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


def _summary_only(schema: dict[str, Any], cls: type[Any]) -> None:
    """The model's JSON Schema description is its docstring without the generated fields list."""
    summary = getattr(cls, "_summary", "")
    if summary:
        schema["description"] = summary
    else:
        schema.pop("description", None)


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, json_schema_extra=_summary_only)
    _summary: ClassVar[str] = ""

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls._summary = inspect.cleandoc(cls.__dict__.get("__doc__") or "")
        lines = [f"    {name}: {field.description}" for name, field in cls.model_fields.items()]
        cls.__doc__ = f"{cls._summary}\n\nFields:\n" + "\n".join(lines)
