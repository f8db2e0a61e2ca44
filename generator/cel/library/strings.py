"""cel-go's string extensions (``ext.Strings`` version 2, in the API server's base environment).

The engine ships the same library (cel-cpp ``strings``), but declaring it would own ``indexOf`` and
``lastIndexOf``, which the Kubernetes list library also defines for lists: the engine takes one
declaration per function name. So the string functions are declared here, next to the list ones,
and evaluated by the engine's own implementation in a second environment that has only it.
"""

from __future__ import annotations

import datetime
from functools import cache
from typing import Any

from cel_expr_python import cel
from cel_expr_python.ext import ext_strings

from generator.cel.library.values import ANY, STRINGS, Function, NoSuchOverload, Overload, T, returned

_ARGS = ("a", "b", "c", "d")


@cache
def _strings_environment() -> Any:
    return cel.NewEnv(variables={name: T.DYN for name in _ARGS}, extensions=[ext_strings.ExtStrings(2)])


@cache
def _expression(source: str) -> Any:
    return _strings_environment().compile(source)


def _engine_value(value: object) -> object:
    """Durations and timestamps (inside lists and maps too) as the engine reads them in dynamic data."""
    if isinstance(value, list):
        return [_engine_value(item) for item in value]
    if isinstance(value, dict):
        return {key: _engine_value(item) for key, item in value.items()}
    if isinstance(value, datetime.timedelta | datetime.datetime):
        return returned(value)
    return value


def _delegate(function: str, source: str) -> Any:
    def call(*args: object) -> object:
        data = {name: _engine_value(arg) for name, arg in zip(_ARGS, args, strict=False)}
        result = _expression(source).eval(data=data)
        if result.type() == T.ERROR:
            raise ValueError(f"{function}: {_error_text(result)}")
        return result.plain_value()

    return call


def _error_text(result: Any) -> str:
    text = str(result.value())
    code, separator, rest = text.partition(": ")
    return rest if separator and code.isupper() else text


def _overload(name: str, overload: str, params: tuple[Any, ...], result: Any, source: str) -> Overload:
    return Overload(overload, params, result, _delegate(name, source), member=True)


def _quote(text: object) -> object:
    if not isinstance(text, str):
        raise NoSuchOverload("strings.quote", text)
    return _delegate("strings.quote", "strings.quote(a)")(text)


STRING_FUNCTIONS = (
    Function("charAt", (_overload("charAt", "string_char_at_int", (T.STRING, T.INT), T.STRING, "a.charAt(b)"),)),
    Function(
        "indexOf",
        (
            _overload("indexOf", "string_index_of_string", (T.STRING, T.STRING), T.INT, "a.indexOf(b)"),
            _overload("indexOf", "string_index_of_string_int", (T.STRING, T.STRING, T.INT), T.INT, "a.indexOf(b, c)"),
        ),
    ),
    Function(
        "lastIndexOf",
        (
            _overload("lastIndexOf", "string_last_index_of_string", (T.STRING, T.STRING), T.INT, "a.lastIndexOf(b)"),
            _overload(
                "lastIndexOf",
                "string_last_index_of_string_int",
                (T.STRING, T.STRING, T.INT),
                T.INT,
                "a.lastIndexOf(b, c)",
            ),
        ),
    ),
    Function("lowerAscii", (_overload("lowerAscii", "string_lower_ascii", (T.STRING,), T.STRING, "a.lowerAscii()"),)),
    Function("upperAscii", (_overload("upperAscii", "string_upper_ascii", (T.STRING,), T.STRING, "a.upperAscii()"),)),
    Function(
        "replace",
        (
            _overload(
                "replace", "string_replace_string_string", (T.STRING, T.STRING, T.STRING), T.STRING, "a.replace(b, c)"
            ),
            _overload(
                "replace",
                "string_replace_string_string_int",
                (T.STRING, T.STRING, T.STRING, T.INT),
                T.STRING,
                "a.replace(b, c, d)",
            ),
        ),
    ),
    Function(
        "split",
        (
            _overload("split", "string_split_string", (T.STRING, T.STRING), STRINGS, "a.split(b)"),
            _overload("split", "string_split_string_int", (T.STRING, T.STRING, T.INT), STRINGS, "a.split(b, c)"),
        ),
    ),
    Function(
        "substring",
        (
            _overload("substring", "string_substring_int", (T.STRING, T.INT), T.STRING, "a.substring(b)"),
            _overload("substring", "string_substring_int_int", (T.STRING, T.INT, T.INT), T.STRING, "a.substring(b, c)"),
        ),
    ),
    Function("trim", (_overload("trim", "string_trim", (T.STRING,), T.STRING, "a.trim()"),)),
    Function(
        "join",
        (
            _overload("join", "list_join", (STRINGS,), T.STRING, "a.join()"),
            _overload("join", "list_join_string", (STRINGS, T.STRING), T.STRING, "a.join(b)"),
        ),
    ),
    Function(
        "format",
        (_overload("format", "string_format", (T.STRING, T.List(ANY)), T.STRING, "a.format(b)"),),
    ),
    Function("strings.quote", (Overload("strings_quote", (T.STRING,), T.STRING, _quote),)),
)

FUNCTIONS: tuple[Function, ...] = STRING_FUNCTIONS
