"""A schema's CEL rules evaluated on objects, with the API server's create semantics.

- ``self`` is the value at the rule's place (see ``values``); null values are not checked;
  rules under ``items`` and ``additionalProperties`` run on each element;
- a rule that reads ``oldSelf`` is a transition rule: not run on create, unless it has
  ``optionalOldSelf: true``, then it runs with ``oldSelf`` = ``optional.none()``;
- a false rule is a failure at ``fieldPath`` below its place, with its ``messageExpression``
  (if that evaluates to a usable string), else its ``message``, else ``failed rule: <rule>``;
  ``reason`` names the kind of failure (Forbidden, Required value, Duplicate value);
- a rule that errors while running is a failure too (``<error> evaluating rule: <message>``),
  as on the API server;
- costs: see ``cost``. A rule whose bound exceeds the per-rule limit, or the object's remaining
  budget, is not run: a warning says so, and later rules of the object are not run either.

A rule that does not compile (or calls a function this environment does not have) is reported
once per schema by ``problems``, never silently dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from cel_expr_python import cel

from generator.cel import cost
from generator.cel.environment import SELF, CompileError, Program, compile_all, compile_rule, environment
from generator.cel.schema import RuleSpec, RuleTree, Shape, parse_field_path, rule_tree, schema_location
from generator.cel.values import PRESENT, Extent, Projection, Substituted, convert, merge, projection
from generator.cel.whole import WholeObject, build
from generator.errors import KeyPath

WHOLE_FROM = 16  # objects of one schema checked before its rules are also compiled as one (see whole)
REASONS = {
    "FieldValueForbidden": "Forbidden",
    "FieldValueRequired": "Required value",
    "FieldValueDuplicate": "Duplicate value",
}


class Outcome(StrEnum):
    FAILED = "failed"  # the rule is false, or errored: the API server refuses the object
    NOT_CHECKED = "not-checked"  # over a cost limit: not run


@dataclass(frozen=True)
class Failure:
    path: KeyPath  # where in the object (the rule's place, then its fieldPath)
    message: str
    rule: str
    outcome: Outcome = Outcome.FAILED


@dataclass(frozen=True)
class Problem:
    """A rule that cannot be evaluated here."""

    rule: str
    schema_path: KeyPath
    error: str

    def __str__(self) -> str:
        return f"{schema_location(self.schema_path)}: {self.error} (rule: {self.rule})"


@dataclass
class CompiledRule:
    spec: RuleSpec
    program: Program
    bound: cost.Poly
    message: Program | None = None
    message_bound: cost.Poly = field(default_factory=dict)
    field_path: KeyPath = ()


@dataclass
class Site:
    """The rules at one schema node that run on create, and what of ``self`` they read."""

    tree: RuleTree
    rules: list[CompiledRule]
    read: Projection
    properties: dict[str, Site]
    items: Site | None
    values: Site | None
    combined: Any = None  # every rule in one expression (see environment.compile_all)
    bound: cost.Poly = field(default_factory=dict)  # of all its rules together


class SchemaRules:
    """Every rule of one schema document, compiled once; ``check`` evaluates them on an object."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.problems: list[Problem] = []
        self.count = 0
        tree = rule_tree(schema)
        self.root = self._site(tree) if tree is not None else None
        self.whole: WholeObject | None = None
        self._checked = 0

    def _site(self, tree: RuleTree) -> Site:
        compiled: list[CompiledRule] = []
        read: Projection = PRESENT
        for spec in tree.rules:
            self.count += 1
            rule = self._compile(spec, tree.shape)
            if rule is None or (rule.program.transition and not spec.optional_old_self):
                continue  # a transition rule runs on update only
            compiled.append(rule)
            read = merge(read, _projection(rule))
        site = Site(
            tree,
            compiled,
            read,
            {name: self._site(child) for name, child in tree.properties.items()},
            self._site(tree.items) if tree.items is not None else None,
            self._site(tree.values) if tree.values is not None else None,
        )
        if len(compiled) > 1:
            site.combined = compile_all([rule.program for rule in compiled])
        site.bound = cost.add(*(rule.bound for rule in compiled))
        return site

    def _compile(self, spec: RuleSpec, shape: Shape) -> CompiledRule | None:
        try:
            program = compile_rule(spec.rule, spec.optional_old_self)
        except CompileError as exc:
            self.problems.append(Problem(spec.rule, spec.schema_path, f"does not compile: {exc}"))
            return None
        rule = CompiledRule(
            spec, program, cost.bound(program.checked, shape), field_path=parse_field_path(spec.field_path)
        )
        if spec.field_path and not rule.field_path:
            self.problems.append(Problem(spec.rule, spec.schema_path, f"fieldPath {spec.field_path!r} is not a path"))
        if spec.message_expression:
            try:
                rule.message = compile_rule(spec.message_expression, spec.optional_old_self, result="string")
                rule.message_bound = cost.bound(rule.message.checked, shape)
            except CompileError as exc:
                error = f"messageExpression does not compile: {exc} (its message is used)"
                self.problems.append(Problem(spec.rule, spec.schema_path, error))
        return rule

    def check(self, data: Any, encrypted: bool = False) -> list[Failure]:
        """Every failure of ``data`` (the whole object, as created); ``encrypted``: a SOPS document, whose
        ``ENC[...]`` values are left to the rules' judgement after decryption, as Flux applies it."""
        if self.root is None:
            return []
        self._checked += 1
        if self._checked == WHOLE_FROM:  # worth its compile time only when many objects share the schema
            self.whole = build(self.root)
        try:
            if self.whole is not None and self.whole.holds(self.root, data, encrypted):
                return []
            run = _Run(encrypted)
            return list(run.walk(self.root, data, ()))
        except RecursionError:  # nested deeper than any object the API server stores
            return [Failure((), "CEL rules not evaluated: the object is nested too deeply", "", Outcome.NOT_CHECKED)]


