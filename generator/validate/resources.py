"""Every object the repository deploys, with the namespace it ends up in, indexed for the cross-checks.

How a namespace is known, first rule that applies:

1. cluster-scoped kinds have none;
2. the Flux Kustomization with the longest ``path`` that holds the object's file (for an object from
   a kustomize build: the built folder) and sets ``targetNamespace``: that namespace, as Flux
   overrides every namespaced object;
3. ``metadata.namespace`` as written, or as ``kubectl kustomize`` set it from the kustomization's
   ``namespace:`` (an object from a build carries what the build gave it);
4. the ArgoCD Application with the longest source ``path`` that holds it: its destination namespace;
5. ``default``, where Flux, ArgoCD and kubectl put a namespaced object that names none.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from generator.errors import KeyPath, dotted
from generator.validate.documents import Source
from generator.validate.model import Finding, Severity, resource_id
from generator.validate.repo import Repo, clean_path, contains

FLUX_SOURCE = "source.toolkit.fluxcd.io"
FLUX_KUSTOMIZE = "kustomize.toolkit.fluxcd.io"
FLUX_HELM = "helm.toolkit.fluxcd.io"
ARGOCD = "argoproj.io"
GATEWAY = "gateway.networking.k8s.io"

CLUSTER_SCOPED = frozenset(
    {
        ("", "Namespace"),
        ("", "Node"),
        ("", "PersistentVolume"),
        ("rbac.authorization.k8s.io", "ClusterRole"),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
        ("apiextensions.k8s.io", "CustomResourceDefinition"),
        ("apiregistration.k8s.io", "APIService"),
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
        ("storage.k8s.io", "StorageClass"),
        ("storage.k8s.io", "CSIDriver"),
        ("storage.k8s.io", "CSINode"),
        ("storage.k8s.io", "VolumeAttachment"),
        ("scheduling.k8s.io", "PriorityClass"),
        ("networking.k8s.io", "IngressClass"),
        ("node.k8s.io", "RuntimeClass"),
        ("certificates.k8s.io", "CertificateSigningRequest"),
        ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
        ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
        ("resource.k8s.io", "DeviceClass"),
        (GATEWAY, "GatewayClass"),
        ("cert-manager.io", "ClusterIssuer"),
        ("cilium.io", "CiliumClusterwideNetworkPolicy"),
        ("external-secrets.io", "ClusterSecretStore"),
        ("external-secrets.io", "ClusterExternalSecret"),
        ("kyverno.io", "ClusterPolicy"),
    }
)

POD_SPECS: dict[str, KeyPath] = {
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "Pod": ("spec",),
}
POD_GROUPS = frozenset({"", "apps", "batch"})


def group_of(api_version: str) -> str:
    return api_version.rpartition("/")[0]


def dig(data: Any, path: KeyPath) -> Any:
    """The value at ``path``, or None where the path leads nowhere (exact type checks: a hot path)."""
    for key in path:
        if type(data) is dict:
            data = data.get(key)
        elif type(data) is list and type(key) is int and 0 <= key < len(data):
            data = data[key]
        else:
            return None
    return data


def pod_template_labels(kind: str, data: Any) -> dict[str, str] | None:
    """The labels of the pods a workload makes, or None for a kind that makes none."""
    if kind == "Pod":
        labels = dig(data, ("metadata", "labels"))
    elif kind == "CronJob":
        labels = dig(data, ("spec", "jobTemplate", "spec", "template", "metadata", "labels"))
    elif kind in POD_SPECS:
        labels = dig(data, ("spec", "template", "metadata", "labels"))
    else:
        return None
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}


@dataclass(slots=True)
class Resource:
    group: str
    kind: str
    name: str
    declared: str | None  # metadata.namespace, as written or as the build set it
    data: dict[str, Any]
    source: Source | None  # the document it was written as, when known
    shown: str  # where to point when there is no source document (a generated object)
    file: str | None  # absolute path of the file it came from (for a generated object, its kustomization)
    build_root: str | None = None  # absolute path of the kustomization folder whose build produced it
    namespace: str = ""  # effective; see the module docstring

    @property
    def id(self) -> str:
        return resource_id(self.kind, self.namespace, self.name)

    def finding(
        self,
        path: KeyPath,
        message: str,
        severity: Severity = Severity.ERROR,
        *,
        shown: KeyPath | None = None,
        rule: str | None = None,
    ) -> Finding:
        """A finding at ``path`` (its line), the message led by the path (or by ``shown`` when given)."""
        where = dotted(path if shown is None else shown)
        text = f"{where}: {message}" if where else message
        if self.source is None:
            return Finding(self.shown, None, self.id, severity, text, rule)
        return Finding(self.source.shown, self.source.line_of(path), self.id, severity, text, rule)

    def get(self, *path: str | int) -> Any:
        return dig(self.data, path)


Key = tuple[str, str, str, str]  # group, kind, namespace, name


class Inventory:
    """The objects by id and by kind, each once (a second definition is reported).

    Checks look objects up in all of it, but each process of a parallel run checks only its
    share: ``to_check`` gives every ``parts``-th object of a kind, starting at ``part``.
    """

    def __init__(self, resources: list[Resource]) -> None:
        self.resources = resources
        self.part, self.parts = 0, 1
        self.by_key: dict[Key, Resource] = {}
        self.duplicates: list[tuple[Resource, Resource]] = []
        self.by_kind: Kinds = defaultdict(list)
        for resource in resources:
            key = (resource.group, resource.kind, resource.namespace, resource.name)
            if key in self.by_key:
                self.duplicates.append((self.by_key[key], resource))
                continue
            self.by_key[key] = resource
            self.by_kind[(resource.group, resource.kind)].append(resource)

    def get(self, group: str, kind: str, namespace: str, name: str) -> Resource | None:
        return self.by_key.get((group, kind, namespace, name))

    def of_kind(self, group: str, kind: str) -> list[Resource]:
        return self.by_kind.get((group, kind), [])

    def to_check(self, group: str, kind: str) -> list[Resource]:
        return self.of_kind(group, kind)[self.part :: self.parts]

    @property
    def first_part(self) -> bool:
        """Whether this process also runs the checks over everything at once (cycles, duplicates)."""
        return self.part == 0


Kinds = dict[tuple[str, str], list[Resource]]  # objects by (group, kind)


def by_kind(resources: list[Resource]) -> Kinds:
    kinds: Kinds = defaultdict(list)
    for resource in resources:
        kinds[(resource.group, resource.kind)].append(resource)
    return kinds


def cluster_scoped_kinds(kinds: Kinds) -> set[tuple[str, str]]:
    """The built-in cluster-scoped kinds and those of the CRDs in the tree with ``scope: Cluster``."""
    scoped = set(CLUSTER_SCOPED)
    for resource in kinds.get(("apiextensions.k8s.io", "CustomResourceDefinition"), []):
        if resource.get("spec", "scope") == "Cluster":
            group, kind = resource.get("spec", "group"), resource.get("spec", "names", "kind")
            if isinstance(group, str) and isinstance(kind, str):
                scoped.add((group, kind))
    return scoped


def resolve_namespaces(resources: list[Resource], kinds: Kinds, repo: Repo) -> None:
    """Set each object's effective namespace; see the module docstring for the rules."""
    scoped = cluster_scoped_kinds(kinds)
    flux = flux_scopes(kinds, repo)
    argo = argo_scopes(kinds, repo)
    folders: dict[str | None, str | None] = {None: None}  # a folder's path in the repository, once per folder
    for resource in resources:
        if (resource.group, resource.kind) in scoped:
            resource.namespace = ""
            continue
        target = where = None
        if flux or argo:
            folder = resource.build_root or (resource.file.rpartition("/")[0] if resource.file else None)
            if folder not in folders:
                folders[folder] = repo.relative(folder) if folder is not None else None
            where = folders[folder]
            target = _deepest(flux, where)
        if target:
            resource.namespace = target
        elif resource.declared:
            resource.namespace = resource.declared
        else:
            resource.namespace = _deepest(argo, where) or "default"


