"""Kubernetes label selectors (``matchLabels`` and ``matchExpressions``) against label sets."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Generic, TypeVar

T = TypeVar("T")


def labels_of(value: object) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def matches(selector: object, labels: dict[str, str]) -> bool:
    """Whether a label selector selects ``labels``; an empty selector selects everything."""
    if not isinstance(selector, dict):
        return True
    for key, value in labels_of(selector.get("matchLabels")).items():
        if labels.get(key) != value:
            return False
    expressions = selector.get("matchExpressions")
    for expression in expressions if isinstance(expressions, list) else []:
        if isinstance(expression, dict) and not _expression(expression, labels):
            return False
    return True


def _expression(expression: dict[str, Any], labels: dict[str, str]) -> bool:
    key = str(expression.get("key", ""))
    operator = str(expression.get("operator", ""))
    values = [str(v) for v in expression.get("values") or []] if isinstance(expression.get("values"), list) else []
    if operator == "In":
        return labels.get(key) in values
    if operator == "NotIn":
        return labels.get(key) not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    return True  # an operator the schema check reports; do not guess here


def is_empty(selector: object) -> bool:
    if not isinstance(selector, dict):
        return True
    return not selector.get("matchLabels") and not selector.get("matchExpressions")


def selector_values(selector: object) -> set[str]:
    """Every label value a selector names: how a chart's objects are usually picked out."""
    if not isinstance(selector, dict):
        return set()
    found = set(labels_of(selector.get("matchLabels")).values())
    expressions = selector.get("matchExpressions")
    for expression in expressions if isinstance(expressions, list) else []:
        if isinstance(expression, dict) and isinstance(expression.get("values"), list):
            found.update(str(v) for v in expression["values"])
    return found


class LabelIndex(Generic[T]):
    """Labelled things by namespace and by each label pair: a selector looks only at those that can match."""

    def __init__(self) -> None:
        self.everything: dict[str, list[tuple[dict[str, str], T]]] = defaultdict(list)
        self.by_pair: dict[tuple[str, str, str], list[tuple[dict[str, str], T]]] = defaultdict(list)

    def add(self, namespace: str, labels: dict[str, str], item: T) -> None:
        entry = (labels, item)
        self.everything[namespace].append(entry)
        for key, value in labels.items():
            self.by_pair[(namespace, key, value)].append(entry)

    def select(self, namespace: str, selector: object) -> list[T]:
        required = labels_of(selector.get("matchLabels")) if isinstance(selector, dict) else {}
        candidates = self.everything.get(namespace, [])
        for key, value in required.items():
            narrower = self.by_pair.get((namespace, key, value), [])
            if len(narrower) < len(candidates):
                candidates = narrower
        return [item for labels, item in candidates if matches(selector, labels)]

    def namespaces(self) -> list[str]:
        return sorted(self.everything)
