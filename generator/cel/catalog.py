"""``clusterforge schemas check DIR``: every CEL rule of a folder of JSON schemas, with its status.

A status says what validate does with the rule: ``ok`` (evaluated on create), ``on update only``
(a transition rule: it reads ``oldSelf``), ``ok, oldSelf absent on create`` (``optionalOldSelf``),
or why it cannot be evaluated (it does not compile, or calls a function this environment lacks).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from generator.cel.environment import CompileError, compile_rule
from generator.cel.schema import RuleSpec, rule_tree, schema_location


@dataclass(frozen=True)
class RuleStatus:
    file: str  # relative to the folder
    spec: RuleSpec
    status: str
    usable: bool  # validate evaluates it (on create, or on update only)

    def __str__(self) -> str:
        rule = " ".join(self.spec.rule.split())
        return f"{self.file} {schema_location(self.spec.schema_path)}: {self.status}: {rule}"


@dataclass
class CatalogReport:
    rules: list[RuleStatus] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # "file: why"
    schemas: int = 0  # schema files read
    with_rules: int = 0  # of them, those holding rules

    @property
    def failed(self) -> bool:
        return bool(self.unreadable) or any(not status.usable for status in self.rules)

    def text(self) -> str:
        lines = [str(status) for status in self.rules] + [f"{entry}" for entry in self.unreadable]
        usable = sum(1 for status in self.rules if status.usable)
        on_update = sum(1 for status in self.rules if status.status == ON_UPDATE)
        lines.append(
            f"{len(self.rules)} rules in {self.with_rules} of {self.schemas} schemas: "
            f"{usable - on_update} evaluated on create, {on_update} on update only (compiled, not applicable "
            f"to objects being created), {len(self.rules) - usable} cannot be evaluated"
            + (f"; {len(self.unreadable)} files unreadable" if self.unreadable else "")
        )
        return "\n".join(lines) + "\n"


ON_UPDATE = "on update only"


def status_of(spec: RuleSpec) -> tuple[str, bool]:
    """What validate does with one rule: (status, whether it is evaluated)."""
    try:
        program = compile_rule(spec.rule, spec.optional_old_self)
    except CompileError as exc:
        return f"cannot be evaluated: {exc}", False
    if spec.message_expression:
        try:
            compile_rule(spec.message_expression, spec.optional_old_self, result="string")
        except CompileError as exc:
            return f"ok, but its messageExpression does not compile ({exc}): its message is used", True
    if program.transition and not spec.optional_old_self:
        return ON_UPDATE, True
    if program.transition:
        return "ok, oldSelf absent on create", True
    return "ok", True


def check_folder(folder: Path) -> CatalogReport:
    """The status of every rule in every ``*.json`` schema under ``folder`` (sorted by path)."""
    report = CatalogReport()
    for path in sorted(folder.rglob("*.json")):
        relative = path.relative_to(folder).as_posix()
        if any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        try:
            schema = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            report.unreadable.append(f"{relative}: cannot be read: {exc}")
            continue
        if not isinstance(schema, dict):
            report.unreadable.append(f"{relative}: not a JSON schema (a JSON object)")
            continue
        report.schemas += 1
        tree = rule_tree(schema)
        if tree is None:
            continue
        report.with_rules += 1
        for spec in tree.all_rules():
            status, usable = status_of(spec)
            report.rules.append(RuleStatus(relative, spec, status, usable))
    return report
