"""Every rule of a schema as one expression over the whole object: the fast way to find that an object
breaks none of them.

Evaluating each rule place on its own value converts each value for the engine again and again
(a rule on ``spec.rules``, then one on each rule, then on each filter). Most objects break no
rule, so first all rule places are checked in one evaluation: ``self`` is the object, and each
place's rules run with ``self`` bound to the value there (``cel.bind``), under ``has()`` for
properties and ``all()`` for list items and map values, null values skipped, exactly where the
walk in ``validator`` would run them. Only when that is not plainly true (a rule is false or
errors, a Flux variable, a possible cost over a limit) does the walk run, place by place, to say
what failed where.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from generator.cel import cost
from generator.cel.environment import SELF, environment
from generator.cel.values import PRESENT, Extent, Projection, Substituted, convert, merge

if TYPE_CHECKING:
    from generator.cel.validator import Site


Step = tuple[str, str]  # ("property", CEL field name), ("items", ""), ("values", "")


@dataclass
class WholeObject:
    expressions: list[Any]  # compiled; together they hold every rule place
    read: Projection  # what of the object the rules read
    bounds: list[tuple[cost.Poly, bool]]  # per rule place: its bound, and whether it is under a list or map

    def holds(self, root: Site, data: Any, encrypted: bool = False) -> bool:
        """True when every rule holds on ``data`` for sure; False means: look place by place."""
        extent = Extent(encrypted=encrypted)
        try:
            converted = convert(root.tree.shape, data, self.read, extent)
        except Substituted:
            return False
        lists, strings = extent.lists, extent.strings
        total = 0.0
        for poly, repeated in self.bounds:
            one = cost.evaluate(poly, lists, strings)
            if one > cost.PER_CALL_LIMIT:
                return False
            total += one * (extent.elements + 1 if repeated else 1)
        if total > cost.RUNTIME_BUDGET:
            return False
        activation = environment().Activation({SELF: converted})  # converted once for every expression
        try:
            return all(expression.eval(activation).value() is True for expression in self.expressions)
        except RuntimeError:  # the engine's step limit: the walk reports it where it happens
            return False


def build(root: Site) -> WholeObject | None:
    """The whole-object expressions of a rule tree: as few as the engine takes (its parser stops at
    32 levels of nesting, so a deep schema is cut into one expression per subtree); None when one
    cannot be written (a property name CEL cannot spell, or a rule place the engine will not take)."""
    bounds: list[tuple[cost.Poly, bool]] = []
    texts = _texts(root, [], bounds, repeated=False)
    if texts is None:
        return None
    expressions = [_compile(text) for text in texts]
    return WholeObject(expressions, _read(root), bounds)


class _Names:
    def __init__(self) -> None:
        self.next = 0

    def __call__(self) -> str:
        self.next += 1
        return f"__w{self.next}"


def _texts(site: Site, path: list[Step], bounds: list[tuple[cost.Poly, bool]], repeated: bool) -> list[str] | None:
    """Expressions the engine takes, together holding ``site`` and below, reached along ``path``."""
    names = _Names()
    collected: list[tuple[cost.Poly, bool]] = []
    text = _wrap(path, lambda variable: _text(site, variable, names, collected, repeated), names)
    if text is not None and _compile(text) is not None:
        bounds += collected
        return [text]
    # too deep for one expression: this place's own rules, then each subtree on its own
    found: list[str] = []
    if site.rules:
        own = _wrap(path, lambda variable: _rules(site, variable), _Names())
        if own is None or _compile(own) is None:
            return None
        found.append(own)
        bounds.append((site.bound, repeated))
    fields = site.tree.shape.fields
    children: list[tuple[Step, Site, bool]] = [
        (("property", fields[name][0]), child, repeated) for name, child in site.properties.items() if name in fields
    ]
    if len(children) != len(site.properties):
        return None
    if site.items is not None:
        children.append((("items", ""), site.items, True))
    if site.values is not None:
        children.append((("values", ""), site.values, True))
    for step, child, child_repeated in children:
        below = _texts(child, [*path, step], bounds, child_repeated)
        if below is None:
            return None
        found += below
    return found


MAX_NESTING = 22  # brackets; the engine parser stops at 32 levels of its own, which bracket depth underestimates


def _compile(text: str) -> Any | None:
    if _nesting(text) > MAX_NESTING:
        return None
    try:
        return environment().compile(text)
    except RuntimeError:
        return None


def _nesting(text: str) -> int:
    """How deep brackets nest in ``text`` (string literals skipped): what the parser's limit counts."""
    depth = deepest = index = 0
    while index < len(text):
        char = text[index]
        if char in "'\"":
            index += 1
            while index < len(text) and text[index] != char:
                index += 2 if text[index] == "\\" else 1
        elif char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]}":
            depth -= 1
        index += 1
    return deepest


def _wrap(path: list[Step], body: Callable[[str], str | None], names: _Names, variable: str = SELF) -> str | None:
    """``body`` run on every value at ``path`` below ``variable``: absent, null values skipped."""
    if not path:
        return body(variable)
    (kind, name), rest = path[0], path[1:]
    inner = names()
    below = _wrap(rest, body, names, inner)
    if below is None:
        return None
    if kind == "property":
        return f"(!has({variable}.{name}) || cel.bind({inner}, {variable}.{name}, {inner} == null || {below}))"
    if kind == "items":
        return f"{variable}.all({inner}, {inner} == null || {below})"
    key = names()
    return f"{variable}.all({key}, {variable}[{key}] == null || cel.bind({inner}, {variable}[{key}], {below}))"


def _rules(site: Site, variable: str) -> str:
    return " && ".join(f"(cel.bind({SELF}, {variable}, ({rule.program.text}\n)))" for rule in site.rules) or "true"


def _text(site: Site, variable: str, names: _Names, bounds: list[tuple[cost.Poly, bool]], repeated: bool) -> str | None:
    parts = [_rules(site, variable)] if site.rules else []
    if site.rules:
        bounds.append((site.bound, repeated))
    fields = site.tree.shape.fields
    children: list[tuple[Step, Site, bool]] = []
    for name, child in site.properties.items():
        if name not in fields:
            return None
        children.append((("property", fields[name][0]), child, repeated))
    if site.items is not None:
        children.append((("items", ""), site.items, True))
    if site.values is not None:
        children.append((("values", ""), site.values, True))
    for step, child, child_repeated in children:

        def body(inner: str, child: Site = child, child_repeated: bool = child_repeated) -> str | None:
            return _text(child, inner, names, bounds, child_repeated)

        below = _wrap([step], body, names, variable)
        if below is None:
            return None
        parts.append(below)
    return " && ".join(f"({part})" for part in parts) if parts else "true"


def _read(site: Site) -> Projection:
    """What the rules of ``site`` and below read of its value."""
    read: Projection = site.read if site.rules else PRESENT
    fields = site.tree.shape.fields
    for name, child in site.properties.items():
        read = merge(read, {fields[name][0]: _read(child)})
    if site.items is not None or site.values is not None:
        return None
    return read
