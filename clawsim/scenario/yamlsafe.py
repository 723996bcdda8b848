"""YAML read with bounds: tags never executed, nesting, alias expansion and duplicate keys checked.

``read_yaml(text, source)`` composes the document once with ``BoundedLoader`` (a
``yaml.SafeLoader``, so no tag ever runs code) and constructs the data from those same
nodes; the nodes keep the line marks that error messages use. Any YAML problem becomes a
one-line ``ScenarioError`` naming the line; messages never echo a (possibly expanded) value.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.reader import ReaderError
from yaml.scanner import ScannerError

from ..errors import ScenarioError
from .bounds import MAX_DEPTH, MAX_NODES

_NULL = "tag:yaml.org,2002:null"
_STR = "tag:yaml.org,2002:str"


def short(value: Any, limit: int = 40) -> str:
    """``repr(value)``, cut to ``limit`` characters (a value may be huge or aliased many times)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class BoundedLoader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML has no type stubs here
    """A SafeLoader that refuses, while composing (before anything is expanded): nesting deeper
    than ``MAX_DEPTH``, more than ``MAX_NODES`` nodes once every alias is counted as the nodes
    it stands for (a billion-laughs bomb is ~1 KB of text), an alias inside its own anchor,
    and a mapping that names a key twice (YAML would silently keep the last one)."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0
        self._sizes: dict[int, int] = {}  # id(anchored node) -> nodes it expands to

    def _count(self, nodes: int, mark: Any) -> None:
        self._nodes += nodes
        if self._nodes > MAX_NODES:
            raise ComposerError(
                None,
                None,
                f"the document expands to more than {MAX_NODES} values "
                "(aliases repeat what they refer to); refusing it",
                mark,
            )

    def fetch_flow_collection_start(self, TokenClass: Any) -> None:  # noqa: N803 (PyYAML's name)
        # Checked in the scanner too: it reads ahead through flow brackets before the composer sees them.
        if self.flow_level >= MAX_DEPTH:
            raise ScannerError(None, None, f"nested more than {MAX_DEPTH} levels deep", self.get_mark())
        super().fetch_flow_collection_start(TokenClass)

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            node = super().compose_node(parent, index)
            size = self._sizes.get(id(node))
            if size is None:
                raise ComposerError(None, None, f"the alias *{event.anchor} is inside its own anchor", event.start_mark)
            self._count(size, event.start_mark)
            return node
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise ComposerError(None, None, f"nested more than {MAX_DEPTH} levels deep", event.start_mark)
        before = self._nodes
        self._count(1, event.start_mark)
        node = super().compose_node(parent, index)
        self._depth -= 1
        if getattr(event, "anchor", None) is not None:
            self._sizes[id(node)] = self._nodes - before
        return node

    def compose_mapping_node(self, anchor: Any) -> Any:
        node = super().compose_mapping_node(anchor)
        seen: dict[tuple[str, str], int] = {}
        for key, _value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                continue
            ident = (key.tag, "" if key.tag == _NULL else key.value)
            line = key.start_mark.line + 1
            if ident in seen:
                raise ComposerError(
                    None,
                    None,
                    f"duplicate key {short(key.value)} (also at line {seen[ident]}); "
                    "each key may appear once in a mapping",
                    key.start_mark,
                )
            seen[ident] = line
        return node


def read_yaml(text: str, source: str) -> tuple[yaml.Node | None, Any]:
    """(root node, data) of one YAML document; ScenarioError ``source:LINE: not valid YAML: ...``."""
    loader = None
    try:
        loader = BoundedLoader(text)  # the reader checks every character here
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except ReaderError as exc:  # a character YAML forbids (NUL...): the reader knows its position
        line = text.count("\n", 0, exc.position) + 1 if isinstance(exc.position, int) else 1
        char = f"#x{exc.character:04x}" if isinstance(exc.character, int) else short(exc.character)
        raise ScenarioError(f"{source}:{line}: not valid YAML: character {char} is not allowed in YAML text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(f"{source}:{line}: not valid YAML: {problem}") from None
    finally:
        if loader is not None:
            loader.dispose()
    return root, data


# --------------------------------------------------------------------------- lines of fields


_KEYS = yaml.constructor.SafeConstructor()  # turns a key node into the key pydantic saw (None for ~)


def _key_is(node: yaml.Node, part: Any) -> bool:
    """Whether the key node reads as ``part`` (pydantic's loc holds constructed keys: None for ``~``)."""
    if not isinstance(node, yaml.ScalarNode):
        return False
    if node.tag == _STR or node.value == str(part):
        return bool(node.value == str(part))
    try:
        return str(_KEYS.construct_object(node)) == str(part)
    except yaml.YAMLError:
        return False


def node_at(root: yaml.Node | None, loc: tuple[Any, ...]) -> yaml.Node | None:
    """The YAML node along ``loc`` (pydantic's path into the document) that best shows
    where the problem is: the key of a mapping entry, an element of a sequence, or the
    deepest node that exists."""
    node = root
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if _key_is(k, part)), None)
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


def path_loc(path: str) -> tuple[Any, ...]:
    """A dotted path (``actors.0.count``) as a loc (``('actors', 0, 'count')``)."""
    return tuple(int(p) if p.isdigit() else p for p in path.split("."))


def written(root: yaml.Node | None, loc: tuple[Any, ...]) -> bool:
    """Whether the file itself sets the field at ``loc`` (else it holds its default)."""
    node: Any = root
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if _key_is(k, part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            return False
    return node is not None
