"""Flux references: sources, dependsOn (and its cycles), paths, valuesFrom and substituteFrom."""

from __future__ import annotations

from collections.abc import Iterator

from generator.errors import KeyPath
from generator.validate.model import Finding, resource_id
from generator.validate.refs_pods import Providers
from generator.validate.repo import Repo
from generator.validate.resources import (
    FLUX_HELM,
    FLUX_KUSTOMIZE,
    FLUX_SOURCE,
    Inventory,
    Resource,
    flux_source_is_this_repo,
    git_repositories,
)

HELMRELEASE_CHART_KINDS = frozenset({"OCIRepository", "HelmChart"})
CHART_SOURCE_KINDS = frozenset({"HelmRepository", "GitRepository", "Bucket"})
KUSTOMIZATION_SOURCE_KINDS = frozenset({"GitRepository", "OCIRepository", "Bucket"})


def bootstrap_source(kind: str, namespace: str, name: str) -> bool:
    """``flux bootstrap`` creates GitRepository/flux-system/flux-system; a tree rarely holds it."""
    return (kind, namespace, name) == ("GitRepository", "flux-system", "flux-system")


def _source(
    inventory: Inventory, owner: Resource, path: KeyPath, ref: object, kinds: frozenset[str]
) -> Iterator[Finding]:
    if not isinstance(ref, dict):
        return
    kind, name = str(ref.get("kind", "")), str(ref.get("name", ""))
    namespace = str(ref.get("namespace") or owner.namespace)
    if kind not in kinds or not name:
        return  # the schema check reports a kind Flux does not take
    if inventory.get(FLUX_SOURCE, kind, namespace, name) is None and not bootstrap_source(kind, namespace, name):
        yield owner.finding(path, f"{resource_id(kind, namespace, name)} does not exist")


def check(inventory: Inventory, repo: Repo, providers: Providers) -> Iterator[Finding]:
    for release in inventory.to_check(FLUX_HELM, "HelmRelease"):
        yield from _source(
            inventory, release, ("spec", "chartRef"), release.get("spec", "chartRef"), HELMRELEASE_CHART_KINDS
        )
        yield from _source(
            inventory,
            release,
            ("spec", "chart", "spec", "sourceRef"),
            release.get("spec", "chart", "spec", "sourceRef"),
            CHART_SOURCE_KINDS,
        )
        yield from _depends_on(inventory, release, FLUX_HELM, "HelmRelease")
        values_from = release.get("spec", "valuesFrom")
        for index, item in enumerate(values_from if isinstance(values_from, list) else []):
            if isinstance(item, dict):
                key = item.get("valuesKey") or "values.yaml"
                yield from providers.check_ref(
                    release, ("spec", "valuesFrom", index), release.namespace, item.get("kind"), item, key
                )
    sources = git_repositories(inventory.by_kind)
    for kustomization in inventory.to_check(FLUX_KUSTOMIZE, "Kustomization"):
        yield from _source(
            inventory,
            kustomization,
            ("spec", "sourceRef"),
            kustomization.get("spec", "sourceRef"),
            KUSTOMIZATION_SOURCE_KINDS,
        )
        yield from _depends_on(inventory, kustomization, FLUX_KUSTOMIZE, "Kustomization")
        path = kustomization.get("spec", "path")
        if flux_source_is_this_repo(kustomization, sources, repo):
            shown = path if isinstance(path, str) else "./"
            if not repo.has_dir(shown):
                yield kustomization.finding(("spec", "path"), f"{shown} does not exist in the repository")
        substitute = kustomization.get("spec", "postBuild", "substituteFrom")
        for index, item in enumerate(substitute if isinstance(substitute, list) else []):
            if isinstance(item, dict):
                yield from providers.check_ref(
                    kustomization,
                    ("spec", "postBuild", "substituteFrom", index),
                    kustomization.namespace,
                    item.get("kind"),
                    item,
                    None,
                )
    if inventory.first_part:
        yield from _cycles(inventory, FLUX_KUSTOMIZE, "Kustomization")
        yield from _cycles(inventory, FLUX_HELM, "HelmRelease")


def _dependencies(resource: Resource) -> list[tuple[int, str, str]]:
    """(index, namespace, name) of each dependsOn entry."""
    found = []
    entries = resource.get("spec", "dependsOn")
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        if isinstance(entry, dict) and entry.get("name"):
            found.append((index, str(entry.get("namespace") or resource.namespace), str(entry["name"])))
    return found


def _depends_on(inventory: Inventory, resource: Resource, group: str, kind: str) -> Iterator[Finding]:
    for index, namespace, name in _dependencies(resource):
        if inventory.get(group, kind, namespace, name) is None:
            yield resource.finding(("spec", "dependsOn", index), f"{resource_id(kind, namespace, name)} does not exist")


def _cycles(inventory: Inventory, group: str, kind: str) -> Iterator[Finding]:
    """Each dependsOn cycle once, reported on its first member in id order."""
    members = [r for r in inventory.of_kind(group, kind) if r.get("spec", "dependsOn")]
    edges: dict[str, list[str]] = {}
    by_id = {r.id: r for r in members}
    for resource in members:
        edges[resource.id] = [
            resource_id(kind, ns, name)
            for _, ns, name in _dependencies(resource)
            if resource_id(kind, ns, name) in by_id
        ]
    reported: set[frozenset[str]] = set()
    for start in sorted(edges):
        cycle = _cycle_from(start, edges)
        if cycle is None or frozenset(cycle) in reported or min(cycle) != start:
            continue
        reported.add(frozenset(cycle))
        shown = " -> ".join(name.split("/", 1)[1] for name in [*cycle, cycle[0]])
        yield by_id[start].finding(("spec", "dependsOn"), f"cycle: {shown}")


def _cycle_from(start: str, edges: dict[str, list[str]]) -> list[str] | None:
    """A path start -> ... -> start, if there is one (depth-first, neighbours in order)."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        node, trail = stack.pop()
        for nxt in reversed(edges.get(node, [])):
            if nxt == start:
                return trail
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*trail, nxt]))
    return None


def release_name(release: Resource) -> str:
    """The Helm release name Flux uses: spec.releaseName, else [targetNamespace-]name."""
    given = release.get("spec", "releaseName")
    if isinstance(given, str) and given:
        return given
    target = release.get("spec", "targetNamespace")
    return f"{target}-{release.name}" if isinstance(target, str) and target else release.name


def release_namespace(release: Resource) -> str:
    target = release.get("spec", "targetNamespace")
    return target if isinstance(target, str) and target else release.namespace
