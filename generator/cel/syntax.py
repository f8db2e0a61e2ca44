"""The checked syntax tree of a compiled rule, read from the engine's serialized ``cel.expr.CheckedExpr``.

cel-expr-python gives no syntax tree, only ``Expression.serialize()``: a protobuf ``Any`` holding the
``CheckedExpr`` (cel-spec ``checked.proto``/``syntax.proto``). It is decoded here with a small
protobuf wire reader, so no protobuf dependency is needed for it. Macros (``all``, ``exists``,
``has``, ...) are already expanded: comprehensions and test-only selects.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

# syntax.proto field numbers
_EXPR_ID, _CONST, _IDENT, _SELECT, _CALL, _LIST, _STRUCT, _COMPREHENSION = 2, 3, 4, 5, 6, 7, 8, 9


@dataclass(slots=True)
class Node:
    id: int


@dataclass(slots=True)
class Const(Node):
    value: object  # None, bool, int, float, str, bytes


@dataclass(slots=True)
class Ident(Node):
    name: str


@dataclass(slots=True)
class Select(Node):
    operand: Expr
    field: str
    test_only: bool  # has(operand.field)


@dataclass(slots=True)
class Call(Node):
    function: str
    target: Expr | None
    args: list[Expr]


@dataclass(slots=True)
class ListExpr(Node):
    elements: list[Expr]


@dataclass(slots=True)
class MapExpr(Node):
    entries: list[tuple[Expr | str, Expr]]  # map key expression, or a message field name


@dataclass(slots=True)
class Comprehension(Node):
    iter_var: str
    iter_var2: str
    iter_range: Expr
    accu_var: str
    accu_init: Expr
    loop_condition: Expr
    loop_step: Expr
    result: Expr


Expr = Const | Ident | Select | Call | ListExpr | MapExpr | Comprehension


@dataclass(slots=True)
class Checked:
    expr: Expr
    references: dict[int, str] = field(default_factory=dict)  # node id -> the name an identifier resolved to
    positions: dict[int, int] = field(default_factory=dict)  # node id -> offset in the source (code points)


class DecodeError(ValueError):
    pass


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise DecodeError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(data: bytes) -> Iterator[tuple[int, int, object]]:
    """(field number, wire type, value) of a message: ints for varints and fixed, bytes for length-delimited."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        value: object
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 1:
            value = data[pos : pos + 8]
            pos += 8
        elif wire == 2:
            length, pos = _varint(data, pos)
            value = data[pos : pos + length]
            pos += length
        elif wire == 5:
            value = data[pos : pos + 4]
            pos += 4
        else:
            raise DecodeError(f"wire type {wire} not expected")
        yield number, wire, value


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _raw(value: object) -> bytes:
    if not isinstance(value, bytes):
        raise DecodeError("a length-delimited field was expected")
    return value


def _number(value: object) -> int:
    if not isinstance(value, int):
        raise DecodeError("a varint field was expected")
    return value


def _text(value: object) -> str:
    return _raw(value).decode("utf-8")


def _constant(data: bytes) -> object:
    for number, _, value in _fields(data):
        if number == 1:
            return None
        if number == 2:
            return bool(value)
        if number == 3:
            return _signed(_number(value))
        if number == 4:
            return _number(value)
        if number == 5:
            return struct.unpack("<d", _raw(value))[0]
        if number == 6:
            return _text(value)
        if number == 7:
            return _raw(value)
    return None


def _expr(data: bytes) -> Expr:
    node_id = 0
    kind: int | None = None
    body = b""
    for number, _, value in _fields(data):
        if number == _EXPR_ID:
            node_id = _number(value)
        elif number in (_CONST, _IDENT, _SELECT, _CALL, _LIST, _STRUCT, _COMPREHENSION):
            kind, body = number, _raw(value)
    if kind == _CONST:
        return Const(node_id, _constant(body))
    if kind == _IDENT:
        return Ident(node_id, next((_text(v) for n, _, v in _fields(body) if n == 1), ""))
    if kind == _SELECT:
        return _select(node_id, body)
    if kind == _CALL:
        return _call(node_id, body)
    if kind == _LIST:
        return ListExpr(node_id, [_expr(_raw(v)) for n, _, v in _fields(body) if n == 1])
    if kind == _STRUCT:
        return MapExpr(node_id, [_entry(_raw(v)) for n, _, v in _fields(body) if n == 2])
    if kind == _COMPREHENSION:
        return _comprehension(node_id, body)
    raise DecodeError("expression of an unknown kind")


