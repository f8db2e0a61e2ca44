"""Where the ``x-kubernetes-validations`` of a JSON schema sit, and what a value there is to CEL.

``RuleTree`` mirrors the schema only along the paths that lead to rules (properties, ``items``,
``additionalProperties``, and ``allOf`` parts applied to the same value), as the API server's
validator does. ``Shape`` reads a schema node the way the API server's ``SchemaDeclType`` does:
an object with properties (fields named by ``escape``), a map (``additionalProperties``), a list,
a dynamic value (``x-kubernetes-int-or-string``, ``x-kubernetes-preserve-unknown-fields`` without
properties), or a scalar, with string formats that CEL sees as timestamps, durations or bytes.
Local ``$ref``s (``#/$defs/...``, ``#/definitions/...``) are followed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from generator.errors import KeyPath

_RESERVED = frozenset(
    [
        "true",
        "false",
        "null",
        "in",
        "as",
        "break",
        "const",
        "continue",
        "else",
        "for",
        "function",
        "if",
        "import",
        "let",
        "loop",
        "package",
        "namespace",
        "return",
        "var",
        "void",
        "while",
    ]
)
_SIMPLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ESCAPABLE = re.compile(r"^[A-Za-z_./-][A-Za-z0-9_./-]*$")
_EXPAND = re.compile(r"__|[-./]")
_ESCAPES = {"__": "__underscores__", ".": "__dot__", "-": "__dash__", "/": "__slash__"}


def escape(name: str) -> str | None:
    """A property name as a CEL field name (k8s.io/apiserver/pkg/cel/escaping.go), or None when it has none."""
    if not name or name[0].isdigit():
        return None
    if name in _RESERVED:
        return f"__{name}__"
    if _SIMPLE.match(name) and "__" not in name:
        return name
    if not _ESCAPABLE.match(name):
        return None
    return _EXPAND.sub(lambda match: _ESCAPES[match.group(0)], name)


@dataclass(frozen=True)
class RuleSpec:
    """One entry of an ``x-kubernetes-validations`` list."""

    rule: str
    message: str = ""
    message_expression: str = ""
    field_path: str = ""
    reason: str = ""
    optional_old_self: bool = False
    schema_path: KeyPath = ()  # where in the schema it is written

    @classmethod
    def read(cls, entry: object, schema_path: KeyPath) -> RuleSpec:
        if not isinstance(entry, dict):
            return cls(rule="", schema_path=schema_path)

        def text(key: str) -> str:
            value = entry.get(key)
            return value if isinstance(value, str) else ""

        return cls(
            rule=text("rule"),
            message=text("message"),
            message_expression=text("messageExpression"),
            field_path=text("fieldPath"),
            reason=text("reason"),
            optional_old_self=entry.get("optionalOldSelf") is True,
            schema_path=schema_path,
        )


class Resolver:
    """Follows local ``$ref``s of one schema document."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root

    def node(self, schema: Any, depth: int = 0) -> dict[str, Any]:
        while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and depth < 64:
            schema = self._target(schema["$ref"])
            depth += 1
        return schema if isinstance(schema, dict) else {}

    def _target(self, ref: str) -> Any:
        if not ref.startswith("#"):
            return {}
        current: Any = self.root
        for part in [p for p in ref[1:].split("/") if p]:
            key = part.replace("~1", "/").replace("~0", "~")
            current = current.get(key) if isinstance(current, dict) else None
        return current


def _types(schema: dict[str, Any]) -> set[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return {t for t in declared if isinstance(t, str)}
    return set()


class Shape:
    """A schema node as CEL sees values there (see the module docstring); children made on demand."""

    def __init__(self, schema: dict[str, Any], resolver: Resolver, resource_root: bool = False) -> None:
        self.schema = schema
        self.resolver = resolver
        self.resource_root = resource_root or schema.get("x-kubernetes-embedded-resource") is True

    @cached_property
    def kind(self) -> str:
        schema, types = self.schema, _types(self.schema) - {"null"}
        if schema.get("x-kubernetes-int-or-string") is True:
            return "dyn"
        if "object" in types or (not types and ("properties" in schema or "additionalProperties" in schema)):
            if isinstance(schema.get("additionalProperties"), dict):
                return "map"
            if schema.get("properties") or self.resource_root:
                return "object"
            return "dyn" if schema.get("x-kubernetes-preserve-unknown-fields") is True else "object"
        if "array" in types:
            return "list"
        if "string" in types:
            fmt = schema.get("format")
            if fmt in ("date-time", "date"):
                return "timestamp"
            if fmt == "duration":
                return "duration"
            if fmt == "byte":
                return "bytes"
            return "string"
        if "number" in types:
            return "number"
        if "integer" in types:
            return "integer"
        if "boolean" in types:
            return "boolean"
        return "dyn"

    def _child(self, schema: Any) -> Shape:
        node = self.resolver.node(schema)
        return Shape(node, self.resolver)

    @cached_property
    def fields(self) -> dict[str, tuple[str, Shape]]:
        """property name -> (CEL field name, shape), for an object; unescapable names are left out."""
        properties = self.schema.get("properties")
        found: dict[str, tuple[str, Shape]] = {}
        if isinstance(properties, dict):
            for name, sub in properties.items():
                escaped = escape(name)
                if escaped is not None:
                    found[name] = (escaped, self._child(sub))
        if self.resource_root:
            for name in ("apiVersion", "kind"):
                found.setdefault(name, (name, Shape({"type": "string"}, self.resolver)))
            metadata = found.get("metadata")
            if metadata is None or not metadata[1].schema.get("properties"):
                meta = {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "generateName": {"type": "string"}},
                }
                found["metadata"] = ("metadata", Shape(meta, self.resolver))
        return found

    @cached_property
    def by_field(self) -> dict[str, str]:
        """CEL field name -> property name."""
        return {escaped: name for name, (escaped, _) in self.fields.items()}

    @cached_property
    def defaults(self) -> dict[str, Any]:
        properties = self.schema.get("properties")
        if not isinstance(properties, dict):
            return {}
        found = {}
        for name, sub in properties.items():
            node = self.resolver.node(sub)
            if "default" in node:
                found[name] = node["default"]
        return found

    @cached_property
    def items(self) -> Shape:
        return self._child(self.schema.get("items", {}))

    @cached_property
    def values(self) -> Shape:
        return self._child(self.schema.get("additionalProperties", {}))


