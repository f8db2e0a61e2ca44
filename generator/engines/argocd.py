"""The ArgoCD layout: an app of apps over the same app folders Flux uses.

argocd/root.yaml                            the AppProject and the root Application (applied once by hand)
argocd/apps/<app>.yaml                      one Application per app, in sync waves
kubernetes/apps/<ns>/<app>/app/*.yaml       what the app deploys: the same files as under Flux
kubernetes/apps/<ns>/<app>/app/ksops.yaml   with sops: the KSOPS generator of the app's Secrets

Charts are sources of their Applications (values inline as ``valuesObject``); an app's own
manifests come from its folder. An app holding a pre-sync hook is applied by its host's
Application in the PreSync phase (see generator.engines.order). Applications the user writes under
argocd/ are synced by the root Application as they are; the AppProject admits those naming its
project (generator.userapps.discover).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from functools import cache
from typing import Any

import yaml

from generator.engines.appdir import app_dir, render_manifest, shared_files
from generator.engines.order import Order, sync_order
from generator.errors import ClusterforgeError
from generator.outputs import OutputFile, PlainFile
from generator.render import render
from generator.secrets.providers import SecretProvider
from generator.settings.models import Settings
from generator.stack import App, Chart, Stack

ARGOCD = "argocd"
ROOT_FILE = f"{ARGOCD}/root.yaml"
ROOT_APPLICATION = "cluster-apps"  # the name of Flux's root Kustomization too
IN_CLUSTER = "https://kubernetes.default.svc"  # where ArgoCD itself runs: the Applications live there
KSOPS_FILE = "ksops.yaml"
# a failed sync is tried again for about an hour (a CRD or webhook still starting), then waits for a new commit
RETRY = {"limit": 10, "backoff": {"duration": "30s", "factor": 2, "maxDuration": "10m"}}


@cache
def namespace_labels() -> dict[str, str]:
    """The labels of the namespaces clusterforge owns: the very ones Flux's namespace.yaml carries."""
    document = yaml.safe_load(render("flux/namespace.yaml.j2", namespace="any"))
    return dict(document["metadata"]["labels"])


def chart_source(app: App, chart: Chart) -> dict[str, Any]:
    """A Helm chart as an Application source. OCI registries are written without oci://, which
    every ArgoCD since 2.x reads as an OCI Helm repository."""
    if chart.values_from:  # refused by the settings checks: ArgoCD renders charts where no Secret is
        raise ClusterforgeError(f"app {app.name}: ArgoCD cannot take Helm values from a Secret")
    helm: dict[str, Any] = {"releaseName": app.name}
    if chart.crds == "skip":
        helm["skipCrds"] = True
    if chart.values:
        helm["valuesObject"] = dict(chart.values)
    return {
        "repoURL": chart.repository.removeprefix("oci://"),
        "chart": chart.name,
        "targetRevision": chart.version,
        "helm": helm,
    }


@dataclass(frozen=True)
class HookTarget:
    """The object of a hook manifest, as a kustomize patch target."""

    api_version: str
    kind: str
    name: str

    @property
    def selector(self) -> dict[str, str]:
        group, _, version = self.api_version.rpartition("/")
        return {**({"group": group} if group else {}), "version": version, "kind": self.kind, "name": self.name}


def hook_targets(app: App) -> list[HookTarget]:
    targets = []
    for manifest in app.manifests:
        if manifest.hook != "pre-sync":
            continue
        for document in yaml.safe_load_all(render_manifest(app, manifest)):
            if isinstance(document, dict):
                metadata = document.get("metadata") or {}
                targets.append(HookTarget(str(document["apiVersion"]), str(document["kind"]), str(metadata["name"])))
    return targets


