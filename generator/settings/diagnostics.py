"""Turn pydantic validation errors into ``file:line:col: path: message`` problems.

pydantic reports a ``loc`` that mixes real keys with union tags; we walk the data to keep
only the real path, find its position, and phrase the message for a person, with a
did-you-mean for unknown keys and values outside a fixed set.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from generator.errors import KeyPath, Problem, dotted
from generator.yamlsource import Sources

PATTERN_HELP: dict[str, str] = {}
"""Human descriptions of the regular expressions used by settings types, by pattern."""


def describe_pattern(pattern: str, help_text: str) -> str:
    PATTERN_HELP[pattern] = help_text
    return pattern


def suggest(word: str, candidates: Sequence[str]) -> str:
    """`` (did you mean X?)`` when one candidate is close to ``word``, else nothing."""
    lowered = {c.lower(): c for c in candidates}
    if word.lower() in lowered and lowered[word.lower()] != word:
        return f" (did you mean {lowered[word.lower()]}?)"
    match = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {match[0]}?)" if match else ""


def shown_value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return repr(value) if len(value) <= 60 else repr(value[:57] + "...")
    return str(value)


_TYPE_WORDS = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
}


def _clean_path(loc: tuple[int | str, ...], data: Any, keep_last: bool) -> KeyPath:
    """The part of ``loc`` that names real keys and indexes in ``data``."""
    path: list[str | int] = []
    node = data
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if isinstance(node, dict) and isinstance(part, str) and part in node:
            path.append(part)
            node = node[part]
            continue
        if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
            continue
        if last and keep_last and isinstance(node, dict):
            path.append(part)  # a missing key: it is not in the data by definition
            node = None
        # anything else is a union tag or a validator name pydantic put into loc
    return tuple(path)


def _value_at(data: Any, path: KeyPath) -> Any:
    node = data
    for part in path:
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            return None
    return node


def _unwrap(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _union_members(tp: Any) -> list[Any]:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return [_unwrap(a) for a in typing.get_args(tp) if a is not type(None)]
    return [tp]


def _pick_model(candidates: list[Any], data: Any) -> type[BaseModel] | None:
    models = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
    if not models:
        return None
    if isinstance(data, dict) and "type" in data:
        for model in models:
            field = model.model_fields.get("type")
            if field is not None and data["type"] in typing.get_args(_unwrap(field.annotation)):
                return model
    return models[0]


def _field_of(model: type[BaseModel], key: str) -> Any:
    for name, field in model.model_fields.items():
        if (field.alias or name) == key:
            return field.annotation
    return None


def model_at(root: type[BaseModel], path: KeyPath, data: Any) -> type[BaseModel] | None:
    """The settings model that describes the mapping at ``path``."""
    tp: Any = root
    node = data
    for part in path:
        members = _union_members(_unwrap(tp))
        model = _pick_model(members, node)
        if model is not None and isinstance(part, str):
            tp = _field_of(model, part)
            if tp is None:
                return None
        else:
            container = next((m for m in members if typing.get_origin(m) in (list, dict)), None)
            if container is None:
                return None
            args = typing.get_args(container)
            tp = args[-1]
        node = _value_at(node, (part,))
    return _pick_model(_union_members(_unwrap(tp)), node)


def _keys_of(model: type[BaseModel] | None) -> list[str]:
    if model is None:
        return []
    return [field.alias or name for name, field in model.model_fields.items()]


def _message(err: ErrorDetails, data: Any, path: KeyPath, root: type[BaseModel]) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = _value_at(data, path)
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        keys = _keys_of(model_at(root, path[:-1], data))
        allowed = f"; allowed: {', '.join(keys)}" if keys and len(keys) <= 12 else ""
        return f"unknown key{suggest(str(path[-1]), keys)}" + ("" if suggest(str(path[-1]), keys) else allowed)
    if kind == "literal_error":
        options = [o.strip().strip("'") for o in str(ctx.get("expected", "")).replace(" or ", ", ").split(",")]
        options = [o for o in options if o]
        hint = suggest(str(value), options) if isinstance(value, str) else ""
        return f"must be one of: {', '.join(options)}; got {shown_value(value)}{hint}"
    if kind in _TYPE_WORDS:
        return f"must be {_TYPE_WORDS[kind]}, got {shown_value(value)}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        words = {
            "greater_than": "greater than",
            "greater_than_equal": "at least",
            "less_than": "less than",
            "less_than_equal": "at most",
        }[kind]
        bound = next(v for k, v in ctx.items() if k in ("gt", "ge", "lt", "le"))
        return f"must be {words} {bound}, got {shown_value(value)}"
    if kind == "string_pattern_mismatch":
        help_text = PATTERN_HELP.get(str(ctx.get("pattern")))
        if help_text:
            return f"must be {help_text}, got {shown_value(value)}"
        return f"does not have the expected form ({ctx.get('pattern')}), got {shown_value(value)}"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters long"
    if kind == "string_too_short":
        return (
            "must not be empty"
            if ctx.get("min_length") == 1
            else f"must be at least {ctx.get('min_length')} characters"
        )
    if kind == "too_short":
        return f"must have at least {ctx.get('min_length')} item(s)"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    msg = err["msg"]
    return msg[:1].lower() + msg[1:]


def problems_from_validation(exc: ValidationError, data: Any, sources: Sources, root: type[BaseModel]) -> list[Problem]:
    """One problem per wrong place; union alternatives that failed at one place become one line."""
    by_path: dict[KeyPath, list[ErrorDetails]] = defaultdict(list)
    bad_keys: set[KeyPath] = set()  # a mapping key of the wrong form: the message is about the key
    for err in exc.errors(include_url=False):
        kind = err["type"]
        path = _clean_path(tuple(err["loc"]), data, keep_last=kind == "missing")
        if kind == "union_tag_invalid":
            path = (*path, "type")
        if err["loc"][-1:] == ("[key]",):
            bad_keys.add(path)
        by_path[path].append(err)
    for path in list(by_path):
        # one member of a union (a string) failed here, another (a mapping) failed deeper: the deeper one says more
        if {e["type"] for e in by_path[path]} <= set(_TYPE_WORDS) and any(
            p[: len(path)] == path and len(p) > len(path) for p in by_path
        ):
            del by_path[path]
    problems: list[Problem] = []
    for path, errors in by_path.items():
        kinds = {e["type"] for e in errors}
        at_key = kinds <= {"extra_forbidden", "missing"} or path in bad_keys
        file, pos = sources.locate(path, at_key=at_key)
        if len(errors) > 1 and kinds <= set(_TYPE_WORDS):
            words = sorted({_TYPE_WORDS[k] for k in kinds})
            messages = [f"must be {' or '.join(words)}, got {shown_value(_value_at(data, path))}"]
        elif kinds == {"union_tag_invalid"}:
            ctx = errors[0].get("ctx") or {}
            tags = [t.strip().strip("'") for t in str(ctx.get("expected_tags", "")).split(",")]
            got = str(ctx.get("tag", ""))
            messages = [f"must be one of: {', '.join(tags)}; got {shown_value(got)}{suggest(got, tags)}"]
        elif path in bad_keys:
            messages = sorted({_message(e, {"key": path[-1]}, ("key",), root) for e in errors})
        else:
            messages = sorted({_message(e, data, path, root) for e in errors})
        for message in messages:
            line, col = (pos.line, pos.col) if pos else (None, None)
            problems.append(Problem(file, line, col, dotted(sources.written_path(path)), message))
    return problems
