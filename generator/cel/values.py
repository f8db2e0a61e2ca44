"""The value a rule sees as ``self``: the object's data read through its schema, as the API server reads it.

- defaults of absent properties filled in (the API server defaults before it validates);
- properties named as CEL names them (``namespace`` is ``__namespace__``, ``a-b`` is ``a__dash__b``),
  unknown properties left out (the API server prunes them), ``null`` kept;
- numbers as the schema types them; ``date-time``/``date`` strings as timestamps, ``duration`` strings
  as durations, ``byte`` strings as bytes; at a resource's root only ``apiVersion``, ``kind``,
  ``metadata.name`` and ``metadata.generateName`` beside the schema's properties.

Only what a site's rules can read is converted (``Projection``): a rule that only tests
``has(self.chart)`` never makes the engine copy a HelmRelease's values.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import re
from typing import Any

from generator.cel import syntax
from generator.cel.schema import Resolver, Shape

# what a rule reads below a value: None = all of it, PRESENT = only whether it is there,
# a dict = only these CEL fields (each with what is read below it)
Projection = dict[str, "Projection"] | None | str
PRESENT = "present"

_FLUX_VARIABLE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::=[^}]*)?\}")
_GO_DURATION = re.compile(r"([0-9]*\.?[0-9]+)(ns|us|µs|μs|ms|s|m|h)")
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


class Substituted(Exception):
    """A string holding a Flux ``${VARIABLE}``, or a SOPS ``ENC[...]`` value: decided when Flux applies it."""


def merge(left: Projection, right: Projection) -> Projection:
    if left is None or right is None:
        return None
    if left == PRESENT:
        return right
    if right == PRESENT or not isinstance(right, dict):
        return left
    if not isinstance(left, dict):
        return right
    merged = dict(left)
    for key, value in right.items():
        merged[key] = merge(merged[key], value) if key in merged else value
    return merged


def projection(checked: syntax.Checked, variable: str = "self") -> Projection:
    """What of ``variable`` an expression reads (see ``Projection``); None when it reads all of it."""
    parents: dict[int, syntax.Expr] = {}
    uses: list[syntax.Ident] = []
    for item in syntax.walk(checked.expr):
        for child in syntax.children(item):
            parents[id(child)] = item
        if isinstance(item, syntax.Ident) and item.name == variable:
            uses.append(item)
    if not uses:
        return PRESENT
    result: Projection = PRESENT
    for use in uses:
        path: list[str] = []
        current: syntax.Expr = use
        read: Projection = None
        while True:
            parent = parents.get(id(current))
            if isinstance(parent, syntax.Select) and parent.operand is current:
                path.append(parent.field)
                if parent.test_only:
                    read = PRESENT
                    break
                current = parent
                continue
            field = _optional_select(parent, current)
            if field is not None and parent is not None:
                path.append(field)
                current = parent
                continue
            break
        for key in reversed(path):
            read = {key: read}
        result = merge(result, read)
    return result


def _optional_select(parent: syntax.Expr | None, node: syntax.Expr) -> str | None:
    """The field of ``node.?field``, when ``parent`` is that optional select."""
    if not isinstance(parent, syntax.Call) or parent.function != "_?._" or len(parent.args) != 2:
        return None
    operand, field = parent.args
    if operand is not node or not isinstance(field, syntax.Const) or not isinstance(field.value, str):
        return None
    return field.value


class Extent:
    """The longest list or map (N) and the longest string (L) met while converting (see ``cost``), and
    the values converted whole so far for one object: a subtree under several rule sites is read once."""

    __slots__ = ("cache", "elements", "encrypted", "lists", "strings")

    def __init__(
        self, cache: dict[tuple[int, int], tuple[Any, int, int]] | None = None, encrypted: bool = False
    ) -> None:
        self.lists = 0
        self.strings = 0
        self.elements = 0  # list elements and map entries converted (not counting reused values)
        self.cache = {} if cache is None else cache
        self.encrypted = encrypted  # a SOPS document: its ENC[...] values are only known decrypted

    def collection(self, size: int) -> None:
        self.elements += size
        if size > self.lists:  # noqa: PLR1730 - a comparison is cheaper than max() on this hot path
            self.lists = size

    def text(self, size: int) -> None:
        if size > self.strings:  # noqa: PLR1730 - as above
            self.strings = size


def convert(shape: Shape, value: Any, read: Projection, extent: Extent) -> Any:
    """``value`` as CEL reads it at ``shape`` (see the module docstring); Substituted on a Flux variable."""
    kind_of_value = type(value)
    if kind_of_value is str:
        return _string(shape, value, extent)
    if value is None:
        return None
    if read == PRESENT:
        return {}  # only tested for presence: any value does
    if kind_of_value is dict or kind_of_value is list:
        if read is not None:
            return _container(shape, value, read, extent)
        key = (id(value), id(shape.schema))  # a schema node read through two sites has two Shapes
        cached = extent.cache.get(key)
        if cached is not None:
            extent.collection(cached[1])
            extent.text(cached[2])
            return cached[0]
        lists, strings = extent.lists, extent.strings
        extent.lists = extent.strings = 0
        converted = _container(shape, value, None, extent)
        extent.cache[key] = (converted, extent.lists, extent.strings)
        extent.lists, extent.strings = max(lists, extent.lists), max(strings, extent.strings)
        return converted
    kind = shape.kind
    if kind == "number" and kind_of_value is int:
        return float(value)
    if kind == "integer" and kind_of_value is float and value.is_integer():
        return int(value)
    return value


def _string(shape: Shape, value: str, extent: Extent) -> Any:
    if ("${" in value and _FLUX_VARIABLE.search(value)) or (extent.encrypted and value.startswith("ENC[")):
        raise Substituted(value)
    extent.text(len(value))
    kind = shape.kind
    if kind == "timestamp":
        return _timestamp(value)
    if kind == "duration":
        return _duration(value)
    if kind == "bytes":
        return _bytes(value)
    return value


def _container(shape: Shape, value: Any, read: Projection, extent: Extent) -> Any:
    kind = shape.kind
    if kind == "object" and type(value) is dict:
        fields = shape.fields
        defaults = shape.defaults
        out: dict[str, Any] = {}
        wanted = read if isinstance(read, dict) else None
        names = fields.keys() if wanted is None else [shape.by_field[k] for k in wanted if k in shape.by_field]
        for name in names:
            escaped, sub = fields[name]
            if name in value:
                item = value[name]
            elif name in defaults:
                item = defaults[name]
            else:
                continue
            out[escaped] = convert(sub, item, None if wanted is None else wanted[escaped], extent)
        extent.collection(len(out))
        return out
    if kind == "map" and type(value) is dict:
        values = shape.values
        extent.collection(len(value))
        if read is None:
            converted = {}
            for key, item in value.items():
                text = str(key)
                extent.text(len(text))
                converted[text] = convert(values, item, None, extent)
            return converted
        wanted = read if isinstance(read, dict) else {}
        return {k: convert(values, value[k], sub, extent) for k, sub in wanted.items() if k in value}
    if kind == "list" and type(value) is list:
        items = shape.items
        extent.collection(len(value))
        return [convert(items, item, None, extent) for item in value]
    return _plain(value, extent)  # a schemaless value (dyn), or one the schema check already refused


_DYN = Shape({"x-kubernetes-int-or-string": True}, Resolver({}))


def _plain(value: Any, extent: Extent) -> Any:
    """A schemaless value (int-or-string, preserved unknown fields): as read, Flux variables refused."""
    if isinstance(value, str):
        return _string(_DYN, value, extent)
    if isinstance(value, dict):
        extent.collection(len(value))
        converted = {}
        for key, item in value.items():
            text = str(key)
            extent.text(len(text))
            converted[text] = _plain(item, extent)
        return converted
    if isinstance(value, list):
        extent.collection(len(value))
        return [_plain(v, extent) for v in value]
    return value


def _timestamp(text: str) -> Any:
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return text  # not a date: reading it as one fails in the rule, as on the API server
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    from google.protobuf import timestamp_pb2  # noqa: PLC0415 - only for date-time fields

    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def _duration(text: str) -> Any:
    """A Go duration (``1h30m``, ``-1.5s``) as a protobuf Duration; the text itself when it is not one."""
    sign, body = (-1, text[1:]) if text.startswith("-") else (1, text.removeprefix("+"))
    if body == "0":
        seconds = 0.0
    else:
        position, seconds = 0, 0.0
        for match in _GO_DURATION.finditer(body):
            if match.start() != position:
                return text
            seconds += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
            position = match.end()
        if position != len(body) or not body:
            return text
    from google.protobuf import duration_pb2  # noqa: PLC0415 - only for duration fields

    duration = duration_pb2.Duration()
    duration.FromTimedelta(datetime.timedelta(seconds=sign * seconds))
    return duration


def _bytes(text: str) -> Any:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return text
