"""The folder every engine gives an app: kubernetes/apps/<namespace>/<app>/app/.

Flux and ArgoCD put an app's manifests and secret files at the same paths with the same bytes,
so switching engines leaves them where they are; only what points at the folder (and the
folder's kustomization.yaml) is the engine's own.
"""

from __future__ import annotations

from generator.outputs import OutputFile, PlainFile, SecretFile
from generator.render import render
from generator.secrets.providers import SecretProvider
from generator.stack import App, Manifest

ROOT = "kubernetes"


def app_dir(app: App) -> str:
    """The app's folder, relative to the output directory."""
    return f"{ROOT}/apps/{app.namespace}/{app.name}/app"


def render_manifest(app: App, manifest: Manifest) -> str:
    return render(manifest.template, app=app, **manifest.context)


def shared_files(app: App, provider: SecretProvider) -> list[OutputFile]:
    """What the app deploys itself: its manifests and the files its Secrets become."""
    base = app_dir(app)
    files: list[OutputFile] = [PlainFile(f"{base}/{m.filename}", render_manifest(app, m)) for m in app.manifests]
    files += [SecretFile(f"{base}/{provider.filename(spec)}", spec) for spec in app.secrets]
    return files
