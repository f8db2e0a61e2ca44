"""What runs in the cluster, independent of the GitOps engine that delivers it.

The stack is a list of apps: operators installed from their upstream charts, and the
plain manifests clusterforge designs itself (database, cache, LiteLLM and what surrounds
it). Engines only decide how an app is laid out and ordered in git. The apps themselves
are built in generator/apps/, the charts users declare in generator/userapps/.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from generator.secrets.values import SecretValue
from generator.userapps.discover import HandWritten


@dataclass(frozen=True)
class Chart:
    """An upstream Helm chart an operator comes from."""

    name: str
    repository: str  # oci://host/path (the chart is repository/name) or an https:// Helm repository
    version: str
    values: Mapping[str, Any] = field(default_factory=dict)
    crds: Literal["create-replace", "skip"] = "create-replace"  # the chart's crds/ folder
    # Secrets in the release's namespace whose `values.yaml` Flux merges into the values (valuesFrom)
    values_from: tuple[str, ...] = ()

    @property
    def is_oci(self) -> bool:
        return self.repository.startswith("oci://")


@dataclass(frozen=True)
class Manifest:
    filename: str
    template: str
    context: Mapping[str, Any] = field(default_factory=dict)
    # a Job that must finish before the rest of its app's dependents change (ArgoCD: a PreSync hook)
    hook: Literal["pre-sync"] | None = None


@dataclass(frozen=True)
class SecretSpec:
    """A Secret's content, made from the secrets file; the provider decides what reaches git for it."""

    basename: str  # the file is <basename>.<provider suffix>
    name: str
    namespace: str
    string_data: Mapping[str, SecretValue]
    type: str = "Opaque"
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def secret_names(self) -> list[str]:
        """The secrets-file keys this Secret is made from, each once."""
        return list(dict.fromkeys(n for v in self.string_data.values() for n in v.names))


@dataclass(frozen=True)
class App:
    name: str
    namespace: str
    manifests: tuple[Manifest, ...] = ()
    secrets: tuple[SecretSpec, ...] = ()
    chart: Chart | None = None
    depends_on: tuple[str, ...] = ()
    wait: bool = True
    timeout: str = "5m"
    # False for a namespace another stack manages (a gateway's, a model server's): never rendered
    owns_namespace: bool = True


@dataclass(frozen=True)
class Document:
    """A file for people, not the cluster, e.g. the backup bucket's policy (under docs/)."""

    filename: str
    text: str
    header: bool = True  # False for formats without comments (JSON carries its marker itself)


@dataclass(frozen=True)
class Stack:
    apps: tuple[App, ...]
    documents: tuple[Document, ...] = ()
    # the apps people wrote by hand in the tree, which the engines' entry points take in
    handwritten: HandWritten = field(default_factory=HandWritten)

    @property
    def namespaces(self) -> list[str]:
        return sorted({app.namespace for app in self.apps})

    def owned(self, namespace: str) -> bool:
        return any(a.owns_namespace for a in self.apps if a.namespace == namespace)

    def in_namespace(self, namespace: str) -> list[App]:
        return sorted((a for a in self.apps if a.namespace == namespace), key=lambda a: a.name)

    def app(self, name: str) -> App:
        return next(a for a in self.apps if a.name == name)


def labels(name: str, component: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": "litellm",
        "app.kubernetes.io/managed-by": "clusterforge",
    }


def selector(name: str, component: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/component": component}


def svc(name: str, namespace: str) -> str:
    return f"{name}.{namespace}.svc.cluster.local"
