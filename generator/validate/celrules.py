"""The CEL rules of an object's schema (``x-kubernetes-validations``), as validation findings.

The API server evaluates them after the schema check, and only when that check found nothing
that makes the object unreadable to them (a wrong type, a missing required field, a value
outside its enum or over its length or count limits): then it reports those instead. Same here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from generator.errors import KeyPath
from generator.validate.model import Severity

if TYPE_CHECKING:
    import jsonschema_rs

    from generator.validate.schemas import Lookup

# jsonschema-rs error kinds the API server reports as TypeInvalid, Required, NotSupported, TooLong, TooMany
_BLOCKING = frozenset({"type", "required", "enum", "const", "maxLength", "maxItems", "maxProperties"})

RuleViolation = tuple[KeyPath, Severity, str, str]  # path, severity, message, rule


def blocks_rules(validator: jsonschema_rs.Validator, data: Any) -> bool:
    """Whether the object's schema violations keep the API server from evaluating its CEL rules."""
    try:
        return any(error.kind.name in _BLOCKING for error in validator.iter_errors(data))
    except ValueError:  # a key that is not a string: the schema check reports it
        return True


def prepare_rules() -> None:
    """Load the CEL engine and its Kubernetes libraries now: in a process about to fork workers, they
    then start with it (it is the same work in each, about 30 ms of CPU)."""
    from generator.cel.environment import environment  # noqa: PLC0415 - loaded only when rules may run

    environment()


def rule_violations(lookup: Lookup, data: Any, valid: bool, sops: bool = False) -> list[RuleViolation]:
    """Every CEL rule failure of ``data`` (``valid``: it passed its schema, so no check is needed first;
    ``sops``: a SOPS-encrypted document, whose encrypted values the rules cannot judge)."""
    rules = lookup.rules
    if rules is None or lookup.validator is None:
        return []
    if not valid and blocks_rules(lookup.validator, data):
        return []
    from generator.cel.validator import Outcome  # noqa: PLC0415 - loaded with the rules

    found: list[RuleViolation] = []
    for failure in rules.check(data, encrypted=sops):
        severity = Severity.WARNING if failure.outcome is Outcome.NOT_CHECKED else Severity.ERROR
        found.append((failure.path, severity, failure.message, failure.rule))
    return found


def rule_problems(lookup: Lookup) -> list[str]:
    """The schema's rules that cannot be evaluated, one warning each, naming the schema and the rule."""
    rules = lookup.rules
    if rules is None:
        return []
    return [f"CEL rule not evaluated: schema {lookup.where} at {problem}" for problem in rules.problems]