class ArgoCDEngine:
    name = "argocd"

    def layout(self, stack: Stack, settings: Settings, provider: SecretProvider) -> list[OutputFile]:
        order = sync_order(stack)
        repo_path = settings.gitops.path
        files: list[OutputFile] = [self._root(stack, settings)]
        for app in sorted(stack.apps, key=lambda a: a.name):
            files += self._folder(stack, app, order, provider)
            if app.name not in order.hosts:
                owned = stack.owned(app.namespace)
                files.append(self._application(app, order, settings, f"{repo_path}/{app_dir(app)}", owned))
        files += [PlainFile(f"docs/{doc.filename}", doc.text, doc.header) for doc in stack.documents]
        return files

    def _root(self, stack: Stack, settings: Settings) -> PlainFile:
        gitops = settings.gitops
        charts = {chart_source(a, a.chart)["repoURL"] for a in stack.apps if a.chart is not None}
        # the user's own Applications in this project: the AppProject admits where they deploy from and to
        own = [a for a in stack.handwritten.applications if a.project == gitops.argocd.project]
        repositories = (charts | {r for a in own for r in a.repositories}) - {gitops.repository}
        namespaces = set(stack.namespaces)
        other_destinations: list[dict[str, str]] = []
        for destination in sorted({a.destination for a in own if a.destination and a.destination.namespace}, key=str):
            if destination.namespace == gitops.argocd.namespace and destination.server in (None, IN_CLUSTER):
                continue  # admitted already: the Applications themselves live there
            if destination.name is None and destination.server in (None, gitops.argocd.destination):
                namespaces.add(destination.namespace)
            else:
                where = {"name": destination.name} if destination.name else {"server": str(destination.server)}
                other_destinations.append({**where, "namespace": destination.namespace})
        text = render(
            "argocd/root.yaml.j2",
            argocd=gitops.argocd,
            cluster=settings.cluster.name,
            source_repos=[gitops.repository, *sorted(repositories)],
            namespaces=sorted(namespaces),
            other_destinations=other_destinations,
            in_cluster=IN_CLUSTER,
            root_file=f"{gitops.path}/{ROOT_FILE}",
            root_name=ROOT_APPLICATION,
            apps_path=f"{gitops.path}/{ARGOCD}/apps",
            repository=gitops.repository,
            branch=gitops.branch,
            argocd_path=f"{gitops.path}/{ARGOCD}",
            retry=RETRY,
        )
        return PlainFile(ROOT_FILE, text)

    def _application(self, app: App, order: Order, settings: Settings, path: str, owned: bool) -> PlainFile:
        """``owned``: the stack owns the app's namespace (some app of it does), so any Application
        deploying there may create it, with the same labels, as Flux's namespace.yaml does."""
        gitops = settings.gitops
        sources = [chart_source(app, app.chart)] if app.chart is not None else []
        if app.manifests or app.secrets or order.hooked(app.name):
            sources.append({"repoURL": gitops.repository, "targetRevision": gitops.branch, "path": path})
        if not sources:
            raise ClusterforgeError(f"app {app.name} deploys nothing: it has neither a chart nor manifests")
        options = ["CreateNamespace=true"] if owned else []
        if app.chart is not None:
            # CRDs too large for the last-applied annotation of a client-side apply; webhook CA bundles
            # the operators inject stay theirs
            options += ["ServerSideApply=true", "RespectIgnoreDifferences=true"]
        text = render(
            "argocd/application.yaml.j2",
            app=app,
            argocd=gitops.argocd,
            wave=order.waves[app.name],
            needs=order.needs[app.name],
            sources=sources,
            hooked=order.hooked(app.name),
            chart=app.chart is not None,
            sync_options=options,
            namespace_labels=namespace_labels() if owned else None,
            retry=RETRY,
        )
        return PlainFile(f"{ARGOCD}/apps/{app.name}.yaml", text)

    def _folder(self, stack: Stack, app: App, order: Order, provider: SecretProvider) -> list[OutputFile]:
        """The app's folder: its manifests and secrets, a KSOPS generator with sops, and a kustomization
        that takes in the folders of the hooks this app's Application runs."""
        hooked = order.hooked(app.name)
        if not (app.manifests or app.secrets or hooked):
            return []
        base = app_dir(app)
        files = shared_files(app, provider)
        names = sorted(f.path.rsplit("/", 1)[1] for f in files)
        encrypted = sorted(provider.filename(spec) for spec in app.secrets) if provider.name == "sops" else []
        resources = [f"./{n}" for n in names if n not in encrypted]
        resources += [posixpath.relpath(app_dir(stack.app(h)), base) for h in hooked]
        if encrypted:
            files.append(
                PlainFile(
                    f"{base}/{KSOPS_FILE}",
                    render("argocd/ksops.yaml.j2", name=f"{app.name}-secrets", files=encrypted),
                )
            )
        hook = {"host": order.hosts[app.name], "last": hook_targets(app)} if app.name in order.hosts else None
        kustomization = render(
            "argocd/kustomization.yaml.j2",
            resources=resources,
            ksops=KSOPS_FILE if encrypted else None,
            hook=hook,
        )
        files.append(PlainFile(f"{base}/kustomization.yaml", kustomization))
        return files
