"""The per-file part of validation: read each document, check its header and its schema.

It runs in worker processes (see ``parallel``), so what it returns is plain marshal-able data:
documents as tuples, schema violations by document number, kinds without a schema by count.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.validate.celrules import rule_problems, rule_violations
from generator.validate.documents import Document, Source, parse_stream
from generator.validate.resources import prune
from generator.validate.schemacheck import hides_values, is_sops, violations, without_sops
from generator.validate.schemas import SchemaStore

# (path, shown, start, end, line, index, apiVersion, kind, name, namespace, data or None, sops)
DocRow = tuple[str, str, int, int, int, int, str, str, str, "str | None", Any, bool]


@dataclass(slots=True)
class Task:
    path: str
    shown: str
    check_schema: bool  # False: the file is checked through a kustomize build; only read it


def header(data: Any) -> tuple[str, str, str, str | None] | str:
    """(apiVersion, kind, name, namespace) of a Kubernetes object, or what it lacks."""
    if type(data) is dict:  # the hot path: exact type checks, no ``isinstance`` walk
        api_version, kind, metadata = data.get("apiVersion"), data.get("kind"), data.get("metadata")
        name = metadata.get("name") if type(metadata) is dict else None
        if type(api_version) is str and api_version and type(kind) is str and kind and type(name) is str and name:
            namespace = metadata.get("namespace")  # type: ignore[union-attr]
            return api_version, kind, name, namespace if type(namespace) is str and namespace else None
        missing = [
            field
            for field, value in (("apiVersion", api_version), ("kind", kind), ("metadata.name", name))
            if not isinstance(value, str) or not value
        ]
        return f"not a Kubernetes object: no {', '.join(missing)}"
    return f"not a Kubernetes object: a YAML {'list' if isinstance(data, list) else 'scalar'}, expected a mapping"


def doc_row(document: Document, head: tuple[str, str, str, str | None], data: Any, sops: bool) -> DocRow:
    source = document.source
    api_version, kind, name, namespace = head
    return (
        source.path,
        source.shown,
        source.start,
        source.end,
        source.line,
        document.index,
        api_version,
        kind,
        name,
        namespace,
        data,
        sops,
    )


def source_of(row: DocRow) -> Source:
    return Source(row[0], row[1], row[2], row[3], row[4])


def scan(tasks: list[Task], store: SchemaStore | None, pruned: bool) -> dict[str, Any]:
    """Read and check ``tasks``; ``store`` None reads only (another engine checks schemas)."""
    docs: list[DocRow] = []
    violations_found: list[tuple[int, tuple[str | int, ...], str, str, str | None]] = []  # ..., CEL rule
    errors: list[tuple[str, str, int | None, str]] = []  # path, shown, line, message
    missing: dict[tuple[str, str], list[Any]] = {}
    problems: dict[tuple[str, str], tuple[int, list[str]]] = {}  # CEL rules a kind's schema cannot evaluate
    for task in tasks:
        documents, read_errors = parse_stream(Path(task.path), task.shown)
        errors += [(task.path, e.shown, e.line, e.message) for e in read_errors]
        for document in documents:
            head = header(document.data)
            if isinstance(head, str):
                errors.append((task.path, task.shown, document.source.line_of(()), head))
                continue
            data = document.data
            sops = is_sops(data)
            if sops:
                data = without_sops(data)
            number = len(docs)
            if not task.check_schema:
                docs.append(doc_row(document, head, None, sops))
                continue
            docs.append(doc_row(document, head, prune(head[0], head[1], data) if pruned else data, sops))
            if store is None:
                continue
            lookup = store.for_kind(head[0], head[1])
            validator = lookup.validator
            if validator is None:
                entry = missing.setdefault((head[0], head[1]), [0, number, lookup.unavailable, lookup.broken])
                entry[0] += 1
                continue
            try:
                valid = validator.is_valid(data)  # the common case, without a generator per document
            except ValueError:
                valid = False  # a key that is not a string: violations() deals with it
            if not valid:
                for path, severity, message in violations(validator, data, sops, hides_values(head[0], head[1])):
                    violations_found.append((number, path, severity.value, message, None))
            if lookup.rules is not None:
                if (head[0], head[1]) not in problems:
                    problems[(head[0], head[1])] = (number, rule_problems(lookup))
                for path, severity, message, rule in rule_violations(lookup, data, valid, sops):
                    violations_found.append((number, path, severity.value, message, rule))
    return {"docs": docs, "violations": violations_found, "errors": errors, "missing": missing, "problems": problems}