def _deepest(scopes: list[tuple[str, str | None]], location: str | None) -> str | None:
    if location is None:
        return None
    best: tuple[int, str | None] | None = None
    for folder, namespace in scopes:
        if contains(folder, location) and (best is None or len(folder) > best[0]):
            best = (len(folder), namespace)
    return best[1] if best else None


def flux_source_is_this_repo(
    kustomization: Resource, resources_by_name: dict[tuple[str, str], Resource], repo: Repo
) -> bool:
    """Whether a Flux Kustomization's source is the repository being validated.

    ``GitRepository/flux-system/flux-system`` is made by ``flux bootstrap`` for this repository and
    is taken as existing when the tree does not hold it (as flux-local does).
    """
    ref = kustomization.get("spec", "sourceRef")
    if not isinstance(ref, dict) or ref.get("kind") != "GitRepository":
        return False
    name = str(ref.get("name", ""))
    namespace = str(ref.get("namespace") or kustomization.declared or kustomization.namespace or "")
    source = resources_by_name.get((namespace, name))
    if source is None:
        return name == "flux-system" or not repo.urls
    return repo.is_this(source.get("spec", "url"))


def git_repositories(kinds: Kinds) -> dict[tuple[str, str], Resource]:
    """Flux GitRepositories by (namespace as written, name)."""
    return {(r.declared or r.namespace or "", r.name): r for r in kinds.get((FLUX_SOURCE, "GitRepository"), [])}


