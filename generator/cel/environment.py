"""The CEL environment validation rules are compiled in: cel-expr-python with the Kubernetes libraries.

One environment per process, made on first use. ``self`` and ``oldSelf`` are dynamic: a rule's
types are only known at run time here (the API server types them from the schema), so a
mismatch shows when the rule runs, as a no-such-overload error, rather than when it compiles.
Each distinct rule text is compiled once per process and shared by every schema that holds it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from cel_expr_python import cel
from cel_expr_python.ext import ext_bindings, ext_optional

from generator.cel import rewrite, syntax
from generator.cel.library import all_functions

SELF = "self"
OLD_SELF = "oldSelf"


class CompileError(ValueError):
    """A rule the engine refuses, or one that calls a function this environment does not provide."""


@dataclass(frozen=True)
class Program:
    source: str  # as written in the schema
    text: str  # as compiled (after the rewrites)
    expression: Any  # cel_expr_python Expression
    checked: syntax.Checked
    transition: bool  # reads oldSelf: evaluated on update only (unless optionalOldSelf)


def _declarations() -> list[Any]:
    declarations = []
    for function in all_functions():
        overloads = [
            cel.Overload(
                overload.id,
                overload.result,
                list(overload.params),
                is_member=overload.member,
                impl=overload.impl,
            )
            for overload in function.overloads
        ]
        declarations.append(cel.FunctionDecl(function.name, overloads))
    return declarations


@cache
def environment() -> Any:
    return cel.NewEnv(
        variables={SELF: cel.Type.DYN, OLD_SELF: cel.Type.DYN},
        extensions=[ext_optional.ExtOptional(), ext_bindings.ExtBindings()],
        functions=_declarations(),
    )


def _parse(source: str) -> syntax.Checked:
    try:
        return syntax.decode(environment().compile(source, disable_check=True).serialize())
    except RuntimeError as exc:
        raise CompileError(_message(exc)) from None


def _message(exc: Exception) -> str:
    """The engine's error without its status code and with its source excerpt on one line."""
    text = str(exc).strip()
    code, separator, rest = text.partition(": ")
    if (separator and code.isupper() and "_" in code) or code.isupper():
        text = rest
    text = text.removesuffix("[INVALID_ARGUMENT]").strip()
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("|")]
    text = " ".join(lines).removeprefix("ERROR: ").replace("<input>:", "").replace(" (in container '')", "")
    return _POSITION.sub(lambda m: f"{m.group(3)} (line {m.group(1)}, column {m.group(2)})", text)


_POSITION = re.compile(r"^(\d+):(\d+): (.*)$")


@cache
def compile_rule(source: str, optional_old_self: bool = False, result: str = "bool") -> Program:
    """A rule (``result`` "bool") or a messageExpression ("string"), compiled; CompileError if it cannot be."""
    if not source.strip():
        raise CompileError("empty rule")
    try:
        text = rewrite.rewrite(source, _parse)
    except ValueError as exc:
        raise CompileError(str(exc)) from None
    checked_source = _compile(text)
    transition = syntax.reads_variable(checked_source[1], OLD_SELF)
    if optional_old_self and transition:
        text = rewrite.without_old_self(text)
        checked_source = _compile(text)
    expression, checked = checked_source
    returns = expression.return_type()
    wanted = cel.Type.BOOL if result == "bool" else cel.Type.STRING
    if returns not in (wanted, cel.Type.DYN):
        raise CompileError(f"cel expression must evaluate to a {result}, not {returns.name().lower()}")
    return Program(source, text, expression, checked, transition)


def compile_all(programs: list[Program]) -> Any | None:
    """One expression that is true when every one of ``programs`` is (an error or a false makes it not
    true): a value whose rules all hold costs one evaluation. None when the engine will not take it."""
    text = " && ".join(f"({program.text}\n)" for program in programs)
    try:
        return environment().compile(text)
    except RuntimeError:
        return None


def _compile(text: str) -> tuple[Any, syntax.Checked]:
    """The expression, type-checked; when the engine's checker finds no overload where the API server's
    would (it compares int with double, as Kubernetes enables), it runs unchecked: calls resolve when run."""
    try:
        expression = environment().compile(text)
    except RuntimeError as exc:
        if "found no matching overload" not in str(exc):
            raise CompileError(_message(exc)) from None
        try:
            expression = environment().compile(text, disable_check=True)
        except RuntimeError:
            raise CompileError(_message(exc)) from None
    return expression, syntax.decode(expression.serialize())
