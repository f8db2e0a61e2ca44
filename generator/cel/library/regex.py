"""The Kubernetes regex library: ``find`` and ``findAll`` (k8s.io/apiserver/pkg/cel/library/regex.go).

Patterns are RE2, as in Go's ``regexp``: compiled with google-re2, whose matching time is linear in
the input, so a hostile string cannot make a pattern backtrack for ever. ``findAll`` follows Go's
``FindAllString``: an empty match right after the previous match is not reported.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import re2

from generator.cel.library.values import STRINGS, Function, NoSuchOverload, Overload, T


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> Any:
    try:
        return re2.compile(pattern)
    except re2.error as exc:
        raise ValueError(f"Illegal regex: {exc}") from None


def _strings(function: str, text: object, pattern: object) -> tuple[str, str]:
    if not isinstance(text, str) or not isinstance(pattern, str):
        raise NoSuchOverload(function, text, pattern)
    return text, pattern


def find(text: object, pattern: object) -> str:
    value, regex = _strings("find", text, pattern)
    match = _compiled(regex).search(value)
    return match.group(0) if match else ""


def find_all(text: object, pattern: object, limit: object = -1) -> list[str]:
    value, regex = _strings("findAll", text, pattern)
    if not isinstance(limit, int) or isinstance(limit, bool):
        raise NoSuchOverload("findAll", text, pattern, limit)
    if limit == 0:
        return []
    compiled = _compiled(regex)
    found: list[str] = []
    position, previous_end = 0, -1
    while position <= len(value) and (limit < 0 or len(found) < limit):
        match = compiled.search(value, position)
        if match is None:
            break
        start, end = match.span()
        accept = True
        if end == start:  # an empty match: move one character on
            accept = start != previous_end
            position = end + 1
        else:
            position = end
        previous_end = end
        if accept:
            found.append(match.group(0))
    return found


FUNCTIONS: tuple[Function, ...] = (
    Function("find", (Overload("string_find_string", (T.STRING, T.STRING), T.STRING, find, member=True),)),
    Function(
        "findAll",
        (
            Overload("string_find_all_string", (T.STRING, T.STRING), STRINGS, find_all, member=True),
            Overload("string_find_all_string_int", (T.STRING, T.STRING, T.INT), STRINGS, find_all, member=True),
        ),
    ),
)
