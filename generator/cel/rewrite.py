"""Source rewrites for the Kubernetes functions a Python function cannot give the engine directly.

- ``X.validate(s)`` and ``format.named(n)`` return optionals: rewritten to ``X.kubernetesValidateFormat(s)[?0]``
  and ``format.kubernetesNamed(n)[?0]``, functions returning ``[]`` or ``[value]`` (see library.formats).
- ``string(x)`` of an IP or CIDR: the standard library owns ``string``, so ``string(x)`` becomes
  ``cel.bind(__kstr, dyn(x), type(__kstr) == map ? kubernetesString(__kstr) : string(__kstr))``.
- a rule with ``optionalOldSelf: true`` is evaluated on create with ``oldSelf`` = ``optional.none()``.

Calls are found in the parsed expression (offsets of their ``(``), one at a time, innermost first,
then the source is parsed again; everything else in the rule stays as written.
"""

from __future__ import annotations

from collections.abc import Callable

from generator.cel import syntax

STRING_VARIABLE = "__kstr"
_IDENTIFIER = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def closing_paren(source: str, opening: int) -> int:
    """The offset of the ``)`` matching the ``(`` at ``opening``; string literals and comments skipped."""
    depth, index = 0, opening
    while index < len(source):
        char = source[index]
        if char in "'\"":
            index = _after_string(source, index)
            continue
        if source.startswith("//", index):
            newline = source.find("\n", index)
            index = len(source) if newline < 0 else newline + 1
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    raise ValueError("unbalanced parentheses")


def _after_string(source: str, start: int) -> int:
    quote = source[start]
    raw = start > 0 and source[start - 1] in "rR" and (start < 2 or source[start - 2] not in _IDENTIFIER - set("bB"))
    delimiter = quote * 3 if source.startswith(quote * 3, start) else quote
    index = start + len(delimiter)
    while index < len(source):
        if not raw and source[index] == "\\":
            index += 2
            continue
        if source.startswith(delimiter, index):
            return index + len(delimiter)
        index += 1
    return len(source)


def _name_before(source: str, opening: int) -> tuple[int, int]:
    """The span of the function name written before the ``(`` at ``opening``."""
    end = opening
    while end > 0 and source[end - 1].isspace():
        end -= 1
    start = end
    while start > 0 and source[start - 1] in _IDENTIFIER:
        start -= 1
    return start, end


def _wanted(node: syntax.Expr) -> str | None:
    if not isinstance(node, syntax.Call):
        return None
    if node.function == "validate" and node.target is not None and len(node.args) == 1:
        return "validate"
    target = node.target
    if node.function == "named" and isinstance(target, syntax.Ident) and target.name == "format":
        return "named"
    if node.function == "string" and node.target is None and len(node.args) == 1:
        argument = node.args[0]
        if not (isinstance(argument, syntax.Ident) and argument.name == STRING_VARIABLE):
            return "string"
    return None


def needs_rewrite(source: str) -> bool:
    return "validate" in source or "named" in source or "string" in source


def rewrite(source: str, parse: Callable[[str], syntax.Checked]) -> str:
    """``source`` with every call listed in the module docstring rewritten."""
    if not needs_rewrite(source):
        return source
    for _ in range(len(source)):  # each pass rewrites one call; a call is never rewritten twice
        parsed = parse(source)
        found = [
            (parsed.positions[node.id], kind)
            for node in syntax.walk(parsed.expr)
            if (kind := _wanted(node)) is not None and node.id in parsed.positions
        ]
        if not found:
            return source
        opening, kind = max(found)  # the last call in the text holds no other wanted call after its "("
        closing = closing_paren(source, opening)
        name_start, name_end = _name_before(source, opening)
        if kind == "string":
            argument = source[opening + 1 : closing]
            variable = STRING_VARIABLE
            replacement = (
                f"cel.bind({variable}, dyn({argument}), "
                f"type({variable}) == map ? kubernetesString({variable}) : string({variable}))"
            )
            source = source[:name_start] + replacement + source[closing + 1 :]
        else:
            name = "kubernetesValidateFormat" if kind == "validate" else "kubernetesNamed"
            source = source[:name_start] + name + source[name_end : closing + 1] + "[?0]" + source[closing + 1 :]
    return source


def without_old_self(source: str) -> str:
    """A rule with ``optionalOldSelf``, as evaluated on create: ``oldSelf`` is ``optional.none()``."""
    return f"cel.bind(oldSelf, optional.none(), ({source}\n))"