def _projection(rule: CompiledRule) -> Projection:
    read = projection(rule.program.checked, SELF)
    if rule.message is not None:
        read = merge(read, projection(rule.message.checked, SELF))
    return read


class _Run:
    """One object's evaluation: the budget it has left."""

    def __init__(self, encrypted: bool) -> None:
        self.encrypted = encrypted
        self.budget = float(cost.RUNTIME_BUDGET)
        self.stopped = False
        self.converted: dict[tuple[int, int], tuple[Any, int, int]] = {}  # see values.Extent

    def walk(self, site: Site, value: Any, path: KeyPath) -> Iterator[Failure]:
        if value is None or self.stopped:
            return
        if site.rules:
            yield from self._evaluate(site, value, path)
        if isinstance(value, dict):
            defaults = site.tree.shape.defaults if site.properties else {}
            for name, child in site.properties.items():
                if name in value:
                    yield from self.walk(child, value[name], (*path, name))
                elif name in defaults:  # the API server defaults first: a defaulted value is checked too
                    yield from self.walk(child, defaults[name], path)
            if site.values is not None:
                for key, item in value.items():
                    yield from self.walk(site.values, item, (*path, str(key)))
        elif isinstance(value, list) and site.items is not None:
            for index, item in enumerate(value):
                yield from self.walk(site.items, item, (*path, index))

    def _evaluate(self, site: Site, value: Any, path: KeyPath) -> Iterator[Failure]:
        extent = Extent(self.converted, self.encrypted)
        try:
            converted = convert(site.tree.shape, value, site.read, extent)
        except Substituted:
            return  # decided when Flux substitutes the variable; the API server sees that value
        sizes = (extent.lists, extent.strings)
        activation = environment().Activation({SELF: converted})
        total = cost.evaluate(site.bound, *sizes)
        if total <= cost.PER_CALL_LIMIT and total <= self.budget:  # no rule here can reach a limit
            self.budget -= total
            if site.combined is not None and _holds(site.combined, activation):
                return
            for rule in site.rules:
                yield from self._outcome(rule, activation, path, sizes)
            return
        for rule in site.rules:
            bound = cost.evaluate(rule.bound, *sizes)
            if bound > cost.PER_CALL_LIMIT or bound > self.budget:
                self.stopped = True
                limit = "its limit per rule" if bound > cost.PER_CALL_LIMIT else "what is left of the object's budget"
                yield Failure(
                    path,
                    f"not evaluated: its cost here could reach {bound:,.0f}, over {limit} "
                    f"({cost.PER_CALL_LIMIT:,} per rule, {cost.RUNTIME_BUDGET:,} per object); the API server may "
                    "refuse the object; no further rules of it were evaluated",
                    rule.spec.rule,
                    Outcome.NOT_CHECKED,
                )
                return
            self.budget -= bound
            yield from self._outcome(rule, activation, path, sizes)

    def _outcome(self, rule: CompiledRule, activation: Any, path: KeyPath, sizes: tuple[int, int]) -> Iterator[Failure]:
        try:
            result = rule.program.expression.eval(activation)
        except RuntimeError as exc:  # the engine's own stop: 10,000 comprehension steps per evaluation
            message = _ENGINE_STOP if "Iteration budget exceeded" in str(exc) else f"not evaluated: {exc}"
            yield Failure(path, message, rule.spec.rule, Outcome.NOT_CHECKED)
            return
        if result.value() is True:
            return
        yield _failure(rule, result, activation, path, sizes, self)


