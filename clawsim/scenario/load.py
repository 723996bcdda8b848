"""Reading a scenario file: bounded in size, YAML read with ``read_yaml``, validated by the
schema, then its sweep and variants checked (``check``); every error is one line per problem,
``FILE:LINE: FIELD: message``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from ..errors import ScenarioError
from .bounds import MAX_FILE_BYTES
from .check import check_sweep
from .messages import format_errors
from .origin import origin
from .schema import Scenario
from .yamlsafe import read_yaml


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    """Validate scenario YAML text; raise ScenarioError naming ``source``, line and field."""
    # Every character is at least one byte: a text of more characters than the limit is not encoded to know.
    if len(text) > MAX_FILE_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        raise ScenarioError(f"{source}: larger than {MAX_FILE_BYTES} bytes (1 MiB), the limit for a scenario")
    root, data = read_yaml(text, source)
    if data is None:
        raise ScenarioError(f"{source}:1: the file is empty; a scenario needs at least a 'list:' block")
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}:1: a scenario must be a mapping of fields, got {type(data).__name__}")
    named = "name" not in data and source not in ("<scenario>", "<string>")
    if named:
        data["name"] = Path(source).stem
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(format_errors(source, root, err, named)) from None
    check_sweep(scenario, origin(source, root, scenario))
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file (see the README's format reference)."""
    path = Path(path)
    try:
        with path.open("rb") as handle:  # read at most the limit (a device or a huge file never fills memory)
            raw = handle.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise ScenarioError(f"{path}: larger than {MAX_FILE_BYTES} bytes (1 MiB), the limit for a scenario")
        text = raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")  # as read_text's newlines
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not a text file (not UTF-8); a scenario is YAML text") from None
    except IsADirectoryError:
        raise ScenarioError(f"{path}: is a folder; give a scenario YAML file") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror}") from None
    return parse_scenario(text, str(path))
