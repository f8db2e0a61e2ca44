"""What the library functions share: their declarations, CEL equality and ordering of Python values,
and the map form of Kubernetes' own value types."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cel_expr_python import cel

T = cel.Type
# the engine's run-time dispatch matches any argument kind for this type (and dyn for its checker)
ANY = cel.Type("google.protobuf.Any")
STRINGS = T.List(T.STRING)
OPAQUE = T.Map(T.STRING, T.STRING)  # Quantity, URL, IP, CIDR, Format: {"kubernetes.<Type>": canonical}


@dataclass(frozen=True)
class Overload:
    id: str
    params: tuple[Any, ...]  # cel.Type
    result: Any  # cel.Type
    impl: Callable[..., Any]
    member: bool = False


@dataclass(frozen=True)
class Function:
    name: str
    overloads: tuple[Overload, ...]

    def merged(self, other: Function) -> Function:
        return Function(self.name, self.overloads + other.overloads)


def member(name: str, overload: str, params: tuple[Any, ...], result: Any, impl: Callable[..., Any]) -> Function:
    return Function(name, (Overload(overload, params, result, impl, member=True),))


def function(name: str, overload: str, params: tuple[Any, ...], result: Any, impl: Callable[..., Any]) -> Function:
    return Function(name, (Overload(overload, params, result, impl),))


class NoSuchOverload(TypeError):
    def __init__(self, function: str, *args: object) -> None:
        kinds = ", ".join(kind_name(arg) for arg in args)
        super().__init__(f"no such overload: {function}({kinds})")


_KIND_NAMES: tuple[tuple[type, str], ...] = (
    (bool, "bool"),  # before int: a bool is an int to Python
    (int, "int"),
    (float, "double"),
    (str, "string"),
    (bytes, "bytes"),
    (list, "list"),
    (datetime.timedelta, "duration"),
    (datetime.datetime, "timestamp"),
)


def kind_name(value: object) -> str:
    """The CEL type name of a value, as error messages name it."""
    if value is None:
        return "null"
    if isinstance(value, dict):
        return opaque_kind(value) or "map"
    return next((name for kind, name in _KIND_NAMES if isinstance(value, kind)), type(value).__name__)


def opaque(kind: str, canonical: str) -> dict[str, str]:
    return {f"kubernetes.{kind}": canonical}


def opaque_kind(value: object) -> str | None:
    if isinstance(value, dict) and len(value) == 1:
        key = next(iter(value))
        if isinstance(key, str) and key.startswith("kubernetes."):
            return key[len("kubernetes.") :]
    return None


def opaque_value(value: object, kind: str, function: str) -> str:
    """The canonical text of a Kubernetes value of ``kind``, or no-such-overload for anything else."""
    if opaque_kind(value) != kind:
        raise NoSuchOverload(function, value)
    text = value[f"kubernetes.{kind}"] if isinstance(value, dict) else None
    if not isinstance(text, str):
        raise NoSuchOverload(function, value)
    return text


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def equal(left: object, right: object) -> bool:
    """CEL's heterogeneous equality: numbers compare by value across int and double, nothing else mixes."""
    if _number(left) and _number(right):
        return left == right
    if type(left) is not type(right):
        return False
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(equal(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, dict) and isinstance(right, dict):
        if len(left) != len(right):
            return False
        for key, value in left.items():
            match = next((k for k in right if equal(k, key)), _MISSING)
            if match is _MISSING or not equal(value, right[match]):
                return False
        return True
    return left == right


_MISSING = object()


def compare(left: object, right: object, function: str) -> int:
    """-1, 0 or 1 as CEL orders two values of one comparable kind (numbers across int and double)."""
    comparable = (
        (_number(left) and _number(right))
        or (type(left) is type(right) and isinstance(left, bool | str | bytes))
        or (isinstance(left, datetime.timedelta) and isinstance(right, datetime.timedelta))
        or (isinstance(left, datetime.datetime) and isinstance(right, datetime.datetime))
    )
    if not comparable:
        raise NoSuchOverload(function, left, right)
    if left < right:  # type: ignore[operator]
        return -1
    return 1 if left > right else 0  # type: ignore[operator]


def returned(value: object) -> object:
    """A value as the engine takes it back from a function: durations and timestamps as protobuf
    well-known types (the engine converts those, not Python's datetime types, in dynamic results)."""
    if isinstance(value, datetime.timedelta):
        from google.protobuf import duration_pb2  # noqa: PLC0415 - only when a duration comes back

        message = duration_pb2.Duration()
        message.FromTimedelta(value)
        return message
    if isinstance(value, datetime.datetime):
        from google.protobuf import timestamp_pb2  # noqa: PLC0415 - only when a timestamp comes back

        stamp = timestamp_pb2.Timestamp()
        stamp.FromDatetime(value)
        return stamp
    return value