_ENGINE_STOP = (
    "not evaluated: it takes more than the 10,000 list steps the CEL engine here runs per rule "
    "(the API server limits rules by cost instead, and may accept it)"
)


def _holds(expression: Any, activation: Any) -> bool:
    try:
        return expression.eval(activation).value() is True
    except RuntimeError:  # see _outcome: each rule is then run alone
        return False


def _failure(
    rule: CompiledRule, result: Any, activation: Any, path: KeyPath, extent: tuple[int, int], run: _Run
) -> Failure:
    kind = result.type()
    spec = rule.spec
    if kind == cel.Type.ERROR:
        error = _error_text(result)
        if error.startswith("no such overload"):
            message = f"'{error}': call arguments did not match a supported operator, function or macro signature"
            return Failure(path, f"{message} for rule: {_rule_text(spec)}", spec.rule)
        return Failure(path, f"{error} evaluating rule: {_rule_text(spec)}", spec.rule)
    if kind != cel.Type.BOOL:
        return Failure(path, f"rule returned {kind.name().lower()}, not a bool: {_rule_text(spec)}", spec.rule)
    detail = _message(rule, activation, extent, run)
    reason = REASONS.get(spec.reason)
    text = f"{reason}: {detail}" if reason else detail
    return Failure((*path, *rule.field_path), text, spec.rule)


def _message(rule: CompiledRule, activation: Any, extent: tuple[int, int], run: _Run) -> str:
    spec = rule.spec
    fallback = spec.message.strip() if spec.message else f"failed rule: {spec.rule.strip()}"
    if rule.message is None:
        return fallback
    bound = cost.evaluate(rule.message_bound, *extent)
    if bound > cost.PER_CALL_LIMIT or bound > run.budget:
        return fallback
    run.budget -= bound
    result = rule.message.expression.eval(activation)
    if result.type() != cel.Type.STRING:
        return fallback
    text = str(result.value()).strip()
    if not text or "\n" in text or len(text.encode()) > cost.MAX_MESSAGE_BYTES:
        return fallback
    return text


def _rule_text(spec: RuleSpec) -> str:
    return spec.message.strip() if spec.message else spec.rule.strip()


# the engine's run-time errors in the words of cel-go, which the API server's messages carry
_ERROR_WORDING = (
    (re.compile(r'^Key not found in map : "(.*)"$'), r"no such key: \1"),
    (re.compile(r"^Index error: index=(-?\d+) size=(\d+)$"), r"index out of range: \1 (size \2)"),
    (re.compile(r"^divide by zero$"), "division by zero"),
    (re.compile(r"^No matching overloads found : (.*)$"), r"no such overload: \1"),
)


def _error_text(result: Any) -> str:
    text = str(result.value())
    code, separator, rest = text.partition(": ")
    if separator and code.replace("_", "").isupper():
        text = rest
    for pattern, wording in _ERROR_WORDING:
        text, count = pattern.subn(wording, text)
        if count:
            break
    return text