@dataclass
class RuleTree:
    """The rules at one schema node and the subtrees below it that hold rules."""

    shape: Shape
    rules: list[RuleSpec] = field(default_factory=list)
    properties: dict[str, RuleTree] = field(default_factory=dict)
    items: RuleTree | None = None
    values: RuleTree | None = None  # additionalProperties

    def count(self) -> int:
        below = [*self.properties.values(), *(t for t in (self.items, self.values) if t is not None)]
        return len(self.rules) + sum(tree.count() for tree in below)

    def all_rules(self) -> list[RuleSpec]:
        below = [*self.properties.values(), *(t for t in (self.items, self.values) if t is not None)]
        return self.rules + [rule for tree in below for rule in tree.all_rules()]


def rule_tree(root: dict[str, Any]) -> RuleTree | None:
    """The rules of a schema document, or None when it has none."""
    resolver = Resolver(root)
    return _tree(resolver.node(root), resolver, (), True, frozenset())


def _tree(
    schema: dict[str, Any], resolver: Resolver, where: KeyPath, resource_root: bool, seen: frozenset[int]
) -> RuleTree | None:
    if id(schema) in seen:  # a recursive $ref: its rules are already on the way here
        return None
    seen = seen | {id(schema)}
    tree = RuleTree(Shape(schema, resolver, resource_root))
    _collect(tree, schema, resolver, where, seen)
    return tree if tree.count() else None


def _collect(tree: RuleTree, schema: dict[str, Any], resolver: Resolver, where: KeyPath, seen: frozenset[int]) -> None:
    rules = schema.get("x-kubernetes-validations")
    if isinstance(rules, list):
        tree.rules += [RuleSpec.read(entry, (*where, "x-kubernetes-validations", i)) for i, entry in enumerate(rules)]
    properties = schema.get("properties")
    if isinstance(properties, dict):
        for name, sub in properties.items():
            node = resolver.node(sub)
            child = _tree(node, resolver, (*where, "properties", name), False, seen)
            if child is not None:
                known = tree.properties.get(name)
                if known is None:
                    tree.properties[name] = child
                else:
                    _merge(known, child)
    for key in ("items", "additionalProperties"):
        sub = schema.get(key)
        if isinstance(sub, dict):
            child = _tree(resolver.node(sub), resolver, (*where, key), False, seen)
            if child is not None:
                if key == "items":
                    tree.items = child if tree.items is None else _merge(tree.items, child)
                else:
                    tree.values = child if tree.values is None else _merge(tree.values, child)
    parts = schema.get("allOf")
    if isinstance(parts, list):  # an allOf part's rules apply to this same value
        for index, part in enumerate(parts):
            node = resolver.node(part)
            if id(node) not in seen:
                _collect(tree, node, resolver, (*where, "allOf", index), seen | {id(node)})


def _merge(into: RuleTree, other: RuleTree) -> RuleTree:
    into.rules += other.rules
    for name, child in other.properties.items():
        if name in into.properties:
            _merge(into.properties[name], child)
        else:
            into.properties[name] = child
    if other.items is not None:
        into.items = other.items if into.items is None else _merge(into.items, other.items)
    if other.values is not None:
        into.values = other.values if into.values is None else _merge(into.values, other.values)
    return into


def schema_location(path: KeyPath) -> str:
    """A schema path as a JSON pointer: ``/properties/spec/x-kubernetes-validations/0``."""
    return "/" + "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in path)


def parse_field_path(text: str) -> KeyPath:
    """A rule's ``fieldPath`` (``.spec.foo``, ``.labels['a.b/c']``) as a key path; () when unreadable."""
    parts: list[str | int] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == ".":
            end = index + 1
            while end < len(text) and text[end] not in ".[":
                end += 1
            if end == index + 1:
                return ()
            parts.append(text[index + 1 : end])
            index = end
        elif char == "[" and text.startswith("'", index + 1):
            end = index + 2
            value: list[str] = []
            while end < len(text) and text[end] != "'":
                if text[end] == "\\" and end + 1 < len(text):
                    value.append(text[end + 1])
                    end += 2
                    continue
                value.append(text[end])
                end += 1
            if not text.startswith("']", end):
                return ()
            parts.append("".join(value))
            index = end + 2
        else:
            return ()
    return tuple(parts)