def flux_scopes(kinds: Kinds, repo: Repo) -> list[tuple[str, str | None]]:
    """(folder, targetNamespace) of every Flux Kustomization that applies a folder of this repository."""
    sources = git_repositories(kinds)
    scopes = []
    for resource in kinds.get((FLUX_KUSTOMIZE, "Kustomization"), []):
        if not flux_source_is_this_repo(resource, sources, repo):
            continue
        path = resource.get("spec", "path")
        target = resource.get("spec", "targetNamespace")
        scopes.append((clean_path(path if isinstance(path, str) else ""), target if isinstance(target, str) else None))
    return scopes


def argo_sources(resource: Resource) -> list[tuple[KeyPath, dict[str, Any]]]:
    """(path, source) of each source of an ArgoCD Application: ``spec.source`` and ``spec.sources[]``."""
    found: list[tuple[KeyPath, dict[str, Any]]] = []
    single = resource.get("spec", "source")
    if isinstance(single, dict):
        found.append((("spec", "source"), single))
    many = resource.get("spec", "sources")
    for index, item in enumerate(many if isinstance(many, list) else []):
        if isinstance(item, dict):
            found.append((("spec", "sources", index), item))
    return found


def argo_scopes(kinds: Kinds, repo: Repo) -> list[tuple[str, str | None]]:
    """(folder, destination namespace) of every ArgoCD Application source in this repository."""
    scopes = []
    for resource in kinds.get((ARGOCD, "Application"), []):
        namespace = resource.get("spec", "destination", "namespace")
        for _, source in argo_sources(resource):
            path = source.get("path")
            if isinstance(path, str) and repo.is_this(source.get("repoURL")):
                scopes.append((clean_path(path), namespace if isinstance(namespace, str) else None))
    return scopes


def helm_value_files(kinds: Kinds, repo: Repo) -> set[str]:
    """Absolute paths of the files in this repository that ArgoCD Applications and Flux HelmReleases
    give Helm as values files (``$values/...``, or relative to the chart's path)."""
    found: set[str] = set()
    for application in kinds.get((ARGOCD, "Application"), []):
        found.update(str(repo.root / clean_path(path)) for path in _argo_value_files(application, repo))
    for release in kinds.get((FLUX_HELM, "HelmRelease"), []):
        files = release.get("spec", "chart", "spec", "valuesFiles")
        from_git = release.get("spec", "chart", "spec", "sourceRef", "kind") == "GitRepository"
        if isinstance(files, list) and from_git:
            found.update(str(repo.root / clean_path(name)) for name in files if isinstance(name, str))
    return found


def _argo_value_files(application: Resource, repo: Repo) -> Iterator[str]:
    sources = [source for _, source in argo_sources(application)]
    for source in sources:
        helm = source.get("helm")
        files = helm.get("valueFiles") if isinstance(helm, dict) else None
        for name in files if isinstance(files, list) else []:
            if not isinstance(name, str):
                continue
            if name.startswith("$"):  # $ref/path: a path in the source whose ``ref`` is that name
                ref, _, rest = name[1:].partition("/")
                if any(s.get("ref") == ref and repo.is_this(s.get("repoURL")) for s in sources):
                    yield rest
            elif isinstance(source.get("path"), str) and repo.is_this(source.get("repoURL")):
                yield f"{source['path']}/{name}"


