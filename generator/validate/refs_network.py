"""Traffic references: Gateway API routes to Services (and the ReferenceGrants they need), ServiceMonitor
selectors to Services and their named ports, network policies to the pods they select.

Objects a Helm chart makes are not in the tree. A Service named like a Helm release in its
namespace (the release name, or that name and a suffix) is taken as made by the chart, as is
what a selector picks out with a release name; a namespace with a HelmRelease or with custom
resources (operators make pods) is not warned about for pods its policies select.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from functools import cached_property

from generator.validate.model import Finding, Severity, resource_id
from generator.validate.refs_flux import release_name, release_namespace
from generator.validate.resources import (
    ARGOCD,
    FLUX_HELM,
    GATEWAY,
    Inventory,
    Resource,
    argo_sources,
    pod_template_labels,
)
from generator.validate.selectors import LabelIndex, is_empty, labels_of, selector_values

ROUTE_KINDS = ("HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute", "UDPRoute")
MONITORING = "monitoring.coreos.com"
# groups whose objects make no pods beyond the workloads modelled here
_NO_POD_GROUPS = frozenset(
    {
        "",
        "apps",
        "batch",
        "networking.k8s.io",
        "policy",
        "rbac.authorization.k8s.io",
        "autoscaling",
        "storage.k8s.io",
        "scheduling.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        MONITORING,
        GATEWAY,
        "source.toolkit.fluxcd.io",
        "kustomize.toolkit.fluxcd.io",
        "notification.toolkit.fluxcd.io",
        "image.toolkit.fluxcd.io",
        "bitnami.com",
        "external-secrets.io",
        "cilium.io",
        "cert-manager.io",
    }
)


class Releases:
    """Helm releases by namespace: HelmReleases and ArgoCD Applications of a chart."""

    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory

    @cached_property
    def names(self) -> dict[str, set[str]]:
        """Release names by namespace; gathered only when a Service or selector is not found."""
        inventory = self.inventory
        names: dict[str, set[str]] = defaultdict(set)
        for release in inventory.of_kind(FLUX_HELM, "HelmRelease"):
            names[release_namespace(release)].update({release.name, release_name(release)})
        for application in inventory.of_kind(ARGOCD, "Application"):
            namespace = application.get("spec", "destination", "namespace")
            for _, source in argo_sources(application):
                if source.get("chart") and isinstance(namespace, str):
                    helm = source.get("helm")
                    given = helm.get("releaseName") if isinstance(helm, dict) else None
                    names[namespace].update({application.name, str(given or application.name)})
        return names

    def may_make(self, namespace: str, name: str) -> bool:
        return any(name == r or name.startswith(f"{r}-") for r in self.names.get(namespace, ()))

    def picked_by(self, namespaces: list[str], selector: object) -> bool:
        values = selector_values(selector)
        return any(values & self.names.get(ns, set()) for ns in namespaces)


def check_routes(inventory: Inventory, releases: Releases) -> Iterator[Finding]:
    for kind in ROUTE_KINDS:
        for route in inventory.to_check(GATEWAY, kind):
            rules = route.get("spec", "rules")
            for i, rule in enumerate(rules if isinstance(rules, list) else []):
                backends = rule.get("backendRefs") if isinstance(rule, dict) else None
                for j, backend in enumerate(backends if isinstance(backends, list) else []):
                    if isinstance(backend, dict):
                        yield from _backend(inventory, releases, route, ("spec", "rules", i, "backendRefs", j), backend)


def _backend(
    inventory: Inventory, releases: Releases, route: Resource, path: tuple[str | int, ...], backend: dict[str, object]
) -> Iterator[Finding]:
    if backend.get("group", "") != "" or backend.get("kind", "Service") != "Service":
        return
    name = str(backend.get("name", ""))
    namespace = str(backend.get("namespace") or route.namespace)
    wanted = resource_id("Service", namespace, name)
    if namespace != route.namespace and not _granted(inventory, route, namespace, name):
        allowed = f"no ReferenceGrant in {namespace} lets {route.kind}s from {route.namespace} reach it"
        yield route.finding(path, f"{wanted} is in another namespace and {allowed}")
    service = inventory.get("", "Service", namespace, name)
    if service is None:
        if not releases.may_make(namespace, name):
            yield route.finding(path, f"{wanted} does not exist")
        return
    port = backend.get("port")
    ports = service.get("spec", "ports")
    numbers = [p.get("port") for p in ports if isinstance(p, dict)] if isinstance(ports, list) else []
    if port is not None and port not in numbers:
        have = ", ".join(str(n) for n in numbers) or "none"
        yield route.finding((*path, "port"), f"{wanted} has no port {port} (it has: {have})")


def _granted(inventory: Inventory, route: Resource, namespace: str, name: str) -> bool:
    """Whether a ReferenceGrant in the Service's namespace lets this route's kind and namespace in."""
    for grant in inventory.of_kind(GATEWAY, "ReferenceGrant"):
        if grant.namespace != namespace:
            continue
        froms = grant.get("spec", "from")
        tos = grant.get("spec", "to")
        allowed_from = any(
            isinstance(f, dict)
            and f.get("group") == GATEWAY
            and f.get("kind") == route.kind
            and f.get("namespace") == route.namespace
            for f in (froms if isinstance(froms, list) else [])
        )
        allowed_to = any(
            isinstance(t, dict)
            and t.get("group", "") == ""
            and t.get("kind") == "Service"
            and t.get("name") in (None, "", name)
            for t in (tos if isinstance(tos, list) else [])
        )
        if allowed_from and allowed_to:
            return True
    return False


def check_service_monitors(inventory: Inventory, releases: Releases) -> Iterator[Finding]:
    services: LabelIndex[Resource] = LabelIndex()
    for service in inventory.of_kind("", "Service"):
        services.add(service.namespace, labels_of(service.get("metadata", "labels")), service)
    for monitor in inventory.to_check(MONITORING, "ServiceMonitor"):
        selector = monitor.get("spec", "selector")
        chooser = monitor.get("spec", "namespaceSelector")
        if isinstance(chooser, dict) and chooser.get("any"):
            namespaces = services.namespaces()
        elif isinstance(chooser, dict) and isinstance(chooser.get("matchNames"), list):
            namespaces = [str(n) for n in chooser["matchNames"]]
        else:
            namespaces = [monitor.namespace]
        chosen = [s for ns in namespaces for s in services.select(ns, selector)]
        if not chosen:
            if not releases.picked_by(namespaces, selector):
                where = ", ".join(namespaces) if namespaces else "any namespace"
                yield monitor.finding(("spec", "selector"), f"selects no Service (looked in {where})")
            continue
        names = {str(p.get("name")) for s in chosen for p in (s.get("spec", "ports") or []) if isinstance(p, dict)}
        endpoints = monitor.get("spec", "endpoints")
        for k, endpoint in enumerate(endpoints if isinstance(endpoints, list) else []):
            port = endpoint.get("port") if isinstance(endpoint, dict) else None
            if isinstance(port, str) and port not in names:
                have = ", ".join(sorted(n for n in names if n != "None")) or "none"
                shown = ", ".join(s.id for s in chosen)
                yield monitor.finding(
                    ("spec", "endpoints", k, "port"),
                    f"no selected Service has a port named '{port}' ({shown} has: {have})",
                )


def _cilium_selector(selector: object) -> object:
    """A Cilium endpoint selector as a plain label selector: ``k8s:`` prefixes off, namespace keys dropped."""
    if not isinstance(selector, dict):
        return selector

    def key(k: object) -> str:
        text = str(k)
        for prefix in ("k8s:", "any:"):
            text = text.removeprefix(prefix)
        return text

    def kept(k: str) -> bool:
        return not k.startswith(("io.kubernetes.pod.namespace", "io.cilium."))

    labels = {key(k): v for k, v in labels_of(selector.get("matchLabels")).items() if kept(key(k))}
    expressions = [
        {**e, "key": key(e.get("key"))}
        for e in (selector.get("matchExpressions") or [])
        if isinstance(e, dict) and kept(key(e.get("key")))
    ]
    return {"matchLabels": labels, "matchExpressions": expressions}


def check_network_policies(inventory: Inventory) -> Iterator[Finding]:
    if not inventory.of_kind("networking.k8s.io", "NetworkPolicy") and not inventory.of_kind(
        "cilium.io", "CiliumNetworkPolicy"
    ):
        return
    pods: LabelIndex[bool] = LabelIndex()
    unseen: set[str] = set()  # namespaces where something we cannot see may make pods
    for resource in inventory.resources:
        labels = pod_template_labels(resource.kind, resource.data) if resource.group in ("", "apps", "batch") else None
        if labels is not None:
            pods.add(resource.namespace, labels, True)
        elif resource.group not in _NO_POD_GROUPS:
            unseen.add(resource.namespace)
    for policy in inventory.to_check("networking.k8s.io", "NetworkPolicy"):
        yield from _selects_nothing(policy, ("spec", "podSelector"), policy.get("spec", "podSelector"), pods, unseen)
    for policy in inventory.to_check("cilium.io", "CiliumNetworkPolicy"):
        if isinstance(policy.get("spec"), dict):
            selector = _cilium_selector(policy.get("spec", "endpointSelector"))
            yield from _selects_nothing(policy, ("spec", "endpointSelector"), selector, pods, unseen)
        specs = policy.get("specs")
        for index, spec in enumerate(specs if isinstance(specs, list) else []):
            if isinstance(spec, dict):
                selector = _cilium_selector(spec.get("endpointSelector"))
                yield from _selects_nothing(policy, ("specs", index, "endpointSelector"), selector, pods, unseen)


def _selects_nothing(
    policy: Resource, path: tuple[str | int, ...], selector: object, pods: LabelIndex[bool], unseen: set[str]
) -> Iterator[Finding]:
    if selector is None or is_empty(selector) or policy.namespace in unseen:
        return
    if not pods.select(policy.namespace, selector):
        yield policy.finding(
            path,
            f"selects no workload in namespace {policy.namespace}: the policy applies to nothing",
            Severity.WARNING,
        )
