"""The Kubernetes list library: ``isSorted``, ``sum``, ``min``, ``max``, ``indexOf``, ``lastIndexOf``.

k8s.io/apiserver/pkg/cel/library/lists.go. The API server types each overload by element type; here
the element type is only known at run time, so each function checks the elements it is given.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from generator.cel.library.values import ANY, Function, NoSuchOverload, T, compare, equal, member, returned

_LIST = T.List(T.DYN)


def _list(value: object, function: str) -> list[object]:
    if not isinstance(value, list):
        raise NoSuchOverload(function, value)
    return value


def is_sorted(items: object) -> bool:
    values = _list(items, "isSorted")
    return all(compare(values[i], values[i + 1], "isSorted") <= 0 for i in range(len(values) - 1))


def _summable(value: object) -> bool:
    return isinstance(value, int | float | datetime.timedelta) and not isinstance(value, bool)


def total(items: object) -> object:
    values = _list(items, "sum")
    if not values:
        return 0
    result = values[0]
    for value in values[1:]:
        same = type(value) is type(result) or (isinstance(value, int) and isinstance(result, int))
        if not (_summable(result) and _summable(value) and same):
            raise NoSuchOverload("sum", result, value)
        result = result + value  # type: ignore[operator]
    if not _summable(result):
        raise NoSuchOverload("sum", result)
    return returned(result)


def _extreme(function: str, preferred: int) -> Callable[[object], object]:
    def pick(items: object) -> object:
        values = _list(items, function)
        if not values:
            raise ValueError(f"{function} called on empty list")
        best = values[0]
        for value in values[1:]:
            if compare(best, value, function) == preferred:
                best = value
        return returned(best)

    return pick


def index_of(items: object, wanted: object) -> int:
    values = _list(items, "indexOf")
    return next((i for i, value in enumerate(values) if equal(value, wanted)), -1)


def last_index_of(items: object, wanted: object) -> int:
    values = _list(items, "lastIndexOf")
    return next((i for i in range(len(values) - 1, -1, -1) if equal(values[i], wanted)), -1)


FUNCTIONS: tuple[Function, ...] = (
    member("isSorted", "list_is_sorted_bool", (_LIST,), T.BOOL, is_sorted),
    member("sum", "list_sum", (_LIST,), T.DYN, total),
    member("min", "list_min", (_LIST,), T.DYN, _extreme("min", 1)),
    member("max", "list_max", (_LIST,), T.DYN, _extreme("max", -1)),
    member("indexOf", "list_a_index_of_int", (_LIST, ANY), T.INT, index_of),
    member("lastIndexOf", "list_a_last_index_of_int", (_LIST, ANY), T.INT, last_index_of),
)
