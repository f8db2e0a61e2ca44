"""One CRD version's ``openAPIV3Schema`` as the JSON Schema (draft-04) the API server effectively applies.

An OpenAPI schema in a CRD is read by the API server with rules a JSON Schema validator does not
know. Each is written out here, walking schema positions only (``properties``, ``items``,
``additionalProperties``): ``default``, ``example``, ``enum`` values and ``x-kubernetes-validations``
are data, never rewritten, and ``allOf``/``anyOf``/``oneOf``/``not`` branches only constrain a value
that is already described, so they are kept as written. kubeconform's openapi2jsonschema.py walks
every dict instead, and so closes the branches of ``anyOf`` (Cilium's ``spec``) and rewrites defaults.

- Unknown fields: the API server prunes what a schema does not declare (and ``kubectl apply``
  refuses it), except at a node marked ``x-kubernetes-preserve-unknown-fields: true``; below such a
  node, declared properties are pruned again (apiextensions-apiserver's pruning algorithm). So every
  node with ``properties`` is closed (``additionalProperties: false``) unless it carries the marker
  or says ``additionalProperties`` itself (a map). The root is closed too, after ``apiVersion``,
  ``kind`` and ``metadata`` are declared; ``metadata`` itself is never closed (ObjectMeta is
  validated on its own and never pruned).
- ``x-kubernetes-int-or-string: true`` and ``format: int-or-string`` take an integer or a string.
- ``x-kubernetes-embedded-resource: true``: ``apiVersion`` and ``kind`` are required non-empty
  strings and ``metadata`` an object (the API server requires apiVersion and kind, not metadata).
- ``nullable: true`` accepts null. A null for an optional property or a map value is accepted too:
  the API server removes non-nullable nulls before validating (``PruneNonNullableNullsWithoutDefaults``).
- ``x-kubernetes-list-type: set``: items are unique (the API server refuses duplicates).
- The root's ``apiVersion`` and ``kind`` are fixed by ``enum`` and required.

Everything else is kept where it is, ``x-kubernetes-validations`` (CEL rules) and the other
``x-kubernetes-*`` markers included, so a CEL evaluator finds each rule at its own place.
"""

from __future__ import annotations

import copy
from typing import Any

DRAFT_04 = "http://json-schema.org/draft-04/schema#"
_PRESERVE = "x-kubernetes-preserve-unknown-fields"


def to_json_schema(schema: dict[str, Any], group: str, version: str, kind: str) -> dict[str, Any]:
    """The JSON Schema of objects of ``group/version`` ``kind`` whose CRD gives ``schema``."""
    root = copy.deepcopy(schema)
    _declare_type_meta(root, f"{group}/{version}", kind)
    _node(root, optional=False, metadata=False, resource=True)
    return {"$schema": DRAFT_04, **root}


def _declare_type_meta(root: dict[str, Any], api_version: str, kind: str) -> None:
    properties = root.setdefault("properties", {})
    properties["apiVersion"] = {**_as_dict(properties.get("apiVersion")), "type": "string", "enum": [api_version]}
    properties["kind"] = {**_as_dict(properties.get("kind")), "type": "string", "enum": [kind]}
    properties.setdefault("metadata", {"type": "object"})
    _require(root, "apiVersion", "kind")


def _node(node: Any, *, optional: bool, metadata: bool, resource: bool = False) -> None:
    """Rewrite one schema node in place.

    ``optional``: a null here is pruned by the API server; ``metadata``: this is a resource's
    ObjectMeta; ``resource``: this is a whole resource (the root, or an embedded one).
    """
    if not isinstance(node, dict):
        return
    if node.get("x-kubernetes-int-or-string") is True or node.get("format") == "int-or-string":
        _int_or_string(node)
    if node.get("x-kubernetes-embedded-resource") is True:
        _embedded_resource(node)
        resource = True
    properties = node.get("properties")
    if isinstance(properties, dict):
        required = {name for name in node.get("required") or [] if isinstance(name, str)}
        for name, child in properties.items():
            defaulted = isinstance(child, dict) and "default" in child  # a null there gets the default
            _node(child, optional=name not in required or defaulted, metadata=resource and name == "metadata")
        if not metadata and "additionalProperties" not in node and node.get(_PRESERVE) is not True:
            node["additionalProperties"] = False
    additional = node.get("additionalProperties")
    if isinstance(additional, dict):
        _node(additional, optional=True, metadata=False)  # a null map value is pruned like a null property
    items = node.get("items")
    for item in items if isinstance(items, list) else [items]:
        _node(item, optional=False, metadata=False)
    if node.get("x-kubernetes-list-type") == "set" and "uniqueItems" not in node:
        node["uniqueItems"] = True
    if optional or node.get("nullable") is True:
        _allow_null(node)


def _int_or_string(node: dict[str, Any]) -> None:
    if node.get("format") == "int-or-string":
        del node["format"]
    if isinstance(node.get("anyOf"), list) and "type" not in node:
        return  # the structural form, anyOf integer or string, says it already
    node["type"] = ["integer", "string"]


def _embedded_resource(node: dict[str, Any]) -> None:
    properties = node.setdefault("properties", {})
    properties.setdefault("apiVersion", {"type": "string", "minLength": 1})
    properties.setdefault("kind", {"type": "string", "minLength": 1})
    properties.setdefault("metadata", {"type": "object"})
    _require(node, "apiVersion", "kind")


def _allow_null(node: dict[str, Any]) -> None:
    kind = node.get("type")
    if isinstance(kind, str):
        if kind != "null":
            node["type"] = [kind, "null"]
    elif isinstance(kind, list):
        if "null" not in kind:
            node["type"] = [*kind, "null"]
    else:
        for junctor in ("anyOf", "oneOf"):  # no type of its own: each branch says what it takes
            branches = node.get(junctor)
            if isinstance(branches, list) and {"type": "null"} not in branches:
                node[junctor] = [*branches, {"type": "null"}]
    values = node.get("enum")
    if isinstance(values, list) and None not in values:
        node["enum"] = [*values, None]


def _require(node: dict[str, Any], *names: str) -> None:
    required = [name for name in node.get("required") or [] if isinstance(name, str)]
    node["required"] = required + [name for name in names if name not in required]


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
