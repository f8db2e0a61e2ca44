"""cel-go's set functions on lists (``ext.Sets``, in the API server's base environment since 1.29)."""

from __future__ import annotations

from generator.cel.library.values import Function, NoSuchOverload, T, equal, function

_LIST = T.List(T.DYN)


def _lists(name: str, left: object, right: object) -> tuple[list[object], list[object]]:
    if not isinstance(left, list) or not isinstance(right, list):
        raise NoSuchOverload(name, left, right)
    return left, right


def _holds(values: list[object], wanted: object) -> bool:
    return any(equal(value, wanted) for value in values)


def contains(left: object, right: object) -> bool:
    """Whether every element of ``right`` is in ``left``."""
    first, second = _lists("sets.contains", left, right)
    return all(_holds(first, value) for value in second)


def equivalent(left: object, right: object) -> bool:
    first, second = _lists("sets.equivalent", left, right)
    return all(_holds(first, value) for value in second) and all(_holds(second, value) for value in first)


def intersects(left: object, right: object) -> bool:
    first, second = _lists("sets.intersects", left, right)
    return any(_holds(first, value) for value in second)


FUNCTIONS: tuple[Function, ...] = (
    function("sets.contains", "list_sets_contains_list", (_LIST, _LIST), T.BOOL, contains),
    function("sets.equivalent", "list_sets_equivalent_list", (_LIST, _LIST), T.BOOL, equivalent),
    function("sets.intersects", "list_sets_intersects_list", (_LIST, _LIST), T.BOOL, intersects),
)
