"""What validation takes (options) and gives back (a report of findings)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from generator.validate.resources import Inventory

DEFAULT_KUBERNETES_VERSION = "1.32"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class MissingSchemas(StrEnum):
    """What a kind without a schema is: `validate` makes it an error, configure a warning."""

    ERROR = "error"
    WARNING = "warning"
    IGNORE = "ignore"


class Engine(StrEnum):
    BUILTIN = "builtin"
    KUBECONFORM = "kubeconform"


@dataclass(frozen=True)
class Finding:
    """One thing wrong, at a place: ``file:line: Kind/namespace/name: message``."""

    file: str
    line: int | None
    resource: str  # "Kind/namespace/name", "Kind/name" when cluster-scoped, "" when not about one resource
    severity: Severity
    message: str
    rule: str | None = None  # the CEL rule (x-kubernetes-validations) the finding is about

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        what = f"warning: {self.message}" if self.severity is Severity.WARNING else self.message
        if self.rule:
            what += f" (rule: {' '.join(self.rule.split())})"
        return f"{where}: {self.resource}: {what}" if self.resource else f"{where}: {what}"

    def as_json(self) -> dict[str, object]:
        found: dict[str, object] = {
            "file": self.file,
            "line": self.line,
            "resource": self.resource,
            "severity": self.severity.value,
            "message": self.message,
        }
        if self.rule:
            found["rule"] = self.rule
        return found


@dataclass(slots=True)
class Options:
    schema_locations: tuple[str, ...] = ()
    bundled_schemas: bool = True  # the CRD schemas clusterforge ships, tried before schema_locations
    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION
    missing_schemas: MissingSchemas = MissingSchemas.ERROR
    engine: Engine = Engine.BUILTIN
    repo_root: Path | None = None  # where Flux and ArgoCD paths start; found from .git when None
    repo_urls: tuple[str, ...] = ()  # URLs naming this repository; read from .git/config when empty
    exclude: tuple[str, ...] = ()  # glob patterns of files not to read, relative to each PATH
    cache_dir: Path | None = None  # downloaded and derived schemas; see schemas.cache_dir()
    jobs: int = 0  # worker processes for reading and schema checks; 0 picks by input size
    shown_as: tuple[Path, str] | None = None  # show files under this folder with this prefix instead
    skip_cel: bool = False  # leave the schemas' x-kubernetes-validations rules out


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    files: int = 0
    resources: int = 0
    kustomizations: int = 0
    unchecked: Counter[str] = field(default_factory=Counter)  # kinds left without a schema check
    inventory: Inventory | None = None  # every object as deployed, namespaces resolved

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity is Severity.ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity is Severity.WARNING)

    def failed(self, strict: bool) -> bool:
        return self.errors > 0 or (strict and self.warnings > 0)

    def sorted_findings(self) -> list[Finding]:
        return sorted(set(self.findings), key=lambda f: (f.file, f.line or 0, f.resource, f.message))

    def summary(self) -> str:
        return (
            f"{_count(self.errors, 'error')}, {_count(self.warnings, 'warning')} "
            f"in {_count(self.files, 'file')} ({_count(self.resources, 'resource')}, "
            f"{_count(self.kustomizations, 'kustomization')} built)"
        )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def resource_id(kind: str, namespace: str, name: str) -> str:
    return f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"
