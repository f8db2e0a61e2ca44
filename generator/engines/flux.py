"""The Flux layout of the community cluster-template.

kubernetes/flux/cluster/ks.yaml             root Kustomization, decrypts every child
kubernetes/apps/kustomization.yaml          every namespace folder
kubernetes/apps/<ns>/kustomization.yaml     the namespace and its apps' Kustomizations
kubernetes/apps/<ns>/<app>/ks.yaml          a Flux Kustomization for the app
kubernetes/apps/<ns>/<app>/app/*.yaml       what the app deploys

Namespace and app folders of the user's (generator.userapps.discover) are listed beside the generated
ones; nothing is written into them.
"""

from __future__ import annotations

from generator.engines.appdir import ROOT, shared_files
from generator.outputs import OutputFile, PlainFile
from generator.render import render
from generator.secrets.providers import SecretProvider
from generator.settings.models import Settings
from generator.stack import App, Stack


class FluxEngine:
    name = "flux"

    def layout(self, stack: Stack, settings: Settings, provider: SecretProvider) -> list[OutputFile]:
        repo_root = f"{settings.gitops.path}/{ROOT}"
        own = stack.handwritten  # folders of the user's: listed here, never written into
        files: list[OutputFile] = [
            PlainFile(
                f"{ROOT}/flux/cluster/ks.yaml",
                render("flux/cluster-ks.yaml.j2", root_path=repo_root, sops=provider.name == "sops"),
            ),
            PlainFile(
                f"{ROOT}/apps/kustomization.yaml",
                render(
                    "flux/kustomization.yaml.j2",
                    resources=[f"./{ns}" for ns in sorted({*stack.namespaces, *own.namespaces, *own.app_namespaces})],
                ),
            ),
        ]
        for namespace in sorted({*stack.namespaces, *own.app_namespaces} - set(own.namespaces)):
            apps = stack.in_namespace(namespace)
            base = f"{ROOT}/apps/{namespace}"
            names = sorted({*(app.name for app in apps), *own.apps_in(namespace)})
            resources = [f"./{name}/ks.yaml" for name in names]
            if stack.owned(namespace):
                files.append(PlainFile(f"{base}/namespace.yaml", render("flux/namespace.yaml.j2", namespace=namespace)))
                resources.insert(0, "./namespace.yaml")
            files.append(
                PlainFile(f"{base}/kustomization.yaml", render("flux/kustomization.yaml.j2", resources=resources))
            )
            for app in apps:
                files += self._app(app, f"{base}/{app.name}", f"{repo_root}/apps/{namespace}/{app.name}/app", provider)
        files += [PlainFile(f"docs/{doc.filename}", doc.text, doc.header) for doc in stack.documents]
        return files

    def _app(self, app: App, base: str, repo_path: str, provider: SecretProvider) -> list[OutputFile]:
        files: list[OutputFile] = [PlainFile(f"{base}/ks.yaml", render("flux/ks.yaml.j2", app=app, path=repo_path))]
        app_files: list[OutputFile] = []
        if app.chart is not None:
            source = "flux/ocirepository.yaml.j2" if app.chart.is_oci else "flux/helmrepository.yaml.j2"
            source_file = "ocirepository.yaml" if app.chart.is_oci else "helmrepository.yaml"
            app_files.append(PlainFile(f"{base}/app/{source_file}", render(source, app=app, chart=app.chart)))
            app_files.append(
                PlainFile(
                    f"{base}/app/helmrelease.yaml",
                    render("flux/helmrelease.yaml.j2", app=app, chart=app.chart),
                )
            )
        app_files += shared_files(app, provider)  # the same files, at the same paths, under ArgoCD
        names = sorted(f.path.rsplit("/", 1)[1] for f in app_files)
        files.append(
            PlainFile(
                f"{base}/app/kustomization.yaml",
                render("flux/kustomization.yaml.j2", resources=[f"./{n}" for n in names]),
            )
        )
        return files + app_files
