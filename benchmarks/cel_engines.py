"""Compare the CEL engines on PyPI on every x-kubernetes-validations rule of a schema folder.

For each engine: how many rules compile (parse, and type-check where the engine checks types),
the compile time, and the evaluation time of each compiled rule on a value made from its schema
(every property present, lists of one element, enums and defaults used), with the same
Kubernetes library functions registered where the engine takes Python functions. Transition
rules are evaluated with oldSelf = self. Each figure is the median of 5 rounds.

Engines: cel-expr-python (Google's C++ CEL, what clusterforge uses), common-expression-language
(Rust), cel-python (pure Python). The last two are not clusterforge dependencies: install them
to compare (pip install common-expression-language==0.10.0 cel-python==0.5.0).

Run: python benchmarks/cel_engines.py SCHEMA_FOLDER [--rounds N]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from generator.cel import library  # noqa: E402
from generator.cel.schema import RuleTree, Shape, rule_tree  # noqa: E402


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


@dataclass
class Case:
    file: str
    rule: str
    value: Any


def sample(shape: Shape, depth: int = 0) -> Any:
    """A value for ``shape``: every property, one element per list and map, enums and defaults used."""
    kind = shape.kind
    schema = shape.schema
    if "default" in schema and kind not in ("object", "list", "map"):
        return schema["default"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    if kind == "object":
        if depth > 5:
            return {}
        return {escaped: sample(sub, depth + 1) for escaped, sub in shape.fields.values()}
    if kind == "map":
        return {"key": sample(shape.values, depth + 1)} if depth <= 5 else {}
    if kind == "list":
        return [sample(shape.items, depth + 1)] if depth <= 5 else []
    if kind == "integer":
        return int(schema.get("minimum", 1))
    if kind == "number":
        return float(schema.get("minimum", 1))
    if kind == "boolean":
        return True
    if kind == "timestamp":
        return "2026-01-01T00:00:00Z"
    if kind == "duration":
        return "1m"
    return "a"


def cases(folder: Path) -> list[Case]:
    found: list[Case] = []

    def walk(tree: RuleTree, file: str) -> None:
        value = sample(tree.shape)
        found.extend(Case(file, spec.rule, value) for spec in tree.rules)
        for child in [*tree.properties.values(), tree.items, tree.values]:
            if child is not None:
                walk(child, file)

    for path in sorted(folder.rglob("*.json")):
        tree = rule_tree(json.loads(path.read_text()))
        if tree is not None:
            walk(tree, path.relative_to(folder).as_posix())
    return found


def python_functions() -> dict[str, Callable[..., Any]]:
    """Every Kubernetes library function by name, one Python callable dispatching on its arguments."""
    functions: dict[str, Callable[..., Any]] = {}
    for function in library.all_functions():
        overloads = function.overloads

        def call(*args: Any, _overloads: Any = overloads, _name: str = function.name) -> Any:
            failure: Exception | None = None
            for overload in _overloads:
                if len(overload.params) != len(args):
                    continue
                try:
                    return overload.impl(*args)
                except TypeError as exc:
                    failure = exc
            raise failure or TypeError(f"no such overload: {_name}")

        functions[function.name] = call
    return functions


@dataclass
class Result:
    engine: str
    compiled: int = 0
    compile_seconds: list[float] = field(default_factory=list)
    evaluated: int = 0  # gave a bool
    errors: int = 0  # gave an error instead
    eval_seconds: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


class CelExprPython:
    name = "cel-expr-python 0.1.3"

    def __init__(self) -> None:
        from generator.cel.environment import environment  # noqa: PLC0415

        self.env = environment()

    def compile(self, rule: str) -> Any:
        return self.env.compile(rule)

    def evaluate(self, program: Any, value: Any) -> bool | None:
        result = program.eval(data={"self": value, "oldSelf": value})
        outcome = result.value()
        return outcome if isinstance(outcome, bool) else None


class CommonExpressionLanguage:
    name = "common-expression-language 0.10.0"

    def __init__(self) -> None:
        import cel  # noqa: PLC0415
        from cel import stdlib  # noqa: PLC0415

        self.cel = cel
        self.context = cel.Context()
        stdlib.add_stdlib_to_context(self.context)
        for name, function in python_functions().items():
            if "." not in name and name not in ("indexOf", "lastIndexOf", "split", "join", "format"):
                self.context.add_function(name, function)

    def compile(self, rule: str) -> Any:
        return self.cel.compile(rule)

    def evaluate(self, program: Any, value: Any) -> bool | None:
        self.context.update({"self": value, "oldSelf": value})
        try:
            outcome = program.execute(self.context)
        except Exception:  # an evaluation error of any kind counts as one
            return None
        return outcome if isinstance(outcome, bool) else None


class CelPython:
    name = "cel-python 0.5.0"

    def __init__(self) -> None:
        import celpy  # noqa: PLC0415

        self.celpy = celpy
        self.env = celpy.Environment()
        self.functions = python_functions()

    def compile(self, rule: str) -> Any:
        ast = self.env.compile(rule)
        return self.env.program(ast, functions=self.functions)

    def evaluate(self, program: Any, value: Any) -> bool | None:
        converted = self.celpy.json_to_cel(value)
        try:
            outcome = program.evaluate({"self": converted, "oldSelf": converted})
        except Exception:  # an evaluation error of any kind counts as one
            return None
        return bool(outcome) if isinstance(outcome, self.celpy.celtypes.BoolType) else None


def measure(engine: Any, all_cases: list[Case], rounds: int) -> Result:
    result = Result(engine.name)
    programs: list[tuple[Case, Any]] = []
    for case in all_cases:
        start = time.perf_counter()
        try:
            program = engine.compile(case.rule)
        except Exception as exc:  # any refusal counts as not compiled
            result.failures.append(f"{case.file}: {' '.join(str(exc).split())[:100]}")
            continue
        result.compile_seconds.append(time.perf_counter() - start)
        result.compiled += 1
        programs.append((case, program))
    per_rule: list[list[float]] = [[] for _ in programs]
    outcomes: list[bool | None] = [None] * len(programs)
    for _ in range(rounds):
        for index, (case, program) in enumerate(programs):
            start = time.perf_counter()
            outcomes[index] = engine.evaluate(program, case.value)
            per_rule[index].append(time.perf_counter() - start)
    result.eval_seconds = [statistics.median(times) for times in per_rule]
    result.evaluated = sum(1 for outcome in outcomes if outcome is not None)
    result.errors = len(outcomes) - result.evaluated
    return result


FEATURES = {
    "optional field  self.?a.orValue(1) == 1": ("self.?a.orValue(1) == 1", {}),
    "optional index  [1][?0].hasValue()": ("[1][?0].hasValue()", {}),
    "optional.of/none": ("optional.of(1).hasValue() && !optional.none().hasValue()", {}),
    "int < double  1 < 1.5": ("1 < 1.5", {}),
    "duration math": ("duration('1m') + duration('1s') == duration('61s')", {}),
    "string ext  'a/b'.split('/')": ("'a/b'.split('/') == ['a', 'b']", {}),
    "format  '%d-%s'.format([1, 'a'])": ("'%d-%s'.format([1, 'a']) == '1-a'", {}),
    "RE2 class  'é'.matches('^\\\\pL$')": ("'é'.matches('^\\\\pL$')", {}),
    "has() on a map field": ("has(self.a) && !has(self.b)", {"a": 1}),
    "exists_one": ("[1, 2, 2].exists_one(x, x == 1)", {}),
}
TYPE_ERROR = "self.x.unknownFunction(1)"  # the API server refuses such a rule when the CRD is written


def features(engine: Any) -> list[str]:
    row = []
    for expression, data in FEATURES.values():
        try:
            outcome = engine.evaluate(engine.compile(expression), data)
        except Exception:  # refused at compile time
            outcome = None
        row.append("yes" if outcome is True else "no")
    try:
        engine.compile(TYPE_ERROR)
        row.append("no")
    except Exception:  # the wanted refusal
        row.append("yes")
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a folder of JSON schemas (catalog layout)")
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    all_cases = cases(options.folder)
    print(f"{len(all_cases)} rules in {options.folder}")
    engines: list[Any] = [CelExprPython]
    for engine_class, module in ((CommonExpressionLanguage, "cel"), (CelPython, "celpy")):
        try:
            __import__(module)
        except ImportError:
            print(f"{engine_class.name}: not installed, left out")
            continue
        engines.append(engine_class)
    print(f"{'engine':36} {'compiled':>10} {'compile µs':>11} {'gave bool':>10} {'errors':>7} {'eval µs':>9}")
    instances = [engine_class() for engine_class in engines]
    with _quiet_stderr():  # common-expression-language prints each failing Python function call
        results = [measure(engine, all_cases, options.rounds) for engine in instances]
        rows = [(engine.name, features(engine)) for engine in instances]
    for result in results:
        compile_us = statistics.median(result.compile_seconds) * 1e6 if result.compile_seconds else 0.0
        eval_us = statistics.median(result.eval_seconds) * 1e6 if result.eval_seconds else 0.0
        print(
            f"{result.engine:36} {result.compiled:>5}/{len(all_cases):<4} {compile_us:>11.0f} "
            f"{result.evaluated:>10} {result.errors:>7} {eval_us:>9.1f}"
        )
    print("compile µs, eval µs: median per rule; eval on a value made from the rule's schema node")
    print("\nlanguage the API server's rules use (yes: evaluates to true):")
    names = [*FEATURES, "undeclared function refused at compile"]
    for index, feature in enumerate(names):
        print(f"  {feature:44} " + "  ".join(f"{row[index]:>4}" for _, row in rows))
    print("  " + " " * 44 + "  ".join(f"{name.split()[0][:4]:>4}" for name, _ in rows))
    print("  (the engine as it comes; clusterforge compiles a rule its checker refuses for int/double unchecked)")
    for result in results:
        reasons: dict[str, int] = {}
        for failure in result.failures:
            reason = failure.split(": ", 1)[1][:70]
            reasons[reason] = reasons.get(reason, 0) + 1
        for reason, count in sorted(reasons.items(), key=lambda item: -item[1])[:4]:
            print(f"  {result.engine}: {count} not compiled: {reason}")


if __name__ == "__main__":
    main()