def _select(node_id: int, body: bytes) -> Select:
    operand: Expr | None = None
    name, test_only = "", False
    for number, _, value in _fields(body):
        if number == 1:
            operand = _expr(_raw(value))
        elif number == 2:
            name = _text(value)
        elif number == 3:
            test_only = bool(value)
    if operand is None:
        raise DecodeError("select without an operand")
    return Select(node_id, operand, name, test_only)


def _call(node_id: int, body: bytes) -> Call:
    target: Expr | None = None
    function, args = "", []
    for number, _, value in _fields(body):
        if number == 1:
            target = _expr(_raw(value))
        elif number == 2:
            function = _text(value)
        elif number == 3:
            args.append(_expr(_raw(value)))
    return Call(node_id, function, target, args)


def _comprehension(node_id: int, body: bytes) -> Comprehension:
    parts: dict[int, bytes] = {number: _raw(value) for number, _, value in _fields(body)}
    for needed in (2, 4, 5, 6, 7):
        if needed not in parts:
            raise DecodeError("comprehension without all its parts")
    return Comprehension(
        node_id,
        iter_var=parts.get(1, b"").decode(),
        iter_var2=parts.get(8, b"").decode(),
        iter_range=_expr(parts[2]),
        accu_var=parts.get(3, b"").decode(),
        accu_init=_expr(parts[4]),
        loop_condition=_expr(parts[5]),
        loop_step=_expr(parts[6]),
        result=_expr(parts[7]),
    )


def _entry(data: bytes) -> tuple[Expr | str, Expr]:
    key: Expr | str = ""
    value: Expr | None = None
    for number, _, raw in _fields(data):
        if number == 2:
            key = _text(raw)
        elif number == 3:
            key = _expr(_raw(raw))
        elif number == 4:
            value = _expr(_raw(raw))
    if value is None:
        raise DecodeError("map entry without a value")
    return key, value


def _int_map(data: bytes) -> tuple[int, int]:
    key = value = 0
    for number, _, raw in _fields(data):
        if number == 1:
            key = _signed(_number(raw))
        elif number == 2:
            value = _signed(_number(raw))
    return key, value


def decode(serialized: bytes) -> Checked:
    """The expression inside ``Expression.serialize()``: a ``google.protobuf.Any`` holding a checked
    expression, or a parsed one when it was compiled without type checks (then without references)."""
    parts = {n: v for n, _, v in _fields(serialized)}
    payload, type_url = parts.get(2), parts.get(1)
    if not isinstance(payload, bytes) or not isinstance(type_url, bytes):
        raise DecodeError("not a serialized expression")
    checked = type_url.endswith(b".CheckedExpr")  # else a ParsedExpr (compiled without type checks)
    expr_field, info_field = (4, 5) if checked else (2, 3)
    expr: Expr | None = None
    references: dict[int, str] = {}
    positions: dict[int, int] = {}
    for number, _, value in _fields(payload):
        if number == expr_field:
            expr = _expr(_raw(value))
        elif number == 2 and checked:  # reference_map entry: id -> Reference{name = 1}
            node_id, name = 0, ""
            for key_number, _, raw in _fields(_raw(value)):
                if key_number == 1:
                    node_id = _signed(_number(raw))
                elif key_number == 2:
                    name = next((_text(v) for n, _, v in _fields(_raw(raw)) if n == 1), "")
            if name:
                references[node_id] = name
        elif number == info_field:  # source_info: positions = 4
            for info_number, _, raw in _fields(_raw(value)):
                if info_number == 4:
                    node_id, offset = _int_map(_raw(raw))
                    positions[node_id] = offset
    if expr is None:
        raise DecodeError("checked expression without an expression")
    return Checked(expr, references, positions)


def children(node: Expr) -> list[Expr]:
    if isinstance(node, Select):
        return [node.operand]
    if isinstance(node, Call):
        return ([node.target] if node.target is not None else []) + node.args
    if isinstance(node, ListExpr):
        return list(node.elements)
    if isinstance(node, MapExpr):
        return [
            part for key, value in node.entries for part in ((key, value) if not isinstance(key, str) else (value,))
        ]
    if isinstance(node, Comprehension):
        return [node.iter_range, node.accu_init, node.loop_condition, node.loop_step, node.result]
    return []


def walk(node: Expr) -> Iterator[Expr]:
    stack = [node]
    while stack:
        item = stack.pop()
        yield item
        stack.extend(children(item))


def reads_variable(checked: Checked, name: str) -> bool:
    """Whether the expression reads the variable ``name`` (how the API server finds transition rules);
    for an expression compiled without type checks, whether it names it."""
    if checked.references:
        return name in checked.references.values()
    return any(isinstance(node, Ident) and node.name == name for node in walk(checked.expr))