# The parts of each kind the cross-checks read: a worker process sends only these back.
_SPEC_KEYS: dict[tuple[str, str], tuple[str, ...]] = {
    (FLUX_SOURCE, "OCIRepository"): ("url", "ref"),
    (FLUX_SOURCE, "GitRepository"): ("url",),
    (FLUX_SOURCE, "HelmRepository"): ("url",),
    (FLUX_SOURCE, "HelmChart"): ("chart", "version"),
    (FLUX_HELM, "HelmRelease"): (
        "chartRef",
        "chart",
        "dependsOn",
        "valuesFrom",
        "values",
        "releaseName",
        "targetNamespace",
    ),
    (FLUX_KUSTOMIZE, "Kustomization"): ("sourceRef", "dependsOn", "path", "targetNamespace", "postBuild"),
    ("", "Service"): ("selector", "ports"),
    ("monitoring.coreos.com", "ServiceMonitor"): ("selector", "namespaceSelector", "endpoints"),
}
_KEEP_WHOLE_GROUPS = frozenset(
    {ARGOCD, GATEWAY, "networking.k8s.io", "cilium.io", "bitnami.com", "external-secrets.io", "cert-manager.io"}
    | {"postgresql.cnpg.io", "apiextensions.k8s.io", FLUX_SOURCE, FLUX_KUSTOMIZE, FLUX_HELM, "monitoring.coreos.com"}
)
_CONTAINER_KEYS = ("env", "envFrom")


def prune(api_version: str, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """What the cross-checks read of a document, in the same shape (so paths and lines still hold)."""
    group = group_of(api_version)
    keys = _SPEC_KEYS.get((group, kind))
    if keys is None and group in _KEEP_WHOLE_GROUPS:
        return data
    metadata = data.get("metadata")
    kept: dict[str, Any] = {"apiVersion": api_version, "kind": kind}
    if isinstance(metadata, dict):
        kept["metadata"] = {k: metadata[k] for k in ("name", "namespace", "labels") if k in metadata}
    spec = data.get("spec")
    if keys is not None and isinstance(spec, dict):
        kept["spec"] = {k: spec[k] for k in keys if k in spec}
    elif group in POD_GROUPS and kind in POD_SPECS:
        _keep_pod(data, kept, POD_SPECS[kind])
    elif group == "" and kind in ("ConfigMap", "Secret"):
        for key in ("data", "stringData", "binaryData"):
            if isinstance(data.get(key), dict):
                kept[key] = dict.fromkeys(data[key], "")
    return kept


def _keep_pod(data: dict[str, Any], kept: dict[str, Any], spec_path: KeyPath) -> None:
    """Copy the path down to the pod spec, then only containers' env/ports and volumes."""
    source: Any = data
    target: dict[Any, Any] = kept
    for key in spec_path[:-1]:
        source = source.get(key) if isinstance(source, dict) else None
        if not isinstance(source, dict):
            return
        target = target.setdefault(key, {})
        if "metadata" in source and isinstance(source["metadata"], dict) and "labels" in source["metadata"]:
            target["metadata"] = {"labels": source["metadata"]["labels"]}
    spec = source.get(spec_path[-1]) if isinstance(source, dict) else None
    if not isinstance(spec, dict):
        return
    pruned: dict[str, Any] = {}
    for key in ("containers", "initContainers", "ephemeralContainers"):
        if isinstance(spec.get(key), list):
            pruned[key] = [_keep_container(c) for c in spec[key]]
    for key in ("volumes", "imagePullSecrets"):
        if key in spec:
            pruned[key] = spec[key]
    target[spec_path[-1]] = pruned


def _keep_container(container: Any) -> Any:
    """A container's env and envFrom; env entries that read no Secret or ConfigMap become None (same indexes)."""
    if not isinstance(container, dict):
        return container
    kept = {k: container[k] for k in _CONTAINER_KEYS if k in container}
    env = kept.get("env")
    if isinstance(env, list):
        kept["env"] = [item if isinstance(item, dict) and "valueFrom" in item else None for item in env]
    return kept
